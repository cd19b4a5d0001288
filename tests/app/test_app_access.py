"""AppTests of login (wrong password, backoff, expired session), role-based navigation,
the 위험 가구 목록 page (purpose, audit once per view, masking, exports, outcomes) and the
admin-only 감사 기록 page."""

import json
import shutil
import time

import pytest
from apptest import _app, login
from conftest import TEST_PASSWORDS
from ops import audit_rows

from blindspot.access import scope_for
from blindspot.app import auth
from blindspot.casework import lists
from blindspot.db import store as store_mod

T = 20243


@pytest.fixture(autouse=True)
def _close_stores():
    yield
    store_mod.close_all()


@pytest.fixture()
def app_db(modelled, tmp_path, monkeypatch):
    """A copy of the modelled database per test (pages write audit records into it)."""
    path = tmp_path / "app.duckdb"
    shutil.copy(modelled[0], path)
    monkeypatch.setenv("BLINDSPOT_MODELS", str(modelled[1]))
    return path


def _audit_rows(path):
    return audit_rows()


def test_wrong_password_says_only_that(small_db, env_db):
    at = _app(env_db, small_db, user=None).run()
    assert [t.label for t in at.text_input] == ["아이디", "비밀번호"]
    assert not at.metric and not at.dataframe  # nothing shown before login
    at = login(at, "analyst", "wrong")
    assert [e.value for e in at.error] == [auth.FAILED_LOGIN]
    assert "scope" not in at.session_state and not at.dataframe
    at = login(at, "nobody", "wrong")  # an unknown user gets the very same message
    assert [e.value for e in at.error] == [auth.FAILED_LOGIN]
    at = login(at, "analyst")
    assert not at.exception and at.session_state["scope"].role == "analyst"
    assert any(m.label == "가구 수 (전국)" for m in at.metric)


def test_failed_logins_back_off_per_account_across_sessions(small_db, env_db, ops_url):
    """Failures count per account in the shared store: a new browser session (a reload)
    does not reset them, and while the account waits even the right password is refused."""
    from blindspot.db import opstore

    at = _app(env_db, small_db, user=None).run()
    for _ in range(5):
        at = login(at, "admin", "wrong")
    assert opstore.open_ops().failures("account", "admin")[0] == 5
    at = login(at, "admin")  # the right password, during the wait
    assert "scope" not in at.session_state
    assert any("초 뒤에 다시 시도" in w.value for w in at.warning)
    fresh = _app(env_db, small_db, user=None).run()  # a reload: a new session
    fresh = login(fresh, "Admin ", TEST_PASSWORDS["admin"])  # the same account, however it is typed
    assert "scope" not in fresh.session_state and any("초 뒤에 다시 시도" in w.value for w in fresh.warning)
    other = login(_app(env_db, small_db, user=None).run(), "analyst")  # other accounts are not locked
    assert other.session_state["scope"].role == "analyst"
    # Once the wait is over the right password works and clears the count.
    with opstore.open_ops().engine.begin() as con:
        con.exec_driver_sql("UPDATE login_failures SET last_failure_at = last_failure_at - 31")
    fresh = login(_app(env_db, small_db, user=None).run(), "admin")
    assert not fresh.exception and fresh.session_state["scope"].role == "admin"
    assert opstore.open_ops().failures("account", "admin") == (0, None)


def test_expired_session_goes_back_to_login(small_db, env_db):
    at = _app(env_db, small_db, user="analyst").run()
    assert at.metric
    at.session_state["last_seen"] = time.time() - 31 * 60
    at.run()
    assert any("세션이 만료" in i.value for i in at.info)
    assert not at.metric and not at.dataframe and [t.label for t in at.text_input] == ["아이디", "비밀번호"]
    assert "scope" not in at.session_state
    at = login(at, "analyst")
    assert at.metric


