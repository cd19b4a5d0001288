"""SQL of the risk model: features, labels, scores and score runs, synthetic ground truth.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

from blindspot.db.sql import LABEL_OUTCOMES_SQL, valid_in_round

REGION_NAMES_AT_LEVEL = "SELECT code, name FROM regions WHERE level = ? ORDER BY code"

# One row per household valid in round $t, with signal history from rounds $t1..$t3
# only, and the 읍면동's share of signalled households in $t.  Nothing from a round
# after $t is read.  Categorical columns come back as 1-based positions in the
# vocabulary lists $sex, $housing, $welfare, $emd_types (0 = not in the list), and region
# codes as integers, because turning millions of strings into Python objects costs more
# than the query.  Indicator values are fetched long by FEATURE_SIGNALS and pivoted in numpy.
FEATURES = (
    """
WITH hh_all AS (
    SELECT household_id, sgg_code, emd_code, head_age, head_sex, household_size,
           one_person, housing_type, welfare_status
    FROM households
    WHERE """
    + valid_in_round("$t")
    + """ AND {scope}),
cur AS (
    SELECT o.household_id, o.indicator_code, o.value, i.domain, i.kind
    FROM observations o JOIN indicators i ON i.code = o.indicator_code
    WHERE o.round_id = $t AND {scope}),
prev AS (
    SELECT household_id, indicator_code FROM observations WHERE round_id = $t1 AND {scope}),
hist AS (
    SELECT household_id,
           bool_or(round_id = $t1) AS s1, bool_or(round_id = $t2) AS s2, bool_or(round_id = $t3) AS s3,
           count(*) FILTER (WHERE round_id = $t1) AS n_signals_prev
    FROM observations WHERE round_id IN ($t1, $t2, $t3) AND {scope}
    GROUP BY household_id),
agg AS (
    SELECT c.household_id,
           count(*) AS n_signals,
           count(DISTINCT c.domain) AS n_domains,
           max(c.value) FILTER (WHERE c.kind = 'months') AS max_months,
           sum(c.value) FILTER (WHERE c.kind = 'amount') AS total_amount,
           count(*) FILTER (WHERE p.household_id IS NULL) AS n_new
    FROM cur c LEFT JOIN prev p ON p.household_id = c.household_id AND p.indicator_code = c.indicator_code
    GROUP BY c.household_id),
emd_rate AS (
    SELECT h.emd_code, count(a.household_id) / count(*) AS emd_signal_rate
    FROM hh_all h LEFT JOIN agg a USING (household_id)
    GROUP BY h.emd_code),
hh AS (SELECT * FROM hh_all WHERE {subset})
SELECT hh.household_id,
       hh.sgg_code::INTEGER AS sgg, hh.emd_code::BIGINT AS emd,
       hh.head_age, hh.household_size,
       hh.one_person,
       coalesce(list_position($sex, hh.head_sex), 0) AS head_sex,
       coalesce(list_position($housing, hh.housing_type), 0) AS housing_type,
       coalesce(list_position($welfare, hh.welfare_status), 0) AS welfare_status,
       coalesce(list_position($emd_types, r.emd_type), 0) AS emd_type,
       coalesce(agg.n_signals, 0) AS n_signals,
       coalesce(agg.n_domains, 0) AS n_domains,
       coalesce(agg.max_months, 0) AS max_months,
       coalesce(agg.total_amount, 0) AS total_amount,
       coalesce(agg.n_new, 0) AS n_new,
       coalesce(hist.n_signals_prev, 0) AS n_signals_prev,
       (coalesce(hist.s1, false)::INT + coalesce(hist.s2, false)::INT
        + coalesce(hist.s3, false)::INT) AS prev_rounds_signalled,
       CASE WHEN coalesce(agg.n_signals, 0) = 0 THEN 0
            ELSE 1 + (coalesce(hist.s1, false))::INT + (coalesce(hist.s1 AND hist.s2, false))::INT
                   + (coalesce(hist.s1 AND hist.s2 AND hist.s3, false))::INT END AS streak,
       e.emd_signal_rate
