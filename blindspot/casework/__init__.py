"""Household-level work: risk lists, exports, visit outcomes, and the audit trail.

Modules: ``lists`` the risk list and its summary, ``exports`` CSV/XLSX files, ``outcomes`` outcome
entry, ``audit`` purposes and the audit log, ``sql`` their statements.  Described in
``docs/access.md`` (household rows, purpose and audit, exports)."""
