"""SQL only the benchmark runs: the bare group-by and the long/wide layout comparison.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

# The same count without the product's layer around it, for the benchmark.
BARE_EMD_GROUPBY = """
    SELECT emd_code, count(*), count(*) FILTER (WHERE one_person)
    FROM households GROUP BY emd_code"""

# {columns}: one "max(value) FILTER (WHERE indicator_code = '<code>') AS <code>" per
# catalogue code; codes are validated identifiers of the shipped catalogue.
LAYOUT_MAKE_WIDE = """
    CREATE TABLE obs_wide AS
    SELECT h.round_id, h.household_id, h.sgg_code, h.emd_code, {columns}
    FROM (SELECT r.round_id, hh.household_id, hh.sgg_code, hh.emd_code
          FROM households hh CROSS JOIN rounds r) h
    LEFT JOIN observations o USING (round_id, household_id)
    GROUP BY ALL ORDER BY h.round_id, h.household_id"""

LAYOUT_LONG_PREVALENCE = """
    SELECT emd_code, indicator_code, count(*) FROM observations WHERE round_id = ? GROUP BY ALL"""

LAYOUT_WIDE_PREVALENCE = """
    SELECT emd_code, {counts} FROM obs_wide WHERE round_id = ? GROUP BY emd_code"""

LAYOUT_LONG_SGG = "SELECT household_id, indicator_code, value FROM observations WHERE round_id = ? AND sgg_code = ?"

LAYOUT_WIDE_SGG = "SELECT * FROM obs_wide WHERE round_id = ? AND sgg_code = ?"

# On-disk size: distinct storage blocks (256 KiB each) the table's columns occupy.
LAYOUT_BLOCK_BYTES = "SELECT count(DISTINCT block_id) * 262144 FROM pragma_storage_info('{table}') WHERE block_id >= 0"

# The latest round with both scores and visits (the reach gap's timing needs both).
LATEST_SCORED_VISITED_ROUND = """
    SELECT max(round_id) FROM rounds
    WHERE round_id IN (SELECT round_id FROM scores) AND round_id IN (SELECT round_id FROM visits)"""
