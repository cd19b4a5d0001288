"""AppTests of the 지역 지도 and 핫스팟 pages, including a simulated click on the map."""

import json

import pytest
from apptest import _app

from blindspot.access import Scope
from blindspot.db import store as store_mod
from blindspot.maps import hexgrid, hotspots, spatial
from blindspot.maps import render as maps


@pytest.fixture(autouse=True)
def _close_stores():
    # The app opens the fixture database for writing; later tests open it read-only,
    # which DuckDB refuses in the same process while the writable connection lives.
    yield
    store_mod.close_all()


def _deck(at, key):
    chart = next(e for e in at.get("deck_gl_json_chart") if e.proto.id.endswith(f"-{key}"))
    return chart, json.loads(chart.proto.json)


def _spec(at, position):
    """The deck JSON of the n-th map on the page (maps without selection carry no key)."""
    return json.loads(at.get("deck_gl_json_chart")[position].proto.json)


def _click(at, key, code):
    """Run the app as if the user had clicked the region ``code`` on the chart ``key``.

    AppTest has no pydeck element, so the selection the browser would send is added to
    the widget states by hand, in the format of st.pydeck_chart's selection state.
    """
    chart, spec = _deck(at, key)
    features = spec["layers"][0]["data"]["features"]
    index = next(i for i, f in enumerate(features) if f["properties"]["code"] == code)
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps(
        {"selection": {"indices": {maps.LAYER_ID: [index]}, "objects": {maps.LAYER_ID: [features[index]]}}}
    )
    return at._run(states)


def test_region_map_renders_and_drills_down(small_db, env_db):
    at = _app(env_db, small_db).run()
    at.switch_page("views/region_map.py").run()
    assert not at.exception
    _, spec = _deck(at, "region_map")
    features = spec["layers"][0]["data"]["features"]
    assert len(features) == 17 and spec["mapStyle"] == maps.NO_BASEMAP
    gwangju = next(f["properties"] for f in features if f["properties"]["code"] == "29")
    assert gwangju["name"] == "광주광역시" and gwangju["rank_text"].startswith("전국 내 ")
    seoul = next(f["properties"] for f in features if f["properties"]["code"] == "11")
    assert seoul["value_text"] == "자료 없음"  # not generated in the fixture

    at.radio(key="map_level").set_value("emd").run()
    at.selectbox(key="map_area_sido").set_value("29").run()
    at.selectbox(key="map_area_sgg").set_value("29110").run()
    assert not at.exception
    _, spec = _deck(at, "region_map")
    codes = [f["properties"]["code"] for f in spec["layers"][0]["data"]["features"]]
    assert codes and all(c.startswith("29110") for c in codes)
    assert at.selectbox(key="map_focus").value is None

    target = codes[2]
    at = _click(at, "region_map", target)
    assert not at.exception
    assert at.selectbox(key="map_focus").value == target
    db = store_mod.open_store(small_db)
    name = db.scalar("SELECT full_name FROM regions WHERE code = ?", [target])
    assert any(s.value == name for s in at.subheader)
    kpis = next(d.value for d in at.dataframe if "지표" in d.value.columns).set_index("지표")
    n = db.scalar("SELECT count(*) FROM households WHERE emd_code = ?", [target])
    parent = db.scalar("SELECT count(*) FROM households WHERE sgg_code = '29110'")
    assert kpis.loc["가구 수", "이 지역"] == f"{n:,}가구"
    assert kpis.loc["가구 수", "상위 지역"] == f"{parent:,}가구"
    assert any("점수 없음" in c.value for c in at.caption)  # no scores: no household list


def test_region_map_change_and_risk_without_scores(small_db, env_db):
    at = _app(env_db, small_db).run()
    at.switch_page("views/region_map.py").run()
    at.selectbox(key="map_measure").set_value("at_risk_rate").run()
    assert not at.exception
    assert any("점수 없음" in i.value for i in at.info)
    at.selectbox(key="map_measure").set_value("one_person_share").run()
    at.toggle(key="map_change").set_value(True).run()
    assert not at.exception
    _, spec = _deck(at, "region_map")
    props = {f["properties"]["code"]: f["properties"] for f in spec["layers"][0]["data"]["features"]}
    assert props["29"]["value_text"].endswith("%p")  # a change in percentage points


def test_hotspots_page(small_db, env_db):
    at = _app(env_db, small_db).run()
    at.switch_page("views/hotspots.py").run()
    assert not at.exception
    db = store_mod.open_store(small_db)
    expected = hotspots.hotspots(db, Scope.all_areas(), 20243, at.selectbox(key="hot_measure").value)
    n_sig = int((~expected["cls"].isin(["not_significant", "not_tested"])).sum())
    assert any(m.value == f"**유의한 읍면동 {n_sig:,}곳**" for m in at.markdown)
    spec = _spec(at, 0)
    assert len(spec["layers"][0]["data"]["features"]) == 3558

    at.radio(key="hot_method").set_value("moran").run()
    assert not at.exception
    spec = _spec(at, 0)
    labels = {f["properties"]["rank_text"] for f in spec["layers"][0]["data"]["features"]}
    assert labels <= set(spatial.MORAN_CLASSES.values())

    at.selectbox(key="hot_area_sido").set_value("29").run()
    at.selectbox(key="hex_sgg").set_value("29110").run()
    at.select_slider(key="hex_res").set_value(9).run()
    assert not at.exception
    cells = hexgrid.hex_cells(db, Scope.all_areas(), "29110", 20243, 9, 10)
    spec = _spec(at, 2)
    assert len(spec["layers"][0]["data"]) == len(cells) > 0
    assert min(d["households"] for d in spec["layers"][0]["data"]) >= 10
    assert any(f"표시된 셀 {len(cells):,}개" in c.value for c in at.caption)
