"""The 데이터 관리 page: upload through st.file_uploader, report, load, history."""

import shutil

from apptest import _app as signed_in

from blindspot.access import Scope
from blindspot.db import store as store_mod
from blindspot.db.store import Store
from blindspot.demo.build import build_empty
from blindspot.ingest import exchange


def _app(env_db, path):
    """Signed in as the admin (the page is for admins and analysts), on the 데이터 관리 page."""
    at = signed_in(env_db, path, user="admin")
    at.default_timeout = 120
    at.switch_page("views/data_admin.py")
    return at


def _sejong_csv(small_db, n=60) -> bytes:
    src = Store(small_db, read_only=True)
    try:
        hh, _ = exchange.round_frames(src, Scope.district(["36110"]), "2024-R3")
    finally:
        src.close()
    return hh.head(n).to_csv(index=False).encode("cp949")


def _finish_job(at, key):
    """A load or rescoring runs as a background job: wait for it, then let the page see it
    (one run shows the outcome after the rerun that refreshes the page)."""
    from blindspot.app import jobs

    assert not at.exception
    job = jobs.wait(at.session_state[key], timeout=300)
    assert job is not None and job.status != "running"
    return at.run()


def test_upload_check_and_load(small_db, env_db, tmp_path):
    db = tmp_path / "real.duckdb"
    build_empty(db)
    at = _app(env_db, db).run()
    assert not at.exception and at.title[0].value == "데이터 관리"
    at.text_input(key="ingest_round").set_value("2024-R4")
    at.file_uploader(key="ingest_households").set_value(("가구.csv", _sejong_csv(small_db), "text/csv"))
    at = at.run()
    # Sejong only: refused as a national round, accepted once the scope is declared.
    at = at.button(key="ingest_check").click().run()
    assert at.error and "--sgg 36110" in at.dataframe[0].value.iloc[0]["문제"]
    at = at.radio(key="ingest_scope").set_value("일부 지역").run()
    at = at.multiselect(key="ingest_sgg").set_value(["36110"]).run()
    at = at.button(key="ingest_check").click().run()
    assert not at.exception
    assert any("일부 지역 (1개 시군구)" in i.value for i in at.info)
    assert any("문제 없음: 가구.csv — 가구 60곳" in s.value for s in at.success)
    at = _finish_job(at.button(key="ingest_load").click().run(), "ingest_job")
    assert not at.exception
    assert any("적재 완료: 차수 2024-R4 — 가구 60곳" in s.value for s in at.success)
    history = at.dataframe[-1].value
    assert history[["round_code", "kind", "file_name", "rows", "loaded_by"]].values.tolist() == [
        ["2024-R4", "households", "가구.csv", 60, "admin"]
    ]
    # The same file again: nothing changes.
    at = at.button(key="ingest_check").click().run()
    assert any("이미 적재됨" in s.value for s in at.success)
    # Rescoring without a model says how to train.
    at.text_input(key="rescore_round").set_value("2024-R4")
    at = _finish_job(at.run().button(key="rescore").click().run(), "rescore_job")
    assert any("python -m blindspot train" in i.value for i in at.info)


