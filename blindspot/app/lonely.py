"""What the 고독사 위험 page reads, as cached calls of the signed-in user's scope
(:mod:`blindspot.lonely.figures`; aggregates only, nothing household-level is returned)."""

from __future__ import annotations

import pandas as pd

from blindspot.access import Scope, narrow
from blindspot.app.cache import cached
from blindspot.db.store import Store
from blindspot.lonely import figures


@cached("고독사 위험 집계 중…")
def regions(store: Store, scope: Scope, level: str, area: str | None, round_id: int) -> pd.DataFrame:
    return figures.region_frame(store, scope, level, int(round_id), area)


@cached("고독사 위험 등급 집계 중…")
def grades(store: Store, scope: Scope, area: str | None, round_id: int) -> dict:
    return figures.grade_counts(store, narrow(store, scope, area), int(round_id))
