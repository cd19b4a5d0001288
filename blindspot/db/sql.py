"""SQL shared by several features: rounds, region counts, row counts, fingerprints, the
per-읍면동 aggregates, and the fragments composed into other packages' statements.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

import re

from blindspot import vocab


def valid_in_round(round_ref: str = "$t", alias: str = "") -> str:
    """The condition "this household version is valid in the round": a household row holds
    one version of a household from ``valid_from_round`` to ``valid_to_round`` (NULL = still
    current), so the households of round t are those whose interval covers t.

    ``round_ref`` is a bound parameter (``$t``, ``?``; a ``?`` is then bound twice) or a
    column (``v.round_id``); ``alias`` the households table's alias.

    >>> valid_in_round("$t", "h")
    'h.valid_from_round <= $t AND (h.valid_to_round IS NULL OR h.valid_to_round >= $t)'
    """
    p = f"{alias}." if alias else ""
    return f"{p}valid_from_round <= {round_ref} AND ({p}valid_to_round IS NULL OR {p}valid_to_round >= {round_ref})"


def sql_list(values: tuple[str, ...]) -> str:
    """A parenthesised SQL list of fixed identifiers from :mod:`blindspot.vocab` (never user input).

    >>> sql_list(("need_confirmed", "supported"))
    "('need_confirmed', 'supported')"
    """
    assert all(re.fullmatch(r"[a-z_]+", v) for v in values), values
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# Visit outcomes that confirm a need (vocab.CONFIRMED_OUTCOMES), and those that label a
# household positive for the model (vocab.LABEL_OUTCOMES: a refusal of support still means need).
CONFIRMED_OUTCOMES_SQL = sql_list(vocab.CONFIRMED_OUTCOMES)
LABEL_OUTCOMES_SQL = sql_list(vocab.LABEL_OUTCOMES)


# {table} is one of TABLES; the relation is a registered Arrow/pandas object.
APPEND_FROM = "INSERT INTO {table} BY NAME SELECT * FROM {relation}"

INSERT_ROUND = "INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?)"

REGION_CODES_AT_LEVEL = "SELECT code FROM regions WHERE level = ? ORDER BY code"

REGION_LEVEL_COUNTS = "SELECT level, count(*) FROM regions GROUP BY level"

COUNT_ROWS = "SELECT count(*) FROM {table}"

ROUNDS = "SELECT round_id, round_code, year, seq, start_date, end_date, source FROM rounds ORDER BY round_id"

ROUND_IDS = "SELECT round_id FROM rounds ORDER BY round_id"

ROUND_CODES = "SELECT round_id, round_code FROM rounds"

ROUND_SOURCE = "SELECT source FROM rounds WHERE round_id = ?"

# Households and one-person households per region for one round.  {level_col} is
# sido_code, sgg_code or emd_code.  Exact counts (blindspot.db.queries suppresses them);
# a region with no households at all (no data, e.g. not generated) is NULL.
HOUSEHOLDS_BY_REGION = (
    """
    WITH agg AS (
        SELECT {level_col} AS code,
               count(*) AS households,
               count(*) FILTER (WHERE one_person) AS one_person
        FROM households
        WHERE """
    + valid_in_round("?")
    + """
          AND {scope}
        GROUP BY ALL)
    SELECT r.code, r.name, r.full_name, r.parent_code,
           agg.households, agg.one_person
    FROM regions r LEFT JOIN agg ON agg.code = r.code
    WHERE r.level = ? AND {region_scope}
    ORDER BY r.code"""
)

# Order-independent: a sum and a xor of row hashes, plus the row count.
FINGERPRINT = (
    "SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR, coalesce(bit_xor(hash(t)), 0)::VARCHAR"
    " FROM {table} t"
)

BAND_COUNTS = """
    SELECT band, count(*) AS households FROM scores
    WHERE round_id = ? AND {scope} GROUP BY band"""

ROUNDS_UP_TO = "SELECT round_id, round_code FROM rounds WHERE round_id <= ? ORDER BY round_id"

# The 시군구 a round's households cover (partial rounds).
ROUND_SGG_COVERED = (
    """
    SELECT DISTINCT sgg_code FROM households
    WHERE """
    + valid_in_round("?")
    + """ ORDER BY 1"""
)

STATS_DELETE = "DELETE FROM {table} WHERE round_id = ?"

STATS_INSERT_AGES = (
    """
    INSERT INTO stats_ages
    SELECT $t, sido_code, sgg_code, emd_code, head_age, count(*), count(*) FILTER (WHERE one_person)
    FROM households
    WHERE """
    + valid_in_round("$t")
    + """
    GROUP BY ALL"""
)

STATS_INSERT_MASKS = """
    INSERT INTO stats_masks
    WITH sig AS (
        SELECT o.household_id, any_value(o.emd_code) AS emd_code, bit_or(1::BIGINT << d.sort_order) AS mask
        FROM observations o
        JOIN indicators i ON i.code = o.indicator_code
        JOIN domains d ON d.domain = i.domain
        WHERE o.round_id = $t
        GROUP BY o.household_id)
    SELECT $t, left(emd_code, 2), left(emd_code, 5), emd_code, mask, count(*) FROM sig GROUP BY ALL"""

STATS_INSERT_RISK = """
    INSERT INTO stats_risk
    SELECT $t, left(s.sgg_code, 2), s.sgg_code, s.emd_code, count(*),
           count(*) FILTER (WHERE s.band IN ('high', 'medium')), sum(s.probability)
    FROM scores s
    WHERE s.round_id = $t
    GROUP BY ALL"""

STATS_READY = "SELECT count(*) FROM stats_ages WHERE round_id = ?"

STATS_RISK_READY = "SELECT count(*) FROM stats_risk WHERE round_id = ?"

# The visits every reader sees: the snapshot's visits, with the outcomes officials entered
# in the app (operational store, registered on the cursor as entered_outcomes_frame) in
# place of the same household's row of that round.  An entered outcome names the household
# by pseudonymous id, so it survives a rebuild or a replaced round; a household not visited
# before gets channel 'local' (the official chose it from the list).  Columns in the order
# of the visits table.
VISITS_NOW_PLAIN = "CREATE OR REPLACE TEMP VIEW visits_now AS SELECT * FROM visits"

VISITS_NOW_ENTERED = (
    """
    CREATE OR REPLACE TEMP VIEW visits_now AS
    WITH e AS (
        SELECT e.round_id, h.household_id, h.sgg_code, h.emd_code, e.outcome, e.support_type,
               e.recorded_at, e.recorded_by
        FROM entered_outcomes_frame e
        JOIN households h ON h.pseudo_id = e.pseudo_id AND """
    + valid_in_round("e.round_id", "h")
    + """)
    SELECT v.round_id, v.household_id, v.sgg_code, v.emd_code, v.channel, v.outcome, v.support_type,
           v.recorded_at, v.recorded_by
    FROM visits v ANTI JOIN e ON e.round_id = v.round_id AND e.household_id = v.household_id
    UNION ALL
    SELECT e.round_id, e.household_id, e.sgg_code, e.emd_code,
           coalesce((SELECT any_value(v.channel) FROM visits v
                     WHERE v.round_id = e.round_id AND v.household_id = e.household_id), 'local'),
           e.outcome, e.support_type, e.recorded_at, e.recorded_by
    FROM e"""
)
