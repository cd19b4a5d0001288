"""SQL of loading an extraction file in one transaction, and of exporting a round.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

from blindspot.db.sql import valid_in_round

# A round is loaded in one transaction (blindspot/ingest/load.py).  Named parameters: $t the
# round, $prev / $next the rounds before and after it (round ids are not consecutive
# integers across years), $at / $by when and by whom.  {relation} is the file's rows,
# registered by Store.run_with.  Household versions are cut around $t so that, after a
# load, the households of round $t are exactly the file's.
INGEST_ROUND_EXISTS = "SELECT count(*) FROM rounds WHERE round_id = ?"

INGEST_LAST_LOAD = """
    SELECT file_sha256, file_name, loaded_at FROM ingest_loads
    WHERE round_id = ? AND kind = ? ORDER BY loaded_at DESC, load_id DESC LIMIT 1"""

INGEST_EMD_GEOMETRY = "SELECT code, geometry FROM regions WHERE level = 'emd' ORDER BY code"

# What replacing round $t would take away (shown before the replace is confirmed).
INGEST_ROUND_CONTENT = (
    "SELECT (SELECT count(*) FROM households WHERE "
    + valid_in_round("$t")
    + ") AS households, (SELECT count(DISTINCT sgg_code) FROM households WHERE "
    + valid_in_round("$t")
    + """) AS sgg,
    (SELECT count(*) FROM observations WHERE round_id = $t) AS observations,
    (SELECT count(*) FROM visits WHERE round_id = $t) AS visits,
    (SELECT count(*) FROM scores WHERE round_id = $t) AS scores"""
)

# Replacing a round: its signals, visits, scores (and their drift) and (synthetic) ground truth go.
INGEST_CLEAR_ROUND = (
    "DELETE FROM observations WHERE round_id = $t",
    "DELETE FROM visits WHERE round_id = $t",
    "DELETE FROM scores WHERE round_id = $t",
    "DELETE FROM score_runs WHERE round_id = $t",
    "DELETE FROM feature_drift WHERE round_id = $t",  # drift of the replaced households
    "DELETE FROM synthetic_crisis WHERE round_id = $t",
    # A replaced demo round now holds the file's households: never synthetic-only code paths.
    "UPDATE rounds SET source = 'ingest' WHERE round_id = $t",
)

# The file's households with internal ids: a pseudonymous id seen before keeps its
# household_id (every version of a household shares it); new ones get ids after the
# largest in use, in pseudo_id order, so the same file always gives the same ids.
INGEST_STAGE_HOUSEHOLDS = """
    CREATE OR REPLACE TEMP TABLE ingest_hh AS
    WITH known AS (
        SELECT pseudo_id, min(household_id) AS known_id FROM households
        WHERE pseudo_id IN (SELECT pseudo_id FROM {relation}) GROUP BY pseudo_id),
    f AS (SELECT f.*, k.known_id FROM {relation} f LEFT JOIN known k USING (pseudo_id)),
    -- Only new ids are numbered: sorting all 24 M ids of a national file took minutes.
    fresh AS (
        SELECT pseudo_id, (SELECT coalesce(max(household_id), 0) FROM households)
                          + row_number() OVER (ORDER BY pseudo_id) AS new_id
        FROM f WHERE known_id IS NULL)
    SELECT f.* EXCLUDE (known_id), coalesce(f.known_id, fresh.new_id)::INTEGER AS household_id
    FROM f LEFT JOIN fresh USING (pseudo_id)"""

# Same household, same attributes (the file's row n against a stored version h).
_SAME = """h.household_id = n.household_id AND h.emd_code = n.emd_code AND h.head_age = n.head_age
      AND h.head_sex = n.head_sex AND h.household_size = n.household_size AND h.one_person = n.one_person
      AND h.housing_type = n.housing_type AND h.welfare_status = n.welfare_status"""

# Versions that already cover $t with the file's attributes stay exactly as they are: a
# national next round changes a few percent of 24 M households, and rewriting the rest
# (an UPDATE of every row) took DuckDB over ten minutes.  Only the others are cut.
INGEST_KEEP_VERSIONS = (
    """
    CREATE OR REPLACE TEMP TABLE ingest_keep AS
    SELECT h.household_id FROM households h JOIN ingest_hh n ON """
    + _SAME
    + """
    WHERE """
    + valid_in_round("$t", "h")
)

# Other versions covering $t: the part after $t is kept as a new version when a later
# round is loaded (else there is nothing after $t to keep), the part before is shortened
# to end at $prev, and a version that began at $t is removed.
_CUT = "AND household_id NOT IN (SELECT household_id FROM ingest_keep)"
INGEST_CUT_VERSIONS = (
    f"""INSERT INTO households
       SELECT * REPLACE ($next AS valid_from_round) FROM households
       WHERE valid_from_round <= $t AND (valid_to_round IS NULL OR valid_to_round > $t) {_CUT}
         AND (SELECT max(round_id) FROM rounds) > $t""",
    f"""UPDATE households SET valid_to_round = $prev
       WHERE valid_from_round < $t AND (valid_to_round IS NULL OR valid_to_round >= $t) {_CUT}""",
    f"""DELETE FROM households
       WHERE valid_from_round = $t AND (valid_to_round IS NULL OR valid_to_round >= $t) {_CUT}""",
)

# A household whose version ends at $prev with the same attributes continues into $t
# (unless a kept version already covers $t: a round loaded in between left one behind).
INGEST_EXTEND_VERSIONS = (
    """
    UPDATE households h SET valid_to_round = $t
    FROM ingest_hh n
    WHERE h.valid_to_round = $prev AND h.household_id NOT IN (SELECT household_id FROM ingest_keep) AND """
    + _SAME
)

# The file's other households get a version of their own: open-ended (NULL = still current)
# when no later round is loaded, so that the next round's unchanged households are kept
# as they are; else [$t, $t], since a load changes its own round only.
INGEST_INSERT_HOUSEHOLDS = (
    """
    INSERT INTO households
    SELECT household_id, pseudo_id, sido_code, sgg_code, emd_code, head_age, head_sex, household_size,
           one_person, housing_type, welfare_status, lon, lat, $t AS valid_from_round,
           CASE WHEN (SELECT max(round_id) FROM rounds) > $t THEN $t END AS valid_to_round
    FROM ingest_hh n
    WHERE NOT EXISTS (SELECT 1 FROM households h
                      WHERE h.household_id = n.household_id AND """
    + valid_in_round("$t", "h")
    + """)
    ORDER BY emd_code, pseudo_id"""
)

INGEST_INSERT_OBSERVATIONS = """
    INSERT INTO observations
    SELECT $t, n.household_id, n.sgg_code, n.emd_code, o.indicator_code, o.value
    FROM {relation} o JOIN ingest_hh n USING (pseudo_id)
    ORDER BY n.sgg_code, n.emd_code, n.household_id, o.indicator_code"""

INGEST_INSERT_VISITS = """
    INSERT INTO visits
    SELECT $t, n.household_id, n.sgg_code, n.emd_code, v.channel, v.outcome, v.support_type, $at, $by
    FROM {relation} v JOIN ingest_hh n USING (pseudo_id)
    ORDER BY n.sgg_code, n.household_id"""

INGEST_DROP_STAGE = ("DROP TABLE IF EXISTS ingest_hh", "DROP TABLE IF EXISTS ingest_keep")

INGEST_INSERT_LOAD = "INSERT INTO ingest_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

# Export of one round in the ingest format (sample files, round trips).  {pivot} has one
# "max(value) FILTER (WHERE indicator_code = '<code>') AS <code>" per catalogue code
# (validated identifiers of the shipped catalogue); {scope}/{obs_scope} restrict 시군구.
EXPORT_HOUSEHOLDS_WIDE = (
    """
    WITH sig AS (
        SELECT household_id, {pivot} FROM observations o
        WHERE round_id = $t AND {obs_scope} GROUP BY household_id)
    SELECT h.pseudo_id, h.emd_code, h.head_age, h.head_sex, h.household_size, h.one_person::INTEGER AS one_person,
           h.housing_type, h.welfare_status, sig.* EXCLUDE (household_id)
    FROM households h LEFT JOIN sig USING (household_id)
    WHERE """
    + valid_in_round("$t", "h")
    + """ AND {scope}
    ORDER BY h.emd_code, h.pseudo_id"""
)

EXPORT_HOUSEHOLDS_LONG = (
    """
    SELECT h.pseudo_id, h.emd_code, h.head_age, h.head_sex, h.household_size, h.one_person::INTEGER AS one_person,
           h.housing_type, h.welfare_status, o.indicator_code, o.value
    FROM households h
    LEFT JOIN (SELECT household_id, indicator_code, value FROM observations o
               WHERE round_id = $t AND {obs_scope}) o USING (household_id)
    WHERE """
    + valid_in_round("$t", "h")
    + """ AND {scope}
    ORDER BY h.emd_code, h.pseudo_id, o.indicator_code"""
)

EXPORT_VISITS = (
    """
    SELECT h.pseudo_id, v.channel, v.outcome, v.support_type
    FROM visits_now v JOIN households h ON h.household_id = v.household_id
        AND """
    + valid_in_round("$t", "h")
    + """
    WHERE v.round_id = $t AND {scope}
    ORDER BY h.pseudo_id"""
)

# What a round holds per 읍면동 (round trips and the load summary).
ROUND_HOUSEHOLDS_PER_EMD = (
    """
    SELECT emd_code, count(*) AS households, count(*) FILTER (WHERE one_person) AS one_person
    FROM households
    WHERE """
    + valid_in_round("?")
    + """ AND {scope}
    GROUP BY emd_code ORDER BY emd_code"""
)

ROUND_SIGNALS_PER_EMD = """
    SELECT emd_code, indicator_code, count(*) AS households, sum(value) AS value_sum
    FROM observations WHERE round_id = ? AND {scope} GROUP BY ALL ORDER BY ALL"""

ROUND_VISITS_PER_EMD = """
    SELECT emd_code, channel, outcome, count(*) AS visits
    FROM visits_now WHERE round_id = ? AND {scope} GROUP BY ALL ORDER BY ALL"""

# Outcomes officials entered in the app (operational store, by pseudonymous id) for the
# round being replaced, registered as {relation}: those whose household is not in the new
# file would no longer show, so such a replacement is refused.
INGEST_ENTERED_MISSING = """
    SELECT count(*) FROM {relation} e WHERE e.pseudo_id NOT IN (SELECT pseudo_id FROM ingest_hh)"""
