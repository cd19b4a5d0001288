"""Operational rows that an analytical file made before the operational store holds (the
audit log, briefing targets, ingest history and the outcomes officials entered): moved into
the operational store once, when the file becomes the first snapshot version
(:func:`blindspot.db.snapshots.loader` adopts it), so an upgraded office keeps its trail.

The audit records are appended in their order, with their times, to the hash chain (a new
chain cannot vouch for what happened before it; the last record says so).  Entered outcomes
are the visits whose ``record_outcome`` audit record names the household and round, as the
old ingest kept them.  The rows stay in the old version's file as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from blindspot.db import opstore, schema
from blindspot.db.store import Store

LEGACY_AUDIT = "SELECT * FROM audit_log ORDER BY event_id"
LEGACY_TARGETS = "SELECT area_code, indicator, target, updated_by, updated_at FROM briefing_targets"
LEGACY_LOADS = "SELECT * FROM ingest_loads ORDER BY loaded_at"
LEGACY_ENTERED = """
    SELECT v.round_id, h.pseudo_id, v.outcome, v.support_type, v.recorded_at, v.recorded_by
    FROM visits v JOIN households h ON h.household_id = v.household_id
        AND h.valid_from_round <= v.round_id AND (h.valid_to_round IS NULL OR h.valid_to_round >= v.round_id)
    WHERE v.recorded_by <> 'synthetic' AND EXISTS (
        SELECT 1 FROM audit_log a
        WHERE a.action = 'record_outcome' AND a.user_name = v.recorded_by
          AND json_extract_string(a.filters, '$.round') = CAST(v.round_id AS VARCHAR)
          AND json_extract_string(a.filters, '$.pseudo_id') = h.pseudo_id)
    ORDER BY v.recorded_at"""


def move_legacy(path: Path) -> dict:
    """Copy the legacy operational rows of the analytical file ``path`` into the operational
    store; returns how many of each.  A file without them (any file made since) gives zeros.

    Example: ``move_legacy(Path("data/blindspot.duckdb"))`` → ``{"audit": 12, "targets": 1,
    "loads": 0, "outcomes": 2}``.
    """
    done = {"audit": 0, "targets": 0, "loads": 0, "outcomes": 0}
    st = Store(path, read_only=True, check_schema=False)
    try:
        if not st.scalar(schema.HAS_META_TABLE) or int(st.meta().get("schema_version", 0)) < 3:
            return done  # before schema v3 there were no such tables
        audit = st.df(LEGACY_AUDIT)
        targets = st.df(LEGACY_TARGETS)
        loads = st.df(LEGACY_LOADS)
        entered = st.df(LEGACY_ENTERED)
    finally:
        st.close()
    if audit.empty and targets.empty and loads.empty and entered.empty:
        return done
    ops = opstore.open_ops()
    # Idempotent: a copy of a version (any version keeps its loads; the first version of an
    # upgraded office keeps its old audit rows) adopted elsewhere must not record them twice.
    loads = loads[~loads["load_id"].isin(set(ops.loads_frame()["load_id"]))]
    content = _fingerprint(audit, targets, entered)
    earlier = ops.audit_frame(action="import_legacy")["filters"].astype(str)
    if earlier.str.contains(content, regex=False).any():
        audit, targets, entered = audit.iloc[0:0], targets.iloc[0:0], entered.iloc[0:0]
    if audit.empty and targets.empty and loads.empty and entered.empty:
        return done
    with ops.begin() as con:  # all or nothing
        for row in audit.to_dict("records"):
            ops.append_audit({str(k): (None if _missing(v) else v) for k, v in row.items() if k != "event_id"}, con=con)
        for row in targets.to_dict("records"):
            ops.set_target(
                row["area_code"], row["indicator"], row["target"], row["updated_by"], row["updated_at"], con=con
            )
        for row in loads.to_dict("records"):
            ops.add_load({**{str(k): v for k, v in row.items()}, "snapshot": None}, con=con)
        for row in entered.to_dict("records"):
            ops.add_outcome(
                int(row["round_id"]),
                row["pseudo_id"],
                row["outcome"],
                None if _missing(row["support_type"]) else row["support_type"],
                row["recorded_at"],
                row["recorded_by"],
                con=con,
            )
        ops.append_audit(
            {
                "happened_at": dt.datetime.now().replace(microsecond=0),
                "user_name": "system",
                "role": "admin",
                "action": "import_legacy",
                "scope": "전체",
                "filters": {"db": str(path), "content": content},
                "row_count": len(audit),
                "purpose": None,
                "detail": (
                    f"분석 파일에서 옮김: 감사 기록 {len(audit):,}건 (사슬은 여기서 시작), "
                    f"브리핑 목표 {len(targets):,}건, 적재 이력 {len(loads):,}건, 입력한 방문 결과 {len(entered):,}건"
                ),
            },
            con=con,
        )
    return {"audit": len(audit), "targets": len(targets), "loads": len(loads), "outcomes": len(entered)}


def _fingerprint(*frames) -> str:
    """SHA-256 of the rows moved (their text, in order): the same legacy rows give the same
    fingerprint wherever the file was copied to."""
    digest = hashlib.sha256()
    for f in frames:
        digest.update(f.to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value) in ("NaT", "<NA>")
