"""Per-읍면동 aggregates of a round for the maps (tables ``stats_ages``, ``stats_masks``,
``stats_risk``; schema v4).

The maps' measures need, per region, households by head age, signalled households by the
set of domains they show, and risk counts.  Computed live they scan every household,
signal and score of the round (4–8 s nationally); from these tables they read thousands
of rows.  Whatever changes a round's households, signals or scores refreshes them in the
same transaction: the demo build, ingest, and scoring.  Visits are not aggregated here:
outcome entry changes them one row at a time, and they are few.
"""

from __future__ import annotations

from blindspot.db import sql
from blindspot.db.store import Store

PARTS = {
    "households": ("stats_ages", sql.STATS_INSERT_AGES),
    "signals": ("stats_masks", sql.STATS_INSERT_MASKS),
    "risk": ("stats_risk", sql.STATS_INSERT_RISK),
}


def refresh(store: Store, round_id: int, parts=("households", "signals", "risk")) -> None:
    """Recompute the aggregates of one round (the caller's transaction, if any, covers it).

    Example: after scoring 2024-R3, ``refresh(store, 20243, ("risk",))``.
    """
    for part in parts:
        table, insert = PARTS[part]
        store.run(sql.STATS_DELETE.format(table=table), [int(round_id)])
        store.run(insert, {"t": int(round_id)})


def refresh_all(store: Store) -> list[int]:
    """Recompute every loaded round; returns the round ids."""
    rounds = [r for (r,) in store.rows(sql.ROUND_IDS)]
    for r in rounds:
        refresh(store, r)
    return rounds


def ready(store: Store, round_id: int) -> bool:
    """Whether the round's household and signal aggregates exist."""
    return bool(store.scalar(sql.STATS_READY, [int(round_id)]))


def risk_ready(store: Store, round_id: int) -> bool:
    return bool(store.scalar(sql.STATS_RISK_READY, [int(round_id)]))
