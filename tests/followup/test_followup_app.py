"""The page 후속 관리 with AppTest: an official's due list, a contact and a tier change (each
audited), an analyst reading without forms, a presenter without the page; the command
``followups --json``."""

import datetime as dt
import json
import shutil

import pytest
from apptest import _app
from ops import audit_rows
from sqlalchemy import select, update

from blindspot import cli
from blindspot.access import Scope, pages_for
from blindspot.app.pages import PAGE_FILES
from blindspot.casework import audit
from blindspot.db import opstore
from blindspot.db.store import Store
from blindspot.followup import cases, sql

PAGE = PAGE_FILES["followups"]


@pytest.fixture()
def app_db(modelled, tmp_path):
    path = tmp_path / "app.duckdb"
    shutil.copy(modelled[0], path)
    return path


def _open_cases_long_ago(path):
    """Cases of 광주 동구 opened months ago: all due now."""
    st = Store(path, read_only=True)
    try:
        cases.sync_cases(st, Scope.district(["29110"]), "29110", today=dt.date(2025, 3, 4))
    finally:
        st.close()


def _open(env_db, path, user):
    at = _app(env_db, path, user=user)
    at.switch_page(PAGE).run()
    return at


def test_an_official_lists_records_a_contact_and_changes_a_tier(app_db, env_db):
    _open_cases_long_ago(app_db)
    at = _open(env_db, app_db, "dong")
    assert not at.exception
    assert at.title[0].value == "후속 관리"
    assert any("시군구" == s.label for s in at.selectbox)
    at.selectbox(key="fu_purpose_choice").select("사례관리").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) > 20 and set(table["overdue"]) == {"예"}  # opened in March: long overdue
    assert set(table["tier"]) <= {"위험", "주의"} and table["address"].str.endswith("(합성 주소)").all()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["연락 대상"] == f"{len(table):,}" and metrics["사례 전체"] == f"{len(table):,}"
    assert audit_rows()["action"].tolist() == ["view_followups"]

    first = int(table["case_id"].iloc[0])
    at.selectbox(key="fu_contact_case").select(first)
    at.selectbox(key="fu_method").select("visit")
    at.selectbox(key="fu_outcome").select("need_confirmed")
    at.button[[b.label for b in at.button].index("연락 저장")].click().run()
    assert not at.exception
    assert any("저장했습니다" in s.value for s in at.success)
    after = at.dataframe[0].value
    assert str(first) not in set(after["case_id"]) or after.set_index("case_id").loc[str(first), "contact_count"] == "1"

    second = int(after["case_id"].iloc[0])
    at.selectbox(key="fu_tier_case").select(second)
    at.selectbox(key="fu_tier").select("closed")
    at.button[[b.label for b in at.button].index("등급 저장")].click().run()
    assert not at.exception
    assert any("종결" in s.value for s in at.success)
    log = audit_rows()
    assert log["action"].tolist() == [
        "view_followups",
        "record_contact",
        "view_followups",
        "set_followup_tier",
        "view_followups",
    ]
    assert log["user_name"].unique().tolist() == ["dong"]
    c = sql.followup_cases
    with opstore.open_ops().connect() as con:
        tier = con.execute(select(c.c.tier, c.c.tier_source).where(c.c.case_id == second)).one()
        visited = con.execute(select(c.c.last_visit_on).where(c.c.case_id == first)).scalar_one()
    assert tuple(tier) == ("closed", "official") and visited == dt.date.today().isoformat()


def test_an_analyst_reads_without_forms_and_a_presenter_has_no_page(app_db, env_db):
    _open_cases_long_ago(app_db)
    assert "followups" in pages_for("analyst") and "followups" not in pages_for("presenter")
    at = _open(env_db, app_db, "analyst")
    at.selectbox(key="fu_sgg").select("29110").run()
    at.selectbox(key="fu_purpose_choice").select("점검").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) > 20 and "address" not in table.columns
    assert "후속 연락 기록" not in [h.value for h in at.subheader]
    assert audit_rows()["action"].tolist() == ["view_followups"]


