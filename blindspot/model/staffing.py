"""Registering a 시군구's staff and refreshing the bands that follow it: the one path behind
``python -m blindspot capacity`` and the 위험 모델 page's admin control.

A registration and its ``set_staff`` audit record commit together in the operational store;
the refresh then rescores every scored round with the plan in force
(:func:`blindspot.model.capacity.current_plan`) in the next snapshot version, which running apps
switch to on their next page run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from blindspot.access import Scope
from blindspot.errors import BlindspotError
from blindspot.progress import ProgressFn, silent


def register(sgg: str, officers: float | None, user: str) -> dict:
    """Register ``officers`` for 시군구 ``sgg`` (None: back to the national share), audited.

    Example: ``register("11110", 3, "admin")`` → ``{"sgg": "11110", "officers": 3.0}``.
    """
    from blindspot.casework import audit
    from blindspot.db.opstore import open_ops

    if not (isinstance(sgg, str) and len(sgg) == 5 and sgg.isdigit()):
        raise BlindspotError(f"시군구 코드는 숫자 5자리여야 합니다 (받은 값 {str(sgg)[:12]!r}).")
    if officers is not None and not officers > 0:
        raise BlindspotError(f"담당 인원은 0보다 커야 합니다 (받은 값 {officers:g}). 해제하려면 등록 해제를 고르세요.")
    value = None if officers is None else float(officers)
    ops = open_ops()
    with ops.begin() as con:
        ops.set_staff(sgg, value, user, dt.datetime.now(), con=con)
        audit.record(
            Scope.all_areas(user=user, role="admin"),
            "set_staff",
            {"sgg": sgg, "officers": value},
            None,
            None,
            detail="등록 해제: 전국 방문 비율로" if value is None else f"담당 {value:g}명",
            con=con,
        )
    return {"sgg": sgg, "officers": value}


def refresh(db: Path, models: Path, user: str, why: str, progress: ProgressFn = silent) -> dict:
    """Rescore every scored round with the model in service and the plan in force, in the next
    snapshot version: {"rescored_rounds", "snapshot"} (nothing published without a model)."""
    from blindspot.db import snapshots
    from blindspot.model import artifacts, registry

    with snapshots.loader(Path(db), f"capacity {why}", user) as draft:
        version = artifacts.in_service(draft.store)
        if not version:
            draft.keep = False
            return {"rescored_rounds": [], "note": "서비스 중인 모델이 없어 다시 계산할 점수가 없습니다."}
        rounds = registry.rescore_all(draft.store, Path(models), version, progress=progress)
    return {"rescored_rounds": rounds, "snapshot": draft.published}
