"""The special support zone ranking as an XLSX workbook: the ranking (순위), who made it (정보)
and how (방법: components, weights, formula, rounds, bootstrap replicates, seed).

Built by :func:`blindspot.casework.workbook.xlsx_bytes`, so every text cell passes
:func:`blindspot.spreadsheet.neutralise` (never a formula).  An aggregate of a caller's scope,
suppressed as the page shows it: any role may export it; the page's download leaves the
``download_file`` audit record.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from blindspot import glossary
from blindspot.access import ROLES, Scope, scope_text
from blindspot.casework.workbook import xlsx_bytes
from blindspot.rounds import from_id
from blindspot.zones import present
from blindspot.zones.figures import COMPONENTS, Ranking

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOTE = f"집계 자료 — 가구 단위 자료 없음. 값은 모두 {glossary.SUPPRESSION} 적용."


def ranking_frame(ranking: Ranking) -> pd.DataFrame:
    """The 순위 sheet: numbers stay numbers (empty where not ranked or hidden), Korean headers;
    shares and 상위 확률 as 0..1 (shown as %), per-1,000 figures and z-scores as decimals."""
    t = ranking.table
    top = present.top_label(ranking.designate)
    frame = pd.DataFrame(
        {
            "순위": t["rank"].astype("Int64"),
            "지역 코드": t["code"].astype(str),
            "지역": t["full_name"].astype(str),
            present.INDEX: t["index"].astype("float64").round(4),
            "순위 하한": t["rank_low"].astype("Int64"),
            "순위 상한": t["rank_high"].astype("Int64"),
            top: t["top_share"].astype("float64"),
            f"가구 ({glossary.round_label(ranking.round_id)})": t["households"].astype("float64"),
        }
    )
    for c in COMPONENTS:
        frame[c.label] = t[c.key].astype("float64").round(4)
    for c in ranking.components:
        frame[f"표준점수: {c.label}"] = t[f"z_{c.key}"].astype("float64").round(4)
    frame["비고"] = [present.STATUS_TEXT.get(str(s), "") for s in t["status"]]
    return frame


def method_sheet(ranking: Ranking) -> list[list]:
    """Rows of the 방법 sheet: (항목, 값) of :func:`present.method_rows`, then the components
    with their key, unit, weight, relative weight and the domain fact behind each."""
    total = sum(ranking.weights[c.key] for c in ranking.components)
    rows: list[list] = [["항목", "값"], *[[k, v] for k, v in present.method_rows(ranking)], []]
    rows.append(["성분", "키", "단위", "가중치", "상대 가중치", "근거"])
    # The file writes shares as fractions, not percentages: its unit says so.
    units = {**glossary.UNITS, "share": f"{glossary.UNITS['share']} (0–1)"}
    for c in COMPONENTS:
        w = ranking.weights[c.key]
        rows.append([c.label, c.key, units[c.unit], w, round(w / total, 4), c.why])
    return rows


def ranking_xlsx(ranking: Ranking, scope: Scope, now: dt.datetime | None = None) -> bytes:
    """The workbook (bytes): 순위, 정보 (round, exporter, role, scope, time, rows, note) and 방법."""
    now = now or dt.datetime.now().replace(microsecond=0)
    frame = ranking_frame(ranking)
    percent = frozenset({present.top_label(ranking.designate)} | {c.label for c in COMPONENTS if c.unit == "share"})
    meta = {
        "자료": "사회보장 특별지원구역 순위",
        "기준 차수": from_id(ranking.round_id).code,
        "내보낸 사람": scope.user,
        "역할": ROLES.get(scope.role, scope.role),
        "권한 범위": scope_text(scope),
        "만든 시각": now.isoformat(sep=" "),
        "행 수": len(frame),
        "비고": NOTE,
    }
    return xlsx_bytes(frame, "순위", meta, percent, extra={"방법": method_sheet(ranking)})


def file_name(ranking: Ranking) -> str:
    """>>> from blindspot.zones.figures import Ranking
    >>> file_name(Ranking("emd", "29110", 20243, [20243], {}, 10, 1, 8, 1, pd.DataFrame()))
    '특별지원구역_29110_2024-R3.xlsx'
    """
    where = ranking.area or "전국"
    return f"특별지원구역_{where}_{from_id(ranking.round_id).code}.xlsx"
