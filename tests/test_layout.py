"""The tree keeps its shape: streamlit only in the app layer, long modules say why."""

import ast
import re
from pathlib import Path

from blindspot import config

ROOT = config.PROJECT_DIR
APP_LAYER = ("blindspot/app/", "views/", "app.py")


def _python_files():
    yield from sorted((ROOT / "blindspot").rglob("*.py"))
    yield from sorted((ROOT / "views").glob("*.py"))
    yield ROOT / "app.py"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_streamlit_is_imported_only_in_the_app_layer():
    found = {p.relative_to(ROOT).as_posix() for p in _python_files() if "streamlit" in _imports(p)}
    outside = sorted(p for p in found if not p.startswith(APP_LAYER))
    assert outside == []
    # and the app layer does use it (the check above is not vacuous)
    assert "app.py" in found and "blindspot/app/cache.py" in found


def test_a_module_over_500_lines_says_why_in_its_docstring():
    long = {}
    for path in (ROOT / "blindspot").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 500:
            doc = ast.get_docstring(ast.parse(text)) or ""
            long[path.relative_to(ROOT).as_posix()] = "Why over 500 lines:" in doc
    assert [p for p, says_why in long.items() if not says_why] == []


def test_no_emoji_or_fetched_icon_in_the_user_interface():
    """No emoji (a box where no emoji font is installed, as on many office PCs) and no Material
    icon as a page icon (it becomes a favicon fetched from fonts.gstatic.com at run time)."""
    emoji = re.compile("[\U0001f000-\U0001ffff\u2600-\u27bf\ufe0f]")
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{n}"
        for path in [*_python_files(), *(ROOT / "blindspot").rglob("*.py")]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if emoji.search(line) or re.search(r"(page_)?icon=\":material/", line)
    ]
    assert found == []
    assert "st.navigation" in (ROOT / "app.py").read_text(encoding="utf-8")  # the scan read the router
