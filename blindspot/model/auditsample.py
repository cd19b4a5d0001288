"""An unbiased estimate of how much of the need a list finds, from a random audit sample.

On real data, outcomes exist only where someone visited, and visits follow the lists.  The
crises a list misses are never seen, so recall measured on visited households is biased
upwards and cannot be checked.  The remedy is a small random sample of visits (무작위 점검):
besides its list, each 읍면동 visits signalled households drawn at random, each with a known
probability, so that their outcomes stand for every signalled household the list left out.

* **Selection** (:func:`picks`): Poisson sampling.  In a 읍면동 whose list has ``c`` visits, every
  signalled household outside the list is drawn with probability
  π = min(1, share × c ÷ its number of such households), so about ``share`` of the 읍면동's visits
  go to the audit (setting ``audit_sample_share``, 3 % by default).  The draw is a fixed
  function of round and household (:func:`uniform`): reproducible, and not steerable by anyone
  choosing whom to visit.
* **Estimate** (:func:`estimate`): Horvitz–Thompson.  The crises among signalled households are
  those the list found plus each audited crisis weighted by 1/π; recall = found ÷ that total.
  Households without any signal are never drawn (π = 0), so the estimand is recall **among
  signalled households**; a crisis with no signal is outside what any list can be judged on.
* **Interval**: cluster bootstrap over 읍면동 (a 읍면동's list and draws are one unit).

On synthetic data the ground truth is known for every household, so the estimate is checked
against the true recall among signalled households (:func:`synthetic_check`, printed by
``evaluate --json`` as ``audit_estimate``).

How the feedback loop is handled: training labels carry their channel (``LABEL_CHANNELS`` of
:mod:`blindspot.model.training`); audit-sample outcomes are what lets the evaluation see past
the model's own lists, and the estimate above uses them with their inverse probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot import settings

# Fewer audited crises than this and the percentile bootstrap degenerates (with none, every
# replicate says the list found everything): the estimate is printed without an interval and
# marked not enough.  Twenty events keep the interval's relative width under about ±45 %.
MIN_AUDITED_CRISES = 20

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def uniform(round_id: int, household_id: np.ndarray) -> np.ndarray:
    """A fixed uniform number in [0, 1) per household and round (splitmix64 of both ids).

    >>> u = uniform(20243, np.arange(100_000))
    >>> bool(((u >= 0) & (u < 1)).all()), round(float(u.mean()), 2), bool(uniform(20243, np.array([7]))[0] == u[7])
    (True, 0.5, True)
    """
    with np.errstate(over="ignore"):
        z = np.asarray(household_id, dtype=np.uint64) * _GOLDEN + np.uint64(round_id) * _MIX2
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


def probabilities(emd: np.ndarray, listed: np.ndarray, signalled: np.ndarray, share: float) -> np.ndarray:
    """π per household: share × the 읍면동's list visits ÷ its signalled households outside the
    list, for those households; 0 for listed or unsignalled ones.

    >>> emd = np.array([1] * 6 + [2] * 3)
    >>> listed = np.array([1, 1, 0, 0, 0, 0, 1, 0, 0], bool)
    >>> signalled = np.array([1, 1, 1, 1, 0, 1, 1, 0, 0], bool)
    >>> probabilities(emd, listed, signalled, share=0.75).tolist()   # 읍면동 1: 0.75 × 2 ÷ 3
    [0.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0]
    """
    emd = np.asarray(emd)
    listed = np.asarray(listed, dtype=bool)
    pool = np.asarray(signalled, dtype=bool) & ~listed
    _, inverse = np.unique(emd, return_inverse=True)
    visits = np.bincount(inverse, weights=listed)
    eligible = np.bincount(inverse, weights=pool)
    pi = np.divide(share * visits, eligible, out=np.zeros(len(visits)), where=eligible > 0)
    return np.where(pool, np.minimum(1.0, pi[inverse]), 0.0)


def picks(round_id: int, household_id: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """The audit sample: households whose fixed uniform number is below their π."""
    return uniform(round_id, household_id) < pi


def _sums(emd, listed, picked, pi, y) -> pd.DataFrame:
    """Per 읍면동: crises the list found, and the audited crises weighted by 1/π."""
    found = np.asarray(listed, bool) & (np.asarray(y) > 0)
    audited = np.asarray(picked, bool) & (np.asarray(y) > 0)
    w = np.divide(1.0, pi, out=np.zeros(len(pi)), where=audited)
    return (
        pd.DataFrame({"emd": emd, "found": found.astype(np.float64), "missed": w})
        .groupby("emd", sort=True)[["found", "missed"]]
        .sum()
    )


def estimate(
    emd: np.ndarray,
    listed: np.ndarray,
    picked: np.ndarray,
    pi: np.ndarray,
    y: np.ndarray,
    replicates: int = 1000,
    seed: int = 0,
) -> dict:
    """Recall of the list among signalled households, from the list's outcomes and the audit
    sample's (``y`` is read only where ``listed`` or ``picked``): {"estimate", "ci95",
    "found", "missed_estimate", "audited", "audited_crises", "enough"}; the interval resamples
    읍면동, and is None with fewer than :data:`MIN_AUDITED_CRISES` audited crises.

    >>> emd = np.array([1, 1, 1, 1, 2, 2])
    >>> listed = np.array([1, 0, 0, 0, 1, 0], bool); picked = np.array([0, 1, 0, 0, 0, 1], bool)
    >>> pi = np.array([0, 0.5, 0.5, 0.5, 0, 0.25]); y = np.array([1, 1, 0, 1, 0, 1])
    >>> r = estimate(emd, listed, picked, pi, y, replicates=0)
    >>> r["found"], r["missed_estimate"], r["estimate"]        # 1 ÷ (1 + 1/0.5 + 1/0.25)
    (1, 6.0, 0.14285714285714285)
    """
    per = _sums(emd, listed, picked, pi, y)
    found, missed = per["found"].to_numpy(), per["missed"].to_numpy()
    total = found.sum() + missed.sum()
    audited_crises = int((np.asarray(picked, bool) & (np.asarray(y) > 0)).sum())
    out: dict = {
        "estimate": float(found.sum() / total) if total else None,
        "found": int(found.sum()),
        "missed_estimate": float(missed.sum()),
        "audited": int(np.asarray(picked, bool).sum()),
        "audited_crises": audited_crises,
        "enough": audited_crises >= MIN_AUDITED_CRISES,
        "ci95": None,
    }
    if replicates and len(per) > 1 and total and out["enough"]:
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(len(per), np.full(len(per), 1 / len(per)), size=replicates)
        f, m = counts @ found, counts @ missed
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(f + m > 0, f / (f + m), np.nan)
        lo, hi = np.nanpercentile(r, [2.5, 97.5])
        out["ci95"] = [float(lo), float(hi)]
    return out


def synthetic_check(
    round_id: int,
    household_id: np.ndarray,
    emd: np.ndarray,
    listed: np.ndarray,
    signalled: np.ndarray,
    y: np.ndarray,
    share: float | None = None,
    replicates: int | None = None,
) -> dict:
    """On a round with ground truth for every household: draw the audit sample, estimate the
    list's recall among signalled households from the list and the sample only, and compare
    it with the truth.  Returns :func:`estimate`'s figures plus "share", "truth" and "covered"
    (the truth inside the interval)."""
    share = settings.get("audit_sample_share") if share is None else share
    replicates = settings.get("backtest_replicates") if replicates is None else replicates
    pi = probabilities(emd, listed, signalled, share)
    picked = picks(round_id, household_id, pi)
    out = estimate(emd, listed, picked, pi, y, replicates=replicates)
    crises = (np.asarray(y) > 0) & np.asarray(signalled, bool)
    truth = float((crises & np.asarray(listed, bool)).sum() / crises.sum()) if crises.any() else None
    ci = out["ci95"]
    out.update(
        share=share,
        truth=truth,
        covered=None if ci is None or truth is None else bool(ci[0] <= truth <= ci[1]),
    )
    return out


def summary_text(a: dict) -> str:
    """The model page's sentence for ``evaluate``'s ``audit_estimate``.

    >>> text = summary_text({"share": 0.03, "audited": 580, "audited_crises": 61, "enough": True,
    ...                      "estimate": 0.112, "ci95": [0.09, 0.14], "truth": 0.118, "covered": True})
    >>> text[:57]
    '무작위 점검 3.0% (580가구, 위기 61가구)로 추정한 신호 가구 중 재현율은 11.2% (95%'
    >>> text[57:]
    ' 구간 9.0%–14.0%)이고, 합성 자료의 실제 값(11.8%)은 구간 안에 있습니다.'
    """
    head = f"무작위 점검 {a['share']:.1%} ({a['audited']:,}가구, 위기 {a['audited_crises']:,}가구)로 추정한"
    if not a.get("enough") or not a.get("ci95"):
        return (
            f"{head} 재현율은 구간을 낼 만큼 위기 가구가 뽑히지 않았습니다 (최소 {MIN_AUDITED_CRISES}가구). "
            f"합성 자료의 실제 신호 가구 중 재현율은 {a['truth']:.1%}입니다."
        )
    lo, hi = a["ci95"]
    where = "안에" if a.get("covered") else "밖에"
    return (
        f"{head} 신호 가구 중 재현율은 {a['estimate']:.1%} (95% 구간 {lo:.1%}–{hi:.1%})이고, "
        f"합성 자료의 실제 값({a['truth']:.1%})은 구간 {where} 있습니다."
    )


def from_outcomes(
    round_id: int,
    household_id: np.ndarray,
    emd: np.ndarray,
    signalled: np.ndarray,
    listed: np.ndarray,
    picked: np.ndarray,
    y: np.ndarray,
    visited: np.ndarray,
    share: float | None = None,
    replicates: int | None = None,
) -> dict:
    """The estimate on real data: the round's list (위험 band) and audit sample as scored, and
    visit outcomes where they exist (``visited``; ``y`` 1 = need confirmed).  A drawn household
    that was not visited is treated as missing at random within its 읍면동: its draw
    probability is scaled by the 읍면동's visited share of the draws.  Returns :func:`estimate`'s
    figures plus "share" and "drawn" (households drawn) and "visited_draws".

    >>> r = from_outcomes(20243, np.arange(6), np.array([1, 1, 1, 1, 2, 2]), np.ones(6, bool),
    ...                   np.array([1, 0, 0, 0, 1, 0], bool), np.array([0, 1, 1, 0, 0, 1], bool),
    ...                   np.array([1, 1, 0, 0, 0, 1]), np.array([1, 1, 0, 0, 1, 1], bool), share=1.0, replicates=0)
    >>> r["drawn"], r["visited_draws"], r["found"], r["missed_estimate"]   # 1 ÷ (1/3 × 1/2) + 1 ÷ 1
    (3, 2, 1, 7.0)
    """
    share = settings.get("audit_sample_share") if share is None else share
    replicates = settings.get("backtest_replicates") if replicates is None else replicates
    emd = np.asarray(emd)
    picked = np.asarray(picked, bool)
    visited = np.asarray(visited, bool)
    pi = probabilities(emd, listed, signalled, share)
    _, inverse = np.unique(emd, return_inverse=True)
    drawn = np.bincount(inverse, weights=picked)
    seen = np.bincount(inverse, weights=picked & visited)
    response = np.divide(seen, drawn, out=np.zeros(len(drawn)), where=drawn > 0)
    out = estimate(
        emd,
        np.asarray(listed, bool) & visited,
        picked & visited,
        pi * response[inverse],
        np.where(visited, y, 0),
        replicates=replicates,
    )
    out.update(share=share, drawn=int(picked.sum()), visited_draws=int((picked & visited).sum()))
    return out