FROM hh
JOIN regions r ON r.code = hh.emd_code
JOIN emd_rate e ON e.emd_code = hh.emd_code
LEFT JOIN agg USING (household_id)
LEFT JOIN hist USING (household_id)"""
)

# Restricts FEATURES to the households visited in round $t (training and evaluation rows).
FEATURES_VISITED = "household_id IN (SELECT household_id FROM visits_now WHERE round_id = $t)"

FEATURE_SIGNALS = """
    SELECT o.household_id, i.sort_order AS j, o.value
    FROM observations o JOIN indicators i ON i.code = o.indicator_code
    WHERE o.round_id = $t AND {scope} AND {subset}"""

# Visit outcomes of round ? as labels: need confirmed, supported or refused support = 1;
# contacted without need or not eligible = 0; unreachable households have no label.
LABELS = (
    """
    SELECT household_id,
           (outcome IN """
    + LABEL_OUTCOMES_SQL
    + """)::INT AS label
    FROM visits_now WHERE round_id = ? AND outcome <> 'unreachable'"""
)

# Rounds with visit outcomes usable as labels, per channel list $channels.
LABELLED_ROUNDS = (
    """
    SELECT round_id, count(*) AS labelled,
           count(*) FILTER (WHERE outcome IN """
    + LABEL_OUTCOMES_SQL
    + """) AS positives
    FROM visits_now
    WHERE outcome <> 'unreachable' AND list_contains($channels, channel)
    GROUP BY round_id ORDER BY round_id"""
)

# Labels of round $t from the channels $channels (see blindspot/model/pipeline.py for why not all).
CHANNEL_LABELS = (
    """
    SELECT household_id, (outcome IN """
    + LABEL_OUTCOMES_SQL
    + """)::INT AS label
    FROM visits_now
    WHERE round_id = $t AND outcome <> 'unreachable' AND list_contains($channels, channel)"""
)

# Households listed in round $t by the channels $channels, whatever the outcome (who was
# chosen, for the listing propensity of blindspot/model/propensity.py).
LISTED_IDS = """
    SELECT DISTINCT household_id FROM visits_now
    WHERE round_id = $t AND list_contains($channels, channel) ORDER BY household_id"""

# Households with at least one signal in round ? (the population the lists are drawn from).
SIGNALLED_IN_ROUND = "SELECT count(DISTINCT household_id) FROM observations WHERE round_id = ?"

# Households of a round per 시군구, to cut scoring into batches of whole 시군구.
HOUSEHOLDS_PER_SGG = (
    """
    SELECT sgg_code, count(*) AS households FROM households
    WHERE """
    + valid_in_round("?")
    + """ AND {scope}
    GROUP BY sgg_code ORDER BY sgg_code"""
)

# Synthetic ground truth of a round (evaluation only; empty for real data).
TRUTH_IDS = "SELECT household_id FROM synthetic_crisis WHERE round_id = ? ORDER BY household_id"

TRUTH_ROUND_COUNT = "SELECT count(*) FROM synthetic_crisis WHERE round_id = ?"

# Rounds with the generator's ground truth (the oracle fits on the one before the test round).
ROUNDS_WITH_TRUTH = "SELECT DISTINCT round_id FROM synthetic_crisis ORDER BY round_id"

DELETE_SCORES = "DELETE FROM scores WHERE round_id = ?"

INSERT_SCORES = "INSERT INTO scores SELECT * FROM {relation}"

INSERT_SCORE_RUN = "INSERT INTO score_runs VALUES (?, ?, ?, ?, ?, ?)"

SCORE_RUNS = "SELECT * FROM score_runs ORDER BY scored_at"

# Rounds that have scores (activating or rolling back a model rescores exactly these).
SCORED_ROUND_IDS = "SELECT DISTINCT round_id FROM score_runs WHERE round_id IN (SELECT round_id FROM rounds) ORDER BY 1"

# Households valid in round ? (the drift reference's sampling step).
HOUSEHOLDS_IN_ROUND = "SELECT count(*) FROM households WHERE " + valid_in_round("?")

# Drift of scored rounds against the model's reference (blindspot/model/drift.py).
DELETE_DRIFT = "DELETE FROM feature_drift WHERE round_id = ?"

INSERT_DRIFT = "INSERT INTO feature_drift VALUES (?, ?, ?, ?, ?, ?)"

LATEST_DRIFT_ROUND = "SELECT max(round_id) FROM feature_drift"

DRIFT_ROWS = """
    SELECT round_id, model_version, reference_round, feature, psi, shares
    FROM feature_drift WHERE round_id = ? ORDER BY feature"""

# Realised precision of each scored round's lists: households of band 위험 (inside the
# 읍면동's visit capacity), those visited with an outcome in the same round (loaded or
# entered; unreachable excluded), the needs confirmed among them, and the mean predicted
# probability of the visited ones (what a calibrated model promised).
REALISED_PRECISION = (
    """
    SELECT s.round_id,
           count(*) AS listed,
           count(v.household_id) AS visited,
           count(v.household_id) FILTER (WHERE v.outcome IN """
    + LABEL_OUTCOMES_SQL
    + """) AS confirmed,
           avg(s.probability) FILTER (WHERE v.household_id IS NOT NULL) AS expected
    FROM scores s
    LEFT JOIN visits_now v
        ON v.round_id = s.round_id AND v.household_id = s.household_id AND v.outcome <> 'unreachable'
    WHERE s.band = 'high'
    GROUP BY s.round_id ORDER BY s.round_id"""
)

# The list and the random audit sample of a scored round (blindspot/model/auditsample.py).
LIST_AND_AUDIT = "SELECT household_id, band = 'high' AS listed, audit_pick FROM scores WHERE round_id = ?"