@pytest.mark.parametrize(
    "user, allowed, refused",
    [
        ("presenter", [], ["views/risk_list.py", "views/audit.py", "views/model.py"]),
        ("analyst", ["views/risk_list.py", "views/model.py"], ["views/audit.py"]),
        ("gwangju", ["views/risk_list.py"], ["views/audit.py"]),
        ("admin", ["views/risk_list.py", "views/audit.py"], []),
    ],
)
def test_navigation_shows_only_permitted_pages(app_db, env_db, user, allowed, refused):
    at = _app(env_db, app_db, user=user)
    for page in refused:
        # The page is not registered with st.navigation at all for this role.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    for page in allowed:
        at.switch_page(page).run()
        assert not at.exception
        assert at.title[0].value in ("위험 가구 목록", "감사 기록", "위험 모델")


def _list_page(env_db, path, user):
    at = _app(env_db, path, user=user)
    return at.switch_page("views/risk_list.py").run()


def test_list_needs_a_purpose_and_is_audited_once(app_db, env_db):
    at = _list_page(env_db, app_db, "dong")
    assert not at.exception
    assert not at.dataframe and any("열람 목적" in i.value for i in at.info)  # blocked until a purpose
    assert _audit_rows(app_db).empty
    at.selectbox(key="rl_purpose_choice").select("기타").run()
    assert not at.dataframe  # 기타 without text is still blocked
    at.text_input(key="rl_purpose_typed").input("   ").run()
    assert not at.dataframe and _audit_rows(app_db).empty
    at.text_input(key="rl_purpose_typed").input("민원 확인").run()
    table = at.dataframe[0].value
    expected = lists.risk_list(
        store_mod.open_store(app_db), scope_for("district", "x", ["29110"]), lists.ListFilters(T), "기타: 민원 확인"
    )
    assert table["pseudo_id"].tolist() == expected["pseudo_id"].tolist()
    log = _audit_rows(app_db)
    assert len(log) == 2  # the page's view, and the line above
    assert (log.loc[0, "user_name"], log.loc[0, "action"], log.loc[0, "purpose"], log.loc[0, "row_count"]) == (
        "dong",
        "view_list",
        "기타: 민원 확인",
        len(table),
    )
    # Reruns and unrelated widgets do not add records; a new filter is a new view.
    at.run()
    at.run()
    assert len(_audit_rows(app_db)) == 2
    at.checkbox(key="rl_unvisited").check().run()
    assert len(_audit_rows(app_db)) == 3


@pytest.mark.parametrize(
    "typed, message",
    [(".", "4자 이상 200자 이하"), ("1234", "2자 이상"), ("ㅋㅋㅋㅋㅋ", "2자 이상"), ("aaaaaa", "되풀이")],
)
def test_meaningless_typed_purpose_shows_why_and_nothing_else(app_db, env_db, typed, message):
    at = _list_page(env_db, app_db, "dong")
    at.selectbox(key="rl_purpose_choice").select("기타").run()
    at.text_input(key="rl_purpose_typed").input(typed).run()
    assert not at.exception and not at.dataframe
    assert any(message in i.value for i in at.info)
    assert _audit_rows(app_db).empty


def test_official_sees_only_their_area_with_addresses(app_db, env_db):
    at = _list_page(env_db, app_db, "dong")
    at.selectbox(key="rl_purpose_choice").select("방문 계획").run()
    table = at.dataframe[0].value
    assert set(table["sgg_code"]) == {"29110"} and len(table) > 0
    assert table["address"].str.endswith("(합성 주소)").all()
    sido = at.selectbox(key="rl_area_sido")
    assert sido.options == ["광주광역시"]  # 세종 is not theirs, and 전국 would be theirs under the country's name
    at.selectbox(key="rl_area_sido").set_value("29").run()
    assert at.selectbox(key="rl_area_sgg").options == ["동구"]  # theirs only: no "시도 전체"


