"""The special support zone ranking as people read it: the formula, the components and weights
table, and the ranking table as text (thousands separators, %, 비공개 / 자료 없음, never None
or nan).  Pure functions of a :class:`~blindspot.zones.figures.Ranking`; no store, no streamlit.
"""

from __future__ import annotations

import math

import pandas as pd

from blindspot import glossary
from blindspot.zones.figures import COMPONENTS, Ranking
from blindspot.zones.index import CONFIDENCE

FORMULA = "지수 = Σ 가중치 × 표준점수 ÷ Σ 가중치,  표준점수 = (값 − 평균) ÷ 표준편차 (순위에 든 지역 사이)"
INDEX = "필요 지수"
RANK = "순위"
INTERVAL = f"순위 {CONFIDENCE:.0%} 구간"
STATUS_TEXT = {"hidden": glossary.SUPPRESSED, "no_data": glossary.NO_DATA}


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def value_text(value, unit: str, missing: str = glossary.SUPPRESSED) -> str:
    """A component value: per 1,000 households with one decimal, a share as % with one decimal.

    >>> value_text(1234.56, "per_1000"), value_text(0.4216, "share"), value_text(float("nan"), "share")
    ('1,234.6', '42.2%', '비공개')
    """
    if _missing(value):
        return missing
    return f"{float(value) * 100:.1f}%" if unit == "share" else f"{float(value):,.1f}"


def top_label(designate: int) -> str:
    """>>> top_label(8)
    '상위 8위 안 확률'
    """
    return f"상위 {int(designate)}위 안 확률"


def formula_text(ranking: Ranking) -> str:
    """The formula with this ranking's relative weights, one line.

    Example: ``지수 = 0.20×위기정보 가구 (천 가구당) + …`` (weights divided by their sum).
    """
    total = sum(ranking.weights[c.key] for c in ranking.components)
    parts = [f"{ranking.weights[c.key] / total:.2f}×z({c.label})" for c in ranking.components]
    return "지수 = " + " + ".join(parts)


def weights_table(ranking: Ranking) -> pd.DataFrame:
    """One row per component: 성분, 단위, 가중치, 상대 가중치 (% of the sum), 근거 (domain.md).

    A weight of 0 leaves the component out (its 상대 가중치 is 0.0%)."""
    total = sum(ranking.weights[c.key] for c in ranking.components)
    units = glossary.UNITS
    return pd.DataFrame(
        [
            {
                "성분": c.label,
                "단위": units[c.unit],
                "가중치": f"{ranking.weights[c.key]:g}",
                "상대 가중치": f"{ranking.weights[c.key] / total * 100:.1f}%",
                "근거": c.why,
            }
            for c in COMPONENTS
        ],
        columns=["성분", "단위", "가중치", "상대 가중치", "근거"],
    )


def ranking_table(ranking: Ranking, components: bool = True) -> pd.DataFrame:
    """The ranking as text, ranked areas first: 순위, 지역, 필요 지수, 순위 95% 구간, 상위 n위 안
    확률, 가구 (the chosen round), then each weighted component's value.  An unranked area reads
    비공개 (a value hidden by small-count rules in a round used) or 자료 없음.

    >>> from blindspot.zones.figures import Ranking
    >>> t = pd.DataFrame({"code": ["29110"], "full_name": ["광주광역시 동구"], "households": [12345.0],
    ...     "index": [1.234], "rank": [1], "rank_low": [1], "rank_high": [3], "top_share": [0.875],
    ...     "status": ["ranked"], **{c.key: [0.25] for c in COMPONENTS}})
    >>> r = Ranking("sgg", None, 20243, [20243], {"crisis": 1.0}, 10, 1, 8, 1, t)
    >>> ranking_table(r).iloc[0].tolist()
    ['1', '광주광역시 동구', '1.23', '1–3', '87.5%', '12,345', '0.2']
    """
    rows = []
    for d in ranking.table.to_dict("records"):
        ranked = d["status"] == "ranked"
        missing = STATUS_TEXT.get(str(d["status"]), glossary.SUPPRESSED)
        row = {
            RANK: f"{int(d['rank'])}" if ranked else missing,
            "지역": str(d["full_name"]),
            INDEX: f"{float(d['index']):.2f}" if ranked else missing,
            INTERVAL: f"{int(d['rank_low'])}–{int(d['rank_high'])}" if ranked else missing,
            top_label(ranking.designate): f"{float(d['top_share']) * 100:.1f}%" if ranked else missing,
            "가구": missing if _missing(d["households"]) else f"{int(round(float(d['households']))):,}",
        }
        if components:
            for c in ranking.components:
                row[c.label] = value_text(d[c.key], c.unit, missing)
        rows.append(row)
    columns = [RANK, "지역", INDEX, INTERVAL, top_label(ranking.designate), "가구"]
    columns += [c.label for c in ranking.components] if components else []
    return pd.DataFrame(rows, columns=columns)


def method_rows(ranking: Ranking) -> list[tuple[str, str]]:
    """How the ranking was made, as (항목, 값) rows: for the 방법 sheet and the briefing page."""
    from blindspot.rounds import from_id

    level = "시군구 (전국)" if ranking.level == "sgg" else f"읍면동 (시군구 {ranking.area} 안)"
    rows = [
        ("대상", level),
        ("기준 차수", glossary.round_label(ranking.round_id)),
        ("쓴 차수", ", ".join(from_id(r).code for r in ranking.rounds)),
        ("산식", FORMULA),
        ("이 순위의 산식", formula_text(ranking)),
        ("성분 값", "쓴 차수들의 평균; 성분마다 높을수록 필요가 큼"),
        (
            "순위 구간",
            f"차수를 복원 추출해 {ranking.replicates:,}번 다시 계산한 순위의 2.5–97.5% 분위 ({CONFIDENCE:.0%} 구간)",
        ),
        ("부트스트랩 반복", f"{ranking.replicates:,}"),
        ("난수 시드", str(ranking.seed)),
        (top_label(ranking.designate), f"반복 가운데 상위 {ranking.designate}위 안에 든 비율"),
        (
            glossary.SUPPRESSION,
            f"1~{ranking.k - 1} 가구 칸과 빼기로 드러나는 칸은 {glossary.SUPPRESSED}; 그런 값이 든 지역은 순위에서 뺌"
            if ranking.k > 1
            else "없음 (분석가 범위)",
        ),
    ]
    return rows


def index_map(ranking: Ranking, layer: dict, area_name: str):
    """Deck and legend of the need index (standard deviations above the average area), in
    quantile classes; an area left out of the ranking (hidden or without data) is grey and
    reads 비공개 or 자료 없음 in its tooltip, with its rank among the ranked areas."""
    from blindspot.maps import render as maps

    t = ranking.table
    view = t[["code", "name"]].copy()
    ranked = t["status"] == "ranked"
    view["value"] = t["index"].where(ranked).astype("float64")
    view["suppressed"] = t["status"] == "hidden"
    view["rank"] = t["rank"].astype("float64").where(ranked)
    view["siblings"] = int(ranked.sum())
    view["parent_name"] = area_name
    return maps.choropleth(view, layer, INDEX, "index")
