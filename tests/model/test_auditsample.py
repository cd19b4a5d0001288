"""The random audit sample and its Horvitz–Thompson recall estimate: the draw's probabilities,
unbiasedness over many rounds' draws, and the estimate recovering the truth on the small world."""

from __future__ import annotations

import numpy as np
import pytest

from blindspot.model import auditsample


def _world(seed: int = 3, areas: int = 60, per: int = 400):
    """Households in ``areas`` 읍면동 with a score, signals and crises; the list is each
    읍면동's top 2 % by score."""
    rng = np.random.default_rng(seed)
    emd = np.repeat(np.arange(areas), per)
    score = rng.random(len(emd))
    signalled = rng.random(len(emd)) < 0.3
    y = rng.random(len(emd)) < np.where(signalled, 0.05 + 0.5 * score**3, 0.01)
    order = np.lexsort((-score - signalled, emd))
    rank = np.empty(len(emd), int)
    rank[order] = np.tile(np.arange(per), areas)
    listed = rank < per * 0.02
    return emd, listed, signalled, y.astype(int)


def test_probabilities_spend_the_share_of_each_visit_list():
    emd, listed, signalled, _ = _world()
    pi = auditsample.probabilities(emd, listed, signalled, 0.03)
    per_area = np.bincount(emd, weights=pi)
    assert per_area == pytest.approx(0.03 * np.bincount(emd, weights=listed))  # expected draws = 3 % of visits
    assert (pi[listed] == 0).all() and (pi[~signalled] == 0).all()


def test_the_estimate_is_unbiased_over_draws():
    """Over 300 rounds' draws of the same world, the mean estimate of the missed crises equals
    the true number (Horvitz–Thompson), and the recall estimate centres on the truth."""
    emd, listed, signalled, y = _world()
    pi = auditsample.probabilities(emd, listed, signalled, 0.5)
    crises = (y > 0) & signalled
    truth_missed = int((crises & ~listed).sum())
    truth_recall = (crises & listed).sum() / crises.sum()
    hid = np.arange(len(emd))
    est = [auditsample.estimate(emd, listed, auditsample.picks(r, hid, pi), pi, y, replicates=0) for r in range(300)]
    missed = np.array([e["missed_estimate"] for e in est])
    assert missed.mean() == pytest.approx(truth_missed, rel=0.02)
    assert np.mean([e["estimate"] for e in est]) == pytest.approx(truth_recall, rel=0.03)


def test_the_interval_covers_the_truth_about_95_percent_of_draws():
    emd, listed, signalled, y = _world(seed=5)
    hid = np.arange(len(emd))
    covered = [
        auditsample.synthetic_check(r, hid, emd, listed, signalled, y, share=0.5, replicates=400)["covered"]
        for r in range(60)
    ]
    assert 0.85 <= np.mean(covered) <= 1.0


def test_evaluate_reports_the_estimate_on_the_small_world(modelled):
    """The trained model's metadata carries the estimate from a 3 % audit sample of its test
    round.  The small world's 3 % of visits draws a dozen households, too few crises for an
    interval: the figure says so instead of printing a degenerate one."""
    _, _, meta = modelled
    a = meta["metrics"]["audit_estimate"]
    assert a["share"] == 0.03 and 0 < a["audited"] < 100
    assert a["audited_crises"] < auditsample.MIN_AUDITED_CRISES and a["enough"] is False
    assert a["ci95"] is None and a["covered"] is None
    assert 0 < a["truth"] < 1


def test_too_few_audited_crises_give_no_interval():
    emd = np.repeat(np.arange(10), 10)
    listed = np.tile(np.r_[True, np.zeros(9, bool)], 10)
    y = np.zeros(100, int)
    r = auditsample.estimate(emd, listed, ~listed, np.where(listed, 0.0, 1.0), y, replicates=100)
    assert (r["audited"], r["audited_crises"], r["enough"], r["ci95"], r["estimate"]) == (90, 0, False, None, None)


def test_on_real_data_the_estimate_reads_the_scored_sample_and_visits(modelled, tmp_path):
    """Without ground truth (the synthetic truth removed: the real-data path), ``evaluate``
    estimates from the round's scored list and audit picks and their visit outcomes."""
    import shutil

    from blindspot.db.store import Store
    from blindspot.model import artifacts
    from blindspot.model.training import evaluate

    db0, models, meta = modelled
    shutil.copy(db0, tmp_path / "real.duckdb")
    st = Store(tmp_path / "real.duckdb")
    try:
        st.run("DELETE FROM synthetic_crisis")
        fitted, _ = artifacts.load(models, meta["version"])
        t = 20243
        out = evaluate(st, fitted, t, weights=meta["baselines"]["strong_baseline_weights"])
        drawn = st.scalar("SELECT count(*) FROM scores WHERE round_id = ? AND audit_pick", [t])
        visited = st.scalar(
            "SELECT count(DISTINCT s.household_id) FROM scores s JOIN visits_now v "
            "ON v.household_id = s.household_id AND v.round_id = s.round_id "
            "WHERE s.round_id = ? AND s.audit_pick AND v.outcome <> 'unreachable' AND v.channel IN ('system', 'local')",
            [t],
        )
    finally:
        st.close()
    a = out["audit_estimate"]
    assert out["ground_truth"] == "visit_outcomes"
    assert a["drawn"] == drawn > 0 and a["visited_draws"] == visited
    assert "truth" not in a  # nothing to compare with on real data
