"""What the model page's capacity panel reads: the staff registered per 시군구 and the what-if
of a capacity plan (:mod:`blindspot.model.whatif`), for admins and analysts only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from blindspot.access import DENIED, may
from blindspot.app.cache import cached
from blindspot.app.data import models_dir
from blindspot.app.login import current_scope
from blindspot.db.store import Store
from blindspot.model import whatif


@cached(stamps=())
def _whatif_tables(store: Store, models: str, version: str):
    return whatif.load(Path(models) / version)


def registered_staff() -> dict[str, float]:
    """Officers registered per 시군구 (operational store; a few hundred rows, read each run so a
    registration from the command line shows at once)."""
    from blindspot.db.opstore import open_ops

    return open_ops().staff()


def capacity_what_if(version: str, plans: dict) -> pd.DataFrame | None:
    """The capacity what-if of model ``version`` under ``plans`` ({name: Plan}), None for a
    model saved without its what-if tables.  National figures of the model's test round:
    admins and analysts only (:func:`blindspot.access.may` ``capacity_what_if``)."""
    if not may(current_scope().role, "capacity_what_if"):
        raise PermissionError(DENIED["capacity_what_if"])
    tables = _whatif_tables(models_dir(), version)
    return None if tables is None else whatif.compare(*tables, plans)


def start_staff_change(sgg: str, officers: float | None) -> str:
    """Register a 시군구's staff (None: back to the national share; audited) and rescore every
    scored round so the 위험 band follows, as a background job (:mod:`blindspot.app.jobs`) that
    publishes a new snapshot version; admins only.  Returns the job id for the page to poll."""
    from blindspot import config
    from blindspot.app import jobs
    from blindspot.errors import AccessDenied
    from blindspot.model import staffing

    scope = current_scope()
    if not may(scope.role, "set_staff"):
        raise AccessDenied(DENIED["set_staff"])
    registered = staffing.register(sgg, officers, scope.user)  # refused at once when malformed
    db, models = config.db_path(), Path(models_dir())

    def work(progress) -> dict:
        return registered | staffing.refresh(db, models, scope.user, f"set {sgg} (모델 화면)", progress)

    return jobs.start("인력 등록", scope.user, work).id
