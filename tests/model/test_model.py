"""The risk model: baseline, metrics, reasons, bands, artifacts, scoring, bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from blindspot.db.store import Store, open_store
from blindspot.indicators.catalogue import load_catalogue
from blindspot.model import artifacts
from blindspot.model import sql as model_sql
from blindspot.model.evaluation import (
    count_rule_score,
    expected_calibration_error,
    ranked_auc,
    ranking_metrics,
    within_capacity,
)
from blindspot.model.features import build_features
from blindspot.model.pipeline import BANDS, ModelError, Thresholds, assign_bands, explain, reason_text, top_reasons
from blindspot.model.scoring import score_round
from blindspot.model.training import train

# --- baseline and metrics on hand-made cases -------------------------------------------


def test_count_rule_on_a_tiny_case():
    # Five households of one 읍면동 (capacity 1 at 0.8 % → at least one; use share 0.4 → 2).
    n_signals = [1, 3, 3, 0, 2]
    amount = [0, 100_000, 900_000, 0, 5_000_000]
    months = [6, 0, 0, 0, 0]
    y = np.array([0, 0, 1, 0, 1])
    score = count_rule_score(n_signals, amount, months)
    assert list(np.argsort(-score, kind="stable")) == [2, 1, 4, 0, 3]
    selected = within_capacity(np.zeros(5), score, share=0.4)
    assert selected.tolist() == [False, True, True, False, False]
    m = ranking_metrics(y, score, selected)
    assert m["recall_at_capacity"] == 0.5 and m["precision_at_capacity"] == 0.5


def test_count_rule_ties_broken_by_amount_then_months():
    score = count_rule_score([2, 2, 2], [0, 0, 10_000], [3, 9, 0])
    assert list(np.argsort(-score)) == [2, 1, 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranked_auc_equals_scikit_learn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(3000) < 0.1
    s = np.round(rng.random(3000) * 10) + y * rng.random(3000)
    order = np.argsort(-s, kind="stable")
    auc, ap = ranked_auc(y[order], s[order])
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert ap == pytest.approx(average_precision_score(y, s), abs=1e-12)


@pytest.mark.parametrize(
    "y, p, expected",
    [
        ([0, 1], [0.0, 1.0], 0.0),
        ([1, 1, 1, 1], [0.75, 0.75, 0.75, 0.75], 0.25),
        ([0, 0, 1, 1], [0.05, 0.05, 0.95, 0.85], 0.075),
    ],
)
def test_expected_calibration_error(y, p, expected):
    assert expected_calibration_error(np.array(y), np.array(p)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "p, in_cap, band",
    [
        (0.9, True, "high"),
        (0.9, False, "medium"),
        (0.15, True, "high"),
        (0.149, True, "low"),
        (0.05, False, "low"),
        (0.049, True, "none"),
    ],
)
def test_bands(p, in_cap, band):
    assert BANDS[assign_bands(np.array([p]), np.array([in_cap]), Thresholds())[0]] == band


def test_thresholds_are_validated():
    with pytest.raises(ModelError, match="임계값"):
        Thresholds(medium=0.05, low=0.1).validate()


# --- the trained model -----------------------------------------------------------------


def test_trained_model_beats_the_count_rule(modelled):
    _, _, meta = modelled
    m, b = meta["metrics"]["model"], meta["metrics"]["baseline"]
    assert meta["metrics"]["ground_truth"] == "synthetic_crisis"
    assert meta["metrics"]["round"] == "2024-R3"
    assert m["recall_at_capacity"] > b["recall_at_capacity"]
    assert m["pr_auc"] > b["pr_auc"]
    # Generator 3 (field-calibrated: crises 6.5 % of households, not 3 %) gives this small
    # fixture an ECE of 0.038 (generator 2: 0.014); the issue's ≤ 0.02 target is reported as not
    # met in docs/model.md, not hidden here.  The bar guards against a worse calibration.
    assert m["ece"] < 0.045
    # Temporal validation: training rounds all precede the test round.
    assert meta["training"]["rounds"] == ["2024-R1", "2024-R2"]
    assert meta["training"]["label_channels"] == ["system", "local"]


def test_artifact_files_and_metadata(modelled):
    _, models, meta = modelled
    folder = models / meta["version"]
    assert {p.name for p in folder.iterdir()} == {
        "model.skops",
        "metadata.json",
        "model-card.md",
        "whatif_areas.parquet",
        "whatif_prefix.parquet",
    }
    # Not world-readable: the what-if tables count crises per 읍면동.
    assert all(p.stat().st_mode & 0o007 == 0 for p in folder.iterdir())
    assert meta["library_versions"]["scikit-learn"]
    assert len(meta["training"]["data_fingerprint"]) == 64
    card = (folder / "model-card.md").read_text(encoding="utf-8")
    assert "## 용도 (Intended use)" in card and "## 한계 (Limits)" in card
    assert f"{meta['metrics']['model']['recall_at_capacity']:.3f}" in card
    for gap in meta["subgroup_gaps"]:
        if gap["ratio"] is not None and gap["ratio"] < 0.8:
            assert f"**{gap['dimension']}**" in card  # the card explains every gap below 0.8
    assert "일부 모델에서도" not in card and "모델이 아니라" not in card  # no cause that was not measured
    # The reasons sentence is exact: the sum holds over every feature, not over the three shown.
    n_features = len(
        sum((meta["feature_set"][k] for k in ("flags", "months", "amounts", "numeric", "categorical")), [])
    )
    assert "**기준값 + 기여도의 합 = 로그 오즈**" in card
    assert f"이 등식의 합은 변수 {n_features}개 전체의 기여도 합이며, 화면에 보이는 사유 3개의 합이 아닙니다" in card
    assert f"기준 집단: {meta['explain']['base_population']}." in card


def test_subgroup_ceilings_are_the_capacity_arithmetic(modelled):
    """Each group's recall ceiling is what its share of the visits allows, min(1, selected /
    positives), and no ranking's recall exceeds it; the gaps carry the same numbers."""
    _, _, meta = modelled
    rows = meta["subgroups"]
    assert rows
    for r in rows:
        assert r["prevalence"] == pytest.approx(r["positives"] / r["n"])
        for name in ("model", "baseline"):
            if r["positives"]:
                assert r[f"{name}_ceiling"] == pytest.approx(min(1.0, r[f"{name}_selected"] / r["positives"]))
                assert r[f"{name}_recall"] <= r[f"{name}_ceiling"] + 1e-12
    by = {(r["dimension"], r["group"]): r for r in rows}
    for g in meta["subgroup_gaps"]:
        worst = by[(g["dimension"], g["worst_group"])]
        assert g["worst_ceiling"] == pytest.approx(worst["model_ceiling"])
        assert g["worst_prevalence"] == pytest.approx(worst["prevalence"])


