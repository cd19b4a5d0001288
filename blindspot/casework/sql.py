"""SQL of household-level casework: the risk list and its summary, outcomes, the audit log.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

from blindspot.db.sql import valid_in_round

# Household-level statements: callers (blindspot.casework.lists, blindspot.casework.outcomes) check that the
# scope allows household rows and write the audit record.  {scope}, {obs_scope},
# {visit_scope} and {score_scope} are the caller's 시군구 condition on households,
# observations (alias o), visits (alias v) and scores (alias s), as $p0, $p1, ...
# Named parameters: $t round, $prev the previous loaded round (NULL if none), $emd one
# 읍면동 or NULL, $bands list of band codes, $indicator / $domain or NULL, $size_lo/$size_hi
# household size, $age_lo/$age_hi head's age (inclusive), $new_only, $not_visited,
# $trim and $capacity (share of a 읍면동's households it can visit this round), $audit: the
# random audit sample's households too (visited besides the list, never trimmed away).
# "New" = at least one signal this round that the household did not have last round.
# lonely_codes: the lonely-death indicators it shows this round, for its 고독사 위험 grade
# (blindspot.lonely.grade; the list's one audit record covers it).
RISK_LIST = (
    """
    WITH hh AS (
        SELECT household_id, pseudo_id, sgg_code, emd_code, head_age, head_sex, household_size
        FROM households
        WHERE """
    + valid_in_round("$t")
    + """ AND {scope}),
    emd_size AS (SELECT emd_code, count(*) AS households FROM hh GROUP BY emd_code),
    cur AS (
        SELECT o.household_id, o.indicator_code, i.domain, i.lonely_death, i.sort_order
        FROM observations o JOIN indicators i ON i.code = o.indicator_code
        WHERE o.round_id = $t AND {obs_scope}),
    prev AS (SELECT o.household_id, o.indicator_code FROM observations o WHERE o.round_id = $prev AND {obs_scope}),
    sig AS (
        SELECT c.household_id,
               bool_or(p.household_id IS NULL) AS new_signal,
               coalesce(bool_or(c.indicator_code = $indicator), false) AS has_indicator,
               coalesce(bool_or(c.domain = $domain), false) AS has_domain,
               list(c.indicator_code ORDER BY c.sort_order) FILTER (WHERE c.lonely_death) AS lonely_codes
        FROM cur c LEFT JOIN prev p ON p.household_id = c.household_id AND p.indicator_code = c.indicator_code
        GROUP BY c.household_id),
    visited AS (SELECT DISTINCT v.household_id FROM visits_now v WHERE v.round_id = $t AND {visit_scope}),
    listed AS (
        SELECT hh.pseudo_id, s.sgg_code, s.emd_code, s.probability, s.band, s.rank_in_emd, s.model_version,
               s.audit_pick,
               s.reason_1, s.reason_2, s.reason_3, hh.head_age, hh.head_sex, hh.household_size,
               coalesce(sig.lonely_codes, []::VARCHAR[]) AS lonely_codes,
               coalesce(sig.new_signal, false) AS new_signal, vis.household_id IS NOT NULL AS visited
        FROM scores s
        JOIN hh ON hh.household_id = s.household_id
        LEFT JOIN sig ON sig.household_id = s.household_id
        LEFT JOIN visited vis ON vis.household_id = s.household_id
        WHERE s.round_id = $t AND {score_scope}
          AND ($emd IS NULL OR s.emd_code = $emd)
          AND (list_contains($bands, s.band) OR ($audit AND s.audit_pick))
          AND ($indicator IS NULL OR coalesce(sig.has_indicator, false))
          AND ($domain IS NULL OR coalesce(sig.has_domain, false))
          AND hh.household_size BETWEEN $size_lo AND $size_hi
          AND hh.head_age BETWEEN $age_lo AND $age_hi
          AND (NOT $new_only OR coalesce(sig.new_signal, false))
          AND (NOT $not_visited OR vis.household_id IS NULL)),
    ranked AS (
        -- Audit picks are visits besides the list: ranked apart, so they never take a listed place.
        SELECT l.*,
               row_number() OVER (PARTITION BY l.emd_code, l.audit_pick ORDER BY l.probability DESC, l.pseudo_id)
                   AS rank_listed,
               greatest(1, round(e.households * $capacity))::INTEGER AS capacity
        FROM listed l JOIN emd_size e ON e.emd_code = l.emd_code)
    SELECT ranked.pseudo_id, ranked.sgg_code, g.name AS sgg_name, ranked.emd_code, r.name AS emd_name,
           r.full_name AS emd_full_name, ranked.probability, ranked.band, ranked.rank_in_emd, ranked.rank_listed,
           ranked.capacity, ranked.reason_1, ranked.reason_2, ranked.reason_3, ranked.head_age,
           ranked.head_sex, ranked.household_size, ranked.lonely_codes, ranked.new_signal, ranked.visited,
           ranked.model_version,
           ranked.audit_pick
    FROM ranked
    JOIN regions r ON r.code = ranked.emd_code
    JOIN regions g ON g.code = ranked.sgg_code
    WHERE NOT $trim OR ranked.rank_listed <= ranked.capacity OR ranked.audit_pick
    ORDER BY ranked.probability DESC, ranked.pseudo_id"""
)

# Scored households per region ({level_col}: sgg_code or emd_code of scores) by band, and
# how many were visited; exact counts (blindspot.casework.lists.risk_summary suppresses them).
RISK_SUMMARY = """
    WITH visited AS (SELECT DISTINCT v.household_id FROM visits_now v WHERE v.round_id = $t AND {visit_scope}),
    agg AS (
        SELECT s.{level_col} AS code, count(*) AS scored,
               count(*) FILTER (WHERE s.band = 'high') AS high,
               count(*) FILTER (WHERE s.band = 'medium') AS medium,
               count(*) FILTER (WHERE s.band = 'low') AS low,
               count(vis.household_id) FILTER (WHERE s.band IN ('high', 'medium')) AS visited_at_risk
        FROM scores s LEFT JOIN visited vis ON vis.household_id = s.household_id
        WHERE s.round_id = $t AND {score_scope} AND ($emd IS NULL OR s.emd_code = $emd)
        GROUP BY ALL)
    SELECT r.code, r.full_name,
           scored, high, medium, low, visited_at_risk
    FROM agg JOIN regions r ON r.code = agg.code
    ORDER BY r.code"""

INDICATOR_LIST = "SELECT code, name_ko, domain FROM indicators ORDER BY sort_order"

MODEL_VERSION_OF_ROUND = "SELECT any_value(model_version) FROM scores WHERE round_id = ?"

# The household an outcome is for: scored in round ? and inside the scope (with its band;
# the caller also checks it is on the list shown).
OUTCOME_TARGET = """
    SELECT s.household_id, s.sgg_code, s.emd_code, s.band, s.audit_pick
    FROM scores s JOIN households h ON h.household_id = s.household_id
    WHERE s.round_id = ? AND h.pseudo_id = ? AND {scope}"""

# The household's outcome this round as every reader sees it (snapshot visits and entered
# outcomes): a new entry replaces it only once the official confirmed the overwrite.
VISIT_EARLIER = """
    SELECT outcome, support_type, channel, recorded_at, recorded_by
    FROM visits_now WHERE round_id = ? AND household_id = ?"""