def test_analyst_sees_all_areas_without_addresses_and_exports(app_db, env_db):
    at = _list_page(env_db, app_db, "analyst")
    at.selectbox(key="rl_purpose_choice").select("점검").run()
    table = at.dataframe[0].value
    assert set(table["sgg_code"].str[:2]) == {"29", "36"} and "address" not in table
    at.button(key="rl_make_xlsx").click().run()
    assert not at.exception
    log = _audit_rows(app_db)
    assert log["action"].tolist() == ["view_list", "export_list"]
    assert len(log.loc[1, "file_hash"]) == 64 and log.loc[1, "row_count"] == len(table)
    assert len(at.get("download_button")) == 1
    at.run()
    assert len(_audit_rows(app_db)) == 2  # the file is made once, not on every rerun


def test_a_made_file_is_dropped_when_its_inputs_change(app_db, env_db):
    """A file made from earlier filters is never offered after the filters changed (personal data)."""
    at = _list_page(env_db, app_db, "analyst")
    at.selectbox(key="rl_purpose_choice").select("점검").run()
    wide = len(at.dataframe[0].value)
    at.button(key="rl_make_xlsx").click().run()
    assert [b.label for b in at.get("download_button")][0].endswith(f"({wide:,}행)")
    at.selectbox(key="rl_area_sido").set_value("36").run()  # 세종 only
    narrow = len(at.dataframe[0].value)
    assert 0 < narrow < wide
    assert not at.get("download_button") and "rl_file_xlsx" not in at.session_state
    at.button(key="rl_make_xlsx").click().run()
    assert [b.label for b in at.get("download_button")][0].endswith(f"({narrow:,}행)")
    at.selectbox(key="rl_purpose_choice").select("방문 계획").run()  # another purpose: another audit record
    assert not at.get("download_button")


def test_zero_row_export_shows_a_message(app_db, env_db):
    at = _list_page(env_db, app_db, "analyst")
    at.selectbox(key="rl_purpose_choice").select("점검").run()
    at.selectbox(key="rl_type").set_value("one_person").run()
    at.selectbox(key="rl_age").set_value("20_39").run()
    at.multiselect(key="rl_bands").set_value([]).run()
    at.checkbox(key="rl_audit").uncheck().run()  # the random audit sample is on the list besides the bands
    assert any("조건에 맞는 가구가 없습니다" in i.value for i in at.info)
    at.button(key="rl_make_csv").click().run()
    assert any("파일을 만들지 않았습니다" in w.value for w in at.warning)
    assert not at.get("download_button")
    assert "export_list" not in _audit_rows(app_db)["action"].tolist()


def test_official_records_an_outcome(app_db, env_db):
    at = _list_page(env_db, app_db, "dong")
    at.selectbox(key="rl_purpose_choice").select("방문 계획").run()
    table = at.dataframe[0].value
    pid = table.loc[~table["visited"], "pseudo_id"].iloc[0]  # no earlier outcome: saved at once
    at.selectbox(key="rl_outcome_pid").set_value(pid)
    at.selectbox(key="rl_outcome").set_value("need_confirmed")
    submit = [b for b in at.button if b.label == "결과 저장"][0]
    submit.click().run()
    assert not at.exception
    assert any("저장했습니다" in s.value for s in at.success)
    db = store_mod.open_store(app_db)
    row = db.df(
        "SELECT v.outcome, v.recorded_by FROM visits_now v JOIN households h USING (household_id) "
        "WHERE v.round_id = ? AND h.pseudo_id = ?",
        [T, pid],
    )
    assert row.values.tolist() == [["need_confirmed", "dong"]]
    # One save, one record; the reruns after it write no second view_list.
    assert _audit_rows(app_db)["action"].tolist() == ["view_list", "record_outcome"]
    at.run()
    at.run()
    assert _audit_rows(app_db)["action"].tolist() == ["view_list", "record_outcome"]
    assert not at.exception and len(at.dataframe[0].value) > 0
    # The list on screen shows the visit without being read (and audited) again.
    shown = at.dataframe[0].value
    assert bool(shown.loc[shown["pseudo_id"] == pid, "visited"].iloc[0])


