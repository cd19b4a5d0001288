"""Every colour of the product's maps and charts, shared by the web maps (pydeck) and the
briefing pack (matplotlib PDF/PNG), so a class looks the same on screen and on paper.

Ramps are ColorBrewer: YlOrRd for rates (more is worse), RdBu reversed for changes (blue
falls, red rises).  Class colours of the hotspot maps follow ArcGIS's hot spot analysis
convention (red hot, blue cold, pale grey not significant).
"""

from __future__ import annotations

# ColorBrewer YlOrRd (sequential) and RdBu reversed (diverging: blue falls, red rises).
SEQUENTIAL = {
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
}
DIVERGING = {
    5: ["#0571b0", "#92c5de", "#f7f7f7", "#f4a582", "#ca0020"],
    7: ["#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"],
}
NO_DATA = "#c8c8c8"
ALPHA = 210  # deck.gl fill opacity (0–255): borders and neighbours stay readable underneath

# Getis-Ord Gi* classes (blindspot.maps.spatial.GI_CLASSES), local Moran quadrants, emerging trend.
GI_COLOURS = {
    "hot_99": "#d62f27",
    "hot_95": "#ed7551",
    "hot_90": "#fab984",
    "cold_99": "#4575b5",
    "cold_95": "#849eba",
    "cold_90": "#c0ccbe",
    "not_significant": "#f0f0f0",
    "not_tested": "#c8c8c8",
}
MORAN_COLOURS = {
    "HH": "#d7191c",
    "LL": "#2c7bb6",
    "HL": "#fdae61",
    "LH": "#abd9e9",
    "not_significant": "#f0f0f0",
    "not_tested": "#c8c8c8",
}
EMERGING_COLOURS = {"emerging": "#d62f27", "other": "#f0f0f0"}

# Charts and page furniture of the briefing pack.
FUNNEL = ("#2c7fb8", "#41b6c4", "#7fcdbb", "#c7e9b4")  # 발굴 → 방문 → 확인 → 지원, darkest first
RANKING_BAR = "#d95f0e"
UNKNOWN_CLASS = "#eeeeee"  # a class the legend does not know (never expected; drawn pale, not dropped)
KPI_BOX = "#f3f4f8"
TEXT_MUTED = "#555555"
TEXT_LABEL = "#444444"
SYNTHETIC_STAMP = "#b00020"
GAP_HIGHLIGHT = "#fde2e1"  # model card: subgroup rows whose recall gap exceeds the bound

# Reach-gap classes (blindspot.reach.figures.CLASSES): a gap in the hot-spot red, ahead in the
# cold-spot blue, no clear difference pale, hidden and no data the maps' grey.
REACH_COLOURS = {
    "gap": "#d62f27",
    "even": "#f0f0f0",
    "ahead": "#4575b5",
    "hidden": "#c8c8c8",
    "no_scores": "#c8c8c8",
    "no_data": "#c8c8c8",
}
# Trend lines of the reach gap: expected, found, supported.
REACH_TREND = ("#bd0026", "#2c7fb8", "#41b6c4")


def palette(n: int, diverging: bool = False) -> list[str]:
    """``n`` hex colours; fewer than three sequential classes take the dark end, and a
    change map whose classes collapsed (no change anywhere) is all neutral.

    >>> palette(2)
    ['#feb24c', '#f03b20']
    """
    if n <= 0:
        return []
    if diverging:
        return DIVERGING[n] if n in DIVERGING else [DIVERGING[5][2]] * n
    if n < 3:
        return SEQUENTIAL[3][-n:]
    return SEQUENTIAL[min(n, 7)]


def rgba(hex_colour: str, alpha: int = ALPHA) -> list[int]:
    """``'#ff0000'`` → ``[255, 0, 0, alpha]``.

    >>> rgba("#fd8d3c")
    [253, 141, 60, 210]
    """
    h = hex_colour.lstrip("#")
    return [int(h[i : i + 2], 16) for i in (0, 2, 4)] + [alpha]
