"""AppTests of the 고독사 위험 page: the map draws without a basemap and shows the lens' rates,
the table is the package's, 중장년 1인 남성 is a map group, a presenter reads 비공개 where the
lens hides and gets no grade counts, an official stays in their 시군구."""

import pytest
from apptest import _app, decks, page

from blindspot.access import Scope, scope_for
from blindspot.db import store as store_mod
from blindspot.lonely import figures, present
from blindspot.maps import render

T = 20243
PAGE = "views/lonely.py"
BANDS = ((20, 39), (40, 64), (65, None))


@pytest.fixture(autouse=True)
def _close_stores():
    yield
    store_mod.close_all()


def test_analyst_sees_the_map_the_table_and_the_grades(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "analyst", PAGE)
    assert not at.exception
    assert at.title[0].value == "고독사 위험"
    drawn = decks(at)
    assert len(drawn) == 1 and drawn[0]["mapStyle"] == render.NO_BASEMAP
    st_ = store_mod.open_store(modelled_copy)
    sido = figures.region_frame(st_, Scope.analyst(), "sido", T, bands=BANDS)
    features = drawn[0]["layers"][0]["data"]["features"]
    assert len(features) == 17
    # the default group is 중장년 1인 남성; the tooltip carries the lens' rate
    gwangju = next(f for f in features if f["properties"]["code"] == "29")["properties"]
    rate = sido.set_index("code").loc["29", "men_40_64_lonely_rate"]
    assert gwangju["value_text"] == f"천 가구당 {rate:,.1f}"
    assert "중장년 1인 남성" in gwangju["measure"]
    table = next(d.value for d in at.dataframe if "천 가구당" in d.value.columns)
    top = sido.sort_values("men_40_64_lonely_rate", ascending=False).iloc[0]
    assert table.iloc[0]["지역"] == top["full_name"] and table.iloc[0]["1인 가구"] == f"{int(top['men_40_64']):,}"
    grades = next(d.value for d in at.dataframe if "고독사 위험" in d.value.columns)
    counts = figures.grade_counts(st_, Scope.analyst(), T, BANDS)
    assert grades["1인 가구"].tolist() == [f"{v:,}" for v in counts.values()]
    # another life stage and the 읍면동 level draw too
    at = at.selectbox(key="lonely_group").select("65_plus").run()
    assert not at.exception and "노년" in decks(at)[0]["layers"][0]["data"]["features"][0]["properties"]["measure"]
    at = at.radio(key="lonely_level").set_value("emd").run()
    assert not at.exception and len(decks(at)[0]["layers"][0]["data"]["features"]) == 3558


def test_presenter_reads_비공개_and_gets_no_grades(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "presenter", PAGE)
    at = at.radio(key="lonely_level").set_value("emd").run()
    assert not at.exception
    assert not any("고독사 위험" in d.value.columns for d in at.dataframe)
    table = next(d.value for d in at.dataframe if "천 가구당" in d.value.columns)
    assert "비공개" in set(table["고독사 위기정보"])
    st_ = store_mod.open_store(modelled_copy)
    frame = figures.region_frame(st_, scope_for("presenter", "p", min_count=5), "emd", T, bands=BANDS)
    shown = frame.set_index("full_name")
    for _, row in table.iterrows():
        value = shown.loc[row["지역"], "men_40_64_lonely"]
        missing = "비공개" if shown.loc[row["지역"], "has_data"] else "자료 없음"
        assert row["고독사 위기정보"] == present.count_text(value, missing)
        if row["고독사 위기정보"] not in ("비공개", "자료 없음"):
            n = int(row["고독사 위기정보"].replace(",", ""))
            assert n == 0 or n >= 5


def test_official_stays_in_their_시군구(modelled_copy, env_db):
    at = page(env_db, modelled_copy, "dong", PAGE)
    assert not at.exception
    features = decks(at)[0]["layers"][0]["data"]["features"]
    assert features and all(f["properties"]["code"].startswith("29110") for f in features)
    grades = next(d.value for d in at.dataframe if "고독사 위험" in d.value.columns)
    st_ = store_mod.open_store(modelled_copy)
    counts = figures.grade_counts(st_, Scope.district(["29110"]), T, BANDS)
    assert grades["1인 가구"].tolist() == [f"{v:,}" for v in counts.values()]


def test_the_risk_list_page_shows_the_grade_under_one_audit_record(modelled_copy, env_db):
    from ops import audit_rows

    from blindspot.casework import lists

    at = _app(env_db, modelled_copy, user="dong")
    at = at.switch_page("views/risk_list.py").run()
    at.selectbox(key="rl_purpose_choice").select("방문 계획").run()
    assert not at.exception
    table = at.dataframe[0].value
    expected = lists.risk_list(
        store_mod.open_store(modelled_copy), Scope.district(["29110"]), lists.ListFilters(T), "방문 계획"
    )
    assert table["lonely_grade"].tolist() == expected["lonely_grade"].tolist()
    assert table["lonely_reasons"].tolist() == expected["lonely_reasons"].tolist()
    assert "높음" in set(table["lonely_grade"])
    log = audit_rows()
    assert (log["action"] == "view_list").sum() == 2  # the page's one view, and the line above
