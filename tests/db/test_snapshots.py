"""Versioned analytical snapshots: atomic publication, one loader at a time, rollback, and
readers that keep the version they opened (blindspot/db/snapshots.py)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from blindspot.db import snapshots
from blindspot.db.store import Store
from blindspot.errors import StoreError


def _plain_db(path, marker="first"):
    """A minimal database of this program (schema and one meta value) as a plain file."""
    st = Store(path, create=True)
    st.create_schema()
    st.set_meta("marker", marker)
    st.checkpoint()
    st.close()
    return path


def _marker(path) -> str:
    st = Store(path, read_only=True)
    try:
        return st.meta()["marker"]
    finally:
        st.close()


def test_first_loader_adopts_a_plain_file_and_publishes_the_next_version(tmp_path):
    db = _plain_db(tmp_path / "b.duckdb")
    with snapshots.loader(db, "stats", "kim") as draft:
        draft.store.set_meta("marker", "second")
    names = [v.name for v in snapshots.versions(db)]
    assert len(names) == 2 and names[0].startswith("v0001-") and names[1].startswith("v0002-")
    assert draft.published == names[1] == snapshots.active_version(db)
    assert db.is_symlink() and not os.path.isabs(os.readlink(db))  # relative: the folder can move
    assert _marker(db) == "second"
    manifest = snapshots.versions(db)[1].manifest
    assert manifest["command"] == "stats" and manifest["user"] == "kim" and manifest["parent"] == names[0]
    # The adopted first version is unchanged and still there for a rollback.
    assert _marker(snapshots.versions(db)[0].file) == "first"
    # Personal data: the folder and every version readable by the owner only.
    assert os.stat(snapshots.folder(db)).st_mode & 0o077 == 0
    assert all(os.stat(v.file).st_mode & 0o077 == 0 for v in snapshots.versions(db))


def test_a_reader_keeps_the_version_it_opened_and_the_next_open_sees_the_new_one(tmp_path):
    db = _plain_db(tmp_path / "b.duckdb")
    reader = Store(db, read_only=True)  # an app process's connection
    with snapshots.loader(db, "score") as draft:
        draft.store.set_meta("marker", "second")
        # While the loader writes, the reader sees the published version only.
        assert reader.meta()["marker"] == "first"
    assert reader.meta()["marker"] == "first"
    assert _marker(db) == "second"
    reader.close()


def test_a_failed_loader_publishes_nothing_and_leaves_no_partial_file(tmp_path):
    db = _plain_db(tmp_path / "b.duckdb")
    with snapshots.loader(db, "stats"):
        pass
    before = snapshots.active_version(db)
    with pytest.raises(RuntimeError, match="검사 실패"):
        with snapshots.loader(db, "ingest 2024-R3") as draft:
            draft.store.set_meta("marker", "broken")
            raise RuntimeError("검사 실패")
    assert snapshots.active_version(db) == before and _marker(db) == "first"
    assert not list(snapshots.folder(db).glob("*.partial*"))
    assert len(snapshots.versions(db)) == 2


def test_a_draft_that_changed_nothing_is_dropped(tmp_path):
    db = _plain_db(tmp_path / "b.duckdb")
    with snapshots.loader(db, "ingest") as draft:
        draft.keep = False
    assert draft.published is None
    assert [v.name.startswith("v0001-") for v in snapshots.versions(db)] == [True]


def test_a_second_loader_is_refused_naming_the_first(tmp_path):
    db = _plain_db(tmp_path / "b.duckdb")
    with snapshots.loader(db, "ingest 2024-R3", "kim"):
        with pytest.raises(snapshots.LoaderBusy) as busy:
            with snapshots.loader(db, "score 2024-R3"):
                pass
    message = str(busy.value)
    assert "`ingest 2024-R3`" in message and f"PID {os.getpid()}" in message and "kim" in message
    # The lock went with the first loader: the next one runs.
    with snapshots.loader(db, "score 2024-R3"):
        pass


LOADER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from blindspot.db import snapshots
    with snapshots.loader(Path(sys.argv[1]), "ingest 2024-R3", "loader-proc") as draft:
        draft.store.set_meta("marker", "half-written")
        print("writing", flush=True)
        time.sleep(60)
    """
)


def _start_loader(db):
    proc = subprocess.Popen([sys.executable, "-c", LOADER_SCRIPT, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def test_another_process_loading_is_named_and_a_killed_loader_changes_nothing(tmp_path):
    db = _plain_db(tmp_path / "b.duckdb")
    with snapshots.loader(db, "stats"):
        pass
    before = snapshots.active_version(db)
    proc = _start_loader(db)
    try:
        with pytest.raises(snapshots.LoaderBusy, match=rf"PID {proc.pid}.*loader-proc"):
            with snapshots.loader(db, "score"):
                pass
        assert _marker(db) == "first"  # apps keep serving the published version meanwhile
    finally:
        proc.send_signal(signal.SIGKILL)  # killed mid-write, before its publish
        proc.wait()
    assert snapshots.active_version(db) == before and _marker(db) == "first"
    assert list(snapshots.folder(db).glob("*.partial*"))  # its debris is still there...
    spill = next(snapshots.folder(db).glob("*.partial")).with_suffix(".partial.tmp")
    spill.mkdir(exist_ok=True)  # as DuckDB leaves it when a killed load had spilled to disk
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    with snapshots.loader(db, "stats") as draft:  # ...until the next loader, which is not blocked
        draft.store.set_meta("marker", "third")
    assert not list(snapshots.folder(db).glob("*.partial*"))
    assert _marker(db) == "third"


def test_versions_beyond_keep_are_pruned_and_activate_rolls_back(tmp_path):
    db = _plain_db(tmp_path / "b.duckdb")
    for k in range(5):
        with snapshots.loader(db, f"stats {k}") as draft:
            draft.store.set_meta("marker", f"m{k}")
    kept = snapshots.versions(db)
    assert len(kept) == snapshots.KEEP == 3
    assert [v.manifest["command"] for v in kept] == ["stats 2", "stats 3", "stats 4"]
    assert [v.active for v in kept] == [False, False, True]
    snapshots.activate(db, kept[0].name)
    assert _marker(db) == "m2" and snapshots.active_version(db) == kept[0].name
    with pytest.raises(StoreError, match="없는 판입니다: v9999-x"):
        snapshots.activate(db, "v9999-x")
    # After a rollback the next load starts from the active (rolled back) version.
    with snapshots.loader(db, "stats again") as draft:
        assert draft.store.meta()["marker"] == "m2"
    # The active version is never pruned, even when it is the oldest.
    assert snapshots.active_version(db) in [v.name for v in snapshots.versions(db)]


def test_a_loader_needs_a_database(tmp_path):
    with pytest.raises(StoreError, match="없습니다"):
        with snapshots.loader(tmp_path / "none.duckdb", "stats"):
            pass


def test_publication_is_fast_for_a_small_version(tmp_path):
    """Not a benchmark (bench --json measures publish_seconds at scale): the manifest
    records how long writing the version took, and it is a number."""
    db = _plain_db(tmp_path / "b.duckdb")
    started = time.monotonic()
    with snapshots.loader(db, "stats"):
        pass
    assert 0 <= snapshots.versions(db)[-1].manifest["write_seconds"] <= time.monotonic() - started
