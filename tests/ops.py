"""Reading the operational store in tests: the audit log and entered outcomes live there,
not in the analytical snapshot (blindspot/db/opstore.py)."""

import pandas as pd

from blindspot.db import opstore


def audit_rows() -> pd.DataFrame:
    """Every audit record of this test's operational store, oldest first."""
    return opstore.open_ops().audit_frame(limit=10**9).sort_values("event_id").reset_index(drop=True)


def audit_count() -> int:
    return opstore.open_ops().audit_count()