def test_bad_upload_shows_the_report_and_a_download(small_db, env_db, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copy(small_db, db)
    store_before = Store(db, read_only=True)
    before = store_before.scalar("SELECT count(*) FROM households")
    store_before.close()
    bad = _sejong_csv(small_db).decode("cp949").replace("apartment", "궁궐", 1).encode("utf-8")
    at = _app(env_db, db).run()
    at.text_input(key="ingest_round").set_value("2024-R3")
    at.file_uploader(key="ingest_households").set_value(("bad.csv", bad, "text/csv"))
    at = at.radio(key="ingest_scope").set_value("일부 지역").run()
    at = at.multiselect(key="ingest_sgg").set_value(["36110"]).run()
    at = at.run().button(key="ingest_check").click().run()
    assert not at.exception
    assert at.error and "문제 1건" in at.error[0].value
    report = at.dataframe[0].value
    assert list(report.columns) == ["파일", "행", "열", "값", "문제"]
    assert report.iloc[0][["파일", "열", "값"]].tolist() == ["bad.csv", "housing_type", "궁궐"]
    assert at.get("download_button")
    assert store_mod.open_store(db).scalar("SELECT count(*) FROM households") == before


def test_replacing_a_round_needs_the_confirmation(small_db, env_db, tmp_path):
    db = tmp_path / "real.duckdb"
    build_empty(db)
    at = _app(env_db, db).run()
    at.text_input(key="ingest_round").set_value("2024-R4")
    at.file_uploader(key="ingest_households").set_value(("a.csv", _sejong_csv(small_db, 60), "text/csv"))
    at = at.radio(key="ingest_scope").set_value("일부 지역").run()
    at = at.multiselect(key="ingest_sgg").set_value(["36110"]).run()
    at = at.run().button(key="ingest_check").click().run()
    at = _finish_job(at.button(key="ingest_load").click().run(), "ingest_job")
    at.file_uploader(key="ingest_households").set_value(("b.csv", _sejong_csv(small_db, 30), "text/csv"))
    at = at.run().button(key="ingest_check").click().run()
    warning = next(w.value for w in at.warning if "이미 있는 차수입니다: 2024-R4." in w.value)
    # What a replace takes away, counted: the 60 households of a.csv in one 시군구.
    assert "가구 60곳 (1개 시군구)" in warning and "위험 점수 0건" in warning
    db_now = store_mod.open_store(db)
    signals = db_now.scalar("SELECT count(*) FROM observations WHERE round_id = 20244")
    assert f"위기정보 {signals:,}건" in warning
    assert at.get("progress")[-1].proto.value == 100  # a finished check shows a full bar
    assert at.button(key="ingest_load").disabled
    at = at.checkbox(key="ingest_replace").check().run()
    assert not at.button(key="ingest_load").disabled
    at = _finish_job(at.button(key="ingest_load").click().run(), "ingest_job")
    assert any("적재 완료: 차수 2024-R4 — 가구 30곳" in s.value for s in at.success)
    assert at.dataframe[-1].value["replaced"].tolist() == [True, False]


def test_a_load_while_another_loader_runs_is_refused_and_named(small_db, env_db, tmp_path):
    """The page's load is a loader like the CLI's: while one holds the slot (here this test,
    as `ingest 2024-R4` from the command line), the job fails at once with who holds it, and
    nothing is published."""
    from blindspot.db import snapshots

    db = tmp_path / "real.duckdb"
    build_empty(db)
    before = snapshots.active_version(db)
    at = _app(env_db, db).run()
    at.text_input(key="ingest_round").set_value("2024-R4")
    at.file_uploader(key="ingest_households").set_value(("a.csv", _sejong_csv(small_db, 60), "text/csv"))
    at = at.radio(key="ingest_scope").set_value("일부 지역").run()
    at = at.multiselect(key="ingest_sgg").set_value(["36110"]).run()
    at = at.run().button(key="ingest_check").click().run()
    with snapshots.loader_lock(db, "ingest 2024-R4", "cli-loader"):
        at = _finish_job(at.button(key="ingest_load").click().run(), "ingest_job")
    errors = [e.value for e in at.error]
    assert any("`ingest 2024-R4`" in e and "cli-loader" in e for e in errors), errors
    assert snapshots.active_version(db) == before
    assert at.dataframe[-1].value.empty  # no load in the history


def test_a_bad_round_is_the_box_s_fault_and_the_format_help_is_in_the_page(small_db, env_db, tmp_path):
    db = tmp_path / "real.duckdb"
    build_empty(db)
    at = _app(env_db, db).run()
    help_text = at.expander[0].markdown[0].value
    assert at.expander[0].label == "파일 형식 안내" and "`emd_code`" in help_text and "2024-R3" in help_text
    assert not any("docs/" in c.value for c in at.caption)  # no repository paths for officials
    at.text_input(key="ingest_round").set_value("2024-R7")
    at.file_uploader(key="ingest_households").set_value(("가구.csv", _sejong_csv(small_db), "text/csv"))
    at = at.run()
    assert [e.value for e in at.error] == [
        "차수 형식이 잘못되었습니다: '2024-R7'. 'YYYY-Rn' 형식(n은 1~6, 예: 2024-R3)으로 쓰세요."
    ]
    assert at.button(key="ingest_check").disabled
    at.text_input(key="ingest_round").set_value("2024-R4")
    at = at.run()
    assert not at.error and not at.button(key="ingest_check").disabled