def _submit_outcome(at, pid, outcome):
    at.selectbox(key="rl_outcome_pid").set_value(pid)
    at.selectbox(key="rl_outcome").set_value(outcome)
    return [b for b in at.button if b.label == "결과 저장"][0].click().run()


def test_overwriting_an_outcome_shows_the_earlier_one_and_asks(app_db, env_db):
    at = _list_page(env_db, app_db, "dong")
    at.selectbox(key="rl_purpose_choice").select("방문 계획").run()
    db = store_mod.open_store(app_db)
    table = at.dataframe[0].value
    pid = table.loc[~table["visited"], "pseudo_id"].iloc[0]

    def outcome_now():
        return db.rows(
            "SELECT v.outcome FROM visits_now v JOIN households h USING (household_id) "
            "WHERE v.round_id = ? AND h.pseudo_id = ?",
            [T, pid],
        )

    at = _submit_outcome(at, pid, "contacted")
    assert outcome_now() == [("contacted",)]
    at = _submit_outcome(at, pid, "refused")
    assert not at.exception
    warning = [w.value for w in at.warning if "이미 있습니다" in w.value]
    assert len(warning) == 1 and "접촉·상담(지원 불필요)" in warning[0] and "입력 dong" in warning[0]
    assert outcome_now() == [("contacted",)]  # not replaced before the confirmation
    at.button(key="rl_outcome_cancel").click().run()
    assert outcome_now() == [("contacted",)] and not [w for w in at.warning if "이미 있습니다" in w.value]
    assert any("저장하지 않았습니다" in i.value for i in at.info)
    at = _submit_outcome(at, pid, "refused")
    at.button(key="rl_outcome_confirm").click().run()
    assert not at.exception and outcome_now() == [("refused",)]
    assert any("저장했습니다" in s.value for s in at.success)
    at.run()
    actions = _audit_rows(app_db)["action"].tolist()
    assert actions == ["view_list", "record_outcome", "record_outcome"]  # two saves, two records


