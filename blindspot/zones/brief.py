"""The one-page briefing for a designation meeting: an A4-landscape PDF page with the areas
coloured by need index (quantile classes, the maps' ramp; the first ``designate`` outlined),
the top areas with their index, rank interval and the share of replicates placing them in the
first ``designate``, the weights, the method and the stamp.

Drawn like the briefing pack (:mod:`blindspot.briefing.pack`: NanumGothic embedded as
TrueType, EPSG:5179 with a scale bar and north arrow, no basemap), from a
:class:`~blindspot.zones.figures.Ranking` made in the caller's scope, so every figure on it
already passed the small-count rules.  No household row is read.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap

import mapclassify
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.patches import Patch

from blindspot import glossary
from blindspot.access import Scope, narrow
from blindspot.briefing import pack
from blindspot.db import queries
from blindspot.db.store import Store
from blindspot.geo import regions as geography
from blindspot.maps import palette
from blindspot.rounds import from_id
from blindspot.zones import present
from blindspot.zones.figures import Ranking

CLASSES = 5  # quantile classes of the index, as the maps use


def stamp(ranking: Ranking, synthetic: bool, now: dt.datetime) -> str:
    """The page's stamp: rounds, replicates, seed, threshold, time, synthetic or not.

    >>> import pandas as pd
    >>> r = Ranking("sgg", None, 20243, [20242, 20243], {"crisis": 1.0}, 1000, 2024, 8, 5, pd.DataFrame())
    >>> parts = stamp(r, True, dt.datetime(2026, 1, 2, 3, 4)).split(" · ")
    >>> parts[:4]
    ['기준 2024년 3차', '차수 2024-R2, 2024-R3', '부트스트랩 1,000회', '시드 2024']
    >>> parts[4:]
    ['k = 5', '2026-01-02 03:04', '합성 데이터 (synthetic)']
    """
    parts = [
        f"기준 {glossary.round_label(ranking.round_id)}",
        f"차수 {', '.join(from_id(r).code for r in ranking.rounds)}",
        f"부트스트랩 {ranking.replicates:,}회",
        f"시드 {ranking.seed}",
        f"k = {ranking.k}",
        now.strftime("%Y-%m-%d %H:%M"),
    ]
    return " · ".join(parts + (["합성 데이터 (synthetic)"] if synthetic else []))


def page(store: Store, scope: Scope, ranking: Ranking, now: dt.datetime | None = None):
    """The page as a matplotlib figure (A4 landscape)."""
    pack._fonts()
    now = now or dt.datetime.now()
    synthetic = bool(queries.data_info(store).get("synthetic"))
    fig = plt.figure(figsize=pack.A4_LANDSCAPE)
    ax = fig.add_axes((0.02, 0.1, 0.5, 0.78))
    ax.set_axis_off()
    geoms = geography.region_geometries(store, narrow(store, scope, ranking.area), ranking.level)
    table = ranking.table.set_index("code")
    gdf = geoms.assign(index=geoms["code"].map(table["index"]).astype("float64")).to_crs(pack.PROJECTED)
    gdf.plot(ax=ax, color=palette.NO_DATA, edgecolor="white", linewidth=0.2)
    known = gdf["index"].dropna()
    handles = [Patch(facecolor=palette.NO_DATA, label=f"{glossary.SUPPRESSED}·{glossary.NO_DATA}")]
    if len(known):
        k = int(min(CLASSES, known.nunique()))
        bins = mapclassify.Quantiles(known.to_numpy(), k=k) if k > 1 else None
        ramp = palette.palette(max(k, 1))
        classes = bins.yb if bins is not None else np.zeros(len(known), dtype=int)
        gdf.loc[known.index].plot(ax=ax, color=[ramp[c] for c in classes], edgecolor="white", linewidth=0.2)
        lows = [known.min()] + (list(bins.bins[:-1]) if bins is not None else [])
        highs = list(bins.bins) if bins is not None else [known.max()]
        handles = [
            Patch(facecolor=ramp[i], label=f"{lo:.2f} – {hi:.2f}")
            for i, (lo, hi) in enumerate(zip(lows, highs, strict=False))
        ] + handles
    top = ranking.table[ranking.table["status"] == "ranked"].head(ranking.designate)
    chosen = gdf[gdf["code"].isin(set(top["code"]))]
    if len(chosen):
        chosen.plot(ax=ax, facecolor="none", edgecolor="black", linewidth=1.2)
        handles.append(Patch(facecolor="none", edgecolor="black", label=f"상위 {ranking.designate}곳"))
    pack._scale_bar(ax)
    pack._north_arrow(ax)
    ax.legend(handles=handles, title=present.INDEX, loc="lower right", fontsize=8, title_fontsize=9)
    where = "전국 시군구" if ranking.level == "sgg" else f"{_area_name(ranking)} 읍면동"
    fig.suptitle(
        f"{glossary.SPECIAL_ZONES} 후보: {where} {present.INDEX} 순위 ({glossary.round_label(ranking.round_id)})",
        fontsize=16,
        x=0.02,
        ha="left",
        y=0.97,
    )
    _top_table(fig, ranking, top)
    _method(fig, ranking)
    fig.text(
        0.01, 0.012, f"{pack.ATTRIBUTION}  |  {stamp(ranking, synthetic, now)}", fontsize=7, color=palette.TEXT_MUTED
    )
    if synthetic:
        fig.text(0.99, 0.975, "합성 데이터", fontsize=11, color=palette.SYNTHETIC_STAMP, ha="right", va="top")
    return fig


def _area_name(ranking: Ranking) -> str:
    names = ranking.table["full_name"].dropna()
    return str(names.iloc[0]).rsplit(" ", 1)[0] if len(names) else str(ranking.area)


def _top_table(fig, ranking: Ranking, top) -> None:
    """The first ``designate`` areas: rank, area, index, interval, share in the first n."""
    text = present.ranking_table(ranking, components=False).head(len(top))
    cols = [present.RANK, "지역", present.INDEX, present.INTERVAL, present.top_label(ranking.designate)]
    ax = fig.add_axes((0.54, 0.42, 0.44, 0.48))
    ax.set_axis_off()
    if text.empty:
        ax.text(0, 0.9, f"순위에 든 지역이 없습니다 ({glossary.SUPPRESSED}·{glossary.NO_DATA}).", fontsize=11)
        return
    cells = [[str(v) for v in row] for row in text[cols].itertuples(index=False)]
    tab = ax.table(cellText=cells, colLabels=cols, loc="upper center", colLoc="center", cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(9)
    tab.scale(1.0, 1.5)
    for (r, c), cell in tab.get_celld().items():
        if c == 1 and r > 0:
            cell.get_text().set_ha("left")
    tab.auto_set_column_width(list(range(len(cols))))


def _method(fig, ranking: Ranking) -> None:
    """Weights and method as text under the table."""
    weights = present.weights_table(ranking)
    shares = zip(weights["성분"], weights["상대 가중치"], strict=True)
    lines = ["가중치 (상대): " + ", ".join(f"{name} {share}" for name, share in shares)]
    lines += [f"{k}: {v}" for k, v in present.method_rows(ranking) if k not in ("이 순위의 산식", "대상")]
    # NanumGothic has no U+2212 minus sign; a hyphen reads the same on paper.
    wrapped = [w for line in lines for w in textwrap.wrap(line.replace("\u2212", "-"), 60, subsequent_indent="   ")]
    fig.text(0.54, 0.4, "\n".join(wrapped), fontsize=7.5, va="top", ha="left", linespacing=1.4)


def render(store: Store, scope: Scope, ranking: Ranking, now: dt.datetime | None = None) -> bytes:
    """The one-page PDF (bytes), fonts embedded.

    Example: ``render(store, Scope.analyst(), zone_ranking(store, Scope.analyst(), "sgg", 20243))``
    starts with ``b"%PDF"`` and its text names the first eight 시군구.
    """
    fig = page(store, scope, ranking, now)
    out = io.BytesIO()
    try:
        title = f"{glossary.SPECIAL_ZONES} {from_id(ranking.round_id).code}"
        with PdfPages(out, metadata={"Title": title, "Subject": "사회보장 특별지원구역 지정 회의 자료"}) as pdf:
            pdf.savefig(fig)
    finally:
        plt.close(fig)
    return out.getvalue()
