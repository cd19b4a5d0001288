"""Choropleth building blocks: class breaks, colours, Korean tooltips, simplified layer GeoJSON
and the pydeck ``Deck``; the texts of values and legends are :mod:`blindspot.maps.legend`.

Pure functions over data frames and geometries (pydeck objects are plain JSON specs);
no streamlit.  Maps work offline: no basemap (no map style for Streamlit to fill in, no map provider), the
polygons travel inside the deck JSON, and nothing is fetched at run time.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import mapclassify
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from blindspot import glossary
from blindspot.access import SUPPRESSED, Scope
from blindspot.db.store import Store
from blindspot.geo import regions as geography
from blindspot.maps.legend import LABEL_FONTS as LABEL_FONTS
from blindspot.maps.legend import LABEL_MAX as LABEL_MAX
from blindspot.maps.legend import NO_DATA_LABEL as NO_DATA_LABEL  # callers read these here
from blindspot.maps.legend import format_value as format_value
from blindspot.maps.legend import label_layer as label_layer
from blindspot.maps.legend import legend_rows as legend_rows
from blindspot.maps.legend import rank_text as rank_text
from blindspot.maps.palette import NO_DATA, palette, rgba

LAYER_ID = "regions"
HEX_LAYER_ID = "hexagons"


# Simplification tolerance in degrees (≈ 50 m) and coordinate decimals (4 decimals ≈ 11 m): enough
# for a screen, and the national 읍면동 layer stays under 5 MB.  One generalisation for every level,
# so a 시군구's outline on its map follows the same line as its 읍면동 on theirs (at 100 m and
# 200 m the parent outlines looked much coarser than the children); the national 시군구 layer
# grows about a fifth and the 시도 layer about 0.2 MB, measured on the national database.
TOLERANCE = {"sido": 0.0005, "sgg": 0.0005, "emd": 0.0005}
DECIMALS = {"sido": 4, "sgg": 4, "emd": 4}

METHODS = glossary.CLASS_METHODS


# --- classes and colours -------------------------------------------------------------------

# Class breaks by (method, k, the values in order): natural breaks (Fisher-Jenks) of the
# national 읍면동 map took ~15 CPU-seconds, on every run of the map page.  The breaks are a
# function of the key alone, so an entry never goes stale (new data gives new values, another
# key); the oldest entries are dropped beyond the size.
_breaks_cache: OrderedDict = OrderedDict()
_breaks_lock = threading.Lock()
_BREAKS_CACHE_SIZE = 256


def class_breaks(values, k: int = 5, method: str = "quantiles") -> list[float]:
    """Upper bounds of ``k`` classes of the finite values (fewer when there are fewer
    distinct values), by mapclassify quantiles or natural breaks (Fisher-Jenks).

    >>> class_breaks([1, 2, 3, 4, 5, 6, 7, 8], k=4)
    [2.75, 4.5, 6.25, 8.0]
    >>> class_breaks([1, 1, 1, 10, 10, 11], k=2, method="natural")
    [1.0, 11.0]
    >>> class_breaks([float("nan")])
    []
    """
    y = np.asarray(values, dtype="float64")
    y = y[np.isfinite(y)]
    distinct = np.unique(y)
    if len(distinct) == 0:
        return []
    if len(distinct) <= k:
        return [float(v) for v in distinct]
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}")
    key = (method, k, len(y), hashlib.blake2b(y.tobytes(), digest_size=16).digest())
    with _breaks_lock:
        hit = _breaks_cache.get(key)
        if hit is not None:
            _breaks_cache.move_to_end(key)
            return list(hit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify warns when classes collapse; handled below
        if method == "quantiles":
            bins = mapclassify.Quantiles(y, k=k).bins
        else:
            bins = mapclassify.FisherJenks(y, k=k).bins
    breaks = [float(b) for b in np.unique(bins)]
    with _breaks_lock:
        _breaks_cache[key] = tuple(breaks)
        while len(_breaks_cache) > _BREAKS_CACHE_SIZE:
            _breaks_cache.popitem(last=False)
    return breaks


def diverging_breaks(values, k: int = 5) -> list[float]:
    """Equal-width classes symmetric around zero for a change map (k odd), so the
    middle class holds "no change".

    >>> diverging_breaks([-4.0, 1.0, 10.0], k=5)
    [-6.0, -2.0, 2.0, 6.0, 10.0]
    """
    y = np.asarray(values, dtype="float64")
    y = y[np.isfinite(y)]
    m = float(np.abs(y).max()) if len(y) else 0.0
    if m == 0:
        return [0.0]
    step = 2 * m / k
    return [round(-m + step * (i + 1), 12) for i in range(k)]


def classify(values, breaks: list[float]) -> np.ndarray:
    """Class index of each value (0 = lowest), -1 for missing values.

    >>> classify([1, 3, 9, float("nan")], [2.0, 5.0, 9.0]).tolist()
    [0, 1, 2, -1]
    """
    y = np.asarray(values, dtype="float64")
    out = np.full(len(y), -1, dtype=int)
    if not breaks:
        return out
    ok = np.isfinite(y)
    out[ok] = np.minimum(np.searchsorted(np.asarray(breaks), y[ok], side="left"), len(breaks) - 1)
    return out


TOOLTIP = {
    "html": "<b>{name}</b><br/>{measure}: {value_text}<br/>{rank_text}",
    "style": {"backgroundColor": "#222", "color": "white", "fontSize": "13px"},
}


# --- geometry -------------------------------------------------------------------------------

_layer_cache: OrderedDict = OrderedDict()
_layer_lock = threading.Lock()
_LAYER_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class GeoJSONText:
    """One geometry as the GeoJSON text the deck sends (keys sorted, no spaces: exactly what
    :class:`CompactDeck` writes for the geometry dict).

    Cached layers hold geometries as text, not as nested lists: the national 읍면동 layer is
    hundreds of thousands of coordinate lists, which every full garbage collection (one after
    each page run on the server) walked, and which every map run serialised again.  A
    :class:`CompactDeck` writes the text as it is.

    >>> g = GeoJSONText.of({"type": "Point", "coordinates": [127.0, 37.5]})
    >>> g.text, g.geometry == {"type": "Point", "coordinates": [127.0, 37.5]}
    ('{"coordinates":[127.0,37.5],"type":"Point"}', True)
    """

    text: str

    @classmethod
    def of(cls, geometry: dict) -> GeoJSONText:
        return cls(json.dumps(geometry, sort_keys=True, separators=(",", ":")))

    @property
    def geometry(self) -> dict:
        return json.loads(self.text)


def simplify_geometries(geoms, level: str) -> list[dict]:
    """GeoJSON geometry dicts, simplified (topology preserved) and rounded for the browser."""
    simple = shapely.simplify(np.asarray(geoms), TOLERANCE[level], preserve_topology=True)
    decimals = DECIMALS[level]
    simple = shapely.transform(simple, lambda c: np.round(c, decimals))
    return [json.loads(shapely.to_geojson(g)) for g in simple]


def layer_geometries(store: Store, scope: Scope, level: str) -> dict:
    """Simplified GeoJSON geometry per region code of a level, for the regions the scope
    may see, with their bounds; cached in memory per (database, build, level, scope).

    Returns ``{"codes": [...], "names": [...], "geometries": [...], "bounds": (minx, miny, maxx, maxy)}``,
    each geometry a :class:`GeoJSONText`.  A new build of the database (its ``built_at``)
    or another file is another key; :func:`clear_layer_cache` empties it.
    """
    stamp = store.meta().get("built_at", "")
    key = (str(store.path), stamp, level, tuple(sorted(scope.sgg_codes)) if scope.sgg_codes else None)
    with _layer_lock:
        hit = _layer_cache.get(key)
        if hit is not None:
            _layer_cache.move_to_end(key)
            return hit
    gdf = geography.region_geometries(store, scope, level)
    # A label's place: a point inside each region (a centroid can fall outside a crescent).
    inside = shapely.point_on_surface(np.asarray(gdf.geometry.values))
    value = {
        "codes": gdf["code"].astype(str).tolist(),
        "names": gdf["name"].astype(str).tolist(),
        "level": level,
        "points": [[round(float(p.x), 4), round(float(p.y), 4)] for p in inside],
        "geometries": [GeoJSONText.of(g) for g in simplify_geometries(gdf.geometry.values, level)],
        "bounds": tuple(float(v) for v in gdf.total_bounds) if len(gdf) else (124.5, 33.0, 131.0, 38.7),
    }
    with _layer_lock:
        _layer_cache[key] = value
        while len(_layer_cache) > _LAYER_CACHE_SIZE:
            _layer_cache.popitem(last=False)
    return value


def clear_layer_cache() -> None:
    with _layer_lock:
        _layer_cache.clear()


# The smallest map the pages draw: a 3/5 column of a 1280-px screen beside the sidebar is about
# 560 px wide, and the shortest map is 420 px high.  A view fitted to that shows the whole area
# on every screen the offices use (a wider screen only adds margin); fitting to 900 × 600 cut
# off Seoul's east edge and 광주 동구·서구 on a laptop.
VIEW_WIDTH, VIEW_HEIGHT = 540, 420


def fit_view(bounds, width: int = VIEW_WIDTH, height: int = VIEW_HEIGHT) -> pdk.ViewState:
    """A Web-Mercator view that shows ``bounds`` (minx, miny, maxx, maxy in degrees)
    in a ``width`` × ``height`` pixel map, with a 10 % margin.

    >>> v = fit_view((126.76, 37.41, 127.18, 37.70))   # Seoul
    >>> round(v.longitude, 2), round(v.latitude, 2), round(v.zoom, 1)
    (126.97, 37.56, 9.5)
    >>> round(fit_view((126.76, 37.41, 127.18, 37.70), 900, 600).zoom, 1)
    10.0
    """
    minx, miny, maxx, maxy = bounds

    def merc_y(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    dx = max(maxx - minx, 1e-6) / 360.0
    dy = max(merc_y(maxy) - merc_y(miny), 1e-6) / (2 * math.pi)
    # A world is 512 px wide at zoom 0 in deck.gl; keep a 10 % margin.
    zoom = min(math.log2(width / (512 * dx)), math.log2(height / (512 * dy))) - math.log2(1.1)
    centre_y = (merc_y(maxy) + merc_y(miny)) / 2
    lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=lat, zoom=max(min(zoom, 14.0), 3.0), pitch=0, bearing=0)


# --- the choropleth ---------------------------------------------------------------------------


def _rows_by_code(frame: pd.DataFrame, columns: tuple[str, ...], optional: dict | None = None) -> dict:
    """{code: (values of ``columns``, then of ``optional``)} of ``frame`` as Python values: one
    pass over whole columns instead of a ``.loc`` lookup per region (3,558 of them on a
    national map).  ``optional`` maps a column the frame may lack to its value then."""
    values = [frame[c].tolist() for c in columns]
    values += [frame[c].tolist() if c in frame else [v] * len(frame) for c, v in (optional or {}).items()]
    return dict(zip(frame["code"].tolist(), zip(*values, strict=True), strict=True))


def feature_collection(
    view: pd.DataFrame, layer: dict, colours: list[list[int]], measure_label: str, unit: str, change: bool
) -> dict:
    """GeoJSON FeatureCollection joining ``view`` rows (code, name, value, rank,
    siblings, parent_name) to the layer geometries, with fill colour and tooltip text."""
    rows = _rows_by_code(view, ("name", "value", "rank", "siblings", "parent_name"), {"suppressed": False})
    features = []
    for i, (code, geom) in enumerate(zip(layer["codes"], layer["geometries"], strict=False)):
        row = rows.get(code)
        if row is None:
            continue
        name, value, rank, siblings, parent_name, suppressed = row
        features.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {
                    "code": code,
                    "name": str(name),
                    "measure": measure_label,
                    "value_text": SUPPRESSED if bool(suppressed) else format_value(value, unit, change),
                    "rank_text": rank_text(rank, siblings, parent_name),
                    "fill": colours[i],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# Streamlit's map element loads a CARTO basemap style from the internet whenever a deck's map
# style is empty (``map_style=None``; seen blocked in the browser tour).  It removes pydeck's
# "provider default" marker instead and then draws no basemap at all (Streamlit 1.67
# DeckGlJsonChart: ``mapStyle === "__MAP_STYLE__"`` → deleted, no default style), so every
# deck carries that marker and no map provider: nothing is fetched.
NO_BASEMAP = "__MAP_STYLE__"


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation: pydeck indents by two spaces, which made the
    national 읍면동 layer five times larger than its content (16.6 MB instead of 3.4 MB).

    Geometries held as :class:`GeoJSONText` are written as their text: each stands in as a
    numbered marker string while the rest is serialised, and the markers are then replaced
    by the texts (the same bytes ``json.dumps`` would write for the geometry dicts)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.map_style = NO_BASEMAP

    def to_json(self) -> str:
        texts: list[str] = []
        marker = f"\x00geojson-{secrets.token_hex(8)}-"  # JSON writes it as \u0000: no data text holds it

        def default(o):
            if isinstance(o, GeoJSONText):
                texts.append(o.text)
                return f"{marker}{len(texts) - 1}"
            return default_serialize(o)

        out = json.dumps(self, sort_keys=True, default=default, separators=(",", ":"))
        if not texts:
            return out
        quoted = re.escape(json.dumps(marker)[:-1]) + r'(\d+)"'
        return re.sub(quoted, lambda m: texts[int(m.group(1))], out)


def region_deck(
    fc: dict, bounds, layer_id: str = LAYER_ID, tooltip: dict | None = None, labels: pdk.Layer | None = None
) -> pdk.Deck:
    """The pydeck Deck: one pickable GeoJsonLayer (and the region names, when given), no
    basemap, view fitted to bounds."""
    layer = pdk.Layer(
        "GeoJsonLayer",
        data=fc,
        id=layer_id,
        pickable=True,
        auto_highlight=True,
        stroked=True,
        filled=True,
        get_fill_color="properties.fill",
        get_line_color=[255, 255, 255, 160],
        line_width_min_pixels=0.5,
    )
    return CompactDeck(
        layers=[layer] if labels is None else [layer, labels],
        initial_view_state=fit_view(bounds),
        map_style=None,
        map_provider=None,
        tooltip=tooltip or TOOLTIP,
    )


def choropleth(
    view: pd.DataFrame,
    layer: dict,
    measure_label: str,
    unit: str,
    *,
    change: bool = False,
    method: str = "quantiles",
    k: int = 5,
) -> tuple[pdk.Deck, pd.DataFrame]:
    """Deck and legend for a :func:`blindspot.maps.data.map_view` frame on a layer."""
    by_code = dict(zip(view["code"].tolist(), view["value"].tolist(), strict=True))
    values = np.array([by_code.get(c, np.nan) for c in layer["codes"]], dtype="float64")
    breaks = diverging_breaks(values, k) if change else class_breaks(values, k, method)
    hexes = palette(len(breaks), diverging=change)
    classes = classify(values, breaks)
    class_fill = {c: rgba(hexes[c]) if c >= 0 else rgba(NO_DATA, 120) for c in set(classes.tolist())}
    fills = [list(class_fill[c]) for c in classes.tolist()]
    finite = values[np.isfinite(values)]
    lowest = -(breaks[-1]) if change and breaks else (float(finite.min()) if len(finite) else None)
    legend = legend_rows(breaks, hexes, unit, change, lowest=lowest)
    fc = feature_collection(view, layer, fills, measure_label, unit, change)
    # Named at 시군구 and 읍면동 level only: the 17 시도 names crowd a small national map.
    labels = label_layer(layer["names"], layer["points"]) if layer.get("level") in ("sgg", "emd") else None
    return region_deck(fc, layer["bounds"], labels=labels), legend


def selected_code(selection, layer_id: str = LAYER_ID) -> str | None:
    """The region code of a ``st.pydeck_chart`` selection state (or None).

    The state is ``{"indices": {layer: [i]}, "objects": {layer: [object]}}``; a
    GeoJsonLayer's object is the picked feature.

    >>> selected_code({"indices": {"regions": [0]},
    ...                "objects": {"regions": [{"properties": {"code": "29110"}}]}})
    '29110'
    >>> selected_code({"indices": {}, "objects": {}}) is None
    True
    """
    if not selection:
        return None
    objects = (selection.get("objects") if hasattr(selection, "get") else None) or {}
    picked = objects.get(layer_id) or []
    if not picked:
        return None
    obj = picked[0]
    props = obj.get("properties", obj) if isinstance(obj, dict) else {}
    code = props.get("code")
    return str(code) if code else None


def deck_bytes(deck: pdk.Deck) -> int:
    """Bytes of the deck JSON the browser receives (UTF-8)."""
    return len(deck.to_json().encode("utf-8"))


def category_map(
    classes: pd.DataFrame, layer: dict, labels: dict, colours: dict, measure_label: str, unit: str
) -> tuple[pdk.Deck, pd.DataFrame]:
    """Deck and legend for categorical classes (hotspot classes): ``classes`` has code,
    name, value, cls; ``labels``/``colours`` map each class key to Korean text and hex colour.
    The tooltip gives the class and the area's value."""
    rows = _rows_by_code(classes, ("name", "value", "cls"))
    features = []
    for code, geom in zip(layer["codes"], layer["geometries"], strict=False):
        row = rows.get(code)
        if row is None:
            continue
        name, value, cls = row
        features.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {
                    "code": code,
                    "name": str(name),
                    "measure": measure_label,
                    "value_text": format_value(value, unit),
                    "rank_text": labels.get(cls, cls),
                    "fill": rgba(colours.get(cls, NO_DATA)),
                },
            }
        )
    present = [c for c in labels if c in set(classes["cls"])]
    legend = pd.DataFrame(
        {"colour": [colours[c] for c in present], "range": [labels[c] for c in present]}, columns=["colour", "range"]
    )
    return region_deck({"type": "FeatureCollection", "features": features}, layer["bounds"]), legend


def kpi_rows(kpis: pd.DataFrame) -> pd.DataFrame:
    """The drill-down KPI table as text: measure label, the area's value, its parent's
    ("비공개" where ``value_suppressed`` / ``parent_suppressed`` say a count was hidden).

    >>> k = pd.DataFrame({"label": ["1인 가구 비율"], "unit": ["share"], "value": [0.4], "parent": [0.35]})
    >>> kpi_rows(k).values.tolist()
    [['1인 가구 비율', '40.0%', '35.0%']]
    >>> kpi_rows(k.assign(value=[None], value_suppressed=[True], parent_suppressed=[False])).values.tolist()
    [['1인 가구 비율', '비공개', '35.0%']]
    """

    def text(values, hidden):
        hidden = hidden if hidden is not None else [False] * len(kpis)
        return [SUPPRESSED if h else format_value(v, u) for v, u, h in zip(values, kpis["unit"], hidden, strict=False)]

    return pd.DataFrame(
        {
            "지표": kpis["label"].values,
            "이 지역": text(kpis["value"], kpis.get("value_suppressed")),
            "상위 지역": text(kpis["parent"], kpis.get("parent_suppressed")),
        }
    )
