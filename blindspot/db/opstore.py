"""The operational store: the state that every server process must share and that a new
analytical snapshot must not replace, apart from the analytical DuckDB file: failed logins
per account and per client address, the audit log (a hash chain, append-only in the
database itself), entered visit outcomes, briefing targets and the history of loaded files.

SQLAlchemy Core over a SQLite file in WAL mode by default (``data/ops.sqlite``, created
0600); ``BLINDSPOT_OPS_URL`` (or an explicit URL) points it elsewhere, e.g. PostgreSQL
when several machines serve the app.  Writes are transactions that cannot lose a
concurrent writer's work: single atomic statements, SQLite's write lock taken at BEGIN,
and for the audit chain a unique ``prev_hash`` (see :mod:`blindspot.db.opcase`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from blindspot import config, settings
from blindspot.db import opfollowup  # noqa: F401  (its tables join the store's metadata)
from blindspot.db.opcase import Casework, metadata
from blindspot.db.opstaff import Staffing
from blindspot.errors import BlindspotError

DEFAULT_PATH = config.PROJECT_DIR / "data" / "ops.sqlite"

login_failures = Table(
    "login_failures",
    metadata,
    Column("kind", String(16), primary_key=True),  # 'account' or 'address'
    Column("subject", String(256), primary_key=True),  # the username typed, or the client address
    Column("failures", Integer, nullable=False),  # consecutive failures
    Column("last_failure_at", Float, nullable=False),  # Unix seconds
)


def ops_url(explicit: str | None = None) -> str:
    """Where the store lives: explicit, else ``BLINDSPOT_OPS_URL``, else ``data/ops.sqlite``.

    >>> ops_url("sqlite:////tmp/x.sqlite")
    'sqlite:////tmp/x.sqlite'
    """
    return explicit or settings.get("ops_url") or f"sqlite:///{DEFAULT_PATH}"


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
    return None if path in ("", ":memory:") else Path(path)


def _private(path: Path) -> None:
    """The file and its WAL/shared-memory companions readable by the owner only."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists():
            os.chmod(p, 0o600)


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"  # the schema stores had before migrations (login_failures alone)
# Any constant: PostgreSQL's advisory lock that lets one process migrate at a time.
_PG_MIGRATION_LOCK = 0x626C696E64


def _pg_unlock(con) -> None:
    con.rollback()
    con.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_MIGRATION_LOCK})")
    con.commit()


