"""SQL of follow-up cadence: the operational store's tables (migration 0003, queried with
SQLAlchemy Core) and the snapshot statements (DuckDB, through
:meth:`blindspot.db.store.Store.run`, values bound as parameters).

``{scope}`` slots take the placeholders of :func:`blindspot.access.scope_sql_named`, never a
user's value.
"""

from __future__ import annotations

from blindspot.db.opfollowup import followup_cases, followup_contacts, followup_syncs, followup_tier_changes
from blindspot.db.sql import valid_in_round

__all__ = ["followup_cases", "followup_contacts", "followup_syncs", "followup_tier_changes"]

# --- operational store: the tables (blindspot/db/opfollowup.py), queried with SQLAlchemy Core ---
CASE_COLUMNS = tuple(c.name for c in followup_cases.columns)

# --- the analytical snapshot --------------------------------------------------------------------

LATEST_SCORED_ROUND = "SELECT max(round_id) FROM scores"

# The bands and 읍면동 of one 시군구's households in round $t that open a case or have one: every
# 위험·주의 household, and the households of the 시군구's cases ($kept), whatever their band.  A
# case's household missing here is no longer scored in the 시군구 (moved, gone).
FOLLOWUP_BANDS = (
    """
    WITH kept AS (SELECT unnest($kept::VARCHAR[]) AS pseudo_id)
    SELECT h.pseudo_id, s.band, s.emd_code
    FROM scores s JOIN households h ON h.household_id = s.household_id
    WHERE s.round_id = $t AND s.sgg_code = $sgg AND {scope} AND """
    + valid_in_round("$t", "h")
    + """
      AND (list_contains($opening, s.band) OR h.pseudo_id IN (SELECT pseudo_id FROM kept))
    ORDER BY h.pseudo_id"""
)

# The latest loaded visit (extraction files, rounds up to $t) of each household of a 시군구 with a
# case ($pids): its day and outcome start the case's contact clock as an entered first visit does.
LOADED_VISITS = (
    """
    SELECT h.pseudo_id, max(v.recorded_at)::DATE AS visited_on, arg_max(v.outcome, v.recorded_at) AS outcome
    FROM visits v JOIN households h ON h.household_id = v.household_id AND """
    + valid_in_round("v.round_id", "h")
    + """
    WHERE v.sgg_code = $sgg AND v.round_id <= $t AND {scope}
      AND h.pseudo_id IN (SELECT unnest($pids::VARCHAR[]))
    GROUP BY h.pseudo_id"""
)

# The 읍면동 of one 시군구: names for the due list's rows.
FOLLOWUP_EMD_NAMES = "SELECT code, name, full_name FROM regions WHERE level = 'emd' AND sgg_code = ? ORDER BY code"
