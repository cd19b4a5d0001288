"""The cadence arithmetic, computed by hand against the 2024–2025 Korean calendar: across round
boundaries (rounds are bi-monthly), 설날, 추석, 대체공휴일, weekends and an extra 임시공휴일."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from blindspot.errors import BlindspotError
from blindspot.followup import cadence

D = dt.date


def due(last: D, tier: str, extra=()) -> D:
    return cadence.next_due(np.array([last], dtype="datetime64[D]"), cadence.cadence_days(tier), extra)[0].astype(D)


@pytest.mark.parametrize(
    ("tier", "last", "expected", "why"),
    [
        # Round boundaries: a weekly contact late in a round falls in the next one.
        ("high", D(2024, 6, 27), D(2024, 7, 4), "2024-R3 → 2024-R4, a Thursday"),
        ("high", D(2024, 12, 27), D(2025, 1, 3), "2024-R6 → 2025-R1 across New Year (Jan 1 is before)"),
        ("medium", D(2024, 4, 30), D(2024, 5, 30), "2024-R2 → 2024-R3, a Thursday"),
        # 설날 2025: 28–30 January.  30 days after 30 December is 29 January, 설날 itself.
        ("medium", D(2024, 12, 30), D(2025, 1, 31), "설날 연휴 28–30 January, then Friday"),
        # 추석 2025 with 개천절, its 대체공휴일 (8 October) and 한글날: 3–9 October off.
        ("high", D(2025, 9, 26), D(2025, 10, 10), "개천절, 추석, 대체공휴일, 한글날"),
        # 추석 2024: 16–18 September.
        ("high", D(2024, 9, 9), D(2024, 9, 19), "추석 2024, Monday to Wednesday"),
        # 삼일절 2025 fell on a Saturday: Monday 3 March is 대체공휴일.
        ("low", D(2025, 1, 2), D(2025, 3, 4), "60 days land on the 대체공휴일 of 삼일절"),
        # 어린이날 and 부처님오신날 both on Monday 5 May 2025: Tuesday 6 May is 대체공휴일.
        ("medium", D(2025, 4, 5), D(2025, 5, 7), "어린이날·부처님오신날 and their 대체공휴일"),
        ("medium", D(2025, 8, 1), D(2025, 9, 1), "a Sunday moves to Monday"),
        ("closed", D(2025, 1, 2), D(2025, 7, 3), "182 days: twice a year"),
        ("closed", D(2024, 8, 1), D(2025, 1, 31), "182 days land on Thursday 30 January, 설날 연휴"),
    ],
)
def test_next_contact_by_hand(tier, last, expected, why):
    assert due(last, tier) == expected, why


def test_the_due_round_follows_the_date():
    assert cadence.round_of(due(D(2024, 6, 27), "high")).code == "2024-R4"
    assert cadence.round_of(due(D(2024, 12, 27), "high")).code == "2025-R1"
    assert cadence.round_of(D(2024, 6, 30)).code == "2024-R3"


def test_an_extra_holiday_moves_the_date(monkeypatch):
    # 27 January 2025 was a 임시공휴일 declared after holidays 0.62 was released.
    assert due(D(2025, 1, 20), "high") == D(2025, 1, 27)
    assert due(D(2025, 1, 20), "high", extra=[D(2025, 1, 27)]) == D(2025, 1, 31)
    monkeypatch.setenv("BLINDSPOT_FOLLOWUP_EXTRA_HOLIDAYS", "2025-01-27")
    assert cadence.working_day(D(2025, 1, 27)) == D(2025, 1, 31)
    monkeypatch.setenv("BLINDSPOT_FOLLOWUP_EXTRA_HOLIDAYS", "2025-13-01")
    with pytest.raises(BlindspotError, match="FOLLOWUP_EXTRA_HOLIDAYS"):
        cadence.extra_holidays()


def test_cadence_days_are_settings(monkeypatch):
    assert [cadence.cadence_days(t) for t in cadence.TIERS] == [7, 30, 60, 182]
    monkeypatch.setenv("BLINDSPOT_FOLLOWUP_DAYS_MEDIUM", "14")
    assert cadence.cadence_days("medium") == 14
    assert due(D(2025, 9, 19), "medium") == D(2025, 10, 10)  # 3 October, then the 추석 week
    with pytest.raises(BlindspotError):
        cadence.cadence_days("none")


def test_a_high_case_is_due_for_a_visit_or_a_contact_whichever_comes_first():
    frame = pd.DataFrame(
        {
            "tier": ["high", "high", "medium", "low"],
            "opened_on": ["2025-09-01", "2025-09-01", "2025-09-01", "2025-09-01"],
            "last_contact_on": ["2025-09-26", "2025-09-29", None, "2025-09-26"],
            "last_visit_on": [None, "2025-09-29", None, "2025-09-26"],
        }
    )
    out = cadence.due_dates(frame)
    as_text = {c: out[c].dt.strftime("%Y-%m-%d").fillna("—").tolist() for c in out}
    # Never visited: 30 days from the start, 1 October (국군의 날 is no public holiday in 2025).
    assert as_text["next_visit_on"] == ["2025-10-01", "2025-10-29", "—", "—"]
    # Contacted 29 September: 6 October is 추석, the week is off until Friday 10 October.
    assert as_text["next_contact_on"] == ["2025-10-10", "2025-10-10", "2025-10-01", "2025-11-25"]
    assert as_text["due_on"] == ["2025-10-01", "2025-10-10", "2025-10-01", "2025-11-25"]


def test_an_empty_frame_has_no_dates():
    frame = pd.DataFrame({"tier": [], "opened_on": [], "last_contact_on": [], "last_visit_on": []})
    assert cadence.due_dates(frame).empty


def test_week_end_and_korean_dates():
    assert cadence.week_end(D(2025, 10, 6)) == D(2025, 10, 12)
    assert cadence.korean_date(D(2025, 1, 31)) == "2025년 1월 31일 (금)"