def migrate(engine: Engine, path: Path | None = None) -> str:
    """Bring the store's schema to the newest revision (Alembic, ``blindspot/db/migrations``);
    returns it.  Server processes that start together take turns (a file lock beside a SQLite
    file, an advisory lock on PostgreSQL), so the slower one finds the work done.  A store
    made before migrations is stamped at its revision, its rows kept.

    Example: ``migrate(create_engine("sqlite:////tmp/ops.sqlite"), Path("/tmp/ops.sqlite"))``
    returns the head revision (0001 login failures; 0002 audit log, entered outcomes, briefing
    targets, ingest loads; 0003 follow-up cases; 0004 staff per 시군구; 0005 follow-up case owners).
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with contextlib.ExitStack() as stack:
        if path is not None:
            lock = stack.enter_context(open(path.with_name(path.name + ".migrate-lock"), "a"))
            os.chmod(lock.name, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        con = stack.enter_context(engine.connect())
        if con.dialect.name == "postgresql":
            con.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_MIGRATION_LOCK})")
            con.commit()
            stack.callback(_pg_unlock, con)
        cfg.attributes["connection"] = con
        tables = set(inspect(con).get_table_names())
        if "alembic_version" not in tables and "login_failures" in tables:
            command.stamp(cfg, FIRST_REVISION)
        command.upgrade(cfg, "head")
        con.commit()
        return str(MigrationContext.configure(con).get_current_revision())


class OpStore(Casework, Staffing):
    """One engine per URL and process (:func:`open_ops`).  Reads run on :meth:`connect`,
    writes in :meth:`begin`; methods that take ``con`` join a transaction of the caller's.

    Example: ``with store.begin() as con:`` then ``store.add_outcome(…, con=con)`` and
    ``store.append_audit(record, con=con)``: the outcome and its record commit together.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = _sqlite_file(url)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Create it 0600 before SQLite does (SQLite would honour only the umask).
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            self.engine = create_engine(url, connect_args={"timeout": 10})

            @event.listens_for(self.engine, "connect")
            def _connect(dbapi_con, _record):
                # SQLAlchemy, not pysqlite, begins transactions (its documented pysqlite recipe):
                # pysqlite's own BEGIN comes late, only ever deferred, and upsets savepoints.
                dbapi_con.isolation_level = None
                cur = dbapi_con.cursor()
                cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _begin(con):
                # A write transaction takes the write lock at BEGIN: one that reads first (the
                # chain's last record) would otherwise fail with SQLITE_BUSY when it comes to
                # write, which busy_timeout cannot wait out.  Reads stay deferred.
                con.exec_driver_sql("BEGIN IMMEDIATE" if con.get_execution_options().get("ops_write") else "BEGIN")
        else:
            # A server that does not answer must not hold a sign-in for minutes.
            self.engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
        # The same engine and pool, its transactions marked as writes (for the BEGIN above).
        self._writer = self.engine.execution_options(ops_write=True)
        migrate(self.engine, self.path)
        if self.path is not None:
            _private(self.path)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to read with; :class:`OpsUnavailable` when the store is out of reach."""
        with _reachable(), self.engine.connect() as con:
            yield con

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction, committed when the block ends, rolled back if it raises.

        Example: ``with store.begin() as con: store.set_target("11110", "visit_rate", 0.8, "kim", now, con=con)``
        """
        with _reachable(), self._writer.begin() as con:
            yield con

    @contextlib.contextmanager
    def _within(self, con: Connection | None) -> Iterator[Connection]:
        if con is None:
            with self.begin() as con:
                yield con
        else:
            with _reachable():
                yield con

    def failures(self, kind: str, subject: str) -> tuple[int, float | None]:
        """(consecutive failures, time of the last one) for an account or address."""
        with self.connect() as con:
            row = con.execute(
                select(login_failures.c.failures, login_failures.c.last_failure_at).where(
                    login_failures.c.kind == kind, login_failures.c.subject == subject
                )
            ).first()
        return (int(row[0]), float(row[1])) if row else (0, None)

    def add_failure(self, kind: str, subject: str, now: float, *, reset_after: float | None = None) -> int:
        """Count one failure (a count older than ``reset_after`` seconds starts again at 1);
        returns the new count."""
        t = login_failures
        where = (t.c.kind == kind) & (t.c.subject == subject)
        for _ in range(3):
            with self.begin() as con:
                if reset_after is not None:
                    con.execute(update(t).where(where & (t.c.last_failure_at < now - reset_after)).values(failures=0))
                done = con.execute(update(t).where(where).values(failures=t.c.failures + 1, last_failure_at=now))
                if done.rowcount == 0:
                    try:
                        with con.begin_nested():
                            con.execute(insert(t).values(kind=kind, subject=subject, failures=1, last_failure_at=now))
                    except IntegrityError:  # another process inserted it first: count again
                        continue
                return int(con.execute(select(t.c.failures).where(where)).scalar_one())
        raise RuntimeError("login failure could not be counted")  # pragma: no cover

    def clear(self, kind: str, subject: str) -> None:
        with self.begin() as con:
            con.execute(
                login_failures.delete().where(login_failures.c.kind == kind, login_failures.c.subject == subject)
            )

    def close(self) -> None:
        self.engine.dispose()


class OpsUnavailable(BlindspotError):
    """The operational store cannot be reached (a PostgreSQL server down, a folder not writable)."""


UNAVAILABLE = (
    "운영 저장소(감사 기록·로그인 기록)에 연결할 수 없어 지금은 로그인할 수 없습니다. 가구 단위 자료도 "
    "감사 기록을 남길 수 없는 동안에는 보여 주거나 내보내지 않습니다 (집계 화면은 계속 쓸 수 있습니다). "
    "잠시 뒤 다시 시도하고, 계속되면 관리자에게 알리세요."
)


@contextlib.contextmanager
def _reachable():
    """Turn a lost connection into :class:`OpsUnavailable` with a Korean sentence; the
    details (host, path) go to stderr only.  Sign-in then fails closed: without its counts
    the throttling could not hold."""
    try:
        yield
    except (OperationalError, InterfaceError, OSError) as exc:
        print(f"opstore: unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise OpsUnavailable(UNAVAILABLE) from None


_lock = threading.Lock()
_stores: dict[str, OpStore] = {}


def open_ops(url: str | None = None) -> OpStore:
    """The process-wide operational store for ``url`` (see :func:`ops_url`)."""
    url = ops_url(url)
    with _lock:
        store = _stores.get(url)
        if store is None:
            with _reachable():
                store = _stores[url] = OpStore(url)
        return store


def close_all() -> None:
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
