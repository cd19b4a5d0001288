"""Entries of follow-up cadence: a contact (:func:`record_contact`), an official's tier
(:func:`set_tier`) and the case's owner (:func:`take`, :func:`hand_over`), each with one audit
record in the same transaction of the operational store.

Only the district official of the case's 시군구 enters (the rule ``enter_outcome`` of
:mod:`blindspot.access.roles`, as for visit outcomes); the page passes the case ids it shows
(``shown``) and a case not among them is refused.  A case is handed over only to an account
that may enter there itself (:mod:`blindspot.followup.colleagues`).  Every refusal raises
:class:`FollowupRefused` after one ``refused_followup`` audit record (the reason in ``detail``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, bindparam, insert, select, update

from blindspot.access import Scope, can, may
from blindspot.app import auth
from blindspot.casework import audit
from blindspot.db import opstore
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.followup import cadence, colleagues, sql
from blindspot.followup.cases import _changes, _now
from blindspot.vocab import OUTCOMES, SUPPORT_TYPES

REFUSALS = {
    "role": "후속 연락과 사례 등급은 그 시군구의 담당 공무원만 입력할 수 있습니다.",
    "not_shown": "이 사례는 화면의 연락 대상 목록에 없습니다. 목록에 있는 사례를 고르세요.",
    "unknown": "그런 사례가 없거나 볼 권한이 없습니다.",
    "no_account": "받을 사람의 계정이 없습니다. 같은 시군구 담당 공무원의 아이디를 고르세요.",
    "colleague": "사례는 그 시군구의 담당 공무원에게만 넘길 수 있습니다 (다른 시군구·다른 역할의 계정은 받을 수 없음).",
}


class FollowupRefused(AccessDenied):
    """A contact or tier change that is not allowed (audited); ``reason`` is a key of :data:`REFUSALS`."""

    def __init__(self, reason: str):
        super().__init__(REFUSALS[reason])
        self.reason = reason


def _case(con: Connection, case_id: int, lock: bool = False):
    c = sql.followup_cases
    query = select(c).where(c.c.case_id == int(case_id))
    return con.execute(query.with_for_update() if lock else query).first()


def _check_entry(scope: Scope, case_id: int, action: str, record: dict, shown: Iterable[int] | None):
    """The case, if the scope may write to it; otherwise one refusal record and FollowupRefused."""
    ops = opstore.open_ops()
    with ops.connect() as con:
        case = _case(con, case_id)
    reason = None
    if not can(scope, "enter_outcome", case.sgg_code if case is not None else None):
        reason = "unknown" if case is None or may(scope.role, "enter_outcome") else "role"
    elif shown is not None and int(case_id) not in {int(x) for x in shown}:
        reason = "not_shown"
    if reason is not None:
        audit.record(scope, "refused_followup", record | {"action": action}, 0, None, detail=reason)
        raise FollowupRefused(reason)
    return case


def _owner(current, scope: Scope) -> str:
    """Who owns the case (its row, read in the caller's transaction) after ``scope``'s user works
    on it: its owner, or this official when nobody has taken it yet (whoever first contacts or
    re-tiers a case takes it)."""
    return str(current.assigned_to) if current.assigned_to else scope.user


def take(scope: Scope, case_id: int, mine: bool = True, *, shown: Iterable[int] | None = None) -> dict:
    """Take a case (``mine``: its owner becomes this official) or release it (no owner: every
    official of the 시군구 sees it among theirs); one ``assign_followup`` audit record with the
    old and new owner, in the same transaction.  Only the officials of the case's 시군구.

    Example: ``take(Scope.district(["29110"], user="kim"), 12)`` →
    ``{"case_id": 12, "old": None, "new": "kim"}``.
    """
    record = {"case": int(case_id), "take": bool(mine)}
    case = _check_entry(scope, case_id, "assign", record, shown)
    return _assign(scope, case, scope.user if mine else None)


def hand_over(
    scope: Scope, case_id: int, to_user: str, *, shown: Iterable[int] | None = None, accounts: dict | None = None
) -> dict:
    """Hand a case to a named colleague: its owner becomes ``to_user``, an account (of the
    account file, or ``accounts`` as read by :func:`blindspot.app.auth.load`) whose role may
    enter outcomes for the case's 시군구 — an official of that 시군구.  One ``assign_followup``
    audit record with the old and new owner, as :func:`take`, in the same transaction.  Refused
    (FollowupRefused after one ``refused_followup`` record) as :func:`set_tier`, and for a
    receiver without an account (``no_account``) or of another 시군구 or role (``colleague``).

    Example: ``hand_over(Scope.district(["29110"], user="dong"), 12, "gwangju")`` →
    ``{"case_id": 12, "old": "dong", "new": "gwangju"}``.
    """
    to_user = str(to_user or "").strip()
    record = {"case": int(case_id), "to": to_user[:64]}
    case = _check_entry(scope, case_id, "hand_over", record, shown)
    data = auth.load() if accounts is None else accounts
    reason = None
    if not colleagues.has_account(to_user, data):
        reason = "no_account"
    elif not colleagues.receives(to_user, case.sgg_code, data):
        reason = "colleague"
    if reason is not None:
        audit.record(scope, "refused_followup", record | {"action": "hand_over"}, 0, None, detail=reason)
        raise FollowupRefused(reason)
    return _assign(scope, case, to_user)


def _assign(scope: Scope, case, new: str | None) -> dict:
    """Make ``new`` the owner of ``case`` (checked by the caller) with its ``assign_followup``
    record; the old owner is read from the row locked in the same transaction."""
    case_id = int(case.case_id)
    ops = opstore.open_ops()
    c = sql.followup_cases
    with ops.begin() as con:
        old = _case(con, case_id, lock=True).assigned_to
        con.execute(update(c).where(c.c.case_id == case_id).values(assigned_to=new, updated_at=_now()))
        audit.record(
            scope,
            "assign_followup",
            {"case": case_id, "sgg": case.sgg_code, "pseudo_id": case.pseudo_id, "old": old, "new": new},
            1,
            "사례관리",
            detail=f"{old or '-'}->{new or '-'}",
            con=con,
        )
    return {"case_id": case_id, "old": old, "new": new}


def set_tier(scope: Scope, case_id: int, tier: str, *, shown: Iterable[int] | None = None) -> dict:
    """Set a case's tier (the official's decision: from now on a new round's band does not move
    it); one ``set_followup_tier`` audit record with the old and new tier, in the same
    transaction.  Only the official of the case's 시군구 (FollowupRefused, audited, otherwise).

    Example: ``set_tier(Scope.district(["29110"], user="kim"), 12, "closed")`` →
    ``{"case_id": 12, "old": "high", "new": "closed", "changed": True}``.
    """
    if tier not in cadence.TIERS:
        raise BlindspotError(f"사례 등급은 {', '.join(cadence.TIER_LABELS.values())} 중 하나여야 합니다.")
    record = {"case": int(case_id), "tier": tier}
    case = _check_entry(scope, case_id, "set_tier", record, shown)
    if case.tier == tier and case.tier_source == "official":
        return {"case_id": int(case_id), "old": tier, "new": tier, "changed": False}
    now = _now()
    ops = opstore.open_ops()
    c = sql.followup_cases
    with ops.begin() as con:  # the tier, its history row and its audit record commit together
        current = _case(con, case_id, lock=True)
        old = current.tier
        con.execute(
            update(c)
            .where(c.c.case_id == int(case_id))
            .values(tier=tier, tier_source="official", updated_at=now, assigned_to=_owner(current, scope))
        )
        _changes(con, [(case_id, old, tier)], "official", None, now, scope.user)
        audit.record(
            scope,
            "set_followup_tier",
            {"case": int(case_id), "sgg": case.sgg_code, "pseudo_id": case.pseudo_id, "old": old, "new": tier},
            1,
            "사례관리",
            detail=f"{old}->{tier}",
            con=con,
        )
    return {"case_id": int(case_id), "old": old, "new": tier, "changed": True}


def record_contact(
    scope: Scope,
    case_id: int,
    contacted_on: dt.date,
    method: str,
    outcome: str,
    support_type: str | None = None,
    *,
    shown: Iterable[int] | None = None,
    today: dt.date | None = None,
) -> dict:
    """Record one follow-up contact of a case (not a first visit: those stay the round's
    outcomes); the case's next date then runs from it.  ``method`` a key of
    :data:`cadence.METHODS`, ``outcome`` of :data:`blindspot.vocab.OUTCOMES` (``supported``
    needs a ``support_type``); the date may not lie after ``today``.  One ``record_contact``
    audit record in the same transaction; refusals as :func:`set_tier`.

    Example: ``record_contact(scope, 12, dt.date(2025, 9, 26), "phone", "contacted")`` →
    ``{"case_id": 12, "contact_id": 1, "next_due_on": datetime.date(2025, 10, 10), ...}`` for a 위험 case.
    """
    today = today or dt.date.today()
    if method not in cadence.METHODS:
        raise BlindspotError(f"연락 방법은 {', '.join(cadence.METHODS.values())} 중 하나여야 합니다.")
    if outcome not in OUTCOMES:
        raise BlindspotError(f"연락 결과는 {', '.join(OUTCOMES.values())} 중 하나여야 합니다.")
    if outcome == "supported" and support_type not in SUPPORT_TYPES:
        raise BlindspotError(f"지원 연계에는 지원 종류({', '.join(SUPPORT_TYPES)})를 골라야 합니다.")
    support_type = support_type if outcome == "supported" else None
    if contacted_on > today:
        raise BlindspotError(f"연락한 날짜가 오늘({cadence.korean_date(today)}) 뒤일 수 없습니다.")
    record = {"case": int(case_id), "on": contacted_on.isoformat(), "method": method, "outcome": outcome}
    case = _check_entry(scope, case_id, "record_contact", record, shown)
    on = contacted_on.isoformat()
    now = _now()
    ops = opstore.open_ops()
    c, k = sql.followup_cases, sql.followup_contacts
    with ops.begin() as con:  # the contact, the case's last-contact fields and the audit record together
        current = _case(con, case_id, lock=True)
        contact_id = con.execute(
            insert(k)
            .values(
                case_id=int(case_id),
                sgg_code=case.sgg_code,
                round_id=cadence.round_of(contacted_on).round_id,
                contacted_on=on,
                method=method,
                outcome=outcome,
                support_type=support_type,
                recorded_at=now,
                recorded_by=scope.user,
            )
            .returning(k.c.contact_id)
        ).scalar_one()
        latest = current.last_contact_on is None or on >= current.last_contact_on
        values = {"contact_count": c.c.contact_count + 1, "updated_at": now, "assigned_to": _owner(current, scope)}
        if latest:
            values |= {"last_contact_on": on, "last_outcome": outcome, "last_method": method}
        if method == "visit" and (current.last_visit_on is None or on >= current.last_visit_on):
            values["last_visit_on"] = on
        con.execute(update(c).where(c.c.case_id == int(case_id)).values(**values))
        audit.record(
            scope,
            "record_contact",
            record | {"sgg": case.sgg_code, "pseudo_id": case.pseudo_id, "support_type": support_type},
            1,
            "사례관리",
            detail=f"contact {contact_id}",
            con=con,
        )
        after = _case(con, case_id)
    due = cadence.due_dates(pd.DataFrame([dict(after._mapping)]))
    return {
        "case_id": int(case_id),
        "contact_id": int(contact_id),
        "contacted_on": contacted_on,
        "next_due_on": pd.Timestamp(due["due_on"].iloc[0]).date(),
        "recorded_by": scope.user,
    }


def first_visit(con: Connection, sgg_code: str, pseudo_id: str, visited_on: dt.date, outcome: str) -> bool:
    """A round's first-visit outcome, entered on the risk list, also starts the contact clock
    of the household's case (if it has one): its last contact and last visit become that day,
    unless a later one is recorded.  Runs in the caller's transaction (the outcome's), writes no
    contact row (first visits are counted as the round's outcomes, follow-ups apart) and no
    audit record of its own (the outcome's record covers it).  True when a case moved.

    Example: ``first_visit(con, "29110", "H1A2B3C4D", dt.date(2025, 9, 26), "need_confirmed")``.
    """
    return bool(visits_seen(con, sgg_code, [(pseudo_id, visited_on, outcome)]))


_VISIT_FIELDS = ("last_contact_on", "last_outcome", "last_method", "last_visit_on")
# Up to this many visits their cases are read by id; more (a loaded round) read the 시군구's cases
# at once, which stays under SQLite's limit of bound parameters.
_FEW = 500


def visits_seen(con: Connection, sgg_code: str, visits: list[tuple[str, dt.date, str]]) -> int:
    """Visits (pseudonymous id, day, outcome) of a 시군구's households start their cases'
    clocks: a case's last contact (with its outcome, method 방문) and last visit become the
    visit's day unless a later one is recorded.  One read of the 시군구's cases and one update
    for all of them, in the caller's transaction; returns the cases moved.

    Example: ``visits_seen(con, "29110", [("H1A2B3C4D", dt.date(2025, 9, 26), "contacted")])`` → 1.
    """
    c = sql.followup_cases
    query = select(c.c.case_id, c.c.pseudo_id, *(c.c[k] for k in _VISIT_FIELDS)).where(c.c.sgg_code == sgg_code)
    if len(visits) <= _FEW:  # one entered outcome: its case only, not the 시군구's thousands
        query = query.where(c.c.pseudo_id.in_([pid for pid, _, _ in visits]))
    rows = con.execute(query).all()
    cases = {row.pseudo_id: row for row in rows}
    now, changes = _now(), []
    for pid, visited_on, outcome in visits:
        case = cases.get(pid)
        if case is None:
            continue
        on = visited_on.isoformat()
        values = {k: getattr(case, k) for k in _VISIT_FIELDS}
        if case.last_contact_on is None or on >= case.last_contact_on:
            values |= {"last_contact_on": on, "last_outcome": outcome, "last_method": "visit"}
        if case.last_visit_on is None or on >= case.last_visit_on:
            values["last_visit_on"] = on
        if values != {k: getattr(case, k) for k in _VISIT_FIELDS}:
            changes.append({"cid": case.case_id, **{f"v_{k}": v for k, v in values.items()}})
    if changes:
        con.execute(
            update(c)
            .where(c.c.case_id == bindparam("cid"))
            .values(updated_at=now, **{k: bindparam(f"v_{k}") for k in _VISIT_FIELDS}),
            changes,
        )
    return len(changes)
