"""Metrics of a risk ranking: the model against the indicator-count rule it replaces.

Everything here is a pure function of arrays, so it is tested on tiny hand-made cases.
"Capacity" is how many households a 읍면동 office can visit in a round: by default
0.8 % of its households (domain.md: ≈0.8 % of all households are flagged per round),
at least one.  A ranking is judged by what it puts inside that capacity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot import settings

DEFAULT_CAPACITY_SHARE = settings.default("capacity_share")
RELIABILITY_BINS = 10


def count_rule_score(n_signals, total_amount, max_months) -> np.ndarray:
    """The indicator-count rule as one sortable score: number of signals, ties broken by
    the amount in arrears (won), then by the longest arrears (months).

    The tie-breakers live in the fraction, so they never outweigh one signal.

    >>> s = count_rule_score([2, 2, 3, 0], [500_000, 0, 0, 0], [0, 6, 0, 0])
    >>> [int(i) for i in np.argsort(-s)]
    [2, 0, 1, 3]
    """
    # log1p(won)/40 < 1 for any amount below 10^17 won; months/10^9 stays below the
    # smallest step between two amounts (multiples of ₩10,000 up to ₩1 billion).
    n = np.asarray(n_signals, dtype=np.float64)
    amount = np.log1p(np.asarray(total_amount, dtype=np.float64).clip(0)) / 40.0
    months = np.asarray(max_months, dtype=np.float64).clip(0, 999) / 1e9
    return n + amount + months


def signal_weights(present: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights of the strong baseline, one per indicator: how much more often a household
    with the signal was in crisis than households in general, as a log rate ratio
    (smoothed: +0.5 crises, +1 household), and 0 for a signal that does not raise the rate.
    This is the national system's way of ranking — it weighs signals by how specific they
    are, it does not count them.

    ``present`` is [households, indicators] (signal present), ``y`` the labels (1 = crisis).

    >>> present = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [0, 0]], bool)
    >>> y = np.array([1, 1, 0, 1, 0, 0])
    >>> [round(float(w), 4) for w in signal_weights(present, y)]  # log((2.5/3)/(3.5/7)), log((1.5/3)/(3.5/7))
    [0.5108, 0.0]
    """
    present = np.asarray(present, dtype=bool)
    y = np.asarray(y).astype(np.float64)
    overall = (y.sum() + 0.5) / (len(y) + 1)
    with_signal = (present * y[:, None]).sum(axis=0)
    rate = (with_signal + 0.5) / (present.sum(axis=0) + 1)
    return np.maximum(0.0, np.log(rate / overall))


def capacity_per_area(households: np.ndarray, share: float = DEFAULT_CAPACITY_SHARE) -> np.ndarray:
    """Households an office can visit: ``share`` of its households, rounded, at least one.

    >>> capacity_per_area(np.array([10, 250, 1000])).tolist()
    [1, 2, 8]
    """
    return np.maximum(1, np.rint(np.asarray(households) * share)).astype(np.int64)


def rank_within(area: np.ndarray, score: np.ndarray) -> np.ndarray:
    """1-based rank of each row's score within its area (highest first; ties by row order).

    >>> rank_within(np.array([1, 1, 2, 1]), np.array([0.2, 0.9, 0.5, 0.4])).tolist()
    [3, 1, 1, 2]
    """
    area = np.asarray(area)
    order = np.lexsort((np.arange(len(area)), -np.asarray(score, dtype=np.float64), area))
    sorted_area = area[order]
    starts = np.r_[0, np.flatnonzero(sorted_area[1:] != sorted_area[:-1]) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(area)]))
    rank = np.empty(len(area), dtype=np.int64)
    rank[order] = np.arange(len(area)) - first + 1
    return rank


def capacity_of_rows(area: np.ndarray, share: float = DEFAULT_CAPACITY_SHARE) -> np.ndarray:
    """For each row, the visit capacity of its area (see :func:`capacity_per_area`).

    >>> capacity_of_rows(np.array([7] * 200 + [9] * 10)).tolist()[::100]
    [2, 2, 1]
    """
    _, inverse, counts = np.unique(np.asarray(area), return_inverse=True, return_counts=True)
    return capacity_per_area(counts, share)[inverse]


