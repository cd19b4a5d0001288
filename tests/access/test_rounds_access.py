import pytest

from blindspot.access import Scope, scope_sql
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.rounds import from_id, last_n, parse_round


@pytest.mark.parametrize(
    "text, round_id, start, end",
    [
        ("2024-R1", 20241, "2024-01-01", "2024-02-29"),
        ("2024-R3", 20243, "2024-05-01", "2024-06-30"),
        ("2023-R6", 20236, "2023-11-01", "2023-12-31"),
    ],
)
def test_round_codes(text, round_id, start, end):
    r = parse_round(text)
    assert r.round_id == round_id and str(r.start) == start and str(r.end) == end
    assert from_id(round_id).code == text


@pytest.mark.parametrize("bad", ["2024-3", "2024-R7", "2024-R0", "24-R1", "2024/R1", "", "2024-r1x"])
def test_bad_round_format(bad):
    with pytest.raises(BlindspotError, match="YYYY-Rn"):
        parse_round(bad)


def test_last_n_crosses_year():
    assert [r.code for r in last_n(6)] == ["2023-R4", "2023-R5", "2023-R6", "2024-R1", "2024-R2", "2024-R3"]


@pytest.mark.parametrize(
    "scope, column, sido, expected",
    [
        (Scope.all_areas(), "sgg_code", False, ("TRUE", [])),
        (Scope.district(["11140", "11110"]), "h.sgg_code", False, ("h.sgg_code IN (?, ?)", ["11110", "11140"])),
        (Scope.district(["11140", "11110", "26110"]), "sido_code", True, ("sido_code IN (?, ?)", ["11", "26"])),
    ],
)
def test_scope_sql(scope, column, sido, expected):
    assert scope_sql(scope, column, sido=sido) == expected


@pytest.mark.parametrize("codes", [["1111"], ["abcde"], ["11110; DROP TABLE households"]])
def test_scope_rejects_non_codes(codes):
    with pytest.raises(ValueError):
        Scope.district(codes)


def test_empty_district_scope_is_refused():
    with pytest.raises(ValueError):
        Scope(frozenset(), True)


def test_aggregates_only_scope_refuses_household_rows():
    scope = Scope.aggregates_only()
    assert scope.min_count == 5
    with pytest.raises(AccessDenied):
        scope.require_household_level()
    Scope.all_areas().require_household_level()
