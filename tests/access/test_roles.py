"""Role → page and role → action: one table, and every page list, gate and check follows it."""

import pytest

from blindspot import access, config
from blindspot.access import ACTION_RULES, DENIED, PAGE_ACTIONS, PAGES, ROLES, Scope, can, may, scope_for

SCOPES = {
    "admin": scope_for("admin", "a"),
    "analyst": scope_for("analyst", "b"),
    "district": scope_for("district", "c", ["29110"]),
    "presenter": scope_for("presenter", "d", min_count=5),
}


def test_every_action_has_a_refusal_and_only_known_roles():
    assert set(DENIED) == set(ACTION_RULES)
    for action, rules in ACTION_RULES.items():
        assert set(rules) <= set(ROLES), action
        assert set(rules.values()) <= {"any", "own"}, action


@pytest.mark.parametrize("role", sorted(ROLES))
def test_pages_follow_the_actions(role):
    """A page that stands for an action is listed for exactly the roles that have it."""
    for page, action in PAGE_ACTIONS.items():
        assert (page in PAGES[role]) == may(role, action), (role, page)


def test_matrix_of_roles_and_actions():
    """The whole role × action matrix, for the own 시군구, another 시군구 and no area."""
    expected = {  # (own area, other area, no area)
        ("admin", "view_households"): (True, True, True),
        ("analyst", "view_households"): (True, True, True),
        ("district", "view_households"): (True, False, False),
        ("presenter", "view_households"): (False, False, False),
        ("admin", "set_targets"): (True, True, True),
        ("analyst", "set_targets"): (False, False, False),
        ("district", "set_targets"): (True, False, False),
        ("presenter", "set_targets"): (False, False, False),
        ("admin", "enter_outcome"): (False, False, False),
        ("analyst", "enter_outcome"): (False, False, False),
        ("district", "enter_outcome"): (True, False, False),
        ("presenter", "enter_outcome"): (False, False, False),
        ("admin", "see_address"): (False, False, False),
        ("analyst", "see_address"): (False, False, False),
        ("district", "see_address"): (True, False, False),
        ("presenter", "see_address"): (False, False, False),
        ("admin", "ingest"): (True, True, True),
        ("analyst", "ingest"): (True, True, True),
        ("district", "ingest"): (False, False, False),
        ("presenter", "ingest"): (False, False, False),
        ("admin", "read_audit"): (True, True, True),
        ("analyst", "read_audit"): (False, False, False),
        ("district", "read_audit"): (False, False, False),
        ("presenter", "read_audit"): (False, False, False),
        ("admin", "read_metrics"): (True, True, True),
        ("analyst", "read_metrics"): (False, False, False),
        ("district", "read_metrics"): (False, False, False),
        ("presenter", "read_metrics"): (False, False, False),
        ("admin", "manage_model"): (True, True, True),
        ("analyst", "manage_model"): (False, False, False),
        ("district", "manage_model"): (False, False, False),
        ("presenter", "manage_model"): (False, False, False),
        ("admin", "capacity_what_if"): (True, True, True),
        ("analyst", "capacity_what_if"): (True, True, True),
        ("district", "capacity_what_if"): (False, False, False),
        ("presenter", "capacity_what_if"): (False, False, False),
        ("admin", "set_staff"): (True, True, True),
        ("analyst", "set_staff"): (False, False, False),
        ("district", "set_staff"): (False, False, False),
        ("presenter", "set_staff"): (False, False, False),
        ("admin", "set_zone_weights"): (True, True, True),
        ("analyst", "set_zone_weights"): (True, True, True),
        ("district", "set_zone_weights"): (False, False, False),
        ("presenter", "set_zone_weights"): (False, False, False),
    }
    assert {a for _, a in expected} == set(ACTION_RULES)
    for (role, action), (own, other, none) in expected.items():
        scope = SCOPES[role]
        got = (can(scope, action, "29110"), can(scope, action, "11110"), can(scope, action))
        assert got == (own, other, none), (role, action, got)


def test_an_aggregates_only_scope_takes_no_household_action():
    """A district scope stripped to aggregates (the briefing's safe scope) loses household actions."""
    import dataclasses

    safe = dataclasses.replace(SCOPES["district"], household_level=False)
    for action in ("view_households", "enter_outcome", "see_address"):
        assert not can(safe, action, "29110"), action
    assert can(safe, "set_targets", "29110")


def test_presenter_default_threshold_is_the_setting():
    from blindspot import settings

    assert Scope.aggregates_only().min_count == settings.get("min_count") == 5


def test_router_registers_exactly_the_pages_roles_open():
    """The router's page table (blindspot/app/pages.py, which app.py registers) names every
    page some role may open, and no other."""
    from blindspot.app import pages as app_pages

    router = (config.PROJECT_DIR / "app.py").read_text(encoding="utf-8")
    assert "from blindspot.app.pages import PAGES" in router and "st.Page(PAGES[k][0]" in router
    keys = set(app_pages.PAGES)
    assert keys == {p for pages in PAGES.values() for p in pages}
    for key, (path, _title) in app_pages.PAGES.items():
        assert (config.PROJECT_DIR / path).is_file(), key


def test_no_role_rule_outside_access():
    """Role names are compared only in blindspot.access: everything else asks may/can."""
    offenders = []
    for path in [
        *(config.PROJECT_DIR / "blindspot").rglob("*.py"),
        *(config.PROJECT_DIR / "views").glob("*.py"),
        config.PROJECT_DIR / "app.py",
    ]:
        if "access" in path.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if ".role ==" in code or ".role !=" in code or ".role in" in code or ".role not in" in code:
                offenders.append(f"{path.relative_to(config.PROJECT_DIR)}:{n}")
    assert offenders == []
    assert access.may_upload("analyst") and not access.may_upload("district")