def within_capacity(area: np.ndarray, score: np.ndarray, share: float = DEFAULT_CAPACITY_SHARE) -> np.ndarray:
    """Boolean mask of the rows an office would visit: its top-k by score.

    >>> int(within_capacity(np.array([1] * 200 + [2] * 10), np.r_[np.arange(200), np.arange(10)]).sum())
    3
    """
    return rank_within(area, score) <= capacity_of_rows(area, share)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> float:
    """ECE: mean |observed rate − mean probability| over equal-width probability bins,
    weighted by the share of rows in each bin.

    >>> expected_calibration_error(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5]))
    0.0
    >>> round(expected_calibration_error(np.array([1, 1]), np.array([0.9, 0.7])), 3)
    0.2
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if not len(y):
        return float("nan")
    b = np.minimum((p * bins).astype(np.int64), bins - 1)
    gap = np.abs(np.bincount(b, weights=y, minlength=bins) - np.bincount(b, weights=p, minlength=bins))
    return float(gap.sum() / len(y))


def reliability_curve(y: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Mean predicted probability and observed rate per equal-width bin (empty bins left out)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    b = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(b, minlength=bins)
    mean_p = np.bincount(b, weights=p, minlength=bins)
    rate = np.bincount(b, weights=y, minlength=bins)
    return [
        {
            "bin": int(i),
            "n": int(n[i]),
            "mean_probability": float(mean_p[i] / n[i]),
            "observed_rate": float(rate[i] / n[i]),
        }
        for i in range(bins)
        if n[i]
    ]


def pr_curve(y: np.ndarray, score: np.ndarray, points: int = 50) -> list[dict]:
    """Precision–recall pairs at ``points`` evenly spaced recall levels (for charts)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, score)
    out = []
    for level in np.linspace(0.01, 1.0, points):
        ok = recall >= level
        if ok.any():
            out.append({"recall": float(level), "precision": float(precision[ok].max())})
    return out


def ranked_auc(y_sorted: np.ndarray, score_sorted: np.ndarray) -> tuple[float | None, float | None]:
    """ROC-AUC and average precision (PR-AUC) of rows already sorted by descending score.

    Tied scores form one threshold, as in scikit-learn (tested equal to
    ``roc_auc_score`` and ``average_precision_score``).  Sorting once and passing
    masked views makes subgroup metrics O(n) each instead of a sort per subgroup.

    >>> ranked_auc(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.3, 0.1]))
    (0.75, 0.8333333333333333)
    """
    y = np.asarray(y_sorted, dtype=np.int64)
    s = np.asarray(score_sorted)
    P = int(y.sum())
    N = len(y) - P
    if P == 0 or N == 0:
        return None, None
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]
    tps = np.cumsum(y)[last].astype(np.float64)
    fps = (last + 1) - tps
    tpr = np.r_[0.0, tps / P]
    fpr = np.r_[0.0, fps / N]
    auc = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))
    precision = tps / (tps + fps)
    ap = float(np.sum((tpr[1:] - tpr[:-1]) * precision))
    return auc, ap


def ranking_metrics(
    y: np.ndarray, score: np.ndarray, selected: np.ndarray, probability: np.ndarray | None = None
) -> dict:
    """Metrics of one ranking: ROC-AUC, PR-AUC (average precision), and precision and
    recall inside capacity (``selected``); Brier score and ECE when ``score`` is a probability.

    >>> m = ranking_metrics(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.3, 0.1]),
    ...                     np.array([True, True, False, False]))
    >>> m["precision_at_capacity"], m["recall_at_capacity"], m["roc_auc"]
    (0.5, 0.5, 0.75)
    """
    y = np.asarray(y).astype(np.int64)
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    roc, ap = ranked_auc(y[order], np.asarray(score)[order])
    out = {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": roc,
        "pr_auc": ap,
        "selected": int(selected.sum()),
        "precision_at_capacity": float(y[selected].mean()) if selected.any() else None,
        "recall_at_capacity": float(y[selected].sum() / y.sum()) if y.sum() else None,
    }
    if probability is not None:
        p = np.asarray(probability, dtype=np.float64)
        out["brier"] = float(np.mean((p - y) ** 2)) if len(y) else None
        out["ece"] = expected_calibration_error(y, p)
    return out


