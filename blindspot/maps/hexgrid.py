"""H3 hexagon micro-maps of one 시군구: households, one-person households and (when
scores exist) households at risk per cell.

Cells with fewer than ``k`` households are suppressed: they are dropped before anything
is returned, so they are never drawn and never exported.  Complementary suppression
(:func:`blindspot.access.protect`) drops or blanks more, so that neither the 시군구 total
minus the cells shown nor a cell's households minus its one-person (or at-risk)
households gives a count below the threshold.  Hexagons are drawn as
polygons from ``h3.cell_to_boundary``, so the browser needs no H3 library or download.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pydeck as pdk

from blindspot import glossary, settings
from blindspot.access import Scope, protect, scope_sql_named, subset, threshold
from blindspot.db.store import Store
from blindspot.errors import AccessDenied
from blindspot.maps import measures as mapmeasures
from blindspot.maps import render as maps
from blindspot.maps import sql

RESOLUTIONS = (7, 8, 9)  # mean cell area ≈ 5.2, 0.74 and 0.11 km²
# What the hotspot page offers; the environment may raise it for the whole deployment.
DEFAULT_K = settings.get("hex_min_count")
MEASURES = {
    **{key: glossary.MAP_MEASURES[key] for key in ("households", "one_person", "one_person_share")},
    "at_risk": glossary.AT_RISK_COUNT,
    "at_risk_rate": glossary.AT_RISK_RATE,
}
UNITS = {
    "households": "count",
    "one_person": "count",
    "one_person_share": "share",
    "at_risk": "count",
    "at_risk_rate": "per_1000",
}


def aggregate(points: pd.DataFrame, resolution: int, k: int = DEFAULT_K, min_count: int = 0) -> pd.DataFrame:
    """Households per H3 cell, keeping only cells with at least ``k`` households.

    ``points`` has lon, lat (degrees), one_person (bool) and optionally at_risk (bool,
    or missing when there are no scores).  Returns columns cell, households,
    one_person, one_person_share (0..1), at_risk, at_risk_rate (per 1,000); counts of
    a kept cell under ``min_count`` (a presenter's threshold) are missing, and so are
    the rates built on them.

    The 시군구's totals are published, so the cells dropped must hold ``k`` or more
    households together (or none): one dropped cell alone would be the total minus the
    cells drawn, and it is the next-smallest cell that goes with it.

    >>> pts = pd.DataFrame({"lon": [127.0] * 12 + [127.3] * 3 + [127.5] * 8,
    ...                     "lat": [37.5] * 12 + [37.6] * 3 + [37.7] * 8, "one_person": [True] * 3 + [False] * 20})
    >>> cells = aggregate(pts, 8, k=10)   # cells of 3 and 8 dropped: 11 together
    >>> len(cells), int(cells["households"].iloc[0]), int(cells["one_person"].iloc[0])
    (1, 12, 3)
    >>> len(aggregate(pts.iloc[:16], 8, k=10))   # 12 and a lone 1: the 12 would give the 1 away
    0
    """
    if resolution not in RESOLUTIONS:
        raise ValueError(f"H3 해상도는 {RESOLUTIONS} 중 하나여야 합니다 (받은 값: {resolution}).")
    if k < 1:
        raise ValueError("k (최소 가구 수)는 1 이상이어야 합니다.")
    columns = ["cell", "households", "one_person", "one_person_share", "at_risk", "at_risk_rate"]
    k = threshold(None, max(k, min_count))  # a cell's households are a count too
    if points.empty:
        return pd.DataFrame(columns=columns)
    cells = [h3.latlng_to_cell(lat, lon, resolution) for lat, lon in zip(points["lat"], points["lon"], strict=False)]
    frame = pd.DataFrame({"cell": cells, "one_person": points["one_person"].astype(bool).values})
    has_risk = "at_risk" in points and points["at_risk"].notna().any()
    if has_risk:
        frame["at_risk"] = points["at_risk"].fillna(False).astype(bool).values
    grouped = frame.groupby("cell", sort=True)
    out = pd.DataFrame({"households": grouped.size(), "one_person": grouped["one_person"].sum()})
    out["at_risk"] = grouped["at_risk"].sum() if has_risk else np.nan
    hide = _protect_cells(out, k, threshold(None, min_count))
    out = out[[(c, "households") not in hide for c in out.index]]
    for col in ("one_person", "at_risk"):
        out[col] = out[col].where([(c, col) not in hide for c in out.index]).astype("float64")
    out = out.reset_index()
    out["one_person_share"] = out["one_person"] / out["households"]
    out["at_risk_rate"] = out["at_risk"] / out["households"] * 1000
    out["households"] = out["households"].astype("int64")
    return out[columns]


def _protect_cells(cells: pd.DataFrame, k: int, k_counts: int) -> set:
    """Cells ``(h3 cell, column)`` to drop (households) or blank (one_person, at_risk).

    The 시군구's totals are published on the map, so they count as known: the cells
    dropped must not add up to 1..k-1 households, and within a cell households minus
    one-person (or at-risk) households must not be 1..k_counts-1 when one of them is
    hidden.  A dropped cell's other counts go with it, so protection is repeated with
    them hidden until nothing changes.
    """
    cols = ["households", "one_person"] + (["at_risk"] if cells["at_risk"].notna().any() else [])
    values, equations, rest, thresholds = {}, [], set(), {}
    for col in cols:
        values[("total", col)] = int(cells[col].sum())
        equations.append((("total", col), tuple((c, col) for c in cells.index)))
        for c, v in cells[col].items():
            values[(c, col)] = int(v)
            thresholds[(c, col)] = k if col == "households" else k_counts
    thresholds[("total", "households")] = k
    for c in cells.index:
        for col in cols[1:]:
            cell = (c, f"households-{col}")
            values[cell] = values[(c, "households")] - values[(c, col)]
            thresholds[cell] = k_counts
            equations.append(subset((c, "households"), (c, col), cell))
            rest.add(cell)
    fixed = {("total", col) for col in cols}
    hidden: set = set()
    while True:
        hide = protect(values, equations, 1, implicit=rest, fixed=fixed, hidden=hidden, thresholds=thresholds)
        more = {(c, col) for (c, what) in hide if what == "households" and c != "total" for col in cols[1:]} - hide
        if not more:
            return hide
        hidden |= hide | more


def cell_polygon(cell: str) -> list[list[float]]:
    """Closed [lon, lat] ring of an H3 cell, 6 decimals.

    >>> ring = cell_polygon(h3.latlng_to_cell(37.5, 127.0, 7))
    >>> len(ring), ring[0] == ring[-1]
    (7, True)
    """
    ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(cell)]
    return ring + ring[:1]


def hex_cells(
    store: Store, scope: Scope, sgg_code: str, round_id: int, resolution: int = 8, k: int = DEFAULT_K
) -> pd.DataFrame:
    """Hexagon aggregates of the households of one 시군구 in one round (see :func:`aggregate`).

    ``k`` is raised to the scope's own small-count threshold if that is larger.
    Example: ``hex_cells(store, Scope.district(["29110"]), "29110", 20243, 8)`` gives the
    cells of 광주 동구 with 10 or more households.
    """
    if not scope.allows_sgg(str(sgg_code)):
        raise AccessDenied(f"{sgg_code} 지역을 볼 권한이 없습니다 (권한 범위: {scope.label}).")
    cond, params = scope_sql_named(scope, "h.sgg_code")
    params.update(t=int(round_id), sgg=str(sgg_code))
    scored = mapmeasures.has_scores(store, round_id)
    statement = sql.HEX_POINTS.format(
        scope=cond,
        risk_join=sql.HEX_RISK_JOIN if scored else "",
        risk=sql.HEX_RISK_COLUMN if scored else sql.HEX_NO_RISK_COLUMN,
    )
    points = store.df(statement, params)
    return aggregate(points, int(resolution), threshold(scope, k), scope.min_count)


def hex_deck(cells: pd.DataFrame, measure: str, method: str = "quantiles", k: int = 5) -> tuple[pdk.Deck, pd.DataFrame]:
    """Polygon layer of the kept cells coloured by ``measure``, and its legend (no
    "suppressed" row: suppressed cells are not drawn at all)."""
    unit = UNITS[measure]
    values = cells[measure].to_numpy(dtype="float64") if len(cells) else np.array([])
    breaks = maps.class_breaks(values, k, method)
    hexes = maps.palette(len(breaks))
    classes = maps.classify(values, breaks)
    data = [
        {
            "polygon": cell_polygon(c),
            "households": int(h),
            "value_text": maps.format_value(v, unit),
            "measure": MEASURES[measure],
            "fill": maps.rgba(hexes[cl]) if cl >= 0 else maps.rgba(maps.NO_DATA, 120),
        }
        for c, h, v, cl in zip(cells["cell"], cells["households"], values, classes, strict=False)
    ]
    layer = pdk.Layer(
        "PolygonLayer",
        data=data,
        id=maps.HEX_LAYER_ID,
        pickable=True,
        stroked=True,
        filled=True,
        get_polygon="polygon",
        get_fill_color="fill",
        get_line_color=[255, 255, 255, 120],
        line_width_min_pixels=0.5,
    )
    coords = np.array([p for d in data for p in d["polygon"]]) if data else np.array([[126.0, 36.0], [128.0, 38.0]])
    bounds = (coords[:, 0].min(), coords[:, 1].min(), coords[:, 0].max(), coords[:, 1].max())
    tooltip = {"html": "{measure}: {value_text}<br/>가구 {households}", "style": maps.TOOLTIP["style"]}
    deck = maps.CompactDeck(
        layers=[layer], initial_view_state=maps.fit_view(bounds), map_style=None, map_provider=None, tooltip=tooltip
    )
    lowest = float(np.nanmin(values)) if np.isfinite(values).any() else None
    return deck, maps.legend_rows(breaks, hexes, unit, lowest=lowest, missing=False)
