import shutil
import subprocess
import sys
import time

import duckdb
import pytest
from conftest import SMALL

from blindspot.db import schema
from blindspot.db.store import Store, fingerprint
from blindspot.demo.build import build_demo
from blindspot.demo.synthetic import SyntheticConfig
from blindspot.errors import StoreError


def _copy(src, tmp_path, name="copy.duckdb"):
    dst = tmp_path / name
    shutil.copy(src, dst)
    return dst


def _set_version(path, version):
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    con.close()


def test_missing_database_says_how_to_build(tmp_path):
    with pytest.raises(StoreError, match="build-demo"):
        Store(tmp_path / "nope.duckdb")


def test_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(StoreError, match="이 프로그램의 데이터베이스가 아닙니다"):
        Store(path)


def test_corrupt_file_is_refused(tmp_path):
    path = tmp_path / "bad.duckdb"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="build-demo"):
        Store(path)


def test_older_schema_without_migration_is_refused(small_db, tmp_path):
    path = _copy(small_db, tmp_path)
    _set_version(path, 0)
    with pytest.raises(StoreError, match=r"스키마 버전\(0\)은 옛 버전"):
        Store(path)


def test_newer_schema_is_refused(small_db, tmp_path):
    path = _copy(small_db, tmp_path)
    _set_version(path, schema.SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="새롭습니다"):
        Store(path)


def test_migration_runs_once_in_a_transaction(small_db, tmp_path, monkeypatch):
    path = _copy(small_db, tmp_path)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(
        schema.MIGRATIONS, schema.SCHEMA_VERSION - 1, ("CREATE TABLE notes (household_id INTEGER, note VARCHAR)",)
    )
    st = Store(path)
    assert st.schema_version() == schema.SCHEMA_VERSION
    assert st.scalar("SELECT count(*) FROM notes") == 0
    st.close()


def test_failed_migration_leaves_old_version(small_db, tmp_path, monkeypatch):
    path = _copy(small_db, tmp_path)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(
        schema.MIGRATIONS,
        schema.SCHEMA_VERSION - 1,
        ("CREATE TABLE notes (x INTEGER)", "ALTER TABLE no_such_table ADD COLUMN y INTEGER"),
    )
    with pytest.raises(duckdb.Error):
        Store(path)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(
        schema.SCHEMA_VERSION - 1
    )
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name='notes'").fetchone()[0] == 0
    con.close()


def test_locked_database_names_the_other_process(small_db, tmp_path):
    path = _copy(small_db, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match=f"PID {holder.pid}"):
            Store(path)
        with pytest.raises(StoreError, match="다른 프로그램"):
            build_demo(path, SyntheticConfig(scale=0.01, sido=("36",), rounds=1))
    finally:
        holder.kill()
        holder.wait()


def test_failed_build_leaves_previous_database_intact(small_db, tmp_path, monkeypatch):
    path = _copy(small_db, tmp_path)
    st = Store(path, read_only=True)
    before = fingerprint(st, ["households", "observations", "visits"])
    st.close()

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash during generation")

    monkeypatch.setattr("blindspot.demo.build.generate", boom)
    with pytest.raises(RuntimeError):
        build_demo(path, SMALL)
    st = Store(path, read_only=True)
    assert fingerprint(st, ["households", "observations", "visits"]) == before
    st.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.duckdb", "copy.duckdb.snapshots"]
    # No partial version left; the file it started from is version 1, still active.
    from blindspot.db import snapshots

    assert not list(snapshots.folder(path).glob("*.partial*"))
    assert [(v.name[:5], v.active) for v in snapshots.versions(path)] == [("v0001", True)]


def test_killed_build_leaves_previous_database_intact(small_db, tmp_path):
    path = _copy(small_db, tmp_path)
    st = Store(path, read_only=True)
    before = fingerprint(st, ["households"])
    st.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "blindspot", "build-demo", "--scale", "0.02", "--db", str(path)],
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until generation has started writing, then kill it without warning.
    for line in proc.stderr:
        if "가구 생성" in line:
            break
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    st = Store(path, read_only=True)
    assert fingerprint(st, ["households"]) == before
    st.close()


def test_cursor_per_thread(small_store):
    import threading

    seen = {}
    together = threading.Barrier(4)

    def work(name):
        together.wait()  # all four threads alive at once, so ids cannot be reused
        seen[name] = (small_store.cursor(), small_store.scalar("SELECT count(*) FROM rounds"))
        assert small_store.cursor() is seen[name][0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len({id(v[0]) for v in seen.values()}) == 4
    assert {v[1] for v in seen.values()} == {SMALL.rounds}
