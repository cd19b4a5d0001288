import streamlit as st
from streamlit.testing.v1 import AppTest

from blindspot import store as store_mod


def _app(env_db, path):
    env_db(path)
    # Caches outlive an AppTest inside one process: start each test from a cold app.
    st.cache_resource.clear()
    st.cache_data.clear()
    store_mod.close_all()
    return AppTest.from_file("../app.py", default_timeout=60)


def test_overview_page(small_db, env_db):
    at = _app(env_db, small_db).run()
    small_store = store_mod.open_store(small_db)  # the same process-wide store the app uses
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    n = small_store.scalar("SELECT count(*) FROM households")
    share = small_store.scalar("SELECT avg(one_person::INT) FROM households")
    assert metrics["가구 수 (전국)"] == f"{n:,}"
    assert metrics["1인 가구 비율"] == f"{share:.1%}"
    assert metrics["적재된 차수"] == "4개"
    assert metrics["인구·경계 기준"] == "2024-06"
    assert any("합성 데이터 (synthetic)" in w.value for w in at.warning)
    footer = at.caption[-1].value
    assert "통계청 통계지리정보서비스(SGIS)" in footer and "행정안전부 주민등록 인구통계" in footer
    table = at.dataframe[0].value
    assert len(table) == 17 and table["households"].notna().sum() == 2


def test_round_picker_changes_round(small_db, env_db):
    at = _app(env_db, small_db).run()
    box = at.selectbox(key="round")
    assert box.value == 20243
    at = box.select(20236).run()
    assert not at.exception and at.selectbox(key="round").value == 20236


def test_missing_database_shows_what_to_do(tmp_path, env_db):
    at = _app(env_db, tmp_path / "none.duckdb").run()
    assert at.error and "build-demo" in at.error[0].value
