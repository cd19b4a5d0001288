"""The model page's drift panel, and its model control: shown to admins only, a change of
model runs as a background job that publishes a new snapshot version, audited once."""

import json
import shutil

import pytest
from apptest import _app
from ops import audit_rows

from blindspot.db import snapshots
from blindspot.db import store as store_mod
from blindspot.db.store import Store
from blindspot.model import drift


@pytest.fixture()
def copy(modelled, tmp_path, monkeypatch):
    db, models, meta = modelled
    shutil.copy(db, tmp_path / "db.duckdb")
    shutil.copytree(models, tmp_path / "models")
    monkeypatch.setenv("BLINDSPOT_MODELS", str(tmp_path / "models"))
    return tmp_path / "db.duckdb", tmp_path / "models", meta


def _page(env_db, path, user):
    at = _app(env_db, path, user=user)
    at.default_timeout = 120
    at.switch_page("views/model.py")
    return at.run()


def test_drift_panel_and_the_admin_control(copy, env_db):
    db, _, meta = copy
    at = _page(env_db, db, "admin")
    assert not at.exception
    st_ = store_mod.open_store(db)
    expected = drift.drift_table(st_)
    psi_table = next(d.value for d in at.dataframe if "psi" in d.value.columns)
    assert psi_table["feature"].tolist() == expected["feature"].tolist()
    assert psi_table["psi"].tolist() == pytest.approx(expected["psi"].tolist())
    assert any("2024-R3의 입력 변수 분포" in c.value and "관례값" in c.value for c in at.caption)
    assert any("변화 기준(0.1) 미만" in s.value for s in at.success)  # the test round against itself
    realised = next(d.value for d in at.dataframe if "precision" in d.value.columns)
    assert realised["round"].tolist() == ["2024-R1", "2024-R2", "2024-R3"]
    # The control: every model with its gate, and the in-service one not offered again.
    assert "모델 관리 (관리자)" in [s.value for s in at.subheader]
    models = next(d.value for d in at.dataframe if "gate" in d.value.columns)
    assert models["version"].tolist() == [meta["version"]] and models["gate"].tolist() == ["통과"]
    assert at.selectbox(key="model_choice").options == []
    assert at.button(key="model_rollback").disabled  # no reason yet


@pytest.mark.parametrize("user", ["analyst", "dong"])
def test_no_model_control_for_other_roles(copy, env_db, user):
    db, _, _ = copy
    at = _page(env_db, db, user)
    assert not at.exception
    assert "모델 관리 (관리자)" not in [s.value for s in at.subheader]
    assert not [s for s in at.selectbox if s.key == "model_choice"]
    assert not [b for b in at.button if b.key in ("model_activate", "model_rollback")]
    assert any(d for d in at.dataframe if "psi" in d.value.columns)  # the drift panel is for everyone


def _served(db) -> str:
    st = Store(db, read_only=True)
    try:
        return st.meta()["model_version"]
    finally:
        st.close()


def _finish(at):
    from blindspot.app import jobs

    assert not at.exception
    job = jobs.wait(at.session_state["model_job"], timeout=300)
    assert job is not None and job.status != "running"
    return at.run(), job


def test_admin_activates_a_candidate_over_the_gate_then_rolls_back(copy, env_db):
    from blindspot.model.training import train

    db, models, meta = copy
    st = Store(db)
    try:
        candidate = train(st, models, test_round=20242, activate=False)["version"]
    finally:
        st.close()
    at = _page(env_db, db, "admin")
    at = at.selectbox(key="model_choice").select(candidate).run()
    at = at.text_input(key="model_reason").input("화면에서 지정 시험").run()
    # Without the override the gate refuses it (the model in service was tested later) and nothing is published.
    at, job = _finish(at.button(key="model_activate").click().run())
    assert job.status == "failed" and "관문을 통과하지 못해" in job.error
    assert any("관문을 통과하지 못해" in e.value for e in at.error)
    assert audit_rows().empty and snapshots.active_version(db) is not None
    assert _served(db) == meta["version"]

    at = at.selectbox(key="model_choice").select(candidate).run()
    at = at.text_input(key="model_reason").input("화면에서 지정 시험").run()
    at = at.checkbox(key="model_force").check().run()
    at, job = _finish(at.button(key="model_activate").click().run())
    assert job.status == "done", job.error
    assert job.result["version"] == candidate and job.result["snapshot"] == snapshots.active_version(db)
    assert any(f"서비스 모델 {candidate}" in s.value for s in at.success)
    check = Store(db, read_only=True)
    try:
        assert check.meta()["model_version"] == candidate
        assert check.rows("SELECT DISTINCT model_version FROM scores") == [(candidate,)]
    finally:
        check.close()
    log = audit_rows()
    assert log["action"].tolist() == ["override_model_gate"] and log.iloc[0]["user_name"] == "admin"
    assert json.loads(log.iloc[0]["filters"])["model_version"] == candidate

    at = at.text_input(key="model_reason").input("화면에서 되돌림 시험").run()
    at, job = _finish(at.button(key="model_rollback").click().run())
    assert job.status == "done", job.error
    assert job.result["version"] == meta["version"] and job.result["previous"] == candidate
    assert audit_rows()["action"].tolist() == ["override_model_gate", "rollback_model"]
    assert _served(db) == meta["version"]


