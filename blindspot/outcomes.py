"""Visit outcomes entered by a district official for a household of the risk list.

The outcome goes into ``visits`` (one row per household and round: a later entry
replaces an earlier one; a household not visited before gets channel ``local``,
since the official chose it from the list, i.e. from observables — such outcomes are
valid training labels, see ``docs/model.md``).  From then on it counts in the maps'
visit measures and in the next ``train``.  An entry for a household outside the
official's scope (or not on that round's list) is refused and audited.
"""

from __future__ import annotations

import datetime as dt

from blindspot import audit, sql
from blindspot.access import Scope, scope_sql
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.vocab import OUTCOMES, SUPPORT_TYPES


def record_outcome(store, scope: Scope, pseudo_id: str, round_id: int, outcome: str,
                   support_type: str | None = None) -> dict:
    """Record the outcome of a listed household's visit; returns what was written.

    Only a district official may record (their scope holds the household); ``outcome``
    is a key of :data:`blindspot.vocab.OUTCOMES`; ``support_type`` is required for
    ``supported`` and dropped otherwise.  Refusals raise :class:`AccessDenied` after an
    audit record of the attempt; the message does not say whether the household exists.

    Example: ``record_outcome(store, Scope.district(["29110"], user="kim"), "H1A2B3C4D",
    20243, "supported", "긴급지원")`` → ``{"action": "inserted", "channel": "local", ...}``.
    """
    if outcome not in OUTCOMES:
        raise BlindspotError(f"방문 결과는 {', '.join(OUTCOMES)} 중 하나여야 합니다.")
    if outcome == "supported" and support_type not in SUPPORT_TYPES:
        raise BlindspotError(f"지원 연계에는 지원 종류({', '.join(SUPPORT_TYPES)})를 골라야 합니다.")
    support_type = support_type if outcome == "supported" else None
    filters = {"round": int(round_id), "pseudo_id": str(pseudo_id), "outcome": outcome}
    target = None
    if scope.role == "district" and scope.household_level:
        cond, params = scope_sql(scope, "s.sgg_code")
        found = store.rows(sql.OUTCOME_TARGET.format(scope=cond), [int(round_id), str(pseudo_id), *params])
        target = found[0] if found else None
    if target is None:
        audit.record(store, scope, "refused_outcome", filters, 0, None, detail="권한 범위 밖이거나 목록에 없는 가구")
        raise AccessDenied("이 가구의 방문 결과를 입력할 권한이 없습니다 (담당 시군구의 이번 차수 목록 가구만 입력할 수 있습니다).")
    household_id, sgg_code, emd_code = target
    now = dt.datetime.now().replace(microsecond=0)
    with store.transaction():
        existing = int(store.scalar(sql.VISIT_COUNT, [int(round_id), household_id]))
        if existing:
            store.run(sql.VISIT_UPDATE, [outcome, support_type, now, scope.user, int(round_id), household_id])
        else:
            store.run(sql.VISIT_INSERT, [int(round_id), household_id, sgg_code, emd_code, outcome, support_type,
                                         now, scope.user])
        audit.record(store, scope, "record_outcome", filters | {"support_type": support_type}, 1,
                     "방문 결과 입력", detail="updated" if existing else "inserted")
    return {"action": "updated" if existing else "inserted", "channel": None if existing else "local",
            "outcome": outcome, "support_type": support_type, "recorded_by": scope.user, "recorded_at": now}
