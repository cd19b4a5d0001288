"""``python -m blindspot capacity``: the visit capacity in force, staff registered per 시군구,
and bands refreshed when either changes.

* ``capacity list [--json]``: the plan (national share, allocation rule, visits per officer)
  and every registered 시군구 with its capacity;
* ``capacity set --sgg CODE --officers N`` (or ``--clear``): register a 시군구's staff
  (audited, admin), then rescore every scored round in a new snapshot version, so the 위험
  band follows at once (``--no-rescore`` to register several first);
* ``capacity refresh``: rescore every scored round with the plan in force (after the
  ``capacity_allocation`` or ``visits_per_officer`` setting changed).
"""

from __future__ import annotations

import datetime as dt
import json

from blindspot import config
from blindspot.errors import BlindspotError


def _plan_json(plan) -> dict:
    return {
        "share": plan.share,
        "rule": plan.rule,
        "visits_per_officer": plan.visits_per_officer,
        "staff": {
            code: {"officers": n, "visits": round(n * plan.visits_per_officer)} for code, n in plan.officers.items()
        },
    }


def _rescore(args, why: str) -> dict:
    from blindspot.cli import _next_version
    from blindspot.model import artifacts, registry
    from blindspot.progress import LineProgress

    with _next_version(args, f"capacity {why}") as draft:
        version = artifacts.in_service(draft.store)
        if not version:
            draft.keep = False
            return {"rescored_rounds": [], "note": "서비스 중인 모델이 없어 다시 계산할 점수가 없습니다."}
        rounds = registry.rescore_all(draft.store, config.models_dir(args.models), version, progress=LineProgress())
    return {"rescored_rounds": rounds, "snapshot": draft.published}


def _cmd_capacity(args) -> int:
    from blindspot.access import Scope
    from blindspot.casework import audit
    from blindspot.cli import _user
    from blindspot.db.opstore import open_ops
    from blindspot.model.capacity import current_plan

    if args.action == "list":
        plan = current_plan()
        out = _plan_json(plan)
        if args.json:
            print(json.dumps(out, ensure_ascii=False))
        else:
            print(
                f"기본 방문 비율 {plan.share:.2%} · 배분 규칙 {plan.rule} · 담당자 1명당 {plan.visits_per_officer}가구"
            )
            for code, row in sorted(out["staff"].items()):
                print(f"  {code}: 담당 {row['officers']:g}명 → 차수당 {row['visits']:,}가구")
        return 0
    if args.action == "set":
        if not args.sgg or (args.officers is None) == (not args.clear):
            raise BlindspotError("capacity set 에는 --sgg 코드와 --officers 인원 (또는 --clear) 중 하나가 필요합니다.")
        if args.officers is not None and args.officers <= 0:
            raise BlindspotError(f"--officers 는 0보다 커야 합니다 (받은 값 {args.officers:g}).")
        user = _user(args)
        ops = open_ops()
        ops.set_staff(args.sgg, None if args.clear else args.officers, user, dt.datetime.now())
        audit.record(
            Scope.all_areas(user=user, role="admin"),
            "set_staff",
            {"sgg": args.sgg, "officers": None if args.clear else args.officers},
            None,
            None,
            detail="등록 해제: 전국 방문 비율로" if args.clear else f"담당 {args.officers:g}명",
        )
        result: dict = {"sgg": args.sgg, "officers": None if args.clear else args.officers}
        if not args.no_rescore:
            result.update(_rescore(args, f"set {args.sgg}"))
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(json.dumps(_rescore(args, "refresh"), ensure_ascii=False))
    return 0
