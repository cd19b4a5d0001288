"""SQL of the reach gap: expected crisis households (the sum of the model's calibrated
probabilities) per region and round.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.  Found and supported households are not counted here: they are the maps'
protected counts (:func:`blindspot.maps.counts.region_counts`), read from ``visits_now``,
so an outcome an official enters counts at once and the reach-gap page hides exactly the
cells the map hides.
"""

from __future__ import annotations

# Per region of one level: households scored and the sum of their probabilities, from the
# per-읍면동 aggregates (blindspot/db/aggregates.py, refreshed with the round's scores).
# {level_col}: sido_code, sgg_code, emd_code or '00'; {scope}: the caller's 시군구 condition
# on sgg_code.  Named parameter $t: the round.
EXPECTED_STATS = """
    SELECT {level_col} AS code, sum(scored) AS scored, sum(sum_probability) AS expected
    FROM stats_risk WHERE round_id = $t AND {scope}
    GROUP BY ALL ORDER BY code"""

# The same from the scores themselves, for a round whose aggregates are missing (a database
# migrated from an older schema until `python -m blindspot stats`).  {level_col} is one of
# left(sgg_code, 2), sgg_code, emd_code or '00' (scores hold no 시도 code).
EXPECTED_LIVE = """
    SELECT {level_col} AS code, count(*) AS scored, sum(probability) AS expected
    FROM scores WHERE round_id = $t AND {scope}
    GROUP BY ALL ORDER BY code"""

# Scored rounds up to $t, oldest first (the trend's rounds with an expected figure).
SCORED_ROUNDS_UP_TO = "SELECT DISTINCT round_id FROM scores WHERE round_id <= ? ORDER BY round_id"
