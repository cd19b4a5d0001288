"""SQL of the special support zones: the share of residents aged 65 and over per region.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{scope}`` takes the placeholders of :func:`blindspot.access.scope_sql_named`
(SQL this project produces itself), never a user's value.  Every other component of the
index is a figure of the maps (:mod:`blindspot.maps.data`) or of the reach gap
(:mod:`blindspot.reach.figures`), read through their public functions, so the ranking shows
exactly what the map and the reach-gap page show, suppression included.
"""

from __future__ import annotations

# Residents aged $age and over as a share of all residents, per region of one level, from the
# registered population of June 2024 (population_by_age: one row per unit, sex and five-year
# group; public statistics, the same for every round).  $level is 'sgg' or 'emd'; {scope}
# restricts left(code, 5), the 시군구 of a 5- or 10-digit code.
ELDERLY_SHARE = """
    SELECT code,
           sum(population) FILTER (WHERE age_from >= $age)::DOUBLE / nullif(sum(population), 0) AS share
    FROM population_by_age
    WHERE level = $level AND {scope}
    GROUP BY code ORDER BY code"""

# Rounds loaded up to $t, newest first, with whether each has risk scores.
ROUNDS_WITH_SCORES = """
    SELECT r.round_id, EXISTS (SELECT 1 FROM scores s WHERE s.round_id = r.round_id) AS scored
    FROM rounds r WHERE r.round_id <= $t ORDER BY r.round_id DESC"""
