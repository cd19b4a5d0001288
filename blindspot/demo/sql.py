"""SQL of the demo build: inserting the generated world, and carrying the audit trail,
entered outcomes, targets and ingest history of the database being replaced.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

from blindspot.db.sql import valid_in_round

INSERT_HOUSEHOLDS = """
    INSERT INTO households
    SELECT household_id,
           -- A bijective scramble of the id (odd multiplier mod 2^32): unique by construction.
           printf('H%08X', (household_id::BIGINT * 2654435761 + ?) % 4294967296) AS pseudo_id,
           sido_code, sgg_code, emd_code, head_age, head_sex, household_size, one_person,
           housing_type, welfare_status, lon, lat, valid_from_round, valid_to_round
    FROM {relation}"""

INSERT_DOMAIN = "INSERT INTO domains VALUES (?, ?, ?, ?)"

INSERT_INDICATOR = "INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

# blindspot/demo/build.py reads these from the database being replaced (read-only) and writes
# them into the new build before the swap.  Entered outcomes are the visits an official
# recorded (the generator's own visits say recorded_by = 'synthetic'); they are matched to
# the new build's households by pseudonymous id and round.
OLD_DB_FACTS = """
    SELECT (SELECT count(*) FROM ingest_loads) AS loads,
           (SELECT count(*) FROM rounds WHERE source <> 'synthetic') AS real_rounds,
           (SELECT count(*) FROM audit_log) AS audit_rows,
           (SELECT count(*) FROM briefing_targets) AS targets,
           (SELECT count(*) FROM visits WHERE recorded_by <> 'synthetic') AS entered"""

CARRY_AUDIT = "SELECT * FROM audit_log ORDER BY event_id"

CARRY_TARGETS = "SELECT * FROM briefing_targets"

CARRY_LOADS = "SELECT * FROM ingest_loads"

CARRY_ENTERED_VISITS = (
    """
    SELECT v.round_id, h.pseudo_id, v.channel, v.outcome, v.support_type, v.recorded_at, v.recorded_by
    FROM visits v JOIN households h ON h.household_id = v.household_id
        AND """
    + valid_in_round("v.round_id", "h")
    + """
    WHERE v.recorded_by <> 'synthetic'"""
)

# The copied log keeps its event ids; the sequence must then start after the largest.
AUDIT_SEQ_ADVANCE = "SELECT max(nextval('audit_seq')) FROM range(?)"

CARRY_STAGE_VISITS = """
    CREATE TEMP TABLE carried_visits AS
    SELECT c.round_id, h.household_id, h.sgg_code, h.emd_code, c.channel, c.outcome, c.support_type,
           c.recorded_at, c.recorded_by
    FROM {relation} c JOIN households h ON h.pseudo_id = c.pseudo_id
        AND """ + valid_in_round("c.round_id", "h")

CARRY_STAGED_COUNT = "SELECT count(*) FROM carried_visits"

CARRY_REPLACE_VISITS = (
    """DELETE FROM visits WHERE EXISTS (SELECT 1 FROM carried_visits c
        WHERE c.round_id = visits.round_id AND c.household_id = visits.household_id)""",
    "INSERT INTO visits SELECT * FROM carried_visits",
    "DROP TABLE carried_visits",
)
