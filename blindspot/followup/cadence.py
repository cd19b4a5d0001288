"""Tiers and their contact cadence, and the next-contact date on the Korean working calendar.

A district practice (수영구, 2023 casebook) grades people in four tiers: 위험 — contact weekly,
visit monthly; 주의 — contact monthly; 관심 — contact every two months; 종결 — follow up twice a
year.  The cadences are settings in days (``followup_days_*``, ``followup_visit_days_high``;
docs/settings.md).  A next date is the last contact (or the case's start) plus the cadence,
moved forward to the next working day when it falls on a Saturday, a Sunday or a Korean public
holiday — the ``holidays`` library's calendar (설날, 추석, 대체공휴일, …) plus the setting
``followup_extra_holidays`` for 임시공휴일 declared after the library's release.

Dates are :class:`datetime.date` (days); nothing here reads a database.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from blindspot import glossary, settings
from blindspot.errors import BlindspotError
from blindspot.rounds import Round

# Tier codes: the three band codes a case can take from the model, and 종결.
TIERS = ("high", "medium", "low", "closed")
TIER_LABELS = glossary.TIER_LABELS
# What the page says of each tier's cadence (the glossary's words for the three bands).
TIER_CADENCE = glossary.TIER_CADENCE
# The tier a band gives a case whose tier still follows the model: "none" closes it.
TIER_OF_BAND = {"high": "high", "medium": "medium", "low": "low", "none": "closed"}
# Bands that open a case: the households an office is asked to reach (위험군).
OPENING_BANDS = ("high", "medium")

METHODS = glossary.CONTACT_METHODS
WEEKDAYS = "월화수목금토일"


def cadence_days(tier: str) -> int:
    """Days between contacts for ``tier`` (the setting ``followup_days_<tier>``).

    >>> cadence_days("high"), cadence_days("medium"), cadence_days("low"), cadence_days("closed")
    (7, 30, 60, 182)
    """
    if tier not in TIERS:
        raise BlindspotError(f"사례 등급은 {', '.join(TIER_LABELS.values())} 중 하나여야 합니다.")
    return int(settings.get(f"followup_days_{tier}"))


def visit_days() -> int:
    """Days between visits of a 위험 case (the setting ``followup_visit_days_high``).

    >>> visit_days()
    30
    """
    return int(settings.get("followup_visit_days_high"))


def extra_holidays() -> frozenset[dt.date]:
    """The setting ``followup_extra_holidays`` as dates; a malformed one is refused by name.

    >>> sorted(extra_holidays())
    []
    """
    out = set()
    for text in settings.get("followup_extra_holidays") or ():
        try:
            out.add(dt.date.fromisoformat(str(text).strip()))
        except ValueError:
            raise BlindspotError(
                f"BLINDSPOT_FOLLOWUP_EXTRA_HOLIDAYS 에 읽을 수 없는 날짜가 있습니다: {str(text)[:20]!r} (YYYY-MM-DD)."
            ) from None
    return frozenset(out)


@functools.lru_cache(maxsize=64)
def _law_holidays(years: tuple[int, ...]) -> frozenset[dt.date]:
    import warnings

    with warnings.catch_warnings():
        # 0.62 warns once about its future 1.0 versioning; the version is pinned (requirements.txt).
        warnings.filterwarnings("ignore", message=r"\s*This is a future version incompatibility warning")
        import holidays

    return frozenset(holidays.country_holidays("KR", years=years))


def holidays_between(first: dt.date, last: dt.date, extra: Iterable[dt.date] = ()) -> list[dt.date]:
    """Korean public holidays from ``first`` to ``last`` (inclusive), with ``extra`` days.

    >>> [d.isoformat() for d in holidays_between(dt.date(2025, 10, 1), dt.date(2025, 10, 10))]
    ['2025-10-03', '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08', '2025-10-09']
    """
    # A year more on each side: a date moved past New Year must still see the next year's days.
    years = tuple(range(first.year - 1, last.year + 2))
    days = _law_holidays(years) | set(extra)
    return sorted(d for d in days if first <= d <= last)


def working_day(day: dt.date, extra: Iterable[dt.date] | None = None) -> dt.date:
    """``day`` itself when it is a working day, else the next one (no Saturday, Sunday or
    Korean public holiday; ``extra``: more days off, default the setting).

    >>> working_day(dt.date(2025, 1, 28))  # 설날 연휴 (28–30), then Friday
    datetime.date(2025, 1, 31)
    >>> working_day(dt.date(2025, 3, 3))  # 삼일절 fell on a Saturday: Monday is 대체공휴일
    datetime.date(2025, 3, 4)
    """
    return next_due(np.array([day], dtype="datetime64[D]"), 0, extra)[0].astype(dt.date)


def next_due(last: np.ndarray, days: int | np.ndarray, extra: Iterable[dt.date] | None = None) -> np.ndarray:
    """``last + days`` moved forward to a working day, for arrays of dates (``datetime64[D]``).

    ``days`` is one number or one per date.  Example (a 위험 case, 7 days, last contacted on
    Friday 26 September 2025: 3 October is 개천절, then 추석 and its 대체공휴일 and 한글날, so
    the next working day is Friday 10 October; one contacted on 27 June 2024 is due on
    4 July, a date of the next round):

    >>> next_due(np.array(["2025-09-26", "2024-06-27"], dtype="datetime64[D]"), 7).tolist()
    [datetime.date(2025, 10, 10), datetime.date(2024, 7, 4)]
    """
    last = np.asarray(last, dtype="datetime64[D]")
    raw = last + np.asarray(days, dtype="timedelta64[D]")
    if raw.size == 0:
        return raw
    extra = extra_holidays() if extra is None else frozenset(extra)
    lo, hi = raw.min().astype(dt.date), raw.max().astype(dt.date)
    # Holidays up to a month past the last date: a run of days off never lasts that long.
    off = holidays_between(lo, hi + dt.timedelta(days=31), extra)
    return np.busday_offset(raw, 0, roll="forward", holidays=np.array(off, dtype="datetime64[D]"))


def due_dates(frame: pd.DataFrame, extra: Iterable[dt.date] | None = None) -> pd.DataFrame:
    """The next contact (and, for 위험, visit) of each case, and the earlier of the two.

    ``frame`` has ``tier``, ``opened_on`` and ``last_contact_on``/``last_visit_on`` (dates or
    ISO text, missing when none yet).  Returns ``next_contact_on``, ``next_visit_on`` (missing
    except for 위험) and ``due_on`` as ``datetime64[D]`` values, in the frame's order.

    >>> f = pd.DataFrame({"tier": ["high", "closed"], "opened_on": ["2025-09-01", "2025-01-02"],
    ...                   "last_contact_on": ["2025-09-26", None], "last_visit_on": [None, None]})
    >>> due_dates(f)["due_on"].dt.strftime("%Y-%m-%d").tolist()
    ['2025-10-01', '2025-07-03']
    """
    opened = pd.to_datetime(frame["opened_on"]).to_numpy("datetime64[D]")
    contact = pd.to_datetime(frame["last_contact_on"]).to_numpy("datetime64[D]")
    visit = pd.to_datetime(frame["last_visit_on"]).to_numpy("datetime64[D]")
    days = np.array([cadence_days(t) for t in TIERS])[pd.Categorical(frame["tier"], categories=TIERS).codes]
    extra = extra_holidays() if extra is None else frozenset(extra)
    next_contact = next_due(np.where(np.isnat(contact), opened, contact), days, extra)
    high = (frame["tier"] == "high").to_numpy()
    next_visit = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    if high.any():
        since = np.where(np.isnat(visit), opened, visit)[high]
        next_visit[high] = next_due(since, visit_days(), extra)
    due = np.where(
        high, np.minimum(next_contact, np.where(np.isnat(next_visit), next_contact, next_visit)), next_contact
    )
    return pd.DataFrame(
        {"next_contact_on": next_contact, "next_visit_on": next_visit, "due_on": due.astype("datetime64[D]")},
        index=frame.index,
    )


def round_of(day: dt.date) -> Round:
    """The bi-monthly round a date falls in.

    >>> round_of(dt.date(2024, 6, 30)).code, round_of(dt.date(2024, 7, 1)).code, round_of(dt.date(2025, 1, 3)).code
    ('2024-R3', '2024-R4', '2025-R1')
    """
    return Round(day.year, (day.month + 1) // 2)


def week_end(today: dt.date) -> dt.date:
    """The Sunday of ``today``'s week: "이번 주 연락 대상" are the cases due by then (overdue ones too).

    >>> week_end(dt.date(2025, 10, 1)), week_end(dt.date(2025, 10, 5))
    (datetime.date(2025, 10, 5), datetime.date(2025, 10, 5))
    """
    return today + dt.timedelta(days=6 - today.weekday())


def korean_date(day) -> str:
    """A date as people read it; a missing one as "—".

    >>> korean_date(dt.date(2025, 10, 10)), korean_date(None), korean_date(pd.NaT)
    ('2025년 10월 10일 (금)', '—', '—')
    """
    if day is None or pd.isna(day):
        return "—"
    day = pd.Timestamp(day).date()
    return f"{day.year}년 {day.month}월 {day.day}일 ({WEEKDAYS[day.weekday()]})"
