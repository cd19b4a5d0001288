import pytest
from apptest import _app, login  # noqa: F401  (login: used by the pages tests import from here)

from blindspot.db import store as store_mod


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
    footer = at.main.caption[-1].value
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


def _model_page(env_db, monkeypatch, modelled):
    path, models, _ = modelled
    monkeypatch.setenv("BLINDSPOT_MODELS", str(models))
    at = _app(env_db, path)
    at.switch_page("views/model.py")
    return at.run()


def test_model_page_shows_real_figures(modelled, env_db, monkeypatch):
    _, _, meta = modelled
    at = _model_page(env_db, monkeypatch, modelled)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["모델 버전"] == meta["version"]
    assert metrics["용량 내 재현율"] == f"{meta['metrics']['model']['recall_at_capacity']:.3f}"
    assert metrics["보정 오차 (ECE)"] == f"{meta['metrics']['model']['ece']:.4f}"
    tables = [d.value for d in at.dataframe]
    table = next(t for t in tables if "지표" in t.columns)
    row = table.set_index("지표").loc["PR-AUC"]
    assert row["모델"] == pytest.approx(meta["metrics"]["model"]["pr_auc"])
    assert row["지표 개수 규칙"] == pytest.approx(meta["metrics"]["baseline"]["pr_auc"])
    sub = next(t for t in tables if "dimension" in t.columns)
    # The rolling backtest with its intervals, pooled row included.
    backtest = next(t for t in tables if "검증 차수" in t.columns)
    assert len(backtest) == 3 * (len(meta["backtest"]["folds"]) + 1)
    assert set(sub["dimension"]) == {"연령대", "성별", "1인 가구", "도시/농촌", "시도"}
    flagged = sub[sub["gap"]]
    expected = {(g["dimension"], g["worst_group"]) for g in meta["subgroup_gaps"] if g["ratio"] < 0.8}
    assert set(zip(flagged["dimension"], flagged["group"], strict=False)) == expected
    # Each group's capacity ceiling beside its recall (the measured cause of regional gaps).
    ceilings = [r["model_ceiling"] for r in meta["subgroups"]]
    assert (
        sub["model_ceiling"].tolist() == pytest.approx(ceilings) and (sub["model_recall"] <= sub["model_ceiling"]).all()
    )
    assert any("모델 카드" in e.label for e in at.expander)


def test_model_page_without_a_model_says_how_to_train(small_db, env_db, monkeypatch, tmp_path):
    monkeypatch.setenv("BLINDSPOT_MODELS", str(tmp_path))
    at = _app(env_db, small_db)
    at.switch_page("views/model.py")
    at = at.run()
    assert not at.exception
    assert "python -m blindspot train" in at.info[0].value


def test_overview_shows_risk_bands(modelled, env_db, monkeypatch):
    path, models, _ = modelled
    monkeypatch.setenv("BLINDSPOT_MODELS", str(models))
    at = _app(env_db, path).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    st_ = store_mod.open_store(path)
    high = st_.scalar("SELECT count(*) FROM scores WHERE round_id = 20243 AND band = 'high'")
    assert metrics["위험 가구"] == f"{high:,}"
    at = at.selectbox(key="round").select(20236).run()  # first round: not scored
    assert any("위험 점수가 없습니다" in i.value for i in at.info)


def test_briefing_page_tiles_targets_and_pack(modelled, env_db, monkeypatch):
    path, models, _ = modelled
    monkeypatch.setenv("BLINDSPOT_MODELS", str(models))
    at = _app(env_db, path)
    at.switch_page("views/briefing.py")
    at = at.run()
    assert not at.exception
    at = at.selectbox(key="brief_area_sido").select("29").run()
    st_ = store_mod.open_store(path)
    flagged = st_.scalar("SELECT count(*) FROM visits WHERE round_id = 20243 AND sgg_code LIKE '29%'")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["발굴 가구"] == f"{flagged:,}"
    assert any("자료 차수 2024-R3" in c.value for c in at.caption)
    at = at.button(key="make_pack").click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 2
    at = at.toggle(key="presenting").set_value(True).run()
    assert any("stSidebar" in m.value for m in at.markdown)  # presentation CSS is on
