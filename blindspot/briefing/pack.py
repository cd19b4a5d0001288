"""The briefing pack: an A4-landscape PDF and one PNG per map and chart, drawn on the
server with matplotlib and geopandas.

The Korean font is NanumGothic from the ``koreanize-matplotlib`` package on PyPI and is
embedded in the PDF as a TrueType font (``pdf.fonttype = 42``), so the text stays text
(searchable, copyable) and nothing is downloaded.  Every page and image carries the
stamp (data round, model version, time of generation, "합성 데이터" when synthetic) and
the attribution of the boundary and population sources.
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import mapclassify  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from blindspot import glossary  # noqa: E402
from blindspot.access import SUPPRESSED, Scope, narrow  # noqa: E402
from blindspot.briefing.data import CHILD_LEVEL, Briefing, safe_scope, shown  # noqa: E402
from blindspot.db.store import Store  # noqa: E402
from blindspot.geo import regions as geography  # noqa: E402
from blindspot.maps import (  # noqa: E402
    hotspots,
    palette,
    spatial,
)

A4_LANDSCAPE = (11.69, 8.27)  # inches
ATTRIBUTION = "출처: 통계청 SGIS, 행정안전부 주민등록 인구통계"
METHOD_NOTE = (
    f"방법: 가구·위기정보는 격월 차수 자료, {glossary.AT_RISK}: 위험 모델(로지스틱 회귀)의 "
    f"{glossary.BAND_LABELS['high']}·{glossary.BAND_LABELS['medium']} 등급. "
    "소수 집계(1~k-1)와 빼기로 그 수가 드러나는 칸은 비공개, 0은 0으로 표시, 가구 단위 자료는 싣지 않음. "
    f"지도 색 구간: {glossary.CLASS_METHODS['quantiles']}, "
    "핫스팟은 Getis-Ord Gi* (999회 순열, FDR 보정, 90/95/99 %)."
)
PROJECTED = 5179  # Korea 2000 / Unified CS (metres): scale bars need metres
_FONT_READY = False


def _fonts() -> None:
    """Register NanumGothic from koreanize-matplotlib once and make it the default."""
    global _FONT_READY
    if _FONT_READY:
        return
    from importlib.util import find_spec

    # Locate the package's fonts without importing it: its import changes global
    # matplotlib settings and warns.
    folder = Path(find_spec("koreanize_matplotlib").submodule_search_locations[0]) / "fonts"
    # One weight only: each embedded font is subset on every save (≈1.4 s each).
    font_manager.fontManager.addfont(str(folder / "NanumGothic.ttf"))
    plt.rcParams.update({"font.family": "NanumGothic", "pdf.fonttype": 42, "axes.unicode_minus": False})
    # fontTools reports every table it cannot subset; the PDF is fine without them.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    _FONT_READY = True


def _footer(fig, b: Briefing) -> None:
    fig.text(0.01, 0.012, f"{ATTRIBUTION}  |  {b.stamp}", fontsize=7, color=palette.TEXT_MUTED)
    if b.synthetic:
        fig.text(0.99, 0.975, "합성 데이터", fontsize=11, color=palette.SYNTHETIC_STAMP, ha="right", va="top")


def _scale_bar(ax) -> None:
    """A bar of a round length (km) in the lower left of a map in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    km = max(1, min((1, 2, 5, 10, 20, 50, 100, 200), key=lambda v: abs(v * 1000 - target)))
    length = km * 1000
    x, y = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.add_patch(Rectangle((x, y), length, 0.008 * (y1 - y0), color="black"))
    ax.text(x + length / 2, y + 0.02 * (y1 - y0), f"{km} km", ha="center", fontsize=8)


def _north_arrow(ax) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.83),
        xycoords="axes fraction",
        ha="center",
        fontsize=11,
        arrowprops={"facecolor": "black", "width": 3, "headwidth": 9},
    )