def test_reasons_are_the_models_own_arithmetic(modelled):
    path, models, meta = modelled
    st = open_store(path)  # process-wide: AppTests may hold this file open already
    fitted, _ = artifacts.load(models, meta["version"])
    X = build_features(st, 20243)
    prob, contrib = explain(fitted, X)
    # Exact decomposition: equal to the pipeline's own probabilities.
    expected = fitted.pipeline.predict_proba(X[list(fitted.features.all)])[:, 1]
    np.testing.assert_allclose(prob, expected, rtol=1e-5, atol=1e-7)
    logit = np.log(expected / (1 - expected))
    np.testing.assert_allclose(fitted.base_logit + contrib.sum(axis=1, dtype=np.float64), logit, atol=1e-4)
    reasons = top_reasons(fitted, X, contrib, load_catalogue())
    top = np.argsort(-prob)[:200]
    for i in top:
        got = [(reasons.feature[r][i], reasons.contribution[r][i]) for r in range(3) if reasons.feature[r][i] >= 0]
        assert got, "a high-risk household has at least one reason"
        sizes = [abs(c) for _, c in got]
        assert sizes == sorted(sizes, reverse=True)
        for g, c in got:
            assert c == pytest.approx(contrib[i, g])
        # The strongest reason is the largest |contribution| of all features, value 0 included
        # (tests/model/test_reasons.py checks signs and texts).
        assert sizes[0] == pytest.approx(np.abs(contrib[i]).max())


