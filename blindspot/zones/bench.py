"""Special support zone timings for ``bench --json``: the national 시군구 ranking with its
bootstrap rank intervals for one round, as the ``zones`` command and an analyst's page compute
it, and as a presenter's page does (the same from each round's figures after complementary
suppression of the whole national tree, cold).  Docs: docs/zones.md, *Speed*.
"""

from __future__ import annotations

import time

from blindspot.access import Scope
from blindspot.db.store import Store
from blindspot.followup.cases import latest_scored_round
from blindspot.zones import figures as zones

# k = 7: the briefing timing remembers the protected trees of k = 5 and the reach gap's those
# of k = 6 for the latest round; this figure is meant cold, every round's tree computed.
PRESENTER_K = 7


def zones_timing(store: Store) -> dict:
    """Seconds for :func:`blindspot.zones.figures.zone_ranking` of every 시군구 in the latest
    scored round, default weights, ``zones_replicates`` replicates: ``zones_seconds`` (analyst)
    and ``zones_presenter_seconds`` (presenter, cold), with ``zones_round`` (round id),
    ``zones_rounds_used`` (how many rounds the ranking averaged) and ``zones_areas`` (시군구
    ranked for the analyst); empty when no round is scored.

    Example: on the demo world at scale 0.1 (2024-R3, three scored rounds) about
    ``{"zones_seconds": 1.4, "zones_presenter_seconds": 5.5, "zones_round": 20243, ...}``.
    """
    round_id = latest_scored_round(store)
    if round_id is None:
        return {}
    t = time.perf_counter()
    ranking = zones.zone_ranking(store, Scope.analyst(), "sgg", round_id)
    analyst = time.perf_counter() - t
    t = time.perf_counter()
    zones.zone_ranking(store, Scope.aggregates_only(PRESENTER_K), "sgg", round_id)
    presenter = time.perf_counter() - t
    return {
        "zones_seconds": round(analyst, 2),
        "zones_presenter_seconds": round(presenter, 2),
        "zones_round": round_id,
        "zones_rounds_used": len(ranking.rounds),
        "zones_areas": int((ranking.table["status"] == "ranked").sum()),
    }