def _map_axes(fig):
    ax = fig.add_axes([0.03, 0.08, 0.62, 0.84])
    ax.set_axis_off()
    return ax


def map_one_person(store: Store, scope: Scope, b: Briefing):
    """Choropleth of the one-person share of the area's child regions (quantile classes)."""
    safe = safe_scope(scope, b.k)
    level = CHILD_LEVEL[b.area["level"]]
    area = None if b.area["level"] == "nation" else b.area["code"]
    values = b.children[["code", "name", "one_person_share"]]  # measured once, by briefing.build
    geoms = geography.region_geometries(store, narrow(store, safe, area), level)
    gdf = geoms.merge(values, on=["code", "name"], how="left").to_crs(PROJECTED)
    fig = plt.figure(figsize=A4_LANDSCAPE)
    ax = _map_axes(fig)
    known = gdf["one_person_share"].dropna()
    gdf.plot(ax=ax, color=palette.NO_DATA, edgecolor="white", linewidth=0.3)
    handles = [Patch(facecolor=palette.NO_DATA, label="비공개·자료 없음")]
    if len(known):
        k = int(min(5, known.nunique()))
        bins = mapclassify.Quantiles(known.to_numpy(), k=k) if k > 1 else None
        ramp = palette.palette(k)  # the web map's classes, so screen and paper agree
        classes = bins.yb if bins is not None else np.zeros(len(known), dtype=int)
        colours = [ramp[c] for c in classes]
        gdf.loc[known.index].plot(ax=ax, color=colours, edgecolor="white", linewidth=0.3)
        lows = [known.min()] + (list(bins.bins[:-1]) if bins is not None else [])
        highs = list(bins.bins) if bins is not None else [known.max()]
        handles = [
            Patch(facecolor=ramp[i], label=f"{lo:.1%} – {hi:.1%}")
            for i, (lo, hi) in enumerate(zip(lows, highs, strict=False))
        ] + handles
    _scale_bar(ax)
    _north_arrow(ax)
    fig.legend(
        handles=handles,
        title=glossary.MAP_MEASURES["one_person_share"],
        loc="upper left",
        bbox_to_anchor=(0.68, 0.85),
        fontsize=10,
    )
    fig.suptitle(
        f"{b.area['name']} {glossary.MAP_MEASURES['one_person_share']} ({b.round_ko})",
        fontsize=18,
        x=0.03,
        ha="left",
        y=0.97,
    )
    _footer(fig, b)
    return fig


def map_hotspots(store: Store, scope: Scope, b: Briefing):
    """Gi* hot and cold spots of the area's 읍면동 (the risk rate, or the one-person share
    when the round has no scores)."""
    safe = safe_scope(scope, b.k)
    area = None if b.area["level"] == "nation" else b.area["code"]
    measure = b.ranking_measure
    result = hotspots.hotspots(store, safe, b.round_id, measure, area=area)
    geoms = geography.region_geometries(store, narrow(store, safe, area), "emd")
    gdf = geoms.merge(result[["code", "cls"]].rename(columns={"cls": "class"}), on="code", how="left").to_crs(PROJECTED)
    gdf["class"] = gdf["class"].fillna("not_tested")
    fig = plt.figure(figsize=A4_LANDSCAPE)
    ax = _map_axes(fig)
    gdf.plot(
        ax=ax,
        color=[palette.GI_COLOURS.get(c, palette.UNKNOWN_CLASS) for c in gdf["class"]],
        edgecolor="white",
        linewidth=0.2,
    )
    present = [c for c in spatial.GI_CLASSES if c in set(gdf["class"])]
    handles = [
        Patch(facecolor=palette.GI_COLOURS.get(c, palette.UNKNOWN_CLASS), label=spatial.GI_CLASSES[c]) for c in present
    ]
    _scale_bar(ax)
    _north_arrow(ax)
    # The rate's name carries its unit in brackets: the round follows a dot, not a second pair.
    label = glossary.AT_RISK_RATE if measure == "at_risk_rate" else glossary.MAP_MEASURES["one_person_share"]
    fig.legend(handles=handles, title=f"Gi*: {label}", loc="upper left", bbox_to_anchor=(0.68, 0.85), fontsize=10)
    fig.suptitle(f"{b.area['name']} 핫스팟: {label} · {b.round_ko}", fontsize=18, x=0.03, ha="left", y=0.97)
    _footer(fig, b)
    return fig


