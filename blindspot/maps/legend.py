"""Map text: values in Korean by unit, legend ranges with the unit written once, ranks, and the
region names drawn on a map of one area.

>>> legend_rows([3.6, 12.1], ["#ffeda0", "#f03b20"], "per_1000", lowest=1.2)["range"].tolist()[-1]
'자료 없음·비공개 (suppressed)'
"""

from __future__ import annotations

import math

import pandas as pd
import pydeck as pdk

from blindspot import glossary
from blindspot.maps.palette import NO_DATA

NO_DATA_LABEL = f"{glossary.NO_DATA}·{glossary.SUPPRESSED} (suppressed)"


def format_value(value, unit: str, change: bool = False) -> str:
    """A value as Korean map text, by unit.

    >>> format_value(1234, "count"), format_value(0.374, "share"), format_value(12.345, "per_1000")
    ('1,234가구', '37.4%', '천 가구당 12.3')
    >>> format_value(0.021, "share", change=True), format_value(-3, "count", change=True)
    ('+2.1%p', '-3가구')
    >>> format_value(None, "count")
    '자료 없음'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "자료 없음"
    number = _bare(value, unit, change)
    if unit == "count":
        return f"{number}가구"
    if unit in ("share", "probability"):
        return number + ("%p" if change else "%")
    if unit == "per_1000" and not change:
        return f"천 가구당 {number}"
    return number


# A legend writes its numbers bare and the unit once, after them: "3.6 – 12.1 (천 가구당)".
_LEGEND_UNIT = {"count": " (가구)", "per_1000": " (천 가구당)", "share": "%", "probability": "%"}


def _bare(value: float, unit: str, change: bool) -> str:
    """A number of a legend without its unit (shares in %, counts with thousands separators)."""
    sign = "+" if change and value > 0 else ""
    if unit == "count":
        return f"{sign}{value:,.0f}"
    if unit in ("share", "probability"):
        return f"{sign}{value * 100:.1f}"
    if unit == "per_1000":
        return f"{sign}{value:.1f}"
    return f"{sign}{value:,.3g}"


def legend_rows(
    breaks: list[float],
    colours: list[str],
    unit: str,
    change: bool = False,
    lowest: float | None = None,
    missing: bool = True,
) -> pd.DataFrame:
    """Legend: one row per class (colour, range text with the unit once), then the no-data row.

    >>> legend_rows([10.0, 2000.0], ["#ffeda0", "#f03b20"], "count", lowest=5)["range"].tolist()
    ['5 – 10 (가구)', '10 – 2,000 (가구)', '자료 없음·비공개 (suppressed)']
    >>> legend_rows([7.0, 9.0], ["#ffeda0", "#f03b20"], "count", lowest=7, missing=False)["range"].tolist()
    ['7 (가구)', '7 – 9 (가구)']
    >>> legend_rows([3.6, 12.1], ["#ffeda0", "#f03b20"], "per_1000", lowest=1.2, missing=False)["range"].tolist()
    ['1.2 – 3.6 (천 가구당)', '3.6 – 12.1 (천 가구당)']
    >>> legend_rows([0.02], ["#ffeda0"], "share", change=True, missing=False)["range"].tolist()
    ['≤ +2.0%p']
    """
    suffix = "%p" if change and unit in ("share", "probability") else _LEGEND_UNIT.get(unit, "")
    rows = []
    lo = lowest
    for b, c in zip(breaks, colours, strict=False):
        right = _bare(b, unit, change)
        if lo is None:
            text = f"≤ {right}"
        elif lo == b:  # a class of one value (few distinct values)
            text = right
        else:
            text = f"{_bare(lo, unit, change)} – {right}"
        rows.append({"colour": c, "range": text + suffix})
        lo = b
    if missing:
        rows.append({"colour": NO_DATA, "range": NO_DATA_LABEL})
    return pd.DataFrame(rows, columns=["colour", "range"])


def rank_text(rank, siblings, parent_name: str) -> str:
    """Rank within the parent area, in Korean.

    >>> rank_text(3.0, 25, "서울특별시")
    '서울특별시 내 3위 / 25'
    >>> rank_text(float("nan"), 25, "서울특별시")
    '순위 없음'
    """
    if rank is None or (isinstance(rank, float) and math.isnan(rank)):
        return "순위 없음"
    return f"{parent_name} 내 {int(rank)}위 / {int(siblings)}"


# Regions are named on the map when it shows this few of them (one 시도's 시군구, one 시군구's
# 읍면동): a map of one area, not the national 읍면동 map, where names would be noise.
LABEL_MAX = 60
# Local faces only (nothing is fetched): Windows, macOS, Debian's fonts-nanum, Noto.
LABEL_FONTS = '"Malgun Gothic", "Apple SD Gothic Neo", "NanumGothic", "Noto Sans CJK KR", sans-serif'


def label_layer(names: list[str], points: list[list[float]]) -> pdk.Layer | None:
    """A text layer naming each region at a point inside it, or None when there are more
    than :data:`LABEL_MAX` regions.

    >>> label_layer(["충장동"], [[126.92, 35.15]]).data
    [{'name': '충장동', 'position': [126.92, 35.15]}]
    >>> label_layer(["x"] * (LABEL_MAX + 1), [[0, 0]] * (LABEL_MAX + 1)) is None
    True
    """
    if not names or len(names) > LABEL_MAX:
        return None
    return pdk.Layer(
        "TextLayer",
        data=[{"name": n, "position": p} for n, p in zip(names, points, strict=True)],
        id="region-labels",
        get_position="position",
        get_text="name",
        get_size=13,
        get_color=[33, 33, 33, 230],
        # Quoted: pydeck sends a bare string as a JavaScript expression, a quoted one as text.
        font_family=f"'{LABEL_FONTS}'",
        character_set='"auto"',  # Hangul: the atlas is built from the labels' own characters
        outline_width=2,
        outline_color=[255, 255, 255, 220],
        font_settings={"sdf": True},
        pickable=False,
    )