def test_capacity_what_if_for_analysts(copy, env_db):
    """The what-if panel: its 현재 설정 column is the model's own evaluation (flat share, no staff),
    and choosing the need rule recomputes the 가정 column from the saved tables."""
    from blindspot.model import whatif
    from blindspot.model.capacity import Plan

    db, models, meta = copy
    at = _page(env_db, db, "analyst")
    assert not at.exception
    assert "방문 용량 가정 분석 (what-if)" in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "가정" in d.value.columns)
    recall = meta["metrics"]["model"]["recall_at_capacity"]
    assert table.loc["재현율", "현재 설정"] == f"{recall:.1%}"
    assert table.loc["재현율", "가정"] == f"{recall:.1%}"  # the same plan until a widget changes
    at.radio[0].set_value("need").run()
    table = next(d.value for d in at.dataframe if "가정" in d.value.columns)
    need = whatif.simulate(
        *whatif.load(models / meta["version"]), Plan(share=meta["metrics"]["capacity_share"], rule="need")
    )
    assert table.loc["재현율", "가정"] == f"{need['recall']:.1%}"
    assert table.loc["찾은 위기 가구", "가정"] == f"{need['crises_reached']:,}"


def test_no_capacity_what_if_for_district_officials(copy, env_db):
    db, _, _ = copy
    at = _page(env_db, db, "dong")
    assert not at.exception
    assert "방문 용량 가정 분석 (what-if)" not in [s.value for s in at.subheader]


def test_admin_registers_staff_and_the_band_follows_in_a_new_version(copy, env_db):
    """The admin control: a 시군구's officers registered (one set_staff record), every scored round
    rescored in a new snapshot version, the 시군구's 위험 band then sized by its staff."""
    from blindspot import settings
    from blindspot.app import jobs
    from blindspot.db.opstore import open_ops

    db, _, meta = copy
    st = Store(db, read_only=True)
    sgg = st.scalar("SELECT sgg_code FROM scores GROUP BY 1 ORDER BY count(DISTINCT emd_code) DESC, 1 LIMIT 1")
    st.close()
    before = snapshots.active_version(db)
    at = _page(env_db, db, "admin")
    at.selectbox(key="staff_sgg").select(sgg)
    at.number_input(key="staff_n").set_value(2.0)
    at = at.button(key="staff_save").click().run()
    assert not at.exception
    job = jobs.wait(at.session_state["staff_job"], timeout=300)
    assert job is not None and job.status == "done", getattr(job, "error", None)
    at = at.run()
    assert any(f"{sgg} 담당 2명" in s.value for s in at.success)
    assert open_ops().staff() == {sgg: 2.0}
    records = audit_rows()
    assert json.loads(records[records["action"] == "set_staff"]["filters"].iloc[-1]) == {"officers": 2.0, "sgg": sgg}
    assert snapshots.active_version(db) != before and job.result["snapshot"] == snapshots.active_version(db)
    st = Store(db, read_only=True)
    try:
        high = st.scalar("SELECT count(*) FROM scores WHERE round_id = 20243 AND sgg_code = ? AND band = 'high'", [sgg])
    finally:
        st.close()
    assert 0 < high <= 2 * settings.get("visits_per_officer")


def test_no_staff_control_for_analysts(copy, env_db):
    db, _, _ = copy
    at = _page(env_db, db, "analyst")
    assert not at.exception and not [b for b in at.button if b.key == "staff_save"]