def _fmt(v, missing: str = SUPPRESSED) -> str:
    """A number for print: whole numbers without decimals, others with one; a suppressed
    count is "비공개" (a true zero prints as 0).

    >>> _fmt(385.0), _fmt(93.75), _fmt(None), _fmt(0), _fmt(float("nan"), "미설정")
    ('385', '93.8', '비공개', '0', '미설정')
    """
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return missing
    v = float(v)
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.1f}"


def page_cover(b: Briefing):
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.text(0.06, 0.72, "복지사각지대 발굴 현황 브리핑", fontsize=30)
    fig.text(0.06, 0.62, f"{b.area['name']} · {b.round_ko}", fontsize=22)
    tiles = [
        ("발굴 가구", "flagged"),
        ("욕구 확인", "confirmed"),
        ("지원 연계", "supported"),
        (glossary.AT_RISK_HOUSEHOLDS, "at_risk"),
    ]
    for i, (label, key) in enumerate(tiles):
        value = b.kpis[key]
        x = 0.06 + i * 0.22
        fig.add_artist(Rectangle((x, 0.33), 0.2, 0.18, transform=fig.transFigure, color=palette.KPI_BOX))
        fig.text(x + 0.01, 0.46, label, fontsize=13, color=palette.TEXT_LABEL)
        fig.text(x + 0.01, 0.37, _fmt(value) if value is not None else shown(b, key), fontsize=26)
    fig.text(0.06, 0.2, b.stamp, fontsize=11)
    fig.text(0.06, 0.15, METHOD_NOTE, fontsize=9, wrap=True)
    _footer(fig, b)
    return fig


def page_table(b: Briefing):
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.suptitle(f"성과 지표 ({b.area['name']}, {b.round_ko})", fontsize=18, x=0.03, ha="left", y=0.96)
    ax = fig.add_axes([0.03, 0.3, 0.94, 0.58])
    ax.set_axis_off()
    cols = ["지표", "목표 A", "실적 B", "달성률 (%)", "산식", "자료출처"]
    cells = [
        [
            str(r["지표"]),
            _fmt(r["목표 A"], "미설정"),
            _fmt(r["실적 B"], "점수 없음" if r["key"] == "at_risk" and not b.model_version else SUPPRESSED),
            _fmt(r["달성률 (%)"], "—"),
            str(r["산식"]),
            str(r["자료출처"]),
        ]
        for _, r in b.table.iterrows()
    ]
    table = ax.table(
        cellText=cells, colLabels=cols, loc="upper left", cellLoc="left", colWidths=[0.19, 0.07, 0.08, 0.08, 0.36, 0.22]
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1, 1.8)
    fig.text(0.03, 0.2, "발굴 경로별 (channel)", fontsize=12)
    ax2 = fig.add_axes([0.03, 0.06, 0.6, 0.13])
    ax2.set_axis_off()
    ch = b.channels
    if len(ch):
        t2 = ax2.table(
            cellText=[
                [str(r["경로"]), _fmt(r["발굴"]), _fmt(r["욕구 확인"]), _fmt(r["지원 연계"])] for _, r in ch.iterrows()
            ],
            colLabels=list(ch.columns),
            loc="upper left",
        )
        t2.auto_set_font_size(False)
        t2.set_fontsize(8.5)
    _footer(fig, b)
    return fig


