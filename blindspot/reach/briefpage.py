"""The reach-gap page of the briefing pack: the area's child regions coloured by reach-gap
class, with the area's expected, found and supported households and its ratio with the
interval beside the map.  Drawn like the pack's other maps (EPSG:5179, scale bar, north
arrow, stamp) from the briefing's safe scope, so every figure passed suppression.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from blindspot.access import Scope, narrow
from blindspot.briefing import pack
from blindspot.briefing.data import CHILD_LEVEL, Briefing, safe_scope
from blindspot.db.store import Store
from blindspot.geo import regions as geography
from blindspot.maps import palette
from blindspot.maps.measures import NO_SCORES, has_scores
from blindspot.reach import figures, present


def map_reach_gap(store: Store, scope: Scope, b: Briefing):
    """The page (a matplotlib figure): child regions of the briefing's area by class
    (:data:`blindspot.reach.figures.CLASSES`), and the area's figures as text.

    Example: for the briefing of 광주광역시 (area "29"), its five 시군구 coloured by class
    and "예상 위기 가구 …, 발견 …" of 광주 beside them.
    """
    safe = safe_scope(scope, b.k)
    level = CHILD_LEVEL[b.area["level"]]
    area = None if b.area["level"] == "nation" else b.area["code"]
    fig = plt.figure(figsize=pack.A4_LANDSCAPE)
    ax = pack._map_axes(fig)
    geoms = geography.region_geometries(store, narrow(store, safe, area), level)
    scored = has_scores(store, b.round_id)
    if scored:
        frame = figures.reach_gap(store, safe, level, b.round_id, area)
        geoms = geoms.merge(frame[["code", "cls"]], on="code", how="left")
        geoms["cls"] = geoms["cls"].fillna("no_data")
    else:
        geoms = geoms.assign(cls="no_scores")
    gdf = geoms.to_crs(pack.PROJECTED)
    gdf.plot(ax=ax, color=[palette.REACH_COLOURS[c] for c in gdf["cls"]], edgecolor="white", linewidth=0.3)
    present_classes = [c for c in figures.CLASSES if c in set(gdf["cls"])]
    handles = [Patch(facecolor=palette.REACH_COLOURS[c], label=figures.CLASSES[c]) for c in present_classes]
    pack._scale_bar(ax)
    pack._north_arrow(ax)
    fig.legend(handles=handles, title="발굴 격차 판정", loc="upper left", bbox_to_anchor=(0.68, 0.85), fontsize=10)
    lines = [f"{present.EXPECTED}: {NO_SCORES}"]
    if scored:
        # This round only: earlier rounds would each cost a protected tree of their own.
        now = figures.reach_trend(store, safe, b.round_id, area, since=b.round_id).iloc[0]
        lines = [
            f"{present.EXPECTED}: {present.count_text(now['expected'])}",
            f"{present.FOUND}: {present.count_text(now['found'])}",
            f"{present.SUPPORTED}: {present.count_text(now['supported'])}",
            f"{present.RATIO}: {present.ratio_text(now['ratio'])}",
            f"{present.INTERVAL}: {present.interval_text(now['ratio_low'], now['ratio_high'])}",
            f"기준 발견률 (범위 전체): {present.ratio_text(frame['reference'].iloc[0] if len(frame) else None)}",
        ]
    fig.text(0.68, 0.42, "\n".join(lines), fontsize=11, va="top", linespacing=1.6)
    fig.text(
        0.68,
        0.12,
        "예상 위기 가구 = 가구별 위기 확률의 합. 발견 = 방문해 욕구를 확인한 가구.\n"
        "구간 전체가 기준의 일정 배수보다 낮을 때만 격차로 표시.",
        fontsize=8,
        color=palette.TEXT_MUTED,
    )
    fig.suptitle(f"{b.area['name']} 발굴 격차 ({b.round_ko})", fontsize=18, x=0.03, ha="left", y=0.97)
    pack._footer(fig, b)
    return fig
