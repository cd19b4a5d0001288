"""SQL of the lonely-death lens: one-person households by age, sex and lonely-death signal;
the graded households of one round; the visit labels the grade's weights are estimated on;
the ground truth the grade is measured against.

Statements run only through :meth:`blindspot.db.store.Store.run` (``Store.df``), with values
bound as parameters.  ``{...}`` slots take SQL structure this package produces itself (the
placeholders of :func:`blindspot.access.scope_sql_named`), never a user's value.
"""

from __future__ import annotations

from blindspot.db.sql import LABEL_OUTCOMES_SQL, valid_in_round

# The catalogue's lonely-death indicators (the 고독사 위기정보), in catalogue order.
LONELY_CODES = "SELECT code, name_ko FROM indicators WHERE lonely_death ORDER BY sort_order"

# One-person households of round $t in the scope ({scope} on households, {obs_scope} on
# observations o), grouped by 읍면동, head's age and sex and whether the household shows at
# least one lonely-death signal this round: a few hundred thousand rows nationally at most,
# banded into life stages in Python so any (overlapping) bands cost one scan.
STAGE_ROWS = (
    """
    WITH hh AS (
        SELECT household_id, emd_code, head_age, head_sex FROM households
        WHERE one_person AND """
    + valid_in_round("$t")
    + """ AND {scope}),
    ld AS (
        SELECT DISTINCT o.household_id
        FROM observations o JOIN indicators i ON i.code = o.indicator_code
        WHERE o.round_id = $t AND i.lonely_death AND {obs_scope})
    SELECT hh.emd_code AS code, hh.head_age, hh.head_sex, count(*) AS n, count(ld.household_id) AS lonely
    FROM hh LEFT JOIN ld ON ld.household_id = hh.household_id
    GROUP BY ALL"""
)

# Every household of round $t in the scope with what the grade needs: one_person, the head's
# age and sex, and the list of lonely-death indicator codes it shows this round ([] if none).
GRADE_ROWS = (
    """
    WITH hh AS (
        SELECT household_id, sgg_code, emd_code, head_age, head_sex, one_person FROM households
        WHERE """
    + valid_in_round("$t")
    + """ AND {scope} AND (NOT $one_only OR one_person)),
    ld AS (
        SELECT o.household_id, list(o.indicator_code ORDER BY i.sort_order) AS codes
        FROM observations o JOIN indicators i ON i.code = o.indicator_code
        WHERE o.round_id = $t AND i.lonely_death AND {obs_scope}
        GROUP BY o.household_id)
    SELECT hh.household_id, hh.sgg_code, hh.emd_code, hh.head_age, hh.head_sex, hh.one_person,
           coalesce(ld.codes, []::VARCHAR[]) AS codes
    FROM hh LEFT JOIN ld ON ld.household_id = hh.household_id
    ORDER BY hh.household_id"""
)

# The grade's weights are estimated on visit outcomes (never the synthetic ground truth):
# one row per one-person household visited in a round before $t, whether the visit
# confirmed a need (the model's label), and the lonely-death codes it showed that round.
_LABELLED = (
    """
    WITH v AS (
        SELECT v.round_id, v.household_id,
               bool_or(v.outcome IN """
    + LABEL_OUTCOMES_SQL
    + """) AS y
        FROM visits_now v
        JOIN households h ON h.household_id = v.household_id AND h.one_person
             AND """
    + valid_in_round("v.round_id", "h")
    + """
        WHERE v.round_id < $t
        GROUP BY ALL)"""
)
WEIGHT_ROWS = (
    _LABELLED
    + """
    SELECT v.round_id, v.household_id, v.y,
           coalesce(list(o.indicator_code) FILTER (WHERE i.lonely_death), []::VARCHAR[]) AS codes
    FROM v
    LEFT JOIN observations o ON o.round_id = v.round_id AND o.household_id = v.household_id
    LEFT JOIN indicators i ON i.code = o.indicator_code
    GROUP BY ALL
    ORDER BY v.round_id, v.household_id"""
)

# The grade counts of round $t in the scope without fetching a row per household: each
# one-person household's score is the sum of the weights ($codes, $weights: parallel lists,
# bound) of the lonely-death signals it shows, rounded to 9 places as grade.grade rounds it,
# and counted against $high as grade.grade grades it.  Nationally that is ~10 M households,
# which as rows in Python took minutes.
GRADE_COUNTS = (
    """
    WITH hh AS (
        SELECT household_id FROM households
        WHERE one_person AND """
    + valid_in_round("$t")
    + """ AND {scope}),
    w AS (SELECT unnest($codes) AS code, unnest($weights) AS weight),
    sc AS (
        SELECT o.household_id, round(sum(w.weight), 9) AS score
        FROM observations o JOIN w ON w.code = o.indicator_code
        WHERE o.round_id = $t AND {obs_scope}
        GROUP BY o.household_id)
    SELECT count(*) FILTER (WHERE coalesce(sc.score, 0) > 0 AND sc.score >= $high) AS high,
           count(*) FILTER (WHERE coalesce(sc.score, 0) > 0 AND sc.score < $high) AS medium,
           count(*) FILTER (WHERE coalesce(sc.score, 0) <= 0) AS low
    FROM hh LEFT JOIN sc ON sc.household_id = hh.household_id"""
)

# The same labels as WEIGHT_ROWS, counted in the database: per lonely-death indicator, the
# labelled households that showed it (n) and those of them with a need confirmed (pos), and
# over all labelled households (code NULL) the totals: what signal_weights needs, not a row
# per household.
WEIGHT_COUNTS = (
    _LABELLED
    + """,
    p AS (
        SELECT DISTINCT v.round_id, v.household_id, v.y, o.indicator_code AS code
        FROM v
        JOIN observations o ON o.round_id = v.round_id AND o.household_id = v.household_id
        JOIN indicators i ON i.code = o.indicator_code AND i.lonely_death)
    SELECT code, count(*) AS n, count(*) FILTER (WHERE y) AS pos FROM p GROUP BY code
    UNION ALL
    SELECT NULL, count(*), count(*) FILTER (WHERE y) FROM v"""
)

# Evaluation only: the general model's probability and band, and the synthetic ground
# truth, of every one-person household of round $t (the grade never reads this).
TRUTH_ROWS = (
    """
    SELECT h.household_id, s.probability, s.band, c.household_id IS NOT NULL AS crisis
    FROM households h
    LEFT JOIN scores s ON s.round_id = $t AND s.household_id = h.household_id
    LEFT JOIN synthetic_crisis c ON c.round_id = $t AND c.household_id = h.household_id
    WHERE h.one_person AND """
    + valid_in_round("$t", "h")
    + """
    ORDER BY h.household_id"""
)

# What the weights depend on besides the build: visits of the rounds before $t (entered
# outcomes change them), so remembered weights are recomputed when these change.
WEIGHT_FINGERPRINT = "SELECT count(*), max(recorded_at) FROM visits_now WHERE round_id < $t"
