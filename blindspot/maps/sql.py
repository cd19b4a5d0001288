"""SQL of the maps: per-region measure counts, risk counts, adjacency, H3 points, drill-down.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

from blindspot.db.sql import CONFIRMED_OUTCOMES_SQL, valid_in_round

# Map measures come back long, one row per (region, measure) with the household count
# behind it, so one statement serves any set of age bands and indicator domains.
# {level_col} is sido_code, sgg_code, emd_code or the literal '00' (the whole country)
# for households, and {obs_level_col} / {visit_level_col} the same for observations
# (alias o) and visits, which hold no 시도 code.
# {scope}, {obs_scope} and {visit_scope} are the caller's 시군구 condition on each table.
# Named parameters: $t round, $band_keys/$band_lo/$band_hi the
# head-of-household age bands (inclusive years).
# Signals and visits are counted from their own tables' region columns (copied from
# the household at load, and only households of that round get rows), because joining
# a round's million signals back to 24 million households doubled the cost.  A
# household's domains are a bit mask (bit = domains.sort_order): list(DISTINCT …) per
# household was eight times slower.  Households are first grouped by (region, mask),
# at most 2^domains rows per region, so the domain split runs on a small table.
# One-person households by band are grouped by (region, age) first and banded after,
# so any number of (overlapping) bands costs one scan.
# Counts come back exact: small-count suppression (primary and complementary) is applied
# in Python by blindspot.access.protect (blindspot.maps.data.region_counts), and rates are
# formed only from pairs where both counts survived.
# The measures of one region level from CTEs ``ages`` (code, head_age, n, one) and
# ``masks`` (code, mask, n), plus live visits: shared by MAP_COUNTS (live tables) and
# MAP_COUNTS_STATS (per-읍면동 aggregates), so both give the same numbers (tested).
_MAP_MEASURES = (
    """
    bands AS (
        SELECT unnest($band_keys) AS band, unnest($band_lo) AS lo, unnest($band_hi) AS hi),
    counts AS (
        SELECT code, 'households' AS measure, sum(n) AS n FROM ages GROUP BY code
        UNION ALL
        SELECT code, 'one_person', sum(one) FROM ages GROUP BY code
        UNION ALL
        SELECT ages.code, 'one_person_' || b.band, sum(ages.one)
        FROM ages JOIN bands b ON ages.head_age BETWEEN b.lo AND b.hi GROUP BY ALL
        UNION ALL
        SELECT m.code, 'domain_' || d.domain, sum(m.n)
        FROM masks m JOIN domains d ON (m.mask & (1::BIGINT << d.sort_order)) <> 0 GROUP BY ALL
        UNION ALL
        SELECT code, 'signal_any', sum(n) FROM masks GROUP BY code
        UNION ALL
        SELECT code, unnest(['visited', 'confirmed', 'supported']),
               unnest([count(DISTINCT household_id),
                       count(DISTINCT household_id) FILTER (WHERE outcome IN """
    + CONFIRMED_OUTCOMES_SQL
    + """),
                       count(DISTINCT household_id) FILTER (WHERE outcome = 'supported')])
        FROM (SELECT {visit_level_col} AS code, household_id, outcome FROM visits_now
              WHERE round_id = $t AND {visit_scope})
        GROUP BY code)
    SELECT code, measure, n
    FROM counts ORDER BY code, measure"""
)

MAP_COUNTS = (
    """
    WITH ages AS (
        SELECT {level_col} AS code, head_age, count(*) AS n, count(*) FILTER (WHERE one_person) AS one
        FROM households
        WHERE """
    + valid_in_round("$t")
    + """ AND {scope}
        GROUP BY ALL),
    sig AS (
        SELECT o.household_id, any_value({obs_level_col}) AS code,
               bit_or(1::BIGINT << d.sort_order) AS mask
        FROM observations o
        JOIN indicators i ON i.code = o.indicator_code
        JOIN domains d ON d.domain = i.domain
        WHERE o.round_id = $t AND {obs_scope}
        GROUP BY o.household_id),
    masks AS (
        SELECT code, mask, count(*) AS n FROM sig GROUP BY ALL),
