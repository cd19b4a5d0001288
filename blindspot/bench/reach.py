"""Reach-gap timings for ``bench --json``: every 읍면동 of one round, as the ``reach-gap``
command and an analyst's page compute it (expected from the per-읍면동 aggregates, found and
supported from the live visits), and as a presenter's page does (the same after complementary
suppression over the whole national tree).  Docs: docs/reach-gap.md, *Speed*.
"""

from __future__ import annotations

import time

from blindspot.access import Scope
from blindspot.bench import sql
from blindspot.db.store import Store
from blindspot.followup.cases import latest_scored_round
from blindspot.reach import figures as reach

# k = 6, not the default 5: the briefing timing remembers the protected tree of k = 5 for the
# latest round, and this figure is meant cold.
PRESENTER_K = 6


def reach_timing(store: Store) -> dict:
    """Seconds for :func:`blindspot.reach.figures.reach_gap` at 읍면동 level for the whole
    country in the latest round with scores and visits (else the latest scored): ``reach_gap_seconds`` (analyst) and
    ``reach_gap_presenter_seconds`` (presenter, cold); empty when no round is scored."""
    latest = store.scalar(sql.LATEST_SCORED_VISITED_ROUND)
    if latest is None:
        latest = latest_scored_round(store)
        if latest is None:
            return {}
    round_id = int(latest)
    t = time.perf_counter()
    frame = reach.reach_gap(store, Scope.analyst(), "emd", round_id)
    analyst = time.perf_counter() - t
    t = time.perf_counter()
    reach.reach_gap(store, Scope.aggregates_only(PRESENTER_K), "emd", round_id)
    presenter = time.perf_counter() - t
    return {
        "reach_gap_seconds": round(analyst, 2),
        "reach_gap_presenter_seconds": round(presenter, 2),
        "reach_gap_round": round_id,
        "reach_gap_areas": int(frame["has_data"].sum()),
    }
