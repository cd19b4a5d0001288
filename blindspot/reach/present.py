"""The reach gap as people read it: Korean texts of the figures, the area table, the class
map and the gap-rate map (pydeck, no basemap), and the trend chart's frame.

Pure functions of the frames of :mod:`blindspot.reach.figures`; no store, no streamlit.
A missing figure reads "비공개" (hidden), "점수 없음" (the round has no scores) or "자료 없음"
(no households), never None or nan.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pydeck as pdk

from blindspot import glossary
from blindspot.access import SUPPRESSED
from blindspot.maps import palette
from blindspot.maps import render as maps
from blindspot.maps.data import rank_within
from blindspot.maps.measures import NO_SCORES
from blindspot.reach.figures import CLASSES, CONFIDENCE

EXPECTED = glossary.EXPECTED_CRISIS
FOUND = glossary.FOUND
SUPPORTED = "지원 연계"
GAP = "미발견 추정"
GAP_RATE = "미발견 추정 (천 가구당)"
RATIO = "발견률"
INTERVAL = f"{CONFIDENCE:.0%} 구간"
CLASS = "판정"

TOOLTIP = {
    "html": "<b>{name}</b><br/>{class_text}<br/>{figures_text}<br/>{ratio_text}",
    "style": {"backgroundColor": "#222", "color": "white", "fontSize": "13px"},
}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def missing_text(has_data: bool, cls: str) -> str:
    """Why a figure is missing: no households (자료 없음), no scores (점수 없음), else hidden.

    >>> missing_text(False, "no_data"), missing_text(True, "no_scores"), missing_text(True, "hidden")
    ('자료 없음', '점수 없음', '비공개')
    """
    if not has_data:
        return glossary.NO_DATA
    return NO_SCORES if cls == "no_scores" else SUPPRESSED


def count_text(value, missing: str = SUPPRESSED) -> str:
    """Households with thousands separators; an expected figure is rounded to whole households.

    >>> count_text(1234.4), count_text(-3.6), count_text(float("nan")), count_text(None, "자료 없음")
    ('1,234', '-4', '비공개', '자료 없음')
    """
    return missing if _missing(value) else f"{round(float(value)):,}"


def ratio_text(value, missing: str = SUPPRESSED) -> str:
    """A ratio as a percentage with one decimal.

    >>> ratio_text(0.0695), ratio_text(float("nan"))
    ('7.0%', '비공개')
    """
    return missing if _missing(value) else f"{float(value) * 100:.1f}%"


def interval_text(low, high, missing: str = SUPPRESSED) -> str:
    """An interval of percentages.

    >>> interval_text(0.0016, 0.3467), interval_text(None, 0.3)
    ('0.2–34.7%', '비공개')
    """
    if _missing(low) or _missing(high):
        return missing
    return f"{float(low) * 100:.1f}–{float(high) * 100:.1f}%"


def area_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The areas of a :func:`~blindspot.reach.figures.reach_gap` frame as text, largest gap
    first (areas without a gap figure last): 지역, 예상 위기 가구, 발견, 지원 연계, 미발견 추정,
    발견률, 95% 구간, 판정.

    >>> f = pd.DataFrame({"full_name": ["가동"], "expected": [16.1], "found": [1.0], "supported": [1.0],
    ...                   "gap": [15.1], "ratio": [0.0622], "ratio_low": [0.0016], "ratio_high": [0.3467],
    ...                   "cls": ["even"], "has_data": [True]})
    >>> area_table(f).iloc[0].tolist()
    ['가동', '16', '1', '1', '15', '6.2%', '0.2–34.7%', '뚜렷한 차이 없음']
    """
    order = frame.assign(_gap=frame["gap"].fillna(-np.inf)).sort_values(["_gap", "full_name"], ascending=[False, True])
    rows = []
    for r in order.itertuples(index=False):
        missing = missing_text(bool(r.has_data), str(r.cls))
        rows.append(
            {
                "지역": str(r.full_name),
                EXPECTED: count_text(r.expected, missing),
                FOUND: count_text(r.found, missing if not r.has_data else SUPPRESSED),
                SUPPORTED: count_text(r.supported, missing if not r.has_data else SUPPRESSED),
                GAP: count_text(r.gap, missing),
                RATIO: ratio_text(r.ratio, missing),
                INTERVAL: interval_text(r.ratio_low, r.ratio_high, missing),
                CLASS: CLASSES[str(r.cls)],
            }
        )
    return pd.DataFrame(rows, columns=["지역", EXPECTED, FOUND, SUPPORTED, GAP, RATIO, INTERVAL, CLASS])