def test_an_empty_week_says_so(app_db, env_db):
    # Without loaded visits every case's clock starts today (a loaded visit would make it due).
    writable = Store(app_db)
    writable.run("DELETE FROM visits WHERE sgg_code = '29110'")
    writable.close()
    at = _open(env_db, app_db, "dong")
    at.selectbox(key="fu_purpose_choice").select("사례관리").run()
    assert not at.exception
    # Cases open today: the first contact of a 위험 case is a week away, so this week is empty.
    c = sql.followup_cases
    with opstore.open_ops().connect() as con:
        assert con.execute(select(c.c.opened_on).distinct()).scalars().all() == [dt.date.today().isoformat()]
    # Today + 7 days is always past this week's Sunday.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["연락 대상"] == "0" and int(metrics["사례 전체"].replace(",", "")) > 20
    assert any("연락할 사례가 없습니다" in i.value for i in at.info)


def test_the_command_prints_the_due_list_as_json(app_db, capsys):
    _open_cases_long_ago(app_db)
    c = sql.followup_cases
    with opstore.open_ops().begin() as con:  # one case contacted yesterday: not due by tomorrow
        con.execute(
            update(c)
            .where(c.c.case_id == 1)
            .values(last_contact_on=(dt.date.today() - dt.timedelta(days=1)).isoformat(), tier="closed")
        )
    due_by = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    code = cli.main(["followups", "--sgg", "29110", "--due-by", due_by, "--json", "--db", str(app_db)])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sgg"] == "29110" and out["due_by"] == due_by
    assert out["due"] == out["cases"] - 1 == out["overdue"] and out["due"] > 20
    assert 1 not in {r["case_id"] for r in out["rows"]}
    row = out["rows"][0]
    assert row["opened_on"] == "2025-03-04" and row["tier"] in ("high", "medium") and row["pseudo_id"].startswith("H")
    assert audit_rows()["action"].tolist() == ["view_followups"]
    assert cli.main(["followups", "--sgg", "2911", "--json", "--db", str(app_db)]) == 2
    assert "5자리" in capsys.readouterr().err


def test_an_official_takes_a_case_and_the_owner_shows(app_db, env_db):
    _open_cases_long_ago(app_db)
    at = _open(env_db, app_db, "dong")
    at.selectbox(key="fu_purpose_choice").select("사례관리").run()
    assert at.radio(key="fu_owner").value == "mine"  # an official starts on their own cases
    table = at.dataframe[0].value
    assert set(table["assigned_to"]) == {"미지정"}
    case = int(table["case_id"].iloc[0])
    at.selectbox(key="fu_take_case").select(case)
    at.button[[b.label for b in at.button].index("담당 저장")].click().run()
    assert not at.exception
    assert any("담당 미지정 → dong" in s.value for s in at.success)
    table = at.dataframe[0].value
    assert table.set_index("case_id").loc[str(case), "assigned_to"] == "dong"
    assert "assign_followup" in audit_rows()["action"].tolist()


def test_the_due_list_exports_as_a_file_with_one_audit_record(app_db, env_db):
    """XLSX of the list shown (Korean headers and values as on the page, no live formula), one
    export_followups record with the file's hash; the download offered is that file."""
    import io

    import openpyxl

    _open_cases_long_ago(app_db)
    at = _open(env_db, app_db, "dong")
    at.selectbox(key="fu_purpose_choice").select("사례관리").run()
    shown = at.dataframe[0].value
    at.button(key="fu_make_xlsx").click().run()
    assert not at.exception
    log = audit_rows()
    [record] = log[log["action"] == "export_followups"].to_dict("records")
    assert record["row_count"] == len(shown) and record["purpose"] == "사례관리"
    made = at.session_state["fu_file_xlsx"][1]
    assert audit.sha256(made.data) == record["file_hash"]
    sheet = openpyxl.load_workbook(io.BytesIO(made.data))["후속 연락 대상"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["사례 번호", "가명 ID", "읍면동"] and "담당자" in header
    assert [str(r[1].value) for r in sheet.iter_rows(min_row=2)] == shown["pseudo_id"].tolist()
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for row in sheet.iter_rows() for c in row)


