"""The lonely-death lens as people read it: the map groups, the region table, the map
(pydeck, no basemap, through :func:`blindspot.maps.render.choropleth`) and the grade counts.

Pure functions of the frames of :mod:`blindspot.lonely.figures`; no store, no streamlit.  A
missing figure reads "비공개" (hidden) or "자료 없음" (no one-person households), never None or nan.
"""

from __future__ import annotations

import math

import pandas as pd
import pydeck as pdk

from blindspot import glossary
from blindspot.access import SUPPRESSED
from blindspot.lonely.stages import MEN_KEY, AgeBands, keys, stage_name
from blindspot.maps import render as maps
from blindspot.maps.data import rank_within

RATE = "고독사 위기정보 1인 가구 (천 가구당)"
# The plan's national goals (shared/docs/domain.md), shown beside the district's own figures.
NATIONAL_GOALS = (
    "제1차 고독사 예방 기본계획(2023): 전체 사망 100건당 고독사 1.06건(2021) → 0.85건(2027), "
    "고독사 예방 사업 시군구 39곳 → 229곳."
)


def groups(bands: AgeBands) -> dict[str, str]:
    """Map groups: key → Korean name (each life stage, the named group, all one-person).

    >>> groups(((20, 39), (65, None)))
    {'20_39': '청년 (20–39세)', '65_plus': '노년 (65세 이상)', 'men_40_64': '중장년 1인 남성', 'any': '1인 가구 전체'}
    """
    out = {k: stage_name(b) for b, k in zip(bands, keys(bands), strict=True)}
    return out | {MEN_KEY: glossary.MIDDLE_AGED_MEN, "any": "1인 가구 전체"}


def columns_of(group: str) -> tuple[str, str, str]:
    """(one-person count, lonely count, rate) columns of a group.

    >>> columns_of("20_39")
    ('one_person_20_39', 'lonely_20_39', 'lonely_20_39_rate')
    >>> columns_of("men_40_64"), columns_of("any")[1:]
    (('men_40_64', 'men_40_64_lonely', 'men_40_64_lonely_rate'), ('lonely_any', 'lonely_any_rate'))
    """
    if group == MEN_KEY:
        return MEN_KEY, f"{MEN_KEY}_lonely", f"{MEN_KEY}_lonely_rate"
    if group == "any":
        return "one_person", "lonely_any", "lonely_any_rate"
    return f"one_person_{group}", f"lonely_{group}", f"lonely_{group}_rate"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count_text(value, missing: str = SUPPRESSED) -> str:
    """>>> count_text(1234.0), count_text(float("nan"))
    ('1,234', '비공개')
    """
    return missing if _missing(value) else f"{int(round(float(value))):,}"


def rate_text(value, missing: str = SUPPRESSED) -> str:
    """Per 1,000 with one decimal.

    >>> rate_text(207.43), rate_text(None)
    ('207.4', '비공개')
    """
    return missing if _missing(value) else f"{float(value):,.1f}"


def region_table(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """One row per region (frame: regions merged with rated counts, ``has_data``), highest
    rate first: 지역, 1인 가구, 고독사 위기정보, 천 가구당.

    >>> f = pd.DataFrame({"full_name": ["가동", "나동"], "men_40_64": [40.0, None], "men_40_64_lonely": [8.0, None],
    ...                   "men_40_64_lonely_rate": [200.0, None], "has_data": [True, False]})
    >>> region_table(f, "men_40_64").values.tolist()
    [['가동', '40', '8', '200.0'], ['나동', '자료 없음', '자료 없음', '자료 없음']]
    """
    n, ld, rate = columns_of(group)
    order = frame.assign(_r=frame[rate].fillna(-1.0)).sort_values(["_r", "full_name"], ascending=[False, True])
    rows = []
    for d in order.to_dict("records"):
        missing = SUPPRESSED if bool(d["has_data"]) else glossary.NO_DATA
        rows.append(
            [str(d["full_name"]), count_text(d[n], missing), count_text(d[ld], missing), rate_text(d[rate], missing)]
        )
    return pd.DataFrame(rows, columns=["지역", "1인 가구", "고독사 위기정보", "천 가구당"])


def rate_map(
    frame: pd.DataFrame, layer: dict, group: str, group_name: str, area_name: str
) -> tuple[pdk.Deck, pd.DataFrame]:
    """Deck and legend of a group's rate per 1,000 one-person households of that group; a
    hidden value is grey and reads 비공개."""
    _, _, rate = columns_of(group)
    view = frame[["code", "name"]].copy()
    view["value"] = frame[rate].astype("float64")
    view["suppressed"] = frame["has_data"] & view["value"].isna()
    view["rank"] = rank_within(view["value"], pd.Series("view", index=view.index))
    view["siblings"] = int(view["value"].notna().sum())
    view["parent_name"] = area_name
    return maps.choropleth(view, layer, f"{RATE} — {group_name}", "per_1000")


def grade_table(counts: dict) -> pd.DataFrame:
    """The grade counts as text.

    >>> grade_table({"높음": 17, "보통": None, "낮음": 2182}).values.tolist()
    [['높음', '17'], ['보통', '비공개'], ['낮음', '2,182']]
    """
    return pd.DataFrame([[g, count_text(v)] for g, v in counts.items()], columns=[glossary.LONELY_RISK, "1인 가구"])