def _figures_text(row) -> tuple[str, str]:
    missing = missing_text(bool(row.has_data), str(row.cls))
    found_missing = missing if not row.has_data else SUPPRESSED
    figures = (
        f"{EXPECTED} {count_text(row.expected, missing)} · {FOUND} {count_text(row.found, found_missing)}"
        f" · {SUPPORTED} {count_text(row.supported, found_missing)}"
    )
    ratio = (
        f"{RATIO} {ratio_text(row.ratio, missing)} ({INTERVAL} {interval_text(row.ratio_low, row.ratio_high, missing)})"
    )
    return figures, ratio


def _labels(layer: dict) -> pdk.Layer | None:
    return maps.label_layer(layer["names"], layer["points"]) if layer.get("level") in ("sgg", "emd") else None


def class_map(frame: pd.DataFrame, layer: dict) -> tuple[pdk.Deck, pd.DataFrame]:
    """Deck and legend of the areas coloured by class (:data:`CLASSES`); the tooltip gives
    the class, expected, found, supported and the ratio with its interval."""
    rows = {r.code: r for r in frame.itertuples(index=False)}
    features = []
    for code, geom in zip(layer["codes"], layer["geometries"], strict=False):
        row = rows.get(code)
        if row is None:
            continue
        figures, ratio = _figures_text(row)
        features.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {
                    "code": code,
                    "name": str(row.name),
                    "class_text": CLASSES[str(row.cls)],
                    "figures_text": figures,
                    "ratio_text": ratio,
                    "fill": palette.rgba(palette.REACH_COLOURS[str(row.cls)]),
                },
            }
        )
    present = [c for c in CLASSES if c in set(frame["cls"])]
    legend = pd.DataFrame(
        {"colour": [palette.REACH_COLOURS[c] for c in present], "range": [CLASSES[c] for c in present]},
        columns=["colour", "range"],
    )
    fc = {"type": "FeatureCollection", "features": features}
    return maps.region_deck(fc, layer["bounds"], tooltip=TOOLTIP, labels=_labels(layer)), legend


def gap_rate_map(frame: pd.DataFrame, layer: dict, area_name: str) -> tuple[pdk.Deck, pd.DataFrame]:
    """Deck and legend of the gap per 1,000 households (quantile classes, the maps' ramp);
    a hidden value is grey and reads 비공개, ranks are within the area in view."""
    view = frame[["code", "name"]].copy()
    view["value"] = frame["gap_rate"].astype("float64")
    view["suppressed"] = frame["has_data"] & view["value"].isna()
    view["rank"] = rank_within(view["value"], pd.Series("view", index=view.index))
    view["siblings"] = int(view["value"].notna().sum())
    view["parent_name"] = area_name
    return maps.choropleth(view, layer, GAP_RATE, "per_1000")


def trend_frame(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend chart's data: 차수 ("2024년 3차") and one column per line (households),
    expected rounded to whole households.

    >>> t = pd.DataFrame({"round_id": [20243], "expected": [16.4], "found": [1.0], "supported": [1.0]})
    >>> trend_frame(t).to_dict("records")
    [{'차수': '2024년 3차', '예상 위기 가구': 16.0, '발견': 1.0, '지원 연계': 1.0}]
    """
    return pd.DataFrame(
        {
            "차수": [glossary.round_label(r) for r in trend["round_id"]],
            EXPECTED: trend["expected"].astype("float64").round(),
            FOUND: trend["found"].astype("float64"),
            SUPPORTED: trend["supported"].astype("float64"),
        }
    )


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend as text, one row per round (차수, 예상 위기 가구, 발견, 지원 연계, 발견률, 구간).

    >>> t = pd.DataFrame({"round_id": [20236], "expected": [float("nan")], "found": [3.0], "supported": [0.0],
    ...                   "ratio": [float("nan")], "ratio_low": [float("nan")], "ratio_high": [float("nan")]})
    >>> trend_table(t).iloc[0].tolist()
    ['2023년 6차', '점수 없음', '3', '0', '점수 없음', '점수 없음']
    """
    rows = []
    for r in trend.itertuples(index=False):
        no_expected = NO_SCORES if _missing(r.expected) and not _missing(r.found) else SUPPRESSED
        rows.append(
            {
                "차수": glossary.round_label(r.round_id),
                EXPECTED: count_text(r.expected, no_expected),
                FOUND: count_text(r.found),
                SUPPORTED: count_text(r.supported),
                RATIO: ratio_text(r.ratio, no_expected),
                INTERVAL: interval_text(r.ratio_low, r.ratio_high, no_expected),
            }
        )
    return pd.DataFrame(rows, columns=["차수", EXPECTED, FOUND, SUPPORTED, RATIO, INTERVAL])