def test_reason_text_in_korean():
    cat = load_catalogue()
    assert reason_text("ind_health_ins_arrears", 6, cat) == "건강보험료 6개월 체납"
    assert reason_text("ind_elec_cutoff", 1, cat) == "단전"
    assert reason_text("total_amount", 3_500_000, cat) == "연체·체납액 3,500,000원"
    assert reason_text("welfare_status", "none", cat) == "복지급여 미수급"


def test_scores_cover_every_household_once(modelled):
    path, _, meta = modelled
    st = open_store(path)
    n = st.scalar("SELECT count(*) FROM households")
    rows = st.df("SELECT * FROM scores WHERE round_id = 20243")
    per_emd = st.df("""SELECT s.emd_code, count(*) FILTER (WHERE band = 'high') AS high, count(*) AS n
                       FROM scores s WHERE round_id = 20243 GROUP BY ALL""")
    run = st.df(model_sql.SCORE_RUNS)
    assert len(rows) == n and rows["household_id"].is_unique
    assert set(rows["model_version"]) == {meta["version"]}
    assert set(rows["band"]) <= set(BANDS)
    cap = np.maximum(1, np.rint(per_emd["n"] * 0.008))
    assert (per_emd["high"] <= cap).all()
    high = rows[rows["band"] == "high"]
    assert (high["probability"] >= 0.15).all() and high["reason_1"].notna().all()
    assert rows["reason_1"].str.contains("[가-힣]", regex=True).mean() > 0.99
    assert run["households"].iloc[-1] == n


# --- determinism -----------------------------------------------------------------------


def test_training_is_deterministic(modelled, tmp_path):
    path, _, meta = modelled
    copy = tmp_path / "again.duckdb"
    shutil.copy(path, copy)
    st = Store(copy)
    try:
        again = train(st, tmp_path / "models", activate=False)
    finally:
        st.close()
    assert again["version"] == meta["version"]
    assert again["training"]["data_fingerprint"] == meta["training"]["data_fingerprint"]
    assert again["metrics"]["model"] == meta["metrics"]["model"]


# --- refusals: the model in service stays ------------------------------------------------


def _copy(modelled, tmp_path):
    path, models, meta = modelled
    db = tmp_path / "m.duckdb"
    shutil.copy(path, db)
    shutil.copytree(models, tmp_path / "models")
    return db, tmp_path / "models", meta


