"""AppTests of the 특별지원구역 page: the ranking it shows is the package's, an analyst's weights
change it, a presenter sees the default weights and 비공개 where small counts hide a
component, an official ranks the 읍면동 of their own 시군구, and the files are offered."""

import pytest
from apptest import decks, page

from blindspot.access import Scope, scope_for
from blindspot.db import store as store_mod
from blindspot.maps import render
from blindspot.zones import figures as zones
from blindspot.zones import present

T = 20243
PAGE = "views/zones.py"


@pytest.fixture(autouse=True)
def _close_stores():
    yield
    store_mod.close_all()


def _ranking_frame(at):
    return next(d.value for d in at.dataframe if present.INDEX in d.value.columns)


def test_analyst_sees_the_ranking_and_edits_the_weights(modelled_copy, env_db, monkeypatch):
    at = page(env_db, modelled_copy, "analyst", PAGE)
    assert not at.exception
    [deck] = decks(at)  # the index map, drawn without a basemap, one feature per 시군구
    assert deck["mapStyle"] == render.NO_BASEMAP
    assert len(deck["layers"][0]["data"]["features"]) == 252
    st_ = store_mod.open_store(modelled_copy)
    expected = zones.zone_ranking(st_, Scope.analyst(), "sgg", T)
    shown = _ranking_frame(at)
    assert shown["지역"].tolist()[:6] == expected.table["full_name"].tolist()[:6]
    assert shown[present.INDEX].iloc[0] == f"{expected.table['index'].iloc[0]:.2f}"
    assert shown["순위"].tolist()[:6] == ["1", "2", "3", "4", "5", "6"]
    assert set(shown["순위"].iloc[6:]) == {"자료 없음"}  # no households outside 광주·세종 in the fixture
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["순위에 든 지역"] == "6 / 252" and metrics["부트스트랩"] == "1,000회"
    weights = next(d.value for d in at.dataframe if "상대 가중치" in d.value.columns)
    assert weights["상대 가중치"].tolist()[0] == "20.0%"
    assert [b.label for b in at.get("download_button")] == ["순위와 방법 (XLSX)"]
    # one component alone: the page ranks by it, as the package does, reading only the round
    # the new weights add (2023-R6: no score component, so every loaded round is used)
    read = []
    components = zones.round_components
    monkeypatch.setattr(zones, "round_components", lambda *a, **kw: read.append(a[3]) or components(*a, **kw))
    for c in zones.COMPONENTS:
        at = at.number_input(key=f"zones_w_{c.key}").set_value(1.0 if c.key == "alone_old" else 0.0).run()
    assert not at.exception and read == [20236]
    alone = zones.zone_ranking(st_, Scope.analyst(), "sgg", T, weights={"alone_old": 1.0})
    assert _ranking_frame(at)["지역"].tolist()[:6] == alone.table["full_name"].tolist()[:6]
    assert alone.rounds == [20236, 20241, 20242, 20243]
    # the one-page briefing is made on request
    at = at.button(key="zones_make_pdf").click().run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == ["순위와 방법 (XLSX)", "PDF 내려받기"]
    # and the page's next run reads the ranking and the PDF from the cache, not again
    read.clear()
    at = at.run()
    assert not at.exception and read == []


def test_presenter_sees_default_weights_and_비공개(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "presenter", PAGE)
    assert not at.exception
    assert not at.number_input  # weights are the analysts' to change
    at = at.radio(key="zones_level").set_value("emd").run()
    at = at.selectbox(key="zones_area_sido").select("29").run()
    at = at.selectbox(key="zones_area_sgg").select("29110").run()
    assert not at.exception
    st_ = store_mod.open_store(modelled_copy)
    expected = zones.zone_ranking(st_, scope_for("presenter", "p"), "emd", T, area="29110")
    shown = _ranking_frame(at)
    hidden = int((expected.table["status"] == "hidden").sum())
    assert hidden > 0 and (shown["순위"] == "비공개").sum() == hidden


def test_official_ranks_the_emd_of_their_own_sgg(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "dong", PAGE)
    assert not at.exception
    assert [r.value for r in at.radio if r.key == "zones_level"] == ["emd"]
    shown = _ranking_frame(at)
    st_ = store_mod.open_store(modelled_copy)
    expected = zones.zone_ranking(st_, Scope.district(["29110"]), "emd", T, area="29110")
    assert shown["지역"].tolist() == expected.table["full_name"].tolist()
    assert not at.number_input
