"""Household-level work: risk lists, exports, visit outcomes, and the audit trail."""
