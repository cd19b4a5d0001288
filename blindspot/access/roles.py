"""Roles: the scope each role gets, the pages it may open, the actions it may take.

One table, :data:`ACTION_RULES`, says which role may do what and where; the page list
(:data:`PAGES`), the server gate (uploads, metrics), the casework functions (outcome
entry, addresses, the audit log) and the briefing targets all ask it through
:func:`may` (the role has the action somewhere) or :func:`can` (for this area).
"""

from __future__ import annotations

from blindspot import glossary
from blindspot.access.scope import Scope

ROLES = glossary.ROLES

# Pages each role may open, in navigation order.  The presenter gets no model page: its
# subgroup table counts households per group, and such counts may be small.  Pages that
# need an action (PAGE_ACTIONS) are listed only for roles that have it (tested).
PAGES = {
    "admin": (
        "overview",
        "region_map",
        "hotspots",
        "reach_gap",
        "lonely",
        "zones",
        "briefing",
        "model",
        "risk_list",
        "followups",
        "audit",
        "data_admin",
    ),
    "analyst": (
        "overview",
        "region_map",
        "hotspots",
        "reach_gap",
        "lonely",
        "zones",
        "briefing",
        "model",
        "risk_list",
        "followups",
        "data_admin",
    ),
    "district": (
        "overview",
        "region_map",
        "hotspots",
        "reach_gap",
        "lonely",
        "zones",
        "briefing",
        "model",
        "risk_list",
        "followups",
    ),
    "presenter": ("overview", "briefing", "region_map", "hotspots", "reach_gap", "lonely", "zones"),
}

# Role → action: "any" = in every area of the role's scope, "own" = only for a 시군구 of
# the user's own scope.  A role or action missing here may not do it.
ACTION_RULES: dict[str, dict[str, str]] = {
    # household-level rows: lists, profiles, exports (presenters see aggregates only)
    "view_households": {"admin": "any", "analyst": "any", "district": "own"},
    # briefing targets (shared settings of an area)
    "set_targets": {"admin": "any", "district": "own"},
    # visit outcomes: only the official of the household's own 시군구 enters them
    "enter_outcome": {"district": "own"},
    # the stand-in address of a household: only the official of its area, never a national role
    "see_address": {"district": "own"},
    # loading extraction files (데이터 관리, uploads through the server gate)
    "ingest": {"admin": "any", "analyst": "any"},
    # the audit log (감사 기록) and its export
    "read_audit": {"admin": "any"},
    # the server's own metrics (/_stcore/metrics)
    "read_metrics": {"admin": "any"},
    # which risk model is in service: activate a trained model, override its gate, roll back
    "manage_model": {"admin": "any"},
    # the capacity what-if (staff, allocation rule → recall): national figures of the model's test round
    "capacity_what_if": {"admin": "any", "analyst": "any"},
    # a 시군구's registered staff: it sets the visit capacity and so who is in the 위험 band
    "set_staff": {"admin": "any"},
    # the weights of the special support zone index (an analysis choice; others see the defaults)
    "set_zone_weights": {"admin": "any", "analyst": "any"},
}

# The action a page stands for: its navigation entry and its own check follow the rule.
PAGE_ACTIONS = {
    "risk_list": "view_households",
    "followups": "view_households",
    "audit": "read_audit",
    "data_admin": "ingest",
}

# What a refusal says, per action (the page or function names no role list of its own).
DENIED = {
    "view_households": "이 계정은 집계 자료만 볼 수 있습니다 (가구 단위 자료 열람 권한 없음).",
    "set_targets": "목표치는 관리자, 또는 자기 시군구의 담당 공무원만 정할 수 있습니다.",
    "enter_outcome": "방문 결과는 그 시군구의 담당 공무원만 입력할 수 있습니다.",
    "see_address": "주소는 그 지역의 담당 공무원만 볼 수 있습니다.",
    "ingest": "데이터 적재는 관리자·분석가만 할 수 있습니다.",
    "read_audit": "감사 기록은 관리자만 볼 수 있습니다.",
    "read_metrics": "서버 지표는 관리자만 볼 수 있습니다.",
    "manage_model": "서비스 모델 지정·되돌리기는 관리자만 할 수 있습니다.",
    "capacity_what_if": "방문 용량 가정 분석은 관리자·분석가만 할 수 있습니다.",
    "set_staff": "시군구 담당 인력 등록은 관리자만 할 수 있습니다.",
    "set_zone_weights": "특별지원구역 지수의 가중치는 관리자·분석가만 바꿀 수 있습니다.",
}


