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

import json
import sys

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
    from blindspot.cli import _user
    from blindspot.model import staffing
    from blindspot.progress import LineProgress

    result = staffing.refresh(config.db_path(args.db), config.models_dir(args.models), _user(args), why, LineProgress())
    if result.get("snapshot"):
        print(f"새 판을 게시했습니다: {result['snapshot']} (앱은 다음 화면부터 이 판을 씁니다).", file=sys.stderr)
    return result


def _cmd_capacity(args) -> int:
    from blindspot.cli import _user
    from blindspot.model import staffing
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
        staffing.register(args.sgg, None if args.clear else args.officers, _user(args))
        result: dict = {"sgg": args.sgg, "officers": None if args.clear else args.officers}
        if not args.no_rescore:
            result.update(_rescore(args, f"set {args.sgg}"))
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(json.dumps(_rescore(args, "refresh"), ensure_ascii=False))
    return 0
