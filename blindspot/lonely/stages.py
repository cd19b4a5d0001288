"""Life stages (생애주기) of the lonely-death lens and the named group 중장년 1인 남성.

The bands are the setting ``life_stage_bands`` (default 20–39, 40–64, 65+, the defaults of
shared/docs/domain.md); a band is named 청년, 중장년 or 노년 by the age it starts at.
"""

from __future__ import annotations

import re

from blindspot import glossary, settings
from blindspot.maps.measures import AgeBands, band_key, band_label, check_bands

# The 1st Lonely-Death Prevention Plan's middle age is 40–64 (domain.md "People and bands"):
# the named group is a one-person household whose head is a man of these ages.
MIDDLE_AGE: tuple[int, int] = (40, 64)
MEN_KEY = "men_40_64"
_BAND_RE = re.compile(r"^\s*(\d{1,3})\s*-\s*(\d{1,3})?\s*$")


def parse_bands(items) -> AgeBands:
    """Life-stage bands from the setting's texts ("20-39", "65-" = 65 and over).

    >>> parse_bands(["20-39", "40-64", "65-"])
    ((20, 39), (40, 64), (65, None))
    >>> parse_bands("19-34, 35-64")
    ((19, 34), (35, 64))
    """
    if isinstance(items, str):
        items = [t for t in items.replace(",", " ").split() if t]
    out = []
    for item in items:
        m = _BAND_RE.match(str(item))
        if not m:
            raise ValueError(f"생애주기 구간은 '20-39' 나 '65-' 꼴이어야 합니다 (받은 값: {item!r}).")
        out.append((int(m.group(1)), None if m.group(2) is None else int(m.group(2))))
    if not out:
        raise ValueError("생애주기 구간이 하나도 없습니다 (설정 life_stage_bands).")
    return check_bands(tuple(out))


def life_stages(value=None) -> AgeBands:
    """The configured life-stage bands (``value`` overrides the setting).

    >>> life_stages(["20-39", "40-64", "65-"])
    ((20, 39), (40, 64), (65, None))
    """
    return parse_bands(settings.get("life_stage_bands") if value is None else value)


def stage_name(band: tuple[int, int | None]) -> str:
    """A band's life stage and ages as people read them: 청년 below 40, 중장년 below 65, else 노년.

    >>> stage_name((20, 39)), stage_name((40, 64)), stage_name((65, None))
    ('청년 (20–39세)', '중장년 (40–64세)', '노년 (65세 이상)')
    """
    lo = band[0]
    stage = "youth" if lo < MIDDLE_AGE[0] else "middle" if lo <= MIDDLE_AGE[1] else "old"
    return f"{glossary.LIFE_STAGES[stage]} ({band_label(band)})"


def stage_of(age: int, bands: AgeBands) -> tuple[int, int | None] | None:
    """The first band holding ``age`` (years), or None.

    >>> stage_of(45, ((20, 39), (40, 64), (65, None))), stage_of(17, ((20, 39),))
    ((40, 64), None)
    """
    for band in bands:
        if band[0] <= age and (band[1] is None or age <= band[1]):
            return band
    return None


def is_middle_aged_man(age: int, sex: str) -> bool:
    """Whether a one-person household's head belongs to the named group 중장년 1인 남성.

    >>> is_middle_aged_man(52, "M"), is_middle_aged_man(52, "F"), is_middle_aged_man(66, "M")
    (True, False, False)
    """
    return sex == "M" and MIDDLE_AGE[0] <= age <= MIDDLE_AGE[1]


def keys(bands: AgeBands) -> list[str]:
    """Column suffixes of the bands (as the maps name them).

    >>> keys(((20, 39), (65, None)))
    ['20_39', '65_plus']
    """
    return [band_key(b) for b in bands]