def scope_for(role: str, user: str, sgg_codes=None, *, min_count: int | None = None, label: str | None = None) -> Scope:
    """The scope of a signed-in user of ``role``.

    admin and analyst see every area at household level; a district official sees
    only its 시군구 (household level there); a presenter sees aggregates only, with
    counts under ``min_count`` suppressed (default: the ``min_count`` setting).

    >>> s = scope_for("district", "kim", ["29110"], label="광주 동구")
    >>> (s.role, sorted(s.sgg_codes), s.household_level, s.label)
    ('district', ['29110'], True, '광주 동구')
    >>> scope_for("presenter", "lee", min_count=10).min_count
    10
    """
    if role == "admin":
        return Scope.all_areas(user=user, role="admin")
    if role == "analyst":
        return Scope.analyst(user=user)
    if role == "district":
        if not sgg_codes:
            raise ValueError("시군구 담당 공무원 계정에는 시군구 코드(sgg_codes)가 하나 이상 있어야 합니다.")
        return Scope.district(sgg_codes, user=user, label=label)
    if role == "presenter":
        return Scope.aggregates_only(None if min_count is None else max(int(min_count), 1), user=user)
    raise ValueError(f"알 수 없는 역할입니다: {role!r} (admin, analyst, district, presenter 중 하나)")


def pages_for(role: str | None) -> tuple[str, ...]:
    """Page keys the role may open (an unknown role gets none).

    >>> "risk_list" in pages_for("presenter"), "audit" in pages_for("analyst")
    (False, False)
    """
    return PAGES.get(role or "", ())


def may(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action`` anywhere at all (the server gate and the pages
    ask this before any area is known; :func:`can` decides for one area).

    >>> may("analyst", "ingest"), may("district", "ingest"), may(None, "ingest")
    (True, False, False)
    >>> may("district", "enter_outcome"), may("presenter", "view_households")
    (True, False)
    """
    return role is not None and role in ACTION_RULES.get(action, {})


def can(scope: Scope, action: str, area: str | None = None) -> bool:
    """Whether the scope's role may do ``action`` for ``area`` ('00' the nation, a 2-digit
    시도, a 5-digit 시군구).  "any" holds for a national scope, or for a 시군구 inside the
    scope; "own" only for a 시군구 of the user's own (district) scope.  An aggregates-only
    scope may not do a household-level action.

    >>> can(Scope.all_areas(), "set_targets", "00"), can(Scope.analyst(), "set_targets", "29110")
    (True, False)
    >>> own = Scope.district(["29110"])
    >>> can(own, "set_targets", "29110"), can(own, "set_targets", "29140"), can(own, "set_targets", "29")
    (True, False, False)
    >>> can(Scope.aggregates_only(), "set_targets", "00"), can(Scope.all_areas(), "read_audit")
    (False, True)
    """
    rule = ACTION_RULES.get(action, {}).get(scope.role)
    if rule is not None and action in _HOUSEHOLD_ACTIONS and not scope.household_level:
        return False
    if rule == "any":
        return scope.is_national or (area is not None and len(str(area)) == 5 and scope.allows_sgg(str(area)))
    if rule == "own":
        return area is not None and len(str(area)) == 5 and scope.sgg_codes is not None and str(area) in scope.sgg_codes
    return False


_HOUSEHOLD_ACTIONS = frozenset({"view_households", "enter_outcome", "see_address"})


def can_see_address(scope: Scope, sgg_code: str) -> bool:
    """Addresses go only to the district official of that area, never to a national role.

    >>> can_see_address(Scope.district(["29110"]), "29110"), can_see_address(Scope.analyst(), "29110")
    (True, False)
    """
    return can(scope, "see_address", str(sgg_code))


def may_upload(role: str | None) -> bool:
    """Whether a signed-in session of ``role`` may send files to the server (the roles that
    load extraction files).

    >>> may_upload("analyst"), may_upload("district"), may_upload(None)
    (True, False, False)
    """
    return may(role, "ingest")


def may_read_metrics(role: str | None) -> bool:
    """Whether ``role`` may read the server's own metrics (``/_stcore/metrics``).

    >>> may_read_metrics("admin"), may_read_metrics("presenter")
    (True, False)
    """
    return may(role, "read_metrics")
