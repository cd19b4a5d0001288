"""Reasons: the base over the scored population, exact decomposition, value-0 reasons."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from blindspot.db.store import open_store
from blindspot.indicators.catalogue import load_catalogue
from blindspot.model import artifacts
from blindspot.model.features import build_features
from blindspot.model.pipeline import column_sums, explain, set_population_base
from blindspot.model.reasons import LOWERS, reason_text, top_reasons
from blindspot.model.scoring import feature_batches, sgg_batches

ROUND = 20243


@pytest.fixture(scope="module")
def population(modelled):
    """The fixture's model, its training-row means, and the test round's households."""
    path, models, meta = modelled
    st = open_store(path)  # process-wide: AppTests may hold this file open already
    fitted, _ = artifacts.load(models, meta["version"])
    X = build_features(st, ROUND)
    return st, fitted, X


def test_column_sums_equal_the_pipelines_transform(population):
    _, fitted, X = population
    Z = fitted.pipeline.named_steps["prep"].transform(X[list(fitted.features.all)])
    np.testing.assert_allclose(column_sums(fitted, X), Z.sum(axis=0), rtol=1e-12, atol=1e-6)


def test_base_over_the_population_is_batched_and_exact(population):
    """Means over every household of the round, summed batch by batch (≤ 5,000 households
    a batch, several batches), equal the means of the whole transformed matrix; the base
    is then the population's mean log-odds, and base + Σ contributions over all features
    is the pipeline's own log-odds to 1e-9 with either base."""
    st, fitted, X = population
    cols = list(fitted.features.all)
    logit = fitted.pipeline.decision_function(X[cols])
    train_base = fitted.base_logit
    _, before = explain(fitted, X, dtype=np.float64)
    np.testing.assert_allclose(train_base + before.sum(axis=1), logit, rtol=0, atol=1e-9)

    catalogue = load_catalogue()
    batches = sgg_batches(st, ROUND, max_rows=5_000)
    assert len(batches) >= 3
    info = set_population_base(fitted, "2024-R3", feature_batches(st, ROUND, catalogue, batches))
    n = st.scalar("SELECT count(*) FROM scores WHERE round_id = ?", [ROUND])
    assert info["base_households"] == n == len(X)
    assert info["base_population"] == f"2024-R3 전체 가구 {n:,}" == fitted.base_population
    Z = fitted.pipeline.named_steps["prep"].transform(X[cols])
    np.testing.assert_allclose(fitted.column_means, Z.mean(axis=0), rtol=1e-10, atol=1e-12)
    # The base is the mean log-odds of the round's households (for a linear model, the
    # log-odds at the mean of the columns is the mean of the log-odds).
    assert info["base_logit"] == pytest.approx(logit.mean(), abs=1e-9)
    prob, after = explain(fitted, X, dtype=np.float64)
    np.testing.assert_allclose(fitted.base_logit + after.sum(axis=1), logit, rtol=0, atol=1e-9)
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-logit)), rtol=1e-12)
    # Measured from the population, every feature's contribution averages 0 over it.
    np.testing.assert_allclose(after.mean(axis=0), 0.0, atol=1e-9)


def test_population_base_is_saved_and_loaded(population, modelled, tmp_path):
    st, _, _ = population
    _, models, meta = modelled
    fitted, saved_meta = artifacts.load(models, meta["version"])
    info = set_population_base(fitted, "2024-R3", feature_batches(st, ROUND, load_catalogue(), sgg_batches(st, ROUND)))
    shutil.copytree(models, tmp_path / "models")
    body = {k: v for k, v in saved_meta.items() if k != "explain"}
    artifacts.save(tmp_path / "models", fitted, {**body, "explain": info}, "card")
    again, again_meta = artifacts.load(tmp_path / "models", meta["version"])
    assert again.base_population == info["base_population"]
    assert again_meta["explain"]["base_households"] == info["base_households"]
    np.testing.assert_array_equal(again.column_means, fitted.column_means)
    assert again.base_logit == pytest.approx(info["base_logit"], abs=1e-12)


