"""The composite need index and its rank intervals, as pure functions of arrays (no store).

* **Standardise** each component across the areas ranked: z = (x − mean) / sd (population sd,
  ddof 0), so a component in households per 1,000 and one in shares weigh alike; a component
  that is the same everywhere gives z = 0 (it tells no area apart).  Every component is
  oriented so that higher means more need, so no sign is flipped.
* **Index** = Σ w_c z_c / Σ w_c: the weighted mean of the z-scores, in standard deviations
  above the average area (0 = average need).
* **Rank**: 1 = the highest index; ties share the best rank.
* **Rank interval**: the rounds behind the component values are resampled with replacement
  ``replicates`` times; each replicate averages its rounds, standardises, weights and ranks
  again; the interval is the 2.5 and 97.5 % quantiles of an area's ranks (a rank that
  replicates actually gave).  Deterministic for a seed.

Described in docs/zones.md.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

CONFIDENCE = 0.95  # two-sided level of the rank interval (docs/zones.md)


def standardise(values: np.ndarray) -> np.ndarray:
    """z-scores per column (component) across rows (areas): (x − mean) / sd with the
    population sd; a column with sd 0 gives zeros.  Units: standard deviations.

    By hand: [1, 2, 3] has mean 2 and sd √(2/3) = 0.8165, so z = [−1.2247, 0, 1.2247].

    >>> standardise(np.array([[1.0], [2.0], [3.0]])).round(4).ravel().tolist()
    [-1.2247, 0.0, 1.2247]
    >>> standardise(np.array([[5.0], [5.0]])).ravel().tolist()
    [0.0, 0.0]
    """
    values = np.asarray(values, dtype="float64")
    mean = values.mean(axis=-2, keepdims=True)
    sd = values.std(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (values - mean) / sd
    return np.where(sd > 0, z, 0.0)


def composite(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The index of each area (row): Σ w_c z_c / Σ w_c over the components (columns), z from
    :func:`standardise`.  Weights are relative (≥ 0, not all 0).  Units: standard deviations.

    By hand, two components weighted 1 : 1 — A = [1, 2, 3] (z −1.2247, 0, 1.2247) and
    B = [3, 3, 0] (mean 2, sd √2; z 0.7071, 0.7071, −1.4142) — give
    ((−1.2247 + 0.7071)/2, (0 + 0.7071)/2, (1.2247 − 1.4142)/2):

    >>> composite(np.array([[1.0, 3.0], [2.0, 3.0], [3.0, 0.0]]), np.array([1.0, 1.0])).round(4).tolist()
    [-0.2588, 0.3536, -0.0947]
    """
    weights = check_weights(weights)
    return standardise(values) @ (weights / weights.sum())


def check_weights(weights) -> np.ndarray:
    """Weights as an array; refuses a negative weight or weights that are all zero.

    >>> check_weights([1, 0]).tolist()
    [1.0, 0.0]
    """
    weights = np.asarray(weights, dtype="float64")
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise ValueError("가중치는 0 이상의 수여야 합니다.")
    if weights.sum() <= 0:
        raise ValueError("가중치가 모두 0 입니다: 하나 이상에 0 보다 큰 가중치를 주세요.")
    return weights


def ranks(index: np.ndarray) -> np.ndarray:
    """Rank of each area (last axis), 1 = highest index; ties share the best rank.

    >>> ranks(np.array([-0.2588, 0.3536, -0.0947])).tolist(), ranks(np.array([2.0, 2.0, 1.0])).tolist()
    ([3, 1, 2], [1, 1, 3])
    """
    return rankdata(-np.asarray(index, dtype="float64"), method="min", axis=-1).astype("int64")


def replicate_ranks(per_round: np.ndarray, weights: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """Ranks of every area in every bootstrap replicate: ``per_round`` has shape (rounds,
    areas, components); each replicate draws as many rounds as there are, with replacement,
    averages them, and ranks the :func:`composite` index.  Returns (replicates, areas).
    The same seed gives the same replicates."""
    per_round = np.asarray(per_round, dtype="float64")
    n_rounds = per_round.shape[0]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_rounds, size=(int(replicates), n_rounds))
    # How often each round was drawn: the replicate's average is a weighted mean of the rounds.
    counts = np.zeros((int(replicates), n_rounds))
    np.add.at(counts, (np.arange(int(replicates))[:, None], picks), 1.0)
    means = np.einsum("br,rac->bac", counts / n_rounds, per_round)
    weights = check_weights(weights)
    index = standardise(means) @ (weights / weights.sum())
    return ranks(index)


def rank_intervals(
    per_round: np.ndarray, weights: np.ndarray, replicates: int, seed: int, top: int = 1
) -> dict[str, np.ndarray]:
    """Point index and rank (from the mean over all rounds) and the bootstrap rank interval
    of each area, for ``per_round`` of shape (rounds, areas, components).

    Returns ``index`` (standard deviations), ``rank``, ``rank_low`` and ``rank_high`` (the
    2.5 and 97.5 % quantiles of the replicates' ranks, ranks that occurred) and ``top_share``
    (the share of replicates, 0..1, in which the area ranked within the first ``top``).

    By hand, two rounds, two areas, one component: round 1 gives [1, 2], round 2 gives
    [3, 0].  The mean [2, 1] ranks area 1 first.  Resampling the rounds gives (1, 1) with
    chance 1/4 (area 2 first), (2, 2) with 1/4 and the mixed draws with 1/2 (area 1 first),
    so area 1 ranks first in 3/4 of replicates and both intervals are 1–2:

    >>> out = rank_intervals(np.array([[[1.0], [2.0]], [[3.0], [0.0]]]), np.array([1.0]), 2000, 7)
    >>> out["rank"].tolist(), out["rank_low"].tolist(), out["rank_high"].tolist()
    ([1, 2], [1, 1], [2, 2])
    >>> round(float(out["top_share"][0]), 1)
    0.8
    """
    per_round = np.asarray(per_round, dtype="float64")
    index = composite(per_round.mean(axis=0), weights)
    reps = replicate_ranks(per_round, weights, replicates, seed)
    tail = (1.0 - CONFIDENCE) / 2
    low = np.quantile(reps, tail, axis=0, method="inverted_cdf").astype("int64")
    high = np.quantile(reps, 1.0 - tail, axis=0, method="inverted_cdf").astype("int64")
    return {
        "index": index,
        "rank": ranks(index),
        "rank_low": low,
        "rank_high": high,
        "top_share": (reps <= int(top)).mean(axis=0),
    }
