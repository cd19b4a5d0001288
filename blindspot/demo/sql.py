"""SQL of the demo build: inserting the generated world, and carrying the audit trail,
entered outcomes, targets and ingest history of the database being replaced.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

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

# What the active version holds that a rebuild would drop (blindspot/demo/build.py reads it
# read-only): loads and real rounds make it a real database; visits not made by the
# generator (recorded_by <> 'synthetic') were loaded from outcome files, or entered in the
# app before entered outcomes moved to the operational store.
OLD_DB_FACTS = """
    SELECT (SELECT count(*) FROM ingest_loads) AS loads,
           (SELECT count(*) FROM rounds WHERE source <> 'synthetic') AS real_rounds,
           (SELECT count(*) FROM audit_log) AS audit_rows,
           (SELECT count(*) FROM briefing_targets) AS targets,
           (SELECT count(*) FROM visits WHERE recorded_by <> 'synthetic') AS entered"""
