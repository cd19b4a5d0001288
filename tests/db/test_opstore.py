"""The operational store's schema: Alembic migrations, on SQLite and PostgreSQL, when several
server processes open a new store at once, and for a store made before migrations."""

import subprocess
import sys

from sqlalchemy import create_engine, insert, inspect, select, text

from blindspot import config
from blindspot.db import opstore

# The newest Alembic revision (blindspot/db/migrations/versions/): every new store reaches it.
HEAD = "0005"


def _revision(engine) -> str | None:
    with engine.connect() as con:
        if "alembic_version" not in inspect(con).get_table_names():
            return None
        return con.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_a_new_store_is_migrated_to_the_head(ops_url):
    store = opstore.open_ops(ops_url)
    assert _revision(store.engine) == HEAD
    assert {"login_failures", "alembic_version"} <= set(inspect(store.engine).get_table_names())
    assert opstore.migrate(store.engine, store.path) == HEAD  # again: nothing to do


def test_a_store_made_before_migrations_is_stamped_and_keeps_its_rows(ops_url):
    """Stores made by create_all (before Alembic) hold login_failures and no version table:
    they are stamped at the first revision, not created again, and no count is lost."""
    engine = create_engine(ops_url)
    opstore.metadata.create_all(engine, tables=[opstore.login_failures])  # the one table of those days
    with engine.begin() as con:
        con.execute(
            insert(opstore.login_failures).values(kind="account", subject="kim", failures=3, last_failure_at=1.0)
        )
    assert _revision(engine) is None
    assert opstore.migrate(engine, opstore._sqlite_file(ops_url)) == HEAD
    with engine.connect() as con:
        assert con.execute(select(opstore.login_failures.c.failures)).scalar_one() == 3
    engine.dispose()


_OPEN_IN_CHILD = """
import sys
from blindspot.db import opstore
opstore.open_ops(sys.argv[1]).add_failure("account", "kim", 1.0)
"""


def test_six_processes_opening_a_new_store_together(ops_url):
    """Server processes start together: they take turns at the migration, none fails."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_IN_CHILD, ops_url], cwd=config.PROJECT_DIR, stderr=subprocess.PIPE
        )
        for _ in range(6)
    ]
    results = [(c.wait(timeout=120), c.stderr.read().decode()[-300:]) for c in children]
    assert [code for code, _ in results] == [0] * 6, results
    store = opstore.open_ops(ops_url)
    assert store.failures("account", "kim")[0] == 6
    assert _revision(store.engine) == HEAD
