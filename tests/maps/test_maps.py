import json
import math

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.access import Scope, disclosures, subset
from blindspot.maps import data as mapdata
from blindspot.maps import hexgrid
from blindspot.maps import render as maps


def test_quantile_and_natural_breaks():
    y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert maps.class_breaks(y, k=5) == pytest.approx([2.8, 4.6, 6.4, 8.2, 10.0])
    # Two clear groups: Fisher-Jenks puts the break between them.
    assert maps.class_breaks([1, 2, 2, 3, 50, 51, 52], k=2, method="natural") == [3.0, 52.0]
    assert maps.class_breaks([5, 5, 5], k=5) == [5.0]  # one distinct value, one class
    assert maps.class_breaks([np.nan, 1.0, np.nan, 2.0], k=5) == [1.0, 2.0]
    with pytest.raises(ValueError):
        maps.class_breaks(y, method="equal")


def test_classify_and_colours():
    breaks = maps.class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], k=5)
    assert maps.classify([1, 2.8, 2.9, 10, np.nan], breaks).tolist() == [0, 0, 1, 4, -1]
    assert len(maps.palette(5)) == 5 and maps.palette(5)[0] == "#ffffb2"
    assert maps.diverging_breaks([-1.0, 0.5], k=5) == pytest.approx([-0.6, -0.2, 0.2, 0.6, 1.0])
    assert maps.classify([0.0], maps.diverging_breaks([-1.0, 0.5], k=5)).tolist() == [2]  # no change: middle


def test_tooltip_rank_and_properties():
    view = pd.DataFrame(
        {
            "code": ["a", "b", "c"],
            "name": ["가동", "나동", "다동"],
            "value": [0.5, 0.25, np.nan],
            "parent_code": ["p", "p", "p"],
        }
    )
    view["rank"] = mapdata.rank_within(view["value"], view["parent_code"])
    view["siblings"] = 2
    view["parent_name"] = "종로구"
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    layer = {
        "codes": ["a", "b", "c"],
        "names": ["가동", "나동", "다동"],
        "geometries": [square] * 3,
        "bounds": (126.9, 37.5, 127.0, 37.6),
    }
    deck, legend = maps.choropleth(view, layer, "1인 가구 비율", "share")
    spec = json.loads(deck.to_json())
    props = {f["properties"]["code"]: f["properties"] for f in spec["layers"][0]["data"]["features"]}
    assert props["a"]["rank_text"] == "종로구 내 1위 / 2" and props["a"]["value_text"] == "50.0%"
    assert props["b"]["rank_text"] == "종로구 내 2위 / 2"
    assert props["c"]["value_text"] == "자료 없음" and props["c"]["rank_text"] == "순위 없음"
    assert props["c"]["fill"] == maps.rgba(maps.NO_DATA, 120)
    # Every field the tooltip template names is a property of each feature.
    import re

    fields = re.findall(r"{(\w+)}", deck._tooltip["html"])
    assert fields == ["name", "measure", "value_text", "rank_text"] and set(fields) <= set(props["a"])
    assert legend["range"].iloc[-1] == maps.NO_DATA_LABEL
    # Offline: no basemap style or provider in the spec, the layer is pickable for drill-down.
    assert spec["mapStyle"] == maps.NO_BASEMAP and "mapProvider" not in spec
    assert spec["layers"][0]["pickable"] is True and spec["layers"][0]["id"] == maps.LAYER_ID


def test_selected_code_from_selection_state():
    state = {
        "indices": {maps.LAYER_ID: [4]},
        "objects": {maps.LAYER_ID: [{"type": "Feature", "properties": {"code": "2911051000"}}]},
    }
    assert maps.selected_code(state) == "2911051000"
    assert maps.selected_code({"indices": {}, "objects": {}}) is None
    assert maps.selected_code(None) is None
    assert maps.selected_code({"objects": {"other": [{"properties": {"code": "x"}}]}}) is None


def test_layer_is_cached_and_scoped(small_store):
    maps.clear_layer_cache()
    district = maps.layer_geometries(small_store, Scope.district(["29110"]), "emd")
    assert district["codes"] and all(c.startswith("29110") for c in district["codes"])
    again = maps.layer_geometries(small_store, Scope.district(["29110"]), "emd")
    assert again is district  # the second call is served from memory
    minx, miny, maxx, maxy = district["bounds"]
    assert 126.8 < minx < maxx < 127.1 and 35.0 < miny < maxy < 35.3  # 광주 동구


