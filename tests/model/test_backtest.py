"""The rolling backtest: its folds, the cluster bootstrap on hand-made cases, the pooled figures
against the metrics of all folds' rows, the stored shape and its display."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from blindspot.db.store import open_store
from blindspot.indicators.catalogue import load_catalogue
from blindspot.model import backtest as bt
from blindspot.model.evaluation import expected_calibration_error, ranking_metrics, within_capacity
from blindspot.model.pipeline import Thresholds
from blindspot.model.training import RoundRows
from blindspot.rounds import from_id

HEADLINE = ("recall_at_capacity", "precision_at_capacity", "pr_auc")


def _rows(emd, y, p, b=None, strong=None, share=0.25, n_signals=None) -> RoundRows:
    """Hand-made rows of one round, with each ranking's selection as evaluate makes it."""
    emd, y, p = np.asarray(emd), np.asarray(y, dtype=np.int8), np.asarray(p, dtype=np.float64)
    b = p if b is None else np.asarray(b, dtype=np.float64)
    strong = p if strong is None else np.asarray(strong, dtype=np.float64)
    n_signals = np.ones(len(y), dtype=np.int16) if n_signals is None else np.asarray(n_signals)
    return RoundRows(
        1,
        "synthetic_crisis",
        share,
        pd.DataFrame({"n_signals": n_signals}),
        y,
        emd,
        p,
        b,
        strong,
        within_capacity(emd, p, share),
        within_capacity(emd, b, share),
        within_capacity(emd, strong, share),
        np.zeros(1),
    )


def _random_rows(seed: int, areas: int = 30, per_area: int = 40) -> RoundRows:
    rng = np.random.default_rng(seed)
    n = areas * per_area
    p = rng.beta(1, 6, n)
    y = (rng.random(n) < p).astype(np.int8)
    b = np.round(p * 8) + rng.random(n) * 0.1  # a coarser, tied ranking
    return _rows(np.repeat(np.arange(areas), per_area), y, p, b=b, n_signals=rng.integers(0, 3, n))


def _edges(rows: RoundRows) -> dict:
    return {
        "model": bt.pr_edges(rows.y, rows.p),
        "baseline": bt.pr_edges(rows.y, rows.b),
        "strong_baseline": bt.pr_edges(rows.y, rows.strong),
    }


# --- the fold plan ------------------------------------------------------------------------


def test_fold_plan_on_the_small_world(small_store):
    """SMALL has four rounds 2023-R6…2024-R3: 2023-R6 has no previous round loaded, so 2024-R1
    cannot be a test round (nothing trainable before it); 2024-R2 and 2024-R3 can."""
    plan = [(from_id(t).code, [from_id(r).code for r in train]) for t, train in bt.fold_plan(small_store)]
    assert plan == [("2024-R2", ["2024-R1"]), ("2024-R3", ["2024-R1", "2024-R2"])]
    latest = bt.fold_plan(small_store, latest=1)
    assert [(from_id(t).code, len(train)) for t, train in latest] == [("2024-R3", 2)]


# --- sufficient statistics and the bootstrap on hand-made cases ---------------------------


def test_unit_weights_give_the_metrics_of_the_rows():
    rows = _random_rows(3)
    point = bt.replicate_metrics(bt.area_stats(rows, _edges(rows)), np.ones((1, 30)))
    for name, score, sel in (("model", rows.p, rows.sel_m), ("baseline", rows.b, rows.sel_b)):
        m = ranking_metrics(rows.y, score, sel)
        assert point[name]["recall_at_capacity"][0] == pytest.approx(m["recall_at_capacity"], abs=1e-12)
        assert point[name]["precision_at_capacity"][0] == pytest.approx(m["precision_at_capacity"], abs=1e-12)
        assert point[name]["pr_auc"][0] == pytest.approx(m["pr_auc"], abs=0.02)  # binned: approximate
    assert point["model"]["ece"][0] == pytest.approx(expected_calibration_error(rows.y, rows.p), abs=1e-12)
    sig = rows.signalled
    assert point["model"]["ece_signalled"][0] == pytest.approx(
        expected_calibration_error(rows.y[sig], rows.p[sig]), abs=1e-12
    )


def test_a_replicate_is_the_metric_of_the_resampled_rows():
    """Weights (2, 0, 1, …) per 읍면동 = those rows twice, not at all, once: every figure of a
    replicate equals the evaluation functions on the rows it stands for."""
    rows = _random_rows(4)
    stats = bt.area_stats(rows, _edges(rows))
    counts = np.random.default_rng(9).multinomial(30, np.full(30, 1 / 30))
    take = np.concatenate([np.flatnonzero(rows.emd == a) for a in range(30) for _ in range(counts[a])])
    rep = bt.replicate_metrics(stats, counts[None, :].astype(float))
    y, p = rows.y[take], rows.p[take]
    m = ranking_metrics(y, p, rows.sel_m[take], p)
    assert rep["model"]["recall_at_capacity"][0] == pytest.approx(m["recall_at_capacity"], abs=1e-12)
    assert rep["model"]["precision_at_capacity"][0] == pytest.approx(m["precision_at_capacity"], abs=1e-12)
    assert rep["model"]["ece"][0] == pytest.approx(m["ece"], abs=1e-12)


