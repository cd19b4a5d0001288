"""The casework tables of the operational store (:mod:`blindspot.db.opstore`), their rules and
the :class:`Casework` methods :class:`~blindspot.db.opstore.OpStore` gets from them: the audit
log (a hash chain), entered visit outcomes, briefing targets and loaded extraction files.

The chain: every audit record stores the hash of the record before it (``prev_hash``; the
first record ``GENESIS``) and its own ``row_hash`` over that and its content.  Rewriting a
record breaks its own hash; rewriting it *and* its hash breaks the next record's link;
deleting one leaves a gap in the consecutive event ids.  (Deleting the newest records leaves
a shorter, valid chain: compare :meth:`Casework.audit_count` with a count kept elsewhere to
notice that.)  The database refuses UPDATE, DELETE and TRUNCATE of ``audit_log`` (triggers
of migration 0002), so only someone who can drop a trigger can try.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

# Every table of the store, login_failures included (declared in opstore, which hands this
# to Alembic as ``opstore.metadata``); migrations are the DDL, these the queries' view of it.
metadata = MetaData()
# The tables of revision 0002.  Times are ISO text, 'YYYY-MM-DDTHH:MM:SS' local time
# (iso_seconds): SQLite and PostgreSQL store, compare and hash the same characters.
audit_log = Table(
    "audit_log",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),  # consecutive from 1
    Column("happened_at", String(32), nullable=False),
    Column("user_name", String(256), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("filters", Text),
    Column("row_count", BigInteger),
    Column("purpose", Text),
    Column("file_hash", String(64)),
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),  # the chain cannot fork
    Index("ix_audit_log_happened_at", "happened_at"),
    Index("ix_audit_log_user_name", "user_name"),
    Index("ix_audit_log_action", "action"),
)
entered_outcomes = Table(
    "entered_outcomes",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("round_id", Integer, nullable=False),
    Column("pseudo_id", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("support_type", String(64)),
    Column("recorded_at", String(32), nullable=False),
    Column("recorded_by", String(256), nullable=False),
    Column("kind", String(16), nullable=False, server_default="visit"),
    Index("ix_entered_outcomes_round_pseudo", "round_id", "pseudo_id"),
)
briefing_targets = Table(
    "briefing_targets",
    metadata,
    Column("area_code", String(16), primary_key=True),
    Column("indicator", String(64), primary_key=True),
    Column("target", Float, nullable=False),
    Column("updated_by", String(256), nullable=False),
    Column("updated_at", String(32), nullable=False),
)
ingest_loads = Table(
    "ingest_loads",
    metadata,
    Column("load_id", String(64), primary_key=True),
    Column("round_id", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("loaded_by", String(256), nullable=False),
    Column("loaded_at", String(32), nullable=False),
    Column("replaced", Boolean, nullable=False),
    Column("seconds", Float),
    Column("snapshot", String(64)),  # the analytical snapshot version the load produced
)
OUTCOME_COLUMNS = ("entry_id", "round_id", "pseudo_id", "outcome", "support_type", "recorded_at", "recorded_by")
LOAD_COLUMNS = tuple(c.name for c in ingest_loads.columns)

GENESIS = "0" * 64  # the prev_hash of the first record
# The hashed content, in this order; changing it would break every stored chain.
AUDIT_FIELDS = (
    "event_id",
    "happened_at",
    "user_name",
    "role",
    "action",
    "scope",
    "filters",
    "row_count",
    "purpose",
    "file_hash",
    "detail",
)
BATCH = 10_000  # rows per read while verifying: the log can outgrow memory, a batch cannot
# Any constant (opstore's migration lock is the one before): held by an audit append until
# its transaction ends, so appends take turns instead of colliding on the unique prev_hash
# (which stays the guarantee).
_PG_AUDIT_LOCK = 0x626C696E65
_AUDIT_RETRIES = 40


def iso_seconds(value: dt.datetime | dt.date | str) -> str:
    """A time as stored: 'YYYY-MM-DDTHH:MM:SS', local time, whole seconds (an aware time is
    converted to local time; text is parsed, so both backends hold one spelling).

    >>> iso_seconds(dt.datetime(2026, 1, 2, 3, 4, 5, 678)), iso_seconds("2026-01-02 03:04:05")
    ('2026-01-02T03:04:05', '2026-01-02T03:04:05')
    >>> iso_seconds(dt.date(2026, 1, 2))
    '2026-01-02T00:00:00'
    """
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    elif not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return value.isoformat(timespec="seconds")


def chain_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """The ``row_hash`` of an audit record: SHA-256 of ``prev_hash``, a newline and the
    record's :data:`AUDIT_FIELDS` as compact JSON (Korean kept as UTF-8), values as stored.

    >>> record = dict.fromkeys(AUDIT_FIELDS) | {"event_id": 1, "happened_at": "2026-01-02T03:04:05",
    ...     "user_name": "김", "role": "admin", "action": "view_list", "scope": "전체", "row_count": 3}
    >>> chain_hash(GENESIS, record)
    '86bdc25e77b44c9c5d11f5717969439da5efdaa1a9d3d04e378b6f3a479e025c'
    """
    canonical = json.dumps([record[f] for f in AUDIT_FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def audit_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """An audit record (``happened_at`` a datetime or text, ``filters`` text or a dict) as
    the values to store and hash, without ``event_id`` and the hashes.

    >>> audit_values({"happened_at": dt.datetime(2026, 1, 2), "user_name": "kim", "role": "admin",
    ...     "action": "view_list", "scope": "전체", "filters": {"round": 1}, "row_count": 2})["filters"]
    '{"round": 1}'
    """
    filters = record.get("filters")
    if isinstance(filters, Mapping):  # the same text blindspot.casework.audit.filters_text makes
        filters = json.dumps(filters, ensure_ascii=False, sort_keys=True, default=str)
    row_count = record.get("row_count")
    return {
        "happened_at": iso_seconds(record["happened_at"]),
        "user_name": str(record["user_name"]),
        "role": str(record["role"]),
        "action": str(record["action"]),
        "scope": str(record["scope"]),
        "filters": _text(filters),
        "row_count": None if row_count is None else int(row_count),
        "purpose": _text(record.get("purpose")),
        "file_hash": _text(record.get("file_hash")),
        "detail": _text(record.get("detail")),
    }


def broken_link(prev: tuple[int, str] | None, row: Mapping[Any, Any]) -> str | None:
    """Why ``row`` does not follow ``prev`` (the previous record's event id and stored row
    hash; None before the first), in Korean; None when it does.

    >>> broken_link((3, GENESIS), {"event_id": 5})
    '4번 기록이 없습니다 (지워진 기록).'
    """
    expected = 1 if prev is None else prev[0] + 1
    if row["event_id"] != expected:
        last = row["event_id"] - 1
        missing = f"{expected}번" if last == expected else f"{expected}번부터 {last}번까지"
        return f"{missing} 기록이 없습니다 (지워진 기록)."
    if row["prev_hash"] != (GENESIS if prev is None else prev[1]):
        return "앞 기록의 해시와 이어지지 않습니다 (앞 기록이 고쳐졌거나 바뀌었습니다)."
    if chain_hash(row["prev_hash"], row) != row["row_hash"]:
        return "기록 내용이 해시와 맞지 않습니다 (기록이 고쳐졌습니다)."
    return None


def frame(
    rows: Iterable[Sequence[Any]], columns: Sequence[str], dates: Sequence[str] = (), ints: Sequence[str] = ()
) -> pd.DataFrame:
    """Rows as a frame: ``dates`` (ISO text) as datetimes, ``ints`` as nullable integers; an
    empty result keeps its columns.

    >>> frame([("2026-01-02T03:04:05", None)], ["at", "n"], dates=["at"], ints=["n"]).dtypes.tolist()
    [dtype('<M8[us]'), Int64Dtype()]
    """
    out = pd.DataFrame([tuple(r) for r in rows], columns=list(columns))
    for column in dates:
        # one unit whether or not rows came back (pandas infers seconds for an empty column)
        out[column] = pd.to_datetime(out[column], format="ISO8601").astype("datetime64[us]")
    for column in ints:
        out[column] = out[column].astype("Int64")
    return out


class Casework:
    """The casework methods of :class:`~blindspot.db.opstore.OpStore`, which provides
    :meth:`connect` (reads), :meth:`begin` (a write transaction) and ``_within(con)`` (the
    caller's transaction, or a new one)."""

    if TYPE_CHECKING:

        def connect(self) -> AbstractContextManager[Connection]: ...
        def begin(self) -> AbstractContextManager[Connection]: ...
        def _within(self, con: Connection | None) -> AbstractContextManager[Connection]: ...

    # --- the audit log: a hash chain (chain_hash, broken_link), append-only in the database ---

    def append_audit(self, record: dict[str, Any], con: Connection | None = None) -> int:
        """Append one record (keys: happened_at (datetime or ISO text), user_name, role,
        action, scope, filters, row_count, purpose, file_hash, detail) to the chain and
        return its event id (consecutive from 1).

        Two appends can never link to the same record (``prev_hash`` is unique).  Alone
        (``con`` None) the append is its own transaction and a collision is retried here.
        With ``con`` it is written in the caller's transaction; appends then take turns
        (PostgreSQL: an advisory lock held to the end of the transaction; SQLite: the write
        lock :meth:`begin` takes at BEGIN), and should a collision still happen (a transaction
        not from :meth:`begin`) the ``IntegrityError`` fails the caller's whole transaction,
        for the caller to run again.

        Example: ``store.append_audit({"happened_at": now, "user_name": "kim", "role": "admin",
        "action": "view_list", "scope": "전체", "filters": "{}", "row_count": 3, "purpose": "점검"})`` → 1.
        """
        values = audit_values(record)
        if con is not None:
            with self._within(con) as c:
                return self._append(c, values)
        for _ in range(_AUDIT_RETRIES):
            try:
                with self.begin() as c:
                    return self._append(c, values)
            except IntegrityError:  # another process appended after the same record: read again
                time.sleep(random.uniform(0.001, 0.02))
        raise RuntimeError("audit record could not be appended")  # pragma: no cover

    @staticmethod
    def _append(con: Connection, values: dict[str, Any]) -> int:
        a = audit_log
        if con.dialect.name == "postgresql":
            con.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_AUDIT_LOCK})")
        last = con.execute(select(a.c.event_id, a.c.row_hash).order_by(a.c.event_id.desc()).limit(1)).first()
        event_id, prev_hash = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
        row = {"event_id": event_id, **values}
        con.execute(insert(a).values(**row, prev_hash=prev_hash, row_hash=chain_hash(prev_hash, row)))
        return event_id

    def audit_frame(
        self,
        user: str | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 10_000,
    ) -> pd.DataFrame:
        """Audit records, newest first, at most ``limit``: of ``user``, of ``action``, with
        ``since <= happened_at < until``.  Columns :data:`AUDIT_FIELDS`, happened_at
        a datetime.

        Example: ``store.audit_frame(action="export_list", since=dt.datetime(2026, 1, 1))``.
        """
        a = audit_log
        query = select(*(a.c[f] for f in AUDIT_FIELDS)).order_by(a.c.event_id.desc()).limit(int(limit))
        if user is not None:
            query = query.where(a.c.user_name == user)
        if action is not None:
            query = query.where(a.c.action == action)
        # One fixed ISO spelling: text order is time order on both backends.
        if since is not None:
            query = query.where(a.c.happened_at >= iso_seconds(since))
        if until is not None:
            query = query.where(a.c.happened_at < iso_seconds(until))
        with self.connect() as con:
            rows = con.execute(query).all()
        return frame(rows, AUDIT_FIELDS, dates=["happened_at"], ints=["row_count"])

    def audit_users(self) -> list[str]:
        """Every user in the log, sorted (``["kim", "lee"]``)."""
        with self.connect() as con:
            return sorted(con.execute(select(audit_log.c.user_name).distinct()).scalars())

    def audit_count(self) -> int:
        """How many records the log holds."""
        with self.connect() as con:
            return int(con.execute(select(func.count()).select_from(audit_log)).scalar_one())

    def verify_audit(self) -> dict[str, Any]:
        """Walk the chain in event-id order, :data:`BATCH` records at a time, and stop
        at the first record that does not follow (a rewritten record, a broken link, a gap).

        Example: ``store.verify_audit()`` →
        ``{"ok": True, "records": 3, "first_broken": None, "reason": None}``.
        """
        a = audit_log
        query = select(*(a.c[f] for f in (*AUDIT_FIELDS, "prev_hash", "row_hash"))).order_by(a.c.event_id)
        prev: tuple[int, str] | None = None
        checked = 0
        with self.connect() as con:
            while rows := con.execute(query.where(a.c.event_id > (prev[0] if prev else 0)).limit(BATCH)).all():
                for row in rows:
                    checked += 1
                    reason = broken_link(prev, row._mapping)
                    if reason is not None:
                        return {"ok": False, "records": checked, "first_broken": row.event_id, "reason": reason}
                    prev = (row.event_id, row.row_hash)
        return {"ok": True, "records": checked, "first_broken": None, "reason": None}

    # --- entered visit outcomes: appended, the latest entry per household and round wins ---

    def add_outcome(
        self,
        round_id: int,
        pseudo_id: str,
        outcome: str,
        support_type: str | None,
        recorded_at: dt.datetime | str,
        recorded_by: str,
        con: Connection | None = None,
        kind: str = "visit",
    ) -> int:
        """Record an outcome (a new entry; earlier ones stay) and return its entry id.

        Example: ``store.add_outcome(20243, "p001", "visited", None, now, "kim")`` → 1.
        """
        row = {
            "round_id": int(round_id),
            "pseudo_id": str(pseudo_id),
            "outcome": outcome,
            "support_type": support_type,
            "recorded_at": iso_seconds(recorded_at),
            "recorded_by": recorded_by,
            "kind": kind,
        }
        with self._within(con) as c:
            return int(
                c.execute(insert(entered_outcomes).values(**row).returning(entered_outcomes.c.entry_id)).scalar_one()
            )

    def outcomes_frame(self, round_id: int | None = None, kind: str = "visit") -> pd.DataFrame:
        """The latest entry per (round, household), of one round or all; columns
        :data:`OUTCOME_COLUMNS`, recorded_at a datetime.

        Example: ``store.outcomes_frame(20243)`` has one row per household with an outcome.
        """
        o = entered_outcomes
        latest = select(func.max(o.c.entry_id)).where(o.c.kind == kind).group_by(o.c.round_id, o.c.pseudo_id)
        if round_id is not None:
            latest = latest.where(o.c.round_id == int(round_id))
        query = select(*(o.c[c] for c in OUTCOME_COLUMNS)).where(o.c.entry_id.in_(latest))
        with self.connect() as con:
            rows = con.execute(query.order_by(o.c.round_id, o.c.pseudo_id)).all()
        return frame(rows, OUTCOME_COLUMNS, dates=["recorded_at"])

    def latest_outcome(self, round_id: int, pseudo_id: str, kind: str = "visit") -> dict[str, Any] | None:
        """The latest entry of one household in one round (recorded_at a datetime), or None.

        Example: ``store.latest_outcome(20243, "p001")["outcome"]`` → ``"visited"``.
        """
        o = entered_outcomes
        query = (
            select(*(o.c[c] for c in OUTCOME_COLUMNS))
            .where(o.c.round_id == int(round_id), o.c.pseudo_id == str(pseudo_id), o.c.kind == kind)
            .order_by(o.c.entry_id.desc())
            .limit(1)
        )
        with self.connect() as con:
            row = con.execute(query).first()
        if row is None:
            return None
        return dict(row._mapping) | {"recorded_at": dt.datetime.fromisoformat(row.recorded_at)}

    def outcomes_version(self) -> tuple[int, int]:
        """(largest entry id, entries): changes with every outcome added, for caches."""
        o = entered_outcomes
        with self.connect() as con:
            top, count = con.execute(select(func.max(o.c.entry_id), func.count())).one()
        return (int(top or 0), int(count))

    # --- briefing targets, one per area and indicator ---

    def targets(self, area_code: str) -> dict[str, float]:
        """An area's targets, ``{indicator: target}``."""
        t = briefing_targets
        with self.connect() as con:
            rows = con.execute(select(t.c.indicator, t.c.target).where(t.c.area_code == area_code)).all()
        return {str(k): float(v) for k, v in rows}

    def set_target(
        self,
        area_code: str,
        indicator: str,
        target: float | None,
        updated_by: str,
        updated_at: dt.datetime | str,
        con: Connection | None = None,
    ) -> None:
        """Set one target (insert or replace), or remove it when ``target`` is None.

        Example: ``store.set_target("11110", "visit_rate", 0.8, "kim", now)``.
        """
        t = briefing_targets
        with self._within(con) as c:
            if target is None:
                c.execute(t.delete().where(t.c.area_code == area_code, t.c.indicator == indicator))
                return
            upsert = postgresql.insert if c.dialect.name == "postgresql" else sqlite.insert
            stmt = upsert(t).values(
                area_code=area_code,
                indicator=indicator,
                target=float(target),
                updated_by=updated_by,
                updated_at=iso_seconds(updated_at),
            )
            changed = {k: stmt.excluded[k] for k in ("target", "updated_by", "updated_at")}
            c.execute(stmt.on_conflict_do_update(index_elements=[t.c.area_code, t.c.indicator], set_=changed))

    def targets_version(self, area_code: str) -> tuple:
        """An area's targets as a sorted tuple of (indicator, target, updated_by, updated_at):
        a few rows, so the stamp is exact (two changes in one second still differ)."""
        t = briefing_targets
        with self.connect() as con:
            rows = con.execute(
                select(t.c.indicator, t.c.target, t.c.updated_by, t.c.updated_at).where(t.c.area_code == area_code)
            ).all()
        return tuple(sorted(tuple(r) for r in rows))

    # --- loaded extraction files ---

    def add_load(self, row: dict[str, Any], con: Connection | None = None) -> None:
        """Record one loaded file (keys :data:`LOAD_COLUMNS`; loaded_at a datetime or text,
        seconds and snapshot optional).

        Example: ``store.add_load({"load_id": "L1", "round_id": 20243, "kind": "households", …})``.
        """
        values = {c: row.get(c) for c in LOAD_COLUMNS}
        values |= {
            "round_id": int(row["round_id"]),
            "rows": int(row["rows"]),
            "replaced": bool(row["replaced"]),
            # Microseconds kept: two loads within one second still sort in the order they ran.
            "loaded_at": row["loaded_at"].isoformat()
            if isinstance(row["loaded_at"], dt.datetime)
            else str(row["loaded_at"]),
        }
        with self._within(con) as c:
            c.execute(insert(ingest_loads).values(**values))

    def loads_frame(self) -> pd.DataFrame:
        """Every loaded file, newest first; columns :data:`LOAD_COLUMNS`, loaded_at a datetime."""
        t = ingest_loads
        with self.connect() as con:
            rows = con.execute(select(t).order_by(t.c.loaded_at.desc(), t.c.load_id.desc())).all()
        return frame(rows, LOAD_COLUMNS, dates=["loaded_at"], ints=["rows"])