def test_national_emd_layer_under_five_megabytes(small_store):
    # Boundaries are national whatever households the fixture holds.
    layer = maps.layer_geometries(small_store, Scope.all_areas(), "emd")
    assert len(layer["codes"]) == 3558
    view = mapdata.map_view(small_store, Scope.all_areas(), "emd", 20243, "one_person_share")
    deck, _ = maps.choropleth(view, layer, "1인 가구 비율", "share")
    size = maps.deck_bytes(deck)
    assert 1_000_000 < size <= 5_000_000
    # Coordinates are rounded to 4 decimals.
    import re

    text = ",".join(g.text for g in layer["geometries"][:200])
    assert re.search(r"\d\.\d{4}\b", text) and not re.search(r"\.\d{5,}", text)


def test_deck_of_cached_geometry_text_equals_deck_of_geometry_dicts(small_store):
    # The layer cache holds each geometry as its JSON text; the deck the browser receives must
    # be byte for byte the one built from the geometry dicts, serialised as pydeck does it.
    from pydeck.bindings.json_tools import default_serialize

    layer = maps.layer_geometries(small_store, Scope.all_areas(), "emd")
    assert all(isinstance(g, maps.GeoJSONText) for g in layer["geometries"])
    plain = {**layer, "geometries": [g.geometry for g in layer["geometries"]]}
    assert plain["geometries"][0]["type"] in ("Polygon", "MultiPolygon")
    for area, measure, change in ((None, "one_person_share", False), ("29", "visited", True)):
        view = mapdata.map_view(small_store, Scope.all_areas(), "emd", 20243, measure, area, change)
        deck, legend = maps.choropleth(view, layer, "라벨", "share", change=change)
        fresh, fresh_legend = maps.choropleth(view, plain, "라벨", "share", change=change)
        expected = json.dumps(fresh, sort_keys=True, default=default_serialize, separators=(",", ":"))
        text = deck.to_json()
        assert text == expected == fresh.to_json()
        pd.testing.assert_frame_equal(legend, fresh_legend)
        features = json.loads(text)["layers"][0]["data"]["features"]
        first = layer["codes"].index(features[0]["properties"]["code"])
        assert len(features) == len(view) and features[0]["geometry"] == plain["geometries"][first]


def test_class_breaks_are_remembered_per_values():
    rng = np.random.default_rng(3)
    y = rng.gamma(2.0, 3.0, 400)
    maps._breaks_cache.clear()
    first = maps.class_breaks(y, k=5, method="natural")
    assert len(maps._breaks_cache) == 1
    again = maps.class_breaks(y, k=5, method="natural")  # served from the cache
    import mapclassify

    assert first == again == [float(b) for b in np.unique(mapclassify.FisherJenks(y, k=5).bins)]
    again.append(0.0)  # a caller changing its list does not change the cached breaks
    assert maps.class_breaks(y, k=5, method="natural") == first
    other = maps.class_breaks(y + 1.0, k=5, method="natural")  # other values: another entry
    assert len(maps._breaks_cache) == 2 and other == pytest.approx([b + 1.0 for b in first])
    assert maps.class_breaks(y, k=5) == [float(b) for b in np.unique(mapclassify.Quantiles(y, k=5).bins)]


def test_category_map_and_kpi_rows():
    classes = pd.DataFrame(
        {"code": ["a", "b"], "name": ["가", "나"], "value": [1.0, 2.0], "cls": ["hot_99", "not_tested"]}
    )
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    layer = {"codes": ["a", "b"], "geometries": [square, square], "bounds": (126, 37, 127, 38)}
    from blindspot.maps import palette, spatial

    deck, legend = maps.category_map(classes, layer, spatial.GI_CLASSES, palette.GI_COLOURS, "x", "count")
    assert legend["range"].tolist() == ["핫스팟 99%", "검정 안 함 (이웃 없음·자료 없음)"]
    props = json.loads(deck.to_json())["layers"][0]["data"]["features"][0]["properties"]
    assert props["fill"] == maps.rgba(palette.GI_COLOURS["hot_99"])


# --- hexagon suppression -------------------------------------------------------------------------

points = st.lists(
    st.tuples(st.floats(126.95, 127.05), st.floats(37.50, 37.58), st.booleans(), st.booleans()),
    min_size=0,
    max_size=400,
)