def test_an_official_hands_a_case_to_a_colleague_of_the_same_sgg(app_db, env_db, tmp_path, monkeypatch):
    """The control lists the officials of the 시군구 shown by name (not the official themselves,
    not another 시군구's, not a national role); a hand-over changes the owner on the list and
    leaves one assign_followup record with the old and new owner."""
    from conftest import TEST_PASSWORDS, TEST_USERS

    from blindspot.app import auth

    users = {
        **TEST_USERS,
        "dong2": ("광주 동구 주무관", "district", ["29110"]),
        "seo": ("광주 서구 담당", "district", ["29140"]),
    }
    path = tmp_path / "auth.yaml"
    auth.write_accounts(
        path, [(u, n, r, c, TEST_PASSWORDS.get(u, f"pw-{u}-시험-길게")) for u, (n, r, c) in users.items()], rounds=4
    )
    monkeypatch.setenv("BLINDSPOT_AUTH", str(path))
    _open_cases_long_ago(app_db)
    at = _open(env_db, app_db, "dong")
    at.selectbox(key="fu_purpose_choice").select("사례관리").run()
    assert not at.exception
    receivers = at.selectbox(key="fu_hand_to")
    assert receivers.options == ["광주 동구 주무관 (dong2)", "광주 동구·서구 담당 (gwangju)"]
    case = int(at.dataframe[0].value["case_id"].iloc[0])
    at.selectbox(key="fu_hand_case").select(case)
    receivers.select("dong2")
    at.button[[b.label for b in at.button].index("사례 넘기기")].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [f"사례 {case}: 담당 미지정 → 광주 동구 주무관 (dong2) (감사 기록에 남음)."]
    # dong's own list (내 사례, 미지정 포함) no longer holds the case; 전체 shows its new owner.
    assert str(case) not in set(at.dataframe[0].value["case_id"])
    at.radio(key="fu_owner").set_value("all").run()
    assert at.dataframe[0].value.set_index("case_id").loc[str(case), "assigned_to"] == "dong2"
    log = audit_rows()
    [record] = log[log["action"] == "assign_followup"].to_dict("records")
    assert (record["user_name"], record["detail"]) == ("dong", "-->dong2")
    assert (json.loads(record["filters"])["old"], json.loads(record["filters"])["new"]) == (None, "dong2")


def test_an_official_without_colleagues_is_told_so(app_db, env_db):
    """With the session's accounts gwangju (29110 and 29140) may hand a case of 29110 to dong; in
    29140 there is no other official, and the page says so instead of offering a list."""
    _open_cases_long_ago(app_db)
    st = Store(app_db, read_only=True)
    try:
        cases.sync_cases(st, Scope.district(["29140"]), "29140", today=dt.date(2025, 3, 4))
    finally:
        st.close()
    at = _open(env_db, app_db, "gwangju")
    at.selectbox(key="fu_sgg").select("29110").run()
    at.selectbox(key="fu_purpose_choice").select("사례관리").run()
    assert not at.exception
    assert at.selectbox(key="fu_hand_to").options == ["광주 동구 담당 (dong)"]
    at.selectbox(key="fu_sgg").select("29140").run()
    assert not at.exception and len(at.dataframe[0].value) > 0
    assert "fu_hand_to" not in [s.key for s in at.selectbox]
    assert "이 시군구에는 사례를 넘겨받을 다른 담당 공무원 계정이 없습니다." in [c.value for c in at.caption]
