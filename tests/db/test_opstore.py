"""The operational store's start-up when several server processes open it at once."""

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import DBAPIError, OperationalError

from blindspot import config
from blindspot.db import opstore


def test_a_table_another_process_created_meanwhile_is_success(ops_url, monkeypatch):
    """Both processes saw no table; the other one created it first, so this CREATE fails
    with "already exists" (SQLite and PostgreSQL alike): the store opens all the same."""
    engine = create_engine(ops_url)
    opstore.metadata.create_all(engine)  # the other process won the race
    real = opstore.metadata.create_all
    monkeypatch.setattr(opstore.metadata, "create_all", lambda bind: real(bind, checkfirst=False))
    with pytest.raises(DBAPIError, match="already exists"):
        opstore.metadata.create_all(engine)  # what the slower process meets
    opstore._create_tables(engine)  # passed over: the table is there
    assert "login_failures" in inspect(engine).get_table_names()
    engine.dispose()


def test_a_create_that_fails_for_another_reason_still_raises(tmp_path, monkeypatch):
    engine = create_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")

    def broken(bind):
        raise OperationalError("CREATE TABLE login_failures", {}, Exception("disk I/O error"))

    monkeypatch.setattr(opstore.metadata, "create_all", broken)
    with pytest.raises(OperationalError, match="disk I/O error"):
        opstore._create_tables(engine)


_OPEN_IN_CHILD = """
import sys
from blindspot.db import opstore
opstore.open_ops(sys.argv[1]).add_failure("account", "kim", 1.0)
"""


def test_six_processes_opening_a_new_store_together(ops_url):
    url = ops_url
    children = [
        subprocess.Popen([sys.executable, "-c", _OPEN_IN_CHILD, url], cwd=config.PROJECT_DIR, stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    results = [(c.wait(timeout=120), c.stderr.read().decode()[-300:]) for c in children]
    assert [code for code, _ in results] == [0] * 6, results
    assert opstore.open_ops(url).failures("account", "kim")[0] == 6
