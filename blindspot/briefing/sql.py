"""SQL of the council briefing: channels and outcomes in scope (targets live in the
operational store, :mod:`blindspot.db.opstore`).

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

from blindspot.db.sql import CONFIRMED_OUTCOMES_SQL

# Visits of round ? per channel and outcome, in scope (aggregates; suppressed by the caller).
BRIEFING_CHANNELS = (
    """
    SELECT channel,
           count(*) AS flagged,
           count(*) FILTER (WHERE outcome <> 'unreachable') AS contacted,
           count(*) FILTER (WHERE outcome IN """
    + CONFIRMED_OUTCOMES_SQL
    + """) AS confirmed,
           count(*) FILTER (WHERE outcome = 'supported') AS supported
    FROM visits_now WHERE round_id = ? AND {scope}
    GROUP BY channel ORDER BY channel"""
)
