"""The DuckDB store: one connection per process, one cursor per thread.

Streamlit runs every session on its own thread; DuckDB connections are not safe
to share between threads, but cursors made from one connection are cheap and share
the same database instance.  So :func:`open_store` keeps one :class:`Store` (one
connection) per file per process, and :meth:`Store.cursor` hands each thread its
own cursor.  All SQL goes through :meth:`Store.run`.

Databases are built into a temporary file and swapped into place (``os.replace``)
only when complete, so a failed build never leaves a half-written database; versions and
their atomic publication are :mod:`blindspot.db.snapshots`'.  A path that is a symlink (the
active snapshot) is resolved once, when the store opens: the store keeps reading the
version it opened.

Readers see visits through the temporary view ``visits_now`` (:data:`blindspot.db.sql.VISITS_NOW_ENTERED`):
the snapshot's visits with the outcomes officials entered in the operational store laid
over them, refreshed at most :data:`ENTERED_CHECK_SECONDS` after another process enters
one (at once in the process that entered it, :func:`entered_changed`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from blindspot.db import schema, sql
from blindspot.errors import StoreError

# Bound parameters: positional for ``?``, by name for ``$name`` (DuckDB binds either).
Params = Sequence[Any] | Mapping[str, Any] | None

_open_lock = threading.Lock()
_stores: dict[str, Store] = {}


def _lock_message(path: Path, exc: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(exc))
    who = f" (쓰는 프로세스 PID {pid.group(1)})" if pid else ""
    return (
        f"다른 프로그램이 쓰고 있어 데이터베이스를 열 수 없습니다: {path}{who}. "
        "실행 중인 앱(streamlit)이나 다른 python -m blindspot 명령을 끝낸 뒤 다시 하거나, "
        "--db 또는 환경변수 BLINDSPOT_DB 로 다른 파일을 지정하세요."
    )


def restrict(path: Path) -> None:
    """The database file and its WAL readable by the owner only (household rows are personal data)."""
    for p in (Path(path), Path(path).with_name(Path(path).name + ".wal")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if p.stat().st_mode & 0o777 != 0o600:
                os.chmod(p, 0o600)


class Store:
    """A DuckDB database file of this product."""

    def __init__(
        self, path: str | os.PathLike, *, read_only: bool = False, create: bool = False, check_schema: bool = True
    ) -> None:
        self.path = Path(path)
        # A snapshot link is followed once: this store keeps the version it opened.
        self.file = Path(os.path.realpath(self.path))
        if not create and not self.path.exists():
            raise StoreError(
                f"데이터베이스가 없습니다: {self.path}. `make run` 또는 "
                "`python -m blindspot build-demo` 로 데모 데이터베이스를 먼저 만드세요."
            )
        try:
            self._con = duckdb.connect(str(self.file), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(_lock_message(self.path, exc)) from None
            raise StoreError(
                f"데이터베이스를 열 수 없습니다: {self.path} ({exc}). 파일이 손상되었거나 DuckDB 파일이 아니면 "
                "지우고 `python -m blindspot build-demo` 로 다시 만드세요."
            ) from None
        except duckdb.Error as exc:
            raise StoreError(
                f"DuckDB 데이터베이스로 열리지 않는 파일입니다: {self.path} ({exc}). "
                "파일이 손상되었거나 다른 형식입니다: 지우고 `python -m blindspot build-demo` 로 다시 만드세요."
            ) from None
        self.read_only = read_only
        if not read_only:
            restrict(self.file)
        self._local = threading.local()
        self._con.execute(schema.memory_limit_sql("session_memory_limit"))
        if check_schema and not create:
            self._check_schema()

    # --- running SQL --------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (created on first use)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    def run(self, statement: str, params: Params = None) -> duckdb.DuckDBPyConnection:
        """Execute one statement with bound parameters on this thread's cursor."""
        cur = self.cursor()
        if "visits_now" in statement:
            self._visits_now(cur)
        return cur.execute(statement, params or [])

    # --- entered outcomes laid over the snapshot's visits -----------------------------
    def entered_stamp(self) -> object:
        """What changes when an outcome is entered anywhere (checked at most every
        :data:`ENTERED_CHECK_SECONDS`); part of the app's cache keys."""
        loc = self._local
        now = time.monotonic()
        fresh = now - getattr(loc, "stamp_checked", -1e9) < ENTERED_CHECK_SECONDS
        if fresh and getattr(loc, "stamp_generation", None) == _generation[0]:
            return loc.stamp
        loc.stamp = _entered_stamp()
        loc.stamp_checked, loc.stamp_generation = now, _generation[0]
        return loc.stamp

    def _visits_now(self, cur: duckdb.DuckDBPyConnection) -> None:
        loc = self._local
        stamp = self.entered_stamp()
        if getattr(loc, "view_stamp", "none yet") == stamp:
            return
        frame = _entered_frame() if stamp is not None else None
        if frame is None and getattr(loc, "view_stamp", "none yet") != "none yet":
            return  # operational store unreachable: keep the last view (aggregates keep working)
        if frame is None or frame.empty:
            cur.execute(sql.VISITS_NOW_PLAIN)
        else:
            # A registration is refused while an earlier result of this cursor is unread
            # (e.g. after a fetchone); a statement run first ends that result.
            cur.execute("SELECT 1").fetchall()
            cur.register("entered_outcomes_frame", frame)
            cur.execute(sql.VISITS_NOW_ENTERED)
        loc.view_stamp = stamp

    def stream(self, statement: str, params: Params = None, batch_rows: int = 1_000_000):
        """The result of one statement (bound parameters) as an Arrow ``RecordBatchReader``
        of at most ``batch_rows`` rows per batch, computed as it is read: a national export
        is never held whole.  Read it to the end before this thread's next statement (it
        runs on the thread's cursor, where ``visits_now`` lives)."""
        cur = self.cursor()
        if "visits_now" in statement:
            self._visits_now(cur)
        cur.execute("SELECT 1").fetchall()  # ends any earlier unread result of this cursor
        return cur.sql(statement, params=params or []).to_arrow_reader(batch_rows)

    def df(self, statement: str, params: Params = None) -> pd.DataFrame:
        return self.run(statement, params).df()

    def rows(self, statement: str, params: Params = None) -> list[tuple]:
        return self.run(statement, params).fetchall()

    def scalar(self, statement: str, params: Params = None):
        row = self.run(statement, params).fetchone()
        return None if row is None else row[0]

    def run_with(self, statement: str, frame, params: Params = None) -> None:
        """Run a statement whose ``{relation}`` slot reads a registered DataFrame/Arrow table."""
        cur = self.cursor()
        cur.register("_src", frame)
        try:
            cur.execute(statement.format(relation="_src"), params or [])
        finally:
            cur.unregister("_src")

    def append(self, table: str, frame) -> None:
        """Append a pandas DataFrame or Arrow table to ``table`` (columns matched by name)."""
        if table not in schema.TABLES:
            raise ValueError(f"unknown table {table}")
        self.run_with(sql.APPEND_FROM.replace("{table}", table), frame)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """All or nothing: statements inside commit together or not at all."""
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")

    # --- meta and schema -------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.rows(schema.META_ALL))

    def set_meta(self, key: str, value: object) -> None:
        self.run(schema.META_SET, [key, str(value)])

    def schema_version(self) -> int | None:
        if not self.scalar(schema.HAS_META_TABLE):
            return None
        value = self.scalar(schema.META_GET, ["schema_version"])
        return None if value is None else int(value)

    def create_schema(self) -> None:
        with self.transaction():
            for statement in schema.DDL_V1:
                self.run(statement)
            for version in range(1, schema.SCHEMA_VERSION):
                for statement in schema.MIGRATIONS[version]:
                    self.run(statement)
            self.set_meta("schema_version", schema.SCHEMA_VERSION)

    def _check_schema(self) -> None:
        version = self.schema_version()
        if version is None:
            raise StoreError(
                f"이 프로그램의 데이터베이스가 아닙니다: {self.path} (meta 표/스키마 버전 없음). "
                "`python -m blindspot build-demo --db 경로` 로 새로 만드세요."
            )
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} 의 스키마 버전({version})이 이 프로그램의 버전({schema.SCHEMA_VERSION})보다 새롭습니다. "
                "프로그램을 최신 버전으로 올리세요."
            )
        if version < schema.SCHEMA_VERSION:
            self.migrate(version)

    def migrate(self, from_version: int) -> None:
        """Upgrade in one transaction; a database with no migration path is refused."""
        missing = [v for v in range(from_version, schema.SCHEMA_VERSION) if v not in schema.MIGRATIONS]
        if missing:
            raise StoreError(
                f"{self.path} 의 스키마 버전({from_version})은 옛 버전이라 현재 버전({schema.SCHEMA_VERSION})으로 "
                "옮기는 방법(migration)이 없습니다. 데이터를 다시 만드세요: "
                "`python -m blindspot build-demo` (실데이터는 다시 적재)."
            )
        if self.read_only:
            raise StoreError(
                f"{self.path} 의 스키마 버전({from_version})은 업그레이드가 필요한데, 읽기 전용으로 열렸습니다. "
                "쓰기 가능하게 한 번 여세요 (`python -m blindspot info`)."
            )
        with self.transaction():
            for version in range(from_version, schema.SCHEMA_VERSION):
                for statement in schema.MIGRATIONS[version]:
                    self.run(statement)
            self.set_meta("schema_version", schema.SCHEMA_VERSION)

    # --- lifecycle --------------------------------------------------------------------
    def checkpoint(self) -> None:
        self.run("CHECKPOINT")
        if not self.read_only:
            restrict(self.path)

    def close(self) -> None:
        with _open_lock:
            for key, store in list(_stores.items()):
                if store is self:
                    del _stores[key]
        self._con.close()