def test_audit_page_lists_and_exports(app_db, env_db):
    db = store_mod.open_store(app_db)
    lists.risk_list(db, scope_for("district", "dong", ["29110"]), lists.ListFilters(T), "방문 계획")
    at = _app(env_db, app_db, user="admin")
    at.switch_page("views/audit.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["사용자"].tolist() == ["dong"] and table["행위"].tolist() == ["위험 가구 목록 열람"]
    assert table["역할"].tolist() == ["시군구 담당 공무원"]  # words, not the role code
    assert table["필터"][0].startswith("차수: 2024년 3차 · 등급: 위험, 주의") and "{" not in table["필터"][0]
    at.button(key="audit_make").click().run()
    assert len(at.get("download_button")) == 1
    at.selectbox(key="audit_action").set_value("export_list").run()
    assert at.dataframe[0].value.empty
    assert not at.get("download_button")  # made from the earlier filter: dropped
    at.button(key="audit_make").click().run()
    assert any("감사 기록이 없어" in w.value for w in at.warning)


def test_a_district_official_opens_on_their_own_area(app_db, env_db):
    """One 시군구's official: the overview lists its 읍면동 (not a 시도 row holding its
    households), and the map offers only the 읍면동 level of that 시군구."""
    at = _app(env_db, app_db, user="dong").run()
    assert not at.exception
    db = store_mod.open_store(app_db)
    emd = db.df(
        "SELECT emd_code, count(*) AS n FROM households WHERE sgg_code = '29110' GROUP BY emd_code ORDER BY emd_code"
    )
    heads = [h.value for h in at.subheader]
    assert any(h.startswith("읍면동별 가구와 1인 가구") for h in heads)
    table = at.dataframe[0].value
    assert sorted(table["name"]) == sorted(
        db.df("SELECT name FROM regions WHERE level = 'emd' AND code LIKE '29110%'")["name"]
    )
    assert int(table["households"].sum()) == int(emd["n"].sum())
    shares = table["one_person_share"].dropna().tolist()
    assert shares == sorted(shares, reverse=True)  # by value, not 가나다
    at.switch_page("views/region_map.py").run()
    assert not at.exception
    assert at.radio(key="map_level").options == ["읍면동"] and at.radio(key="map_level").value == "emd"
    assert at.selectbox(key="map_area_sgg").options == ["동구"]
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    codes = {f["properties"]["code"] for f in spec["layers"][0]["data"]["features"]}
    assert codes and all(c.startswith("29110") for c in codes)


def test_presenter_map_page_has_no_household_rows(app_db, env_db):
    at = _app(env_db, app_db, user="presenter")
    at.switch_page("views/region_map.py").run()
    assert not at.exception
    at.selectbox(key="map_focus").set_value("29").run()
    assert any("가구 단위 열람 권한" in c.value for c in at.caption)
    assert not any("pseudo_id" in d.value.columns for d in at.dataframe)
    assert _audit_rows(app_db).empty


def test_map_household_list_needs_purpose_and_is_audited_once(app_db, env_db):
    at = _app(env_db, app_db, user="analyst")
    at.switch_page("views/region_map.py").run()
    at.radio(key="map_level").set_value("sgg").run()
    at.selectbox(key="map_focus").set_value("29110").run()
    assert not any("pseudo_id" in d.value.columns for d in at.dataframe)
    at.selectbox(key="map_purpose_choice").select("점검").run()
    tables = [d.value for d in at.dataframe if "pseudo_id" in d.value.columns]
    assert len(tables) == 1 and len(tables[0]) == 20
    at.run()
    log = _audit_rows(app_db)
    assert log["action"].tolist() == ["view_map_households"] and log.loc[0, "row_count"] == 20


def test_sign_in_fails_closed_when_the_operational_store_is_down(small_db, env_db, monkeypatch):
    """PostgreSQL down (here: nothing listens on the port): the login page says so in Korean,
    names no host, and nobody signs in, since the throttling counts cannot be kept."""
    monkeypatch.setenv("BLINDSPOT_OPS_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:9/blindspot")
    at = _app(env_db, small_db, user=None).run()
    if len(at.text_input) >= 2:
        at = login(at, "admin")
    assert not at.exception
    assert "scope" not in at.session_state
    errors = [e.value for e in at.error]
    assert any("운영 저장소" in e and "로그인할 수 없습니다" in e for e in errors), errors
    assert not any("127.0.0.1" in e or "secret" in e for e in errors)


def test_operational_store_down_mid_session_fails_closed_and_aggregates_keep_working(app_db, env_db, monkeypatch):
    """PostgreSQL (or the SQLite folder) goes away after sign-in: the risk list shows a Korean
    sentence and no household row (its audit record cannot be written, so nothing is shown);
    the overview, an aggregate page, keeps working."""
    at = _list_page(env_db, app_db, "dong")
    assert not at.exception and "scope" in at.session_state
    monkeypatch.setenv("BLINDSPOT_OPS_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:9/blindspot")
    at.selectbox(key="rl_purpose_choice").select("방문 계획").run()
    assert not at.exception
    assert not any("pseudo_id" in d.value.columns for d in at.dataframe)  # no household row on screen
    errors = [e.value for e in at.error]
    assert any("운영 저장소" in e and "가구 단위 자료" in e for e in errors), errors
    assert not any("127.0.0.1" in e or "secret" in e for e in errors)
    at.switch_page("views/overview.py").run()
    assert not at.exception and not at.error
    assert any("가구" in m.label for m in at.metric)
