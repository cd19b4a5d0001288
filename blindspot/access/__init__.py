"""Who may see what, and how much: the one home of every privacy rule.

* :mod:`~blindspot.access.scope` — the :class:`Scope` every function that reads household
  data takes, its SQL (:func:`scope_sql`), and :func:`narrow` for a view of one area;
* :mod:`~blindspot.access.suppression` — small counts: :func:`threshold`, the zero rule
  (:func:`suppress`), complementary suppression (:func:`protect`) and the subtraction
  attacker that checks it (:func:`disclosures`);
* :mod:`~blindspot.access.roles` — role → scope (:func:`scope_for`), role → page
  (:data:`PAGES`) and role → action (:data:`ACTION_RULES`, asked by :func:`may` and :func:`can`).

The names are re-exported here, so callers write ``from blindspot.access import Scope``.
Described in docs/access.md.
"""

from blindspot.access.roles import (
    ACTION_RULES,
    DENIED,
    PAGE_ACTIONS,
    PAGES,
    ROLES,
    can,
    can_see_address,
    may,
    may_read_metrics,
    may_upload,
    pages_for,
    scope_for,
)
from blindspot.access.scope import (
    NATION_CODE,
    Scope,
    named_scope,
    narrow,
    outer_scope,
    scope_sql,
    scope_sql_named,
    scope_text,
)
from blindspot.access.suppression import (
    SUPPRESSED,
    apply,
    count_text,
    disclosures,
    mask_statistic,
    protect,
    subset,
    suppress,
    threshold,
)

__all__ = [
    "ACTION_RULES",
    "DENIED",
    "NATION_CODE",
    "PAGE_ACTIONS",
    "PAGES",
    "ROLES",
    "SUPPRESSED",
    "Scope",
    "apply",
    "can",
    "can_see_address",
    "count_text",
    "disclosures",
    "mask_statistic",
    "may",
    "may_read_metrics",
    "may_upload",
    "named_scope",
    "narrow",
    "outer_scope",
    "pages_for",
    "protect",
    "scope_for",
    "scope_sql",
    "scope_sql_named",
    "scope_text",
    "subset",
    "suppress",
    "threshold",
]