def hex_disclosures(frame: pd.DataFrame, out: pd.DataFrame, res: int, k: int, k_counts: int) -> list:
    """The attacker of one hexagon map: the 시군구 totals (published on the map) minus the
    cells drawn, and each drawn cell's households minus its one-person / at-risk households."""
    truth = pd.DataFrame(
        {
            "cell": [h3.latlng_to_cell(la, lo, res) for lo, la in zip(frame["lon"], frame["lat"], strict=False)],
            "one_person": frame["one_person"].astype(int),
            "at_risk": frame["at_risk"].astype(int),
        }
    )
    shown_cells = out.set_index("cell")
    cells = sorted(set(truth["cell"]))
    shown, eqs, th = {}, [], {}
    k = max(k, k_counts)
    for col in ("households", "one_person", "at_risk"):
        total = len(truth) if col == "households" else int(truth[col].sum())
        # the map publishes the 시군구 totals unless they are small themselves
        shown[("total", col)] = None if 1 <= total < (k if col == "households" else k_counts) else total
        eqs.append((("total", col), tuple((c, col) for c in cells)))
        for c in cells:
            v = shown_cells[col].get(c) if c in shown_cells.index else None
            shown[(c, col)] = None if v is None or v != v else v
            th[(c, col)] = k if col == "households" else k_counts
    for c in cells:
        for col in ("one_person", "at_risk"):
            shown[(c, "rest-" + col)] = None
            th[(c, "rest-" + col)] = k_counts
            eqs.append(subset((c, "households"), (c, col), (c, "rest-" + col)))
    th[("total", "households")] = k
    return disclosures(shown, eqs, 1, th)


@settings(max_examples=60, deadline=None)
@given(
    pts=points,
    k=st.integers(1, 30),
    res=st.sampled_from(hexgrid.RESOLUTIONS),
    cluster=st.integers(0, 40),
    min_count=st.sampled_from([0, 5]),
)
def test_no_hex_cell_below_k_is_ever_returned_or_recovered(pts, k, res, cluster, min_count):
    # Add a dense cluster so that kept and dropped cells both occur.
    pts = pts + [(127.0, 37.55, True, False)] * cluster
    frame = pd.DataFrame(pts, columns=["lon", "lat", "one_person", "at_risk"])
    out = hexgrid.aggregate(frame, res, k, min_count)
    assert (out["households"] >= k).all()
    # Only small cells and their complements are dropped; what is drawn is exact.
    truth = (
        pd.Series([h3.latlng_to_cell(la, lo, res) for lo, la, *_ in pts]).value_counts()
        if pts
        else pd.Series(dtype=int)
    )
    assert set(out["cell"]) <= set(truth[truth >= k].index)
    assert out.set_index("cell")["households"].to_dict() == {c: int(truth[c]) for c in out["cell"]}
    # No subtraction against the 시군구 total or within a cell gives a small count.
    if pts:
        assert hex_disclosures(frame, out, res, k, max(min_count, 1)) == []
    # Drawn layer has exactly the kept cells.
    if len(out):
        deck, _ = hexgrid.hex_deck(out, "households")
        data = json.loads(deck.to_json())["layers"][0]["data"]
        assert len(data) == len(out) and min(d["households"] for d in data) >= k


def test_hex_complement_of_one_dropped_cell_is_dropped_too():
    # The leak this guards against: 시군구 total minus the cells drawn gave the dropped cell's households,
    # and households minus one-person gave a cell's multi-person count.
    frame = pd.DataFrame(
        {
            "lon": [127.0] * 30 + [127.2] * 12 + [127.4] * 3,
            "lat": [37.5] * 30 + [37.6] * 12 + [37.7] * 3,
            "one_person": [True] * 28 + [False] * 2 + [True] * 6 + [False] * 6 + [True] * 3,
            "at_risk": [False] * 45,
        }
    )
    out = hexgrid.aggregate(frame, 8, k=10, min_count=5).set_index("households")
    assert sorted(out.index) == [30]  # 3 dropped, so is the next-smallest cell (12)
    assert np.isnan(out.loc[30, "one_person"])  # 30 - 28 = 2 multi-person households
    assert hex_disclosures(frame, out.reset_index(), 8, 10, 5) == []
    # the old primary-only rule gave both away
    old = pd.DataFrame(
        {
            "cell": out["cell"].tolist() + [h3.latlng_to_cell(37.6, 127.2, 8)],
            "households": [30, 12],
            "one_person": [28.0, 6.0],
            "at_risk": [0.0, 0.0],
        }
    )
    assert hex_disclosures(frame, old, 8, 10, 5)


def test_hex_counts_and_presenter_floor():
    base = pd.DataFrame(
        {
            "lon": [127.0] * 15,
            "lat": [37.5] * 15,
            "one_person": [True] * 4 + [False] * 11,
            "at_risk": [True] * 2 + [False] * 13,
        }
    )
    out = hexgrid.aggregate(base, 9, k=10)
    assert out[["households", "one_person", "at_risk"]].iloc[0].tolist() == [15, 4, 2]
    assert out["one_person_share"].iloc[0] == pytest.approx(4 / 15)
    assert out["at_risk_rate"].iloc[0] == pytest.approx(2 / 15 * 1000)
    hidden = hexgrid.aggregate(base, 9, k=10, min_count=5)  # a presenter also hides small sub-counts
    assert np.isnan(hidden["one_person"].iloc[0]) and np.isnan(hidden["at_risk"].iloc[0])
    assert hexgrid.aggregate(base, 9, k=16).empty
    with pytest.raises(ValueError):
        hexgrid.aggregate(base, 6, k=10)


