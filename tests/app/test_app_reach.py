"""AppTests of the 발굴 격차 page: the figures it shows are the package's, its maps are drawn
without a basemap, a presenter reads 비공개 where the map hides, an official stays in their
시군구, and a round without scores says so."""

import pytest
from apptest import decks, page

from blindspot.access import Scope, scope_for
from blindspot.db import store as store_mod
from blindspot.maps import render
from blindspot.reach import figures as reach
from blindspot.reach import present

T = 20243
PAGE = "views/reach_gap.py"


@pytest.fixture(autouse=True)
def _close_stores():
    yield
    store_mod.close_all()


def test_analyst_sees_the_figures_maps_and_trend(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "analyst", PAGE)
    assert not at.exception
    st_ = store_mod.open_store(modelled_copy)
    trend = reach.reach_trend(st_, Scope.analyst(), T)
    now = trend.iloc[-1]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["예상 위기 가구 (전국)"] == f"{round(now['expected']):,}"
    assert metrics["발견"] == f"{int(now['found']):,}" and metrics["지원 연계"] == f"{int(now['supported']):,}"
    assert metrics["발견률"] == f"{now['ratio'] * 100:.1f}%"
    drawn = decks(at)
    assert len(drawn) == 2 and all(d["mapStyle"] == render.NO_BASEMAP for d in drawn)  # class map, Gi* map
    sido = reach.reach_gap(st_, Scope.analyst(), "sido", T)
    features = drawn[0]["layers"][0]["data"]["features"]
    assert len(features) == len(sido) == 17
    table = next(d.value for d in at.dataframe if "미발견 추정" in d.value.columns)
    assert table.iloc[0]["지역"] == sido.sort_values("gap", ascending=False).iloc[0]["full_name"]
    assert len(at.get("vega_lite_chart")) == 1  # the trend
    trend_table = next(d.value for d in at.dataframe if "차수" in d.value.columns)
    assert trend_table["차수"].tolist() == ["2023년 6차", "2024년 1차", "2024년 2차", "2024년 3차"]
    # The gap-rate map and the 읍면동 level draw too.
    at = at.radio(key="reach_mode").set_value("rate").run()
    assert not at.exception and decks(at)[0]["layers"][0]["data"]["features"]
    at = at.radio(key="reach_level").set_value("emd").run()
    assert not at.exception
    assert len(decks(at)[0]["layers"][0]["data"]["features"]) == 3558  # 전국: every 읍면동
    at = at.selectbox(key="reach_area_sido").select("29").run()
    emd = reach.reach_gap(st_, Scope.analyst(), "emd", T, area="29")
    assert not at.exception and len(decks(at)[0]["layers"][0]["data"]["features"]) == len(emd) == 96


def test_presenter_reads_비공개_where_the_map_hides(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "presenter", PAGE)
    at = at.radio(key="reach_level").set_value("emd").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "미발견 추정" in d.value.columns)
    assert "비공개" in set(table["발견"])
    st_ = store_mod.open_store(modelled_copy)
    frame = reach.reach_gap(st_, scope_for("presenter", "p", min_count=5), "emd", T)
    shown = frame.set_index("full_name")
    for _, row in table.iterrows():
        value, has_data = shown.loc[row["지역"], ["found", "has_data"]]
        missing = "비공개" if has_data else "자료 없음"
        assert row["발견"] == (missing if value != value else f"{int(value):,}")
        if row["발견"] not in ("비공개", "자료 없음"):
            assert int(row["발견"].replace(",", "")) == 0 or int(row["발견"].replace(",", "")) >= 5


def test_official_stays_in_their_시군구_and_an_unscored_round_says_so(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "dong", PAGE)
    assert not at.exception
    features = decks(at)[0]["layers"][0]["data"]["features"]
    assert features and all(f["properties"]["code"].startswith("29110") for f in features)
    assert any("(광주광역시 동구)" in s.value or "동구" in s.value for s in at.subheader)
    at = at.selectbox(key="reach_round").select(20236).run()
    assert not at.exception
    assert any(present.EXPECTED in i.value and "점수 없음" in i.value for i in at.info)
    assert len(at.get("vega_lite_chart")) == 1  # the trend still shows found and supported