def test_binned_pr_auc_is_exact_when_every_score_has_its_bin():
    rng = np.random.default_rng(5)
    score = rng.integers(0, 20, 2000).astype(float)
    y = (rng.random(2000) < score / 40).astype(np.int8)
    edges = np.arange(0.5, 19.6, 1.0)  # one bin per distinct score
    h = np.zeros((2, 21))
    np.add.at(h, (y, np.searchsorted(edges, score, side="right")), 1)
    assert float(bt.binned_average_precision(h)) == pytest.approx(average_precision_score(y, score), abs=1e-12)


def test_identical_clusters_give_a_zero_width_interval():
    # Ten 읍면동 alike: 4 households, 1 crisis, 1 visit that finds it; any resample is the same.
    rows = _rows(np.repeat(np.arange(10), 4), np.tile([1, 0, 0, 0], 10), np.tile([0.9, 0.2, 0.1, 0.05], 10))
    ci = bt.bootstrap(bt.area_stats(rows, _edges(rows)), 500, seed=1)
    assert ci["model"]["recall_at_capacity"] == [1.0, 1.0]
    assert ci["model"]["precision_at_capacity"] == [1.0, 1.0]
    assert ci["model"]["pr_auc"] == [1.0, 1.0]
    assert ci["model"]["ece"][0] == ci["model"]["ece"][1]


def test_one_cluster_driving_everything():
    """Ten 읍면동 visit one household each; only 읍면동 0's visit finds a crisis, and it holds the
    only crisis.  Precision of a replicate is k/10, k ~ Binomial(10, 0.1) the times 읍면동 0 is
    drawn: P(k = 0) = 0.35 and P(k ≤ 2) = 0.93 < 0.975 ≤ P(k ≤ 3) = 0.987, so the interval is
    [0, 0.3]; recall is 1 whenever it is defined (k > 0)."""
    y = np.zeros(40, dtype=np.int8)
    y[0] = 1
    rows = _rows(np.repeat(np.arange(10), 4), y, np.tile([0.9, 0.2, 0.1, 0.05], 10))
    ci = bt.bootstrap(bt.area_stats(rows, _edges(rows)), 4000, seed=2)
    assert ci["model"]["precision_at_capacity"] == [0.0, 0.3]
    assert ci["model"]["recall_at_capacity"] == [1.0, 1.0]


def test_bootstrap_is_deterministic_by_seed():
    stats = bt.area_stats(rows := _random_rows(6), _edges(rows))
    a, b, c = (bt.bootstrap(stats, 300, seed=s) for s in (11, 11, 12))
    assert a == b
    assert a["model"]["recall_at_capacity"] != c["model"]["recall_at_capacity"]
    lo, hi = a["model"]["recall_at_capacity"]
    assert 0 < lo < hi < 1


# --- the real path on the small world --------------------------------------------------------


@pytest.fixture(scope="module")
def refitted(modelled):
    """The backtest run again without reuse (both folds fitted here), with each fold's rows."""
    path, _, _ = modelled
    captured = []
    real = bt.area_stats

    def spy(rows, edges):
        captured.append(rows)
        return real(rows, edges)

    st = open_store(path)
    bt.area_stats = spy
    try:
        result = bt.run_backtest(st, C=1.0, thresholds=Thresholds(), catalogue=load_catalogue(), replicates=200)
    finally:
        bt.area_stats = real
    return result, captured


def test_metadata_shape(modelled):
    meta = modelled[2]
    b = meta["backtest"]
    assert b["replicates"] == 1000 and "복원추출" in b["method"]
    assert [f["round"] for f in b["folds"]] == ["2024-R2", "2024-R3"]
    assert [f["train_rounds"] for f in b["folds"]] == [["2024-R1"], ["2024-R1", "2024-R2"]]
    for part in (*b["folds"], b["pooled"]):
        for name in ("model", "baseline", "strong_baseline"):
            keys = HEADLINE + (("ece", "ece_signalled") if name == "model" else ())
            assert set(part[name]) == {*keys, "ci95"} and set(part[name]["ci95"]) == set(keys)
            for key in keys:
                lo, hi = part[name]["ci95"][key]
                assert 0 <= lo <= hi <= 1
            for key in ("recall_at_capacity", "precision_at_capacity"):
                lo, hi = part[name]["ci95"][key]
                assert lo <= part[name][key] <= hi
        assert part["recall_ratio"] == pytest.approx(
            part["model"]["recall_at_capacity"] / part["baseline"]["recall_at_capacity"]
        )
        assert part["recall_ratio_strong"] == pytest.approx(
            part["model"]["recall_at_capacity"] / part["strong_baseline"]["recall_at_capacity"]
        )
        assert set(part["ci95"]) == {"recall_ratio", "recall_ratio_strong"}
    assert b["pooled"]["rounds"] == ["2024-R2", "2024-R3"] and "round" not in b["pooled"]
    # The latest fold is train's own model on train's own test round: the same figures.
    last = b["folds"][-1]
    for name in ("model", "baseline", "strong_baseline"):
        for key in HEADLINE:
            assert last[name][key] == meta["metrics"][name][key]
    assert last["model"]["ece_signalled"] == meta["metrics"]["model"]["ece_signalled"]
    json.dumps(b, allow_nan=False)  # no NaN reaches the JSON