def chart_funnel(b: Briefing):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    # A suppressed stage gets no bar and the label "비공개" (a true zero is labelled 0).
    values = [0 if v is None or v != v else v for v in b.funnel["가구"]]
    ax.barh(b.funnel["단계"][::-1], values[::-1], color=list(palette.FUNNEL)[::-1])
    for y, v in enumerate(list(b.funnel["가구"])[::-1]):
        ax.text(0, y, f"  {_fmt(v)}", va="center", fontsize=11)
    ax.set_title(f"발굴 → 방문 → 욕구 확인 → 지원 ({b.area['name']}, {b.round_ko})")
    # Follow-up contacts are counted apart from the first visits above (contacts, not households).
    ax.set_xlabel(f"가구 · 후속 연락(사례관리, 별도) {_fmt(b.kpis.get('followup_contacts'))}건")
    fig.subplots_adjust(bottom=0.2)
    _footer(fig, b)
    return fig


def chart_trend(b: Briefing):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    t = b.trend
    ax.plot(t["차수"], pd.to_numeric(t["발굴"]), marker="o", label="발굴")
    ax.plot(t["차수"], pd.to_numeric(t["지원 연계"]), marker="o", label="지원 연계")
    ax.set_ylabel("가구")
    ax.legend(loc="upper left")
    ax.set_title(f"차수별 추이 ({b.area['name']})")
    fig.subplots_adjust(bottom=0.2)
    _footer(fig, b)
    return fig


def chart_ranking(b: Briefing, n: int = 5):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    r = b.ranking
    pick = pd.concat([r.head(n), r.tail(n)]).drop_duplicates("code") if len(r) > 2 * n else r
    label = glossary.AT_RISK_RATE if b.ranking_measure == "at_risk_rate" else glossary.MAP_MEASURES["one_person_share"]
    ax.barh(pick["name"][::-1], pick[b.ranking_measure][::-1], color=palette.RANKING_BAR)
    ax.set_title(f"상위·하위 지역: {label} · {b.round_ko}")
    fig.subplots_adjust(left=0.25, bottom=0.2)
    _footer(fig, b)
    return fig


def render(store: Store, scope: Scope, b: Briefing) -> tuple[bytes, dict[str, bytes]]:
    """The PDF (bytes) and a PNG per map and chart (name → bytes)."""
    from blindspot.reach.briefpage import map_reach_gap  # it draws with this module's helpers

    _fonts()
    figures = {
        "표지": page_cover(b),
        "성과표": page_table(b),
        "1인가구_지도": map_one_person(store, scope, b),
        "핫스팟_지도": map_hotspots(store, scope, b),
        "발굴격차_지도": map_reach_gap(store, scope, b),
        "발굴_깔때기": chart_funnel(b),
        "차수별_추이": chart_trend(b),
        "상위하위_지역": chart_ranking(b),
    }
    pdf = io.BytesIO()
    pngs: dict[str, bytes] = {}
    try:
        with PdfPages(
            pdf, metadata={"Title": f"복지사각지대 브리핑 {b.area['name']} {b.round_code}", "Subject": b.stamp}
        ) as pages:
            for name, fig in figures.items():
                if fig.get_size_inches()[0] < A4_LANDSCAPE[0]:
                    fig.set_size_inches(*A4_LANDSCAPE)  # charts drawn small become full pages
                pages.savefig(fig)
                if name not in ("표지", "성과표"):
                    png = io.BytesIO()
                    fig.savefig(png, format="png", dpi=110)
                    pngs[f"{name}.png"] = png.getvalue()
    finally:
        for fig in figures.values():
            plt.close(fig)
    return pdf.getvalue(), pngs


def map_png(store: Store, scope: Scope, b: Briefing, dpi: int = 90) -> bytes:
    """The pack's one-person map as a PNG, for the presentation screen (the same suppressed,
    scope-safe figures as the printed page; no basemap, fonts from the package)."""
    _fonts()
    fig = map_one_person(store, scope, b)
    try:
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=dpi)
        return png.getvalue()
    finally:
        plt.close(fig)


def zip_pngs(pngs: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in pngs.items():
            z.writestr(name, data)
    return buf.getvalue()