# How stale another process's entered outcome may be on this one's pages (seconds).
ENTERED_CHECK_SECONDS = 1.0
_generation = [0]  # bumped by entered_changed(): this process's own entry shows at once


def entered_changed() -> None:
    """An outcome was entered in this process: every store looks again on its next read."""
    _generation[0] += 1


def _entered_stamp() -> object:
    """The operational store's outcome stamp, or None when it cannot be reached."""
    from blindspot.db import opstore

    try:
        return opstore.open_ops().outcomes_version()
    except opstore.OpsUnavailable:
        return None


def _entered_frame() -> pd.DataFrame | None:
    from blindspot.db import opstore

    try:
        frame = opstore.open_ops().outcomes_frame()
    except opstore.OpsUnavailable:
        print("store: entered outcomes unavailable; showing the snapshot's visits", file=sys.stderr)
        return None
    return frame[["round_id", "pseudo_id", "outcome", "support_type", "recorded_at", "recorded_by"]]


def open_store(path: str | os.PathLike, *, read_only: bool = False) -> Store:
    """The process-wide store for ``path`` (opened once, then shared by all threads)."""
    key = str(Path(path).resolve())
    with _open_lock:
        store = _stores.get(key)
        if store is None:
            store = Store(path, read_only=read_only)
            _stores[key] = store
        return store


def close_all() -> None:
    for store in list(_stores.values()):
        store.close()


def temp_path_for(target: Path) -> Path:
    return target.with_name(f"{target.name}.tmp-{os.getpid()}")


def remove_db_files(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def swap_into_place(tmp: Path, target: Path) -> None:
    """Atomically replace ``target`` by the finished ``tmp`` database."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stale_wal = target.with_name(target.name + ".wal")
    with contextlib.suppress(FileNotFoundError):
        stale_wal.unlink()
    os.replace(tmp, target)
    restrict(target)


def assert_target_free(target: Path) -> None:
    """Fail early, before a long build, if another process holds the target database."""
    if not target.exists():
        return
    try:
        con = duckdb.connect(str(target))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreError(_lock_message(target, exc)) from None
        return
    except duckdb.Error:
        return  # a corrupt file will simply be replaced
    con.close()


def fingerprint(store: Store, tables: Sequence[str]) -> dict[str, tuple]:
    """Order-independent content fingerprint of each table: (rows, hash sum, hash xor)."""
    out = {}
    for table in tables:
        if table not in schema.TABLES:
            raise ValueError(table)
        out[table] = tuple(store.rows(sql.FINGERPRINT.format(table=table))[0])
    return out