def subgroup_table(
    groups: dict[str, np.ndarray],
    y: np.ndarray,
    rankings: dict[str, tuple],
    positive_means: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Per-subgroup metrics for each ranking.

    ``groups`` maps a dimension name (e.g. "연령대") to an array of group labels;
    ``rankings`` maps a ranking name ("model", "baseline") to ``(score, selected,
    probability or None)``.  Recall inside a group is measured against the one
    selection made for everybody, as an office would visit.  ``positive_means`` adds,
    per named array, its mean over the group's positives.

    Beside the metrics, each group has its ``prevalence`` (positives / n) and, per ranking,
    how many it ``selected`` and the ``ceiling``: the highest recall that many visits allow,
    min(1, selected / positives).  Capacity is shared out by households, not by need, so a
    group with a high prevalence has a low ceiling whatever the ranking: the measured cause
    the model card names.

    Why a loop and not fairlearn's ``MetricFrame``: MetricFrame gives the same table (tested
    equal on random data, tests/model/test_subgroups.py) but turns every row into a Python
    object several times per metric; on the 2.4 million households of a scale-0.1 round it
    took 450 s for one dimension where this loop takes 13 s (docs/model.md).

    >>> t = subgroup_table({"g": np.array(["a", "a", "a", "a", "b", "b", "b", "b"])},
    ...                    np.array([1, 1, 1, 0, 1, 0, 0, 0]),
    ...                    {"m": (np.arange(8.0)[::-1], np.array([1, 0, 0, 0, 1, 0, 0, 0], bool), None)})
    >>> t[["group", "prevalence", "m_selected", "m_ceiling", "m_recall"]].values.tolist()
    [['a', 0.75, 1, 0.3333333333333333, 0.3333333333333333], ['b', 0.25, 1, 1.0, 1.0]]
    """
    y = np.asarray(y).astype(np.int64)
    orders = {
        name: np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
        for name, (score, _, _) in rankings.items()
    }
    rows = []
    for dim, labels in groups.items():
        if isinstance(labels, pd.Categorical):
            codes, uniques = labels.codes, labels.categories
        else:
            codes, uniques = pd.factorize(np.asarray(labels), sort=True)
        for k, g in enumerate(uniques):
            m = codes == k
            if not m.any():  # an unused category (e.g. no head of unknown sex)
                continue
            row = {"dimension": dim, "group": str(g), "n": int(m.sum()), "positives": int(y[m].sum())}
            row["prevalence"] = row["positives"] / row["n"]
            for name, (score, selected, prob) in rankings.items():
                o = orders[name][m[orders[name]]]
                roc, ap = ranked_auc(y[o], np.asarray(score)[o])
                pos = y[m].sum()
                sel = selected[m]
                row[f"{name}_selected"] = int(sel.sum())
                row[f"{name}_ceiling"] = float(min(1.0, sel.sum() / pos)) if pos else None
                row[f"{name}_recall"] = float(y[m][sel].sum() / pos) if pos else None
                row[f"{name}_precision"] = float(y[m][sel].mean()) if sel.any() else None
                row[f"{name}_roc_auc"] = roc
                row[f"{name}_pr_auc"] = ap
                if prob is not None:
                    row[f"{name}_ece"] = expected_calibration_error(y[m], prob[m])
            for col, values in (positive_means or {}).items():
                pos = m & (y == 1)
                row[col] = float(np.asarray(values)[pos].mean()) if pos.any() else None
            rows.append(row)
    return pd.DataFrame(rows)


def recall_gaps(table: pd.DataFrame, ranking: str = "model", min_positives: int = 20) -> pd.DataFrame:
    """Worst/best recall ratio per dimension, over groups with at least ``min_positives``.

    >>> t = pd.DataFrame({"dimension": ["a", "a", "a"], "group": ["x", "y", "z"],
    ...                   "positives": [50, 50, 5], "model_recall": [0.2, 0.1, 0.0]})
    >>> g = recall_gaps(t).iloc[0]
    >>> g["worst_group"], g["best_group"], float(g["ratio"])
    ('y', 'x', 0.5)
    """
    rows = []
    col = f"{ranking}_recall"
    extra = {  # the measured causes, when the table has them (subgroup_table does)
        "worst_prevalence": ("worst", "prevalence"),
        "best_prevalence": ("best", "prevalence"),
        "worst_ceiling": ("worst", f"{ranking}_ceiling"),
        "best_ceiling": ("best", f"{ranking}_ceiling"),
    }
    for dim, part in table.groupby("dimension", sort=False):
        part = part[(part["positives"] >= min_positives) & part[col].notna()]
        if len(part) < 2:
            continue
        worst = part.loc[part[col].idxmin()]
        best = part.loc[part[col].idxmax()]
        ratio = float(worst[col] / best[col]) if best[col] else None
        row = {
            "dimension": dim,
            "worst_group": worst["group"],
            "worst_recall": float(worst[col]),
            "best_group": best["group"],
            "best_recall": float(best[col]),
            "ratio": ratio,
        }
        for key, (which, source) in extra.items():
            if source in part:
                value = (worst if which == "worst" else best)[source]
                row[key] = None if pd.isna(value) else float(value)
        rows.append(row)
    columns = ["dimension", "worst_group", "worst_recall", "best_group", "best_recall", "ratio"]
    if "prevalence" in table:
        columns += list(extra)
    return pd.DataFrame(rows, columns=columns)