def test_refit_gives_the_stored_folds_and_pooled_equals_all_rows(modelled, refitted):
    meta = modelled[2]
    result, rows = refitted
    assert [f["round"] for f in result["folds"]] == [f["round"] for f in meta["backtest"]["folds"]]
    for mine, stored in zip(result["folds"], meta["backtest"]["folds"], strict=True):
        for key in HEADLINE:
            assert mine["model"][key] == pytest.approx(stored["model"][key], abs=1e-12)
    # Pooled = the metrics of all folds' rows together (each fold's selection inside its own capacity).
    y = np.concatenate([r.y for r in rows])
    pooled = result["pooled"]
    for name, score, sel in (
        ("model", "p", "sel_m"),
        ("baseline", "b", "sel_b"),
        ("strong_baseline", "strong", "sel_s"),
    ):
        s = np.concatenate([getattr(r, score) for r in rows])
        m = ranking_metrics(y, s, np.concatenate([getattr(r, sel) for r in rows]))
        assert pooled[name]["recall_at_capacity"] == pytest.approx(m["recall_at_capacity"], abs=1e-12)
        assert pooled[name]["precision_at_capacity"] == pytest.approx(m["precision_at_capacity"], abs=1e-12)
        assert pooled[name]["pr_auc"] == pytest.approx(m["pr_auc"], abs=0.005)  # 512 bins
    p = np.concatenate([r.p for r in rows])
    assert pooled["model"]["ece"] == pytest.approx(expected_calibration_error(y, p), abs=1e-12)
    sig = np.concatenate([r.signalled for r in rows])
    assert pooled["model"]["ece_signalled"] == pytest.approx(expected_calibration_error(y[sig], p[sig]), abs=1e-12)
    assert pooled["households"] == len(y) and pooled["positives"] == int(y.sum())
    assert pooled["areas"] == len(np.unique(np.concatenate([r.emd for r in rows])))  # 읍면동 drawn


def test_pooled_resamples_draw_a_district_with_all_its_rounds():
    """Two folds of the same 10 읍면동: ten units to draw, each bringing both rounds' clusters."""
    one = bt.area_stats(rows := _random_rows(7, areas=10), _edges(rows))
    both = bt.AreaStats.concat([one, one])
    n, index = both.units()
    assert n == 10 and index.tolist() == [*range(10), *range(10)]
    # Identical folds: pooling them doubles every count, so every replicate's figure (and the
    # interval, same seed) is the one fold's.
    assert bt.bootstrap(both, 300, seed=4) == bt.bootstrap(one, 300, seed=4)


# --- display and the command line ------------------------------------------------------------


def test_backtest_frame_and_card_section(modelled):
    meta = modelled[2]
    frame = bt.backtest_frame(meta)
    assert len(frame) == 3 * 3  # two folds and the pooled rows, three rankings each
    assert frame["순위"].tolist()[:3] == ["모델", "지표 개수 규칙", "가중 규칙"]
    assert frame["검증 차수"].iloc[-1] == "전체 (2개 차수)"
    text = frame.to_string()
    assert "None" not in text and "nan" not in text
    pooled = meta["backtest"]["pooled"]["model"]
    lo, hi = pooled["ci95"]["recall_at_capacity"]
    assert frame.iloc[6]["재현율 95% 구간"] == f"{lo:.3f}–{hi:.3f}"
    card = bt.card_section(meta)
    assert "python -m blindspot train" in card and "## 차수별 검증" in card
    assert f"{pooled['recall_at_capacity']:.3f} (95% 구간 {lo:.3f}–{hi:.3f})" in card
    assert bt.card_section({}) == "" and bt.backtest_frame({}).empty


def test_evaluate_json_prints_the_backtest(modelled, tmp_path):
    db, models, meta = modelled
    shutil.copy(db, tmp_path / "e.duckdb")
    out = subprocess.run(
        [sys.executable, "-m", "blindspot", "evaluate", "--json", "--db", str(tmp_path / "e.duckdb")]
        + ["--models", str(models)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["backtest"] == meta["backtest"]