def test_model_from_another_library_version_is_refused(modelled, tmp_path):
    db, models, meta = _copy(modelled, tmp_path)
    meta_path = models / meta["version"] / "metadata.json"
    data = json.loads(meta_path.read_text(encoding="utf-8"))
    data["library_versions"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        artifacts.load(models, meta["version"])


def test_model_for_another_feature_set_is_refused(modelled, tmp_path):
    db, models, meta = _copy(modelled, tmp_path)
    meta_path = models / meta["version"] / "metadata.json"
    data = json.loads(meta_path.read_text(encoding="utf-8"))
    data["feature_set"]["fingerprint"] = "000000000000"
    meta_path.write_text(json.dumps(data), encoding="utf-8")
    st = Store(db)
    try:
        before = artifacts.in_service(st)
        with pytest.raises(ModelError, match="feature set"):
            artifacts.activate(st, models, meta["version"])
        assert artifacts.in_service(st) == before
    finally:
        st.close()


@pytest.mark.parametrize(
    "delete, kwargs, message",
    [
        ("DELETE FROM visits", {}, "방문 결과\\(라벨\\)가 있는 차수가 없습니다"),
        ("DELETE FROM visits WHERE round_id = 20242", {"test_round": 20242}, "2024-R2 에 방문 결과가 없습니다"),
        (
            # Every positive label (a refusal of support still means the need was there).
            "DELETE FROM visits WHERE outcome IN ('need_confirmed', 'supported', 'refused') AND round_id < 20243",
            {},
            "라벨이 너무 적습니다",
        ),
        ("DELETE FROM visits WHERE round_id <> 20243", {}, "학습에 쓸 차수가 없습니다"),
    ],
)
def test_bad_training_data_is_refused_and_the_model_stays(modelled, tmp_path, delete, kwargs, message):
    db, models, meta = _copy(modelled, tmp_path)
    st = Store(db)
    try:
        st.run(delete)
        with pytest.raises(ModelError, match=message):
            train(st, models, **kwargs)
        assert artifacts.in_service(st) == meta["version"]
    finally:
        st.close()


def test_scoring_failure_keeps_previous_scores(modelled, tmp_path, monkeypatch):
    db, models, meta = _copy(modelled, tmp_path)
    st = Store(db)
    try:
        before = st.scalar("SELECT count(*) FROM scores WHERE round_id = 20243")
        fitted, _ = artifacts.load(models, meta["version"])
        import blindspot.model.scoring as scoring

        calls = {"n": 0}
        real = scoring.score_frame

        def failing(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("disk full")
            return real(*args, **kwargs)

        monkeypatch.setattr(scoring, "score_frame", failing)
        with pytest.raises(RuntimeError):
            score_round(st, fitted, meta["version"], 20243, max_rows=10_000)
        assert st.scalar("SELECT count(*) FROM scores WHERE round_id = 20243") == before
    finally:
        st.close()


def test_batched_scoring_equals_one_batch(modelled, tmp_path):
    db, models, meta = _copy(modelled, tmp_path)
    st = Store(db)
    try:
        fitted, _ = artifacts.load(models, meta["version"])
        one = st.df("SELECT household_id, probability, band, reason_1 FROM scores WHERE round_id = 20243 ORDER BY 1")
        score_round(st, fitted, meta["version"], 20243, max_rows=5_000)
        many = st.df("SELECT household_id, probability, band, reason_1 FROM scores WHERE round_id = 20243 ORDER BY 1")
    finally:
        st.close()
    pd.testing.assert_frame_equal(one, many)


def test_strong_baseline_is_weighted_on_training_rows_only(modelled):
    """The strong baseline (the national system's specificity-weighted signal sum): its
    weights are the log crisis-rate ratios of the training rounds' labelled rows, and its
    metrics on the test round are those of that weighted sum inside the same capacity."""
    from blindspot.model.evaluation import signal_weights
    from blindspot.model.features import feature_set
    from blindspot.model.training import plan_rounds, training_frame

    path, _, meta = modelled
    weights = meta["baselines"]["strong_baseline_weights"]
    st = open_store(path)  # process-wide: AppTests may hold this file open already
    train_rounds, test = plan_rounds(st, None)
    X, y = training_frame(st, train_rounds, load_catalogue())
    fs = feature_set(load_catalogue())
    codes = [*fs.flags, *fs.months, *fs.amounts]
    expected = signal_weights(X[codes].to_numpy(np.float64) > 0, y)
    assert [weights[c] for c in codes] == pytest.approx(expected.tolist(), abs=1e-6)
    # Some signals are far more specific than others (fixture, generator 3: 0 to 0.35).
    positive = sorted(w for w in weights.values() if w > 0)
    assert min(weights.values()) >= 0 and max(weights.values()) > 0.3 and positive[-1] > 5 * positive[0]
    strong = meta["metrics"]["strong_baseline"]
    assert {"recall_at_capacity", "precision_at_capacity", "pr_auc"} <= set(strong)
    assert 0 < strong["recall_at_capacity"] < 1 and strong["selected"] == meta["metrics"]["model"]["selected"]
    ratio = meta["metrics"]["model"]["recall_at_capacity"] / strong["recall_at_capacity"]
    assert meta["metrics"]["recall_ratio_strong"] == pytest.approx(ratio)
    assert 0 <= meta["metrics"]["model"]["ece_signalled"] < 0.2
    card = next((modelled[1]).glob("*/model-card.md")).read_text(encoding="utf-8")
    assert "가중 신호 규칙 (strong baseline" in card and f"{ratio:.2f}×" in card
