"""Visit outcomes entered by a district official for a household of the risk list.

The outcome goes into the operational store (``entered_outcomes``, by pseudonymous id and
round, with its audit record in the same transaction), never into the read-only snapshot.
Every reader sees it through ``visits_now`` (:mod:`blindspot.db.store`), in place of the
household's visit row of that round; a household not visited before gets channel
``local``, since the official chose it from the list, i.e. from observables — such
outcomes are valid training labels, see ``docs/model.md``.  From then on it counts in the
maps' visit measures, the funnels, the briefing and the next ``train``.

What may be entered (``docs/access.md``, *Outcome entry*):

- only by a district official, for a household in their 시군구 that is scored in the round;
- only for a household **on the list being shown**: the page passes the pseudonymous ids
  it shows (``shown``) and the list's filters, and the household must be on the list that
  those filters give in the official's scope now (recomputed here, so a page cannot vouch
  for an id it did not get from the list);
- never for a band ``none`` (해당 없음) household;
- an earlier outcome of the household and round is replaced only with ``overwrite=True``;
  without it :class:`OutcomeExists` carries the earlier outcome, so the page can show it
  and ask.

Every refusal raises :class:`OutcomeRefused` (an :class:`~blindspot.errors.AccessDenied`)
with a Korean message after one ``refused_outcome`` audit record (the reason in
``detail``); a save writes exactly one ``record_outcome`` record.  The question about an
earlier outcome writes nothing: the official sees the list's own household.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from blindspot.access import Scope, may, scope_sql
from blindspot.casework import audit, lists, sql
from blindspot.db import opstore
from blindspot.db.store import Store, entered_changed
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.vocab import OUTCOMES, SUPPORT_TYPES

REFUSALS = {
    "role": "방문 결과는 시군구 담당 공무원만 입력할 수 있습니다.",
    "not_shown": "이 가구는 화면에 보이는 목록에 없습니다. 목록에 있는 가구를 고르세요.",
    "outside_scope": (
        "이 가구의 방문 결과를 입력할 권한이 없습니다 (담당 시군구의 이번 차수 목록 가구만 입력할 수 있습니다)."
    ),
    "band_none": (
        "위험 등급이 '해당 없음'인 가구에는 방문 결과를 입력할 수 없습니다 (위험·주의·관심 가구와 무작위 점검 가구만)."
    ),
    "not_listed": "이 가구는 지금 조건의 이번 차수 목록에 없습니다. 목록에 있는 가구만 입력할 수 있습니다.",
}


class OutcomeRefused(AccessDenied):
    """An outcome entry that is not allowed (audited); ``reason`` is a key of :data:`REFUSALS`."""

    def __init__(self, reason: str):
        super().__init__(REFUSALS[reason])
        self.reason = reason


class OutcomeExists(BlindspotError):
    """The household already has an outcome this round; ``earlier`` holds it (outcome,
    support_type, channel, recorded_at, recorded_by).  Save again with ``overwrite=True``."""

    def __init__(self, earlier: dict):
        self.earlier = earlier
        super().__init__(
            f"이 가구에는 이번 차수 방문 결과가 이미 있습니다: {earlier_text(earlier)}. 덮어쓰려면 확인하세요."
        )


def earlier_text(earlier: dict) -> str:
    """One line describing an earlier outcome.

    >>> import datetime as dt
    >>> earlier_text({"outcome": "supported", "support_type": "긴급지원", "channel": "local",
    ...               "recorded_at": dt.datetime(2024, 6, 3, 14, 5), "recorded_by": "kim"})
    '지원 연계 (긴급지원), 2024-06-03 14:05, 입력 kim'
    """
    label = OUTCOMES.get(earlier["outcome"], earlier["outcome"])
    support = f" ({earlier['support_type']})" if earlier.get("support_type") else ""
    at = earlier.get("recorded_at")
    when = f", {at:%Y-%m-%d %H:%M}" if at is not None else ""
    by = earlier.get("recorded_by")
    who = "시스템 기록" if by == "synthetic" else f"입력 {by}"
    return f"{label}{support}{when}, {who}"


def _refuse(scope: Scope, reason: str, filters: dict) -> None:
    audit.record(scope, "refused_outcome", filters, 0, None, detail=reason)
    raise OutcomeRefused(reason)


def record_outcome(
    store: Store,
    scope: Scope,
    pseudo_id: str,
    round_id: int,
    outcome: str,
    support_type: str | None = None,
    *,
    filters: lists.ListFilters | None = None,
    shown: Iterable[str] | None = None,
    overwrite: bool = False,
) -> dict:
    """Record the outcome of a listed household's visit; returns what was written.

    ``outcome`` is a key of :data:`blindspot.vocab.OUTCOMES`; ``support_type`` is required for
    ``supported`` and dropped otherwise.  ``filters`` are the list's filters (default: the
    round's default list, ``ListFilters(round_id)``); ``shown`` the pseudonymous ids the
    page shows.  Raises :class:`OutcomeRefused` (audited) or :class:`OutcomeExists`
    (nothing written) as described in the module docstring.

    Example: ``record_outcome(store, Scope.district(["29110"], user="kim"), "H1A2B3C4D",
    20243, "supported", "긴급지원")`` → ``{"action": "inserted", "channel": "local", ...}``.
    """
    if outcome not in OUTCOMES:
        raise BlindspotError(f"방문 결과는 {', '.join(OUTCOMES)} 중 하나여야 합니다.")
    if outcome == "supported" and support_type not in SUPPORT_TYPES:
        raise BlindspotError(f"지원 연계에는 지원 종류({', '.join(SUPPORT_TYPES)})를 골라야 합니다.")
    filters = filters or lists.ListFilters(int(round_id))
    if int(filters.round_id) != int(round_id):
        raise BlindspotError("목록의 차수와 방문 결과의 차수가 다릅니다. 목록을 다시 여세요.")
    support_type = support_type if outcome == "supported" else None
    pseudo_id = str(pseudo_id)
    record = {"round": int(round_id), "pseudo_id": pseudo_id, "outcome": outcome, "list": filters.as_dict()}
    if not may(scope.role, "enter_outcome") or not scope.household_level:
        _refuse(scope, "role", record)
    if shown is not None and pseudo_id not in {str(p) for p in shown}:
        _refuse(scope, "not_shown", record)
    cond, params = scope_sql(scope, "s.sgg_code")
    found = store.rows(sql.OUTCOME_TARGET.format(scope=cond), [int(round_id), pseudo_id, *params])
    if not found:
        _refuse(scope, "outside_scope", record)
    household_id, sgg, _emd, band, audit_pick = found[0]
    if band == "none" and not audit_pick:  # a random audit draw is visited whatever its band
        _refuse(scope, "band_none", record)
    try:
        listed = set(lists._listed(store, scope, filters)["pseudo_id"])
    except AccessDenied:  # the filters' area is outside the scope
        listed = set()
    if pseudo_id not in listed:
        _refuse(scope, "not_listed", record)
    now = dt.datetime.now().replace(microsecond=0)
    earlier = store.rows(sql.VISIT_EARLIER, [int(round_id), household_id])
    if earlier and not overwrite:
        keys = ("outcome", "support_type", "channel", "recorded_at", "recorded_by")
        raise OutcomeExists(dict(zip(keys, earlier[0], strict=False)))
    ops = opstore.open_ops()
    from blindspot.followup import entries as followup  # the follow-up case's contact clock

    with ops.begin() as con:  # the outcome, its case's clock and its audit record commit together or not at all
        ops.add_outcome(int(round_id), pseudo_id, outcome, support_type, now, scope.user, con=con)
        followup.first_visit(con, sgg, pseudo_id, now.date(), outcome)
        audit.record(
            scope,
            "record_outcome",
            record | {"support_type": support_type},
            1,
            "방문 결과 입력",
            detail="updated" if earlier else "inserted",
            con=con,
        )
    entered_changed()
    return {
        "action": "updated" if earlier else "inserted",
        "channel": None if earlier else "local",
        "outcome": outcome,
        "support_type": support_type,
        "recorded_by": scope.user,
        "recorded_at": now,
    }