def test_reasons_are_what_raised_the_risk_most(population):
    st, fitted, X = population
    set_population_base(fitted, "2024-R3", [X])
    prob, contrib = explain(fitted, X)
    reasons = top_reasons(fitted, X, contrib, load_catalogue())
    names = list(fitted.features.all)
    texts = [reasons.text(r) for r in range(3)]
    for i in np.argsort(-prob)[:300]:
        got = [(reasons.feature[r][i], float(reasons.contribution[r][i]), texts[r][i]) for r in range(3)]
        got = [g for g in got if g[0] >= 0]
        # The largest positive contributions of all features, value 0 included, largest first.
        raising = sorted(contrib[i][contrib[i] > 0], reverse=True)[:3]
        assert [c for _, c, _ in got] == pytest.approx(raising, rel=1e-5)
        for g, c, text in got:
            assert c == pytest.approx(contrib[i, g], rel=1e-5) and c > 0 and not text.endswith(LOWERS)
            name = names[g]
            if name not in fitted.features.categorical and X[name].iloc[i] <= 0:
                assert "없음" in text or name == "emd_signal_rate"


def test_a_value_0_feature_that_raised_the_risk_is_shown_and_a_lowering_one_is_not(population):
    st, fitted, X = population
    names = list(fitted.features.all)
    rows = X.head(2).copy()
    rows["n_new"] = 0
    contrib = np.zeros((2, len(names)))
    contrib[0, names.index("n_new")] = 0.9  # no new signal raised household 0's risk most
    contrib[0, names.index("n_signals")] = -2.0  # larger, but lowering: not a reason to visit
    contrib[0, names.index("total_amount")] = 0.2
    reasons = top_reasons(fitted, rows, contrib, load_catalogue())
    assert [reasons.text(r)[0] for r in range(3)] == ["신규 위기정보 없음", reasons.text(1)[0], None]
    assert reasons.feature[0][0] == names.index("n_new") and reasons.feature[1][0] == names.index("total_amount")
    assert [reasons.feature[r][1] for r in range(3)] == [-1, -1, -1]  # nothing raised household 1


@pytest.mark.parametrize(
    "feature, value, contribution, text",
    [
        ("n_new", 0, -0.31, "신규 위기정보 없음 (위험 낮춤)"),
        ("n_new", 0, 0.2, "신규 위기정보 없음"),
        ("n_new", 2, 0.4, "이번 차수 새 위기정보 2건"),
        ("ind_elec_cutoff", 0, -0.1, "단전 없음 (위험 낮춤)"),
        ("ind_health_ins_arrears", 6, 0.8, "건강보험료 6개월 체납"),
        ("total_amount", 0, -0.5, "연체·체납액 없음 (위험 낮춤)"),
        ("one_person", "no", -0.2, "다인 가구 (위험 낮춤)"),
        ("emd_signal_rate", 0.0, -0.1, "읍면동 위기정보 가구 비율 0% (위험 낮춤)"),
    ],
)
def test_reason_text_is_worded_from_value_and_sign(feature, value, contribution, text):
    assert reason_text(feature, value, load_catalogue(), contribution) == text


def test_card_states_the_identity_and_the_base_population():
    from blindspot.model.card import _explanation_lines

    meta = {
        "training": {"rows": 64_211},
        "explain": {"base_population": "2024-R3 전체 가구 2,395,058", "base_logit": -3.4926},
    }
    text = "\n".join(_explanation_lines(meta, 63))
    assert "**기준값 + 기여도의 합 = 로그 오즈**" in text
    assert "변수 63개 전체의 기여도 합이며, 화면에 보이는 사유 3개의 합이 아닙니다" in text
    assert "기준 집단의 열 평균에서의 로그 오즈 -3.493; 기준 집단: 2024-R3 전체 가구 2,395,058." in text
    assert "변수마다 기여도의 평균이 0입니다" in text
    old = "\n".join(_explanation_lines({"training": {"rows": 64_211}}, 63))
    assert "기준 집단: 학습 행 64,211건 (방문 가구)." in old and "평균이 아닙니다" in old