def test_hex_cells_from_store(small_store):
    cells = hexgrid.hex_cells(small_store, Scope.all_areas(), "29110", 20243, 8, k=10)
    assert len(cells) > 0 and (cells["households"] >= 10).all()
    total = small_store.scalar("SELECT count(*) FROM households WHERE sgg_code = '29110'")
    assert cells["households"].sum() <= total
    assert cells["at_risk"].isna().all()  # no scores in the fixture
    presenter = hexgrid.hex_cells(small_store, Scope.aggregates_only(min_count=40), "29110", 20243, 8, k=10)
    assert (presenter["households"] >= 40).all()  # k is raised to the presenter's threshold
    from blindspot.errors import AccessDenied

    with pytest.raises(AccessDenied):
        hexgrid.hex_cells(small_store, Scope.district(["29140"]), "29110", 20243, 8)


def test_map_bench_keys_and_layer_budget(small_store):
    from blindspot.bench.maps import map_timings

    out = map_timings(small_store, sgg_code="29110", repeat=1)
    assert out["emd_layer_bytes"] <= 5_000_000 and out["gistar_areas"] == 3558
    assert out["gistar_tested"] == 120  # only the fixture's 광주 and 세종 읍면동 have values
    assert all(out[k] > 0 for k in ("map_sido_cold_ms", "map_sido_warm_ms", "map_sgg_cold_ms", "gistar_seconds"))


@pytest.mark.parametrize(
    "bounds",
    [
        (126.76, 37.41, 127.18, 37.70),  # 서울특별시
        (126.87, 35.10, 127.03, 35.22),  # 광주 동구·서구 (roughly)
        (124.6, 33.1, 131.9, 38.6),  # the country
    ],
)
def test_the_opening_view_shows_the_whole_area_on_the_smallest_map(bounds):
    """At the fitted zoom the area's extent in pixels (a world is 512 px at zoom 0) fits the
    smallest map the pages draw, with its margin: nothing is cut off."""
    v = maps.fit_view(bounds)
    minx, miny, maxx, maxy = bounds
    scale = 512 * 2**v.zoom
    width = (maxx - minx) / 360 * scale
    merc = [math.log(math.tan(math.pi / 4 + math.radians(y) / 2)) for y in (miny, maxy)]
    height = (merc[1] - merc[0]) / (2 * math.pi) * scale
    assert width <= maps.VIEW_WIDTH / 1.1 + 1e-6 and height <= maps.VIEW_HEIGHT / 1.1 + 1e-6
    assert max(width / maps.VIEW_WIDTH, height / maps.VIEW_HEIGHT) > 0.85  # and not needlessly small
    assert v.longitude == pytest.approx((minx + maxx) / 2)


def test_a_map_of_one_area_names_its_regions_at_points_inside_them(small_store):
    """One 시군구's 읍면동 (and the 17 시도) are named on the map, each name at a point inside its
    region; the national 읍면동 map, with hundreds of regions, carries no names."""
    import shapely

    from blindspot.geo import regions as geography

    scope = Scope.district(["29110"])
    layer = maps.layer_geometries(small_store, scope, "emd")
    view = pd.DataFrame({"code": layer["codes"], "value": np.linspace(0, 1, len(layer["codes"]))})
    for col, v in (("name", layer["names"]), ("full_name", layer["names"]), ("parent_code", "29110")):
        view[col] = v
    view["rank"], view["siblings"], view["parent_name"] = 1.0, len(view), "동구"
    deck, _ = maps.choropleth(view, layer, "1인 가구 비율", "share")
    text = next(lyr for lyr in json.loads(deck.to_json())["layers"] if lyr["@@type"] == "TextLayer")
    assert [d["name"] for d in text["data"]] == layer["names"] and text["characterSet"] == "auto"
    assert text["fontFamily"] == maps.LABEL_FONTS  # sent as text, not as a JavaScript expression
    exact = geography.region_geometries(small_store, scope, "emd").set_index("code").geometry
    for code, d in zip(layer["codes"], text["data"], strict=True):
        assert exact[code].contains(shapely.Point(d["position"])), code
    national = maps.layer_geometries(small_store, Scope.all_areas(), "emd")
    assert len(national["codes"]) > maps.LABEL_MAX
    assert maps.label_layer(national["names"], national["points"]) is None
