"""SQL lives beside its feature: each package's ``sql`` module holds the statements only it
runs; shared statements and fragments are in ``blindspot.db.sql``, the schema in
``blindspot.db.schema``.  A feature never reaches into another feature's SQL."""

import ast
import re
from pathlib import Path

import blindspot
from blindspot.db import sql as db_sql

PACKAGE = Path(blindspot.__file__).resolve().parent
SQL_MODULES = sorted(p for p in PACKAGE.glob("*/sql.py")) + [PACKAGE / "db" / "schema.py"]


def sql_imports(path: Path) -> set[str]:
    """Dotted names of the sql/schema modules a source file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("blindspot"):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                if re.fullmatch(r"blindspot\.\w+\.(sql|schema)", name) or re.fullmatch(
                    r"blindspot\.\w+\.sql", node.module
                ):
                    found.add(node.module if node.module.endswith(".sql") else name)
    return found


def test_features_use_only_their_own_sql_and_the_shared_db_sql():
    crossing = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).parts
        feature = rel[0] if len(rel) > 1 else None
        allowed = {"blindspot.db.sql", "blindspot.db.schema"} | ({f"blindspot.{feature}.sql"} if feature else set())
        bad = sql_imports(path) - allowed
        if bad:
            crossing["/".join(rel)] = sorted(bad)
    assert crossing == {}


def test_the_scan_sees_a_crossing(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text("from blindspot.maps import sql as maps_sql\nfrom blindspot.db import sql\n", encoding="utf-8")
    assert sql_imports(stray) == {"blindspot.maps.sql", "blindspot.db.sql"}


def test_every_statement_is_defined_once():
    names = {}
    for path in SQL_MODULES:
        for node in ast.parse(path.read_text("utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            if isinstance(target, ast.Name) and target.id.isupper():
                names.setdefault(target.id, []).append(path.relative_to(PACKAGE).as_posix())
    assert {n: p for n, p in names.items() if len(p) > 1} == {}
    assert len(names) > 100  # the scan really read the statements


def test_valid_household_condition_has_one_spelling():
    # Every statement selects "households of round t" through db.sql.valid_in_round, so the
    # versioned-household rule cannot drift between features.
    pasted = re.compile(r"valid_from_round <= \S+ AND \(\S*valid_to_round IS NULL OR \S*valid_to_round >= ")
    offenders = [
        p.relative_to(PACKAGE).as_posix()
        for p in SQL_MODULES
        if p.name != "sql.py" or p.parent.name != "db"  # where the fragment is defined
        if pasted.search(p.read_text("utf-8"))
    ]
    assert offenders == []
    assert db_sql.valid_in_round("?") == "valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?)"


def test_outcome_lists_come_from_the_vocabulary():
    assert db_sql.CONFIRMED_OUTCOMES_SQL == "('need_confirmed', 'supported')"
    assert db_sql.LABEL_OUTCOMES_SQL == "('need_confirmed', 'supported', 'refused')"
    hard_coded = [
        p.relative_to(PACKAGE).as_posix()
        for p in SQL_MODULES
        if "IN ('need_confirmed', 'supported'" in p.read_text("utf-8")
    ]
    assert hard_coded == []