"""
    + _MAP_MEASURES
)

SCORES_IN_ROUND = "SELECT count(*) FROM scores WHERE round_id = ?"

# Households at risk (band 위험 or 주의), households scored and mean probability per region;
# same slots as MAP_COUNTS, exact counts (suppressed by the caller).
MAP_RISK = (
    """
    WITH hh AS (
        SELECT household_id, {level_col} AS code
        FROM households
        WHERE """
    + valid_in_round("$t")
    + """ AND {scope}),
    agg AS (
        SELECT hh.code, count(*) AS scored,
               count(*) FILTER (WHERE s.band IN ('high', 'medium')) AS at_risk,
               avg(s.probability) AS mean_probability
        FROM scores s JOIN hh USING (household_id)
        WHERE s.round_id = $t AND {score_scope}
        GROUP BY hh.code)
    SELECT code, at_risk, scored, mean_probability
    FROM agg ORDER BY code"""
)

# What the protected counts of a round depend on beyond the build (blindspot.maps.data's
# memo): that round's visits and outcomes, its scores, and the loads of real rounds.
PROTECT_FINGERPRINT = """
    SELECT (SELECT count(*) FROM visits_now WHERE round_id = $t),
           (SELECT coalesce(sum(hash(household_id, outcome, channel)), 0) FROM visits_now WHERE round_id = $t),
           (SELECT count(*) FROM ingest_loads)"""

PROTECT_FINGERPRINT_SCORES = """
    SELECT count(*), coalesce(sum(hash(household_id, band)), 0) FROM scores WHERE round_id = $t"""

PREVIOUS_ROUND = "SELECT max(round_id) FROM rounds WHERE round_id < ?"

# The 시군구 of one 시도 (narrowing a view to one 시도 lets DuckDB prune by 시군구).
# Top-ranked households of one 시군구 or 읍면동 with their signals as reasons.  $area is
# a 5- or 10-digit code, matched against the household's 시군구 or 읍면동.
TOP_HOUSEHOLDS = (
    """
    WITH top AS (
        SELECT s.household_id, s.probability, s.band
        FROM scores s
        WHERE s.round_id = $t AND {score_scope}
          AND (s.sgg_code = $area OR s.emd_code = $area)
        ORDER BY s.probability DESC, s.household_id
        LIMIT $limit)
    SELECT h.pseudo_id, r.name AS emd_name, top.band, top.probability,
           string_agg(replace(i.reason_ko, '{{value}}', o.value::VARCHAR), ', ' ORDER BY i.sort_order) AS reasons
    FROM top
    JOIN households h ON h.household_id = top.household_id
        AND """
    + valid_in_round("$t", "h")
    + """
    JOIN regions r ON r.code = h.emd_code
    LEFT JOIN observations o ON o.household_id = top.household_id AND o.round_id = $t AND {obs_scope}
    LEFT JOIN indicators i ON i.code = o.indicator_code
    GROUP BY ALL
    ORDER BY top.probability DESC, h.pseudo_id"""
)

# Queen neighbours of the 읍면동 (both directions are stored), both ends inside the scope:
# {scope} and {neighbor_scope} test the first five digits (the 시군구) of each code.
EMD_ADJACENCY = """
    SELECT emd_code, neighbor_code FROM region_adjacency
    WHERE {scope} AND {neighbor_scope}
    ORDER BY emd_code, neighbor_code"""

# Household points of one 시군구 for the hexagon micro-map.  {risk_join} and {risk} are
# HEX_RISK_JOIN and HEX_RISK_COLUMN when the round has scores, else '' and HEX_NO_RISK_COLUMN.
HEX_POINTS = (
    """
    SELECT h.lon, h.lat, h.one_person, {risk} AS at_risk
    FROM households h {risk_join}
    WHERE """
    + valid_in_round("$t", "h")
    + """
      AND h.sgg_code = $sgg AND {scope}"""
)

HEX_RISK_JOIN = "LEFT JOIN scores s ON s.household_id = h.household_id AND s.round_id = $t"

HEX_RISK_COLUMN = "coalesce(s.band IN ('high', 'medium'), false)"

HEX_NO_RISK_COLUMN = "NULL::BOOLEAN"

DOMAINS = "SELECT domain, name_ko FROM domains ORDER BY sort_order"

# MAP_COUNTS from the aggregates: the same measures and slots.
MAP_COUNTS_STATS = (
    """
    WITH ages AS (
        SELECT {level_col} AS code, head_age, sum(n) AS n, sum(one) AS one
        FROM stats_ages WHERE round_id = $t AND {scope}
        GROUP BY ALL),
    masks AS (
        SELECT {level_col} AS code, mask, sum(n) AS n
        FROM stats_masks WHERE round_id = $t AND {scope}
        GROUP BY ALL),
"""
    + _MAP_MEASURES
)

MAP_RISK_STATS = """
    WITH agg AS (
        SELECT {level_col} AS code, sum(scored) AS scored, sum(at_risk) AS at_risk,
               sum(sum_probability) / sum(scored) AS mean_probability
        FROM stats_risk WHERE round_id = $t AND {scope}
        GROUP BY ALL)
    SELECT code, at_risk, scored, mean_probability
    FROM agg ORDER BY code"""
