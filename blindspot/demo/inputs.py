"""The source files a demo build depends on, for the Makefile's rebuild rule.

``make`` rebuilds the demo database when one of these is newer than it: the modules that
``blindspot.demo.build`` imports, directly or through others (its lazy imports of training
and scoring included, imports under ``if TYPE_CHECKING:`` excluded), the packages'
``__init__.py`` files on the way, and the data files of ``blindspot/data``.  Found by
reading the import statements (``ast``), not by importing: stdlib only, so the system
Python can print the list before the virtualenv exists.  The geography (``../shared/geo``)
is outside the package and not listed.

    python -m blindspot.demo.inputs     # one path per line, relative to the repository
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # blindspot/
ROOT_MODULES = ("blindspot.demo.build",)
DATA_PATTERNS = ("*.csv",)


def _module_file(name: str) -> Path | None:
    """The file of module ``name`` inside the package, or None (not ours, or no such module)."""
    parts = name.split(".")
    if parts[0] != PACKAGE_DIR.name:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Absolute names of the modules ``module``'s code imports (run-time imports only)."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            # `from pkg import mod` imports the submodule when there is one.
            found.update(f"{source}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def demo_build_inputs() -> list[Path]:
    """Absolute paths of the files the demo build depends on, sorted.

    >>> names = {p.relative_to(PACKAGE_DIR).as_posix() for p in demo_build_inputs()}
    >>> {"demo/synthetic.py", "db/sql.py", "model/training.py", "data/indicators.csv"} <= names
    True
    """
    seen: set[Path] = set()
    todo = [m for m in ROOT_MODULES]
    while todo:
        name = todo.pop()
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        parts = name.split(".")
        for k in range(1, len(parts) + 1):
            path = _module_file(".".join(parts[:k]))
            if path is None or path in seen:
                continue
            seen.add(path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            todo.extend(_imports(tree, _module_name(path), path.name == "__init__.py"))
    data = {p for pattern in DATA_PATTERNS for p in (PACKAGE_DIR / "data").glob(pattern)}
    return sorted(seen | data)


def main(argv: list[str] | None = None) -> int:
    root = PACKAGE_DIR.parent
    for path in demo_build_inputs():
        print(path.relative_to(root).as_posix())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
