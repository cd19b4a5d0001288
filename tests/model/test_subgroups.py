"""Subgroup tables: the hand-written loop of ``evaluation.subgroup_table`` gives exactly
what fairlearn's MetricFrame gives, value for value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame

from blindspot.model.evaluation import expected_calibration_error, ranked_auc, subgroup_table, within_capacity

# Per-group metrics for fairlearn's MetricFrame: each takes the group's labels (int64) and
# selection (bool) in descending score order, plus named per-row arrays, and gives the value
# evaluation.subgroup_table writes (None where undefined).


def _count(y, sel) -> int:
    return len(y)


def _positives(y, sel) -> int:
    return int(y.sum())


def _selected(y, sel) -> int:
    return int(sel.sum())


def _ceiling(y, sel) -> float | None:
    pos = y.sum()
    return float(min(1.0, sel.sum() / pos)) if pos else None


def _recall(y, sel) -> float | None:
    pos = y.sum()
    return float(y[sel].sum() / pos) if pos else None


def _precision(y, sel) -> float | None:
    return float(y[sel].mean()) if sel.any() else None


def _aucs(y, sel, *, score) -> tuple[float | None, float | None]:
    # Rows arrive in descending score order (the frame is permuted once per ranking and a
    # group keeps that order), so no sort per group.
    return ranked_auc(y, score)


def _ece(y, sel, *, prob, row) -> float:
    # Back to the input's row order: ECE's bin sums then add up in the same order as on
    # the unsorted arrays, to the last bit.
    back = np.argsort(row, kind="stable")
    return expected_calibration_error(y[back], prob[back])


def _positive_mean(y, sel, *, values) -> float | None:
    pos = y == 1
    return float(values[pos].mean()) if pos.any() else None


def _value(v, kind=float):
    """A MetricFrame cell as the loop wrote it: None for a missing value, else ``kind``."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return kind(v)


def _metricframe_subgroup_table(
    groups: dict[str, np.ndarray],
    y: np.ndarray,
    rankings: dict[str, tuple],
    positive_means: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """``evaluation.subgroup_table`` written with fairlearn's ``MetricFrame``: the
    reference its hand-written loop is checked against (the loop stays in the product
    because MetricFrame was far slower on a whole round; docs/model.md).

    ``groups`` maps a dimension name (e.g. "연령대") to an array of group labels;
    ``rankings`` maps a ranking name ("model", "baseline") to ``(score, selected,
    probability or None)``.  Recall inside a group is measured against the one
    selection made for everybody, as an office would visit.  ``positive_means`` adds,
    per named array, its mean over the group's positives.

    Beside the metrics, each group has its ``prevalence`` (positives / n) and, per ranking,
    how many it ``selected`` and the ``ceiling``: the highest recall that many visits allow,
    min(1, selected / positives).  Capacity is shared out by households, not by need, so a
    group with a high prevalence has a low ceiling whatever the ranking: the measured cause
    the model card names.  Groups come in category order (sorted labels otherwise); an
    unused category or a missing label forms no group.
    """
    y = np.asarray(y).astype(np.int64)
    row = np.arange(len(y))
    # dimension -> ranking -> MetricFrame.by_group (index: group code)
    frames: dict[str, dict[str, pd.DataFrame]] = {dim: {} for dim in groups}
    labels: dict[str, pd.Index] = {}
    for dim, values in groups.items():
        codes, labels[dim] = (
            (values.codes, values.categories)
            if isinstance(values, pd.Categorical)
            else pd.factorize(np.asarray(values), sort=True)
        )
        groups_codes = np.asarray(codes)
        for k, (name, (score, selected, prob)) in enumerate(rankings.items()):
            order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
            metrics = {"selected": _selected, "ceiling": _ceiling, "recall": _recall, "precision": _precision}
            params: dict[str, dict] = {"aucs": {"score": np.asarray(score)[order]}}
            metrics["aucs"] = _aucs
            if prob is not None:
                metrics["ece"] = _ece
                params["ece"] = {"prob": np.asarray(prob, dtype=np.float64)[order], "row": row[order]}
            if k == 0:  # what does not depend on the ranking, once
                metrics |= {"n": _count, "positives": _positives}
                for col, v in (positive_means or {}).items():
                    metrics[col] = _positive_mean
                    params[col] = {"values": np.asarray(v)[order]}
            frame = MetricFrame(
                metrics=metrics,
                y_true=y[order],
                y_pred=np.asarray(selected, dtype=bool)[order],
                sensitive_features=pd.Series(groups_codes[order], name="group"),
                sample_params=params,
            )
            by_group = frame.by_group
            frames[dim][name] = by_group[by_group.index >= 0]  # code -1: a missing label
    rows = []
    first = next(iter(rankings), None)
    for dim in groups:
        if first is None:
            break
        head = frames[dim][first]
        for code in head.index:
            h = head.loc[code]
            out = {
                "dimension": dim,
                "group": str(labels[dim][code]),
                "n": int(h["n"]),
                "positives": int(h["positives"]),
            }
            out["prevalence"] = out["positives"] / out["n"]
            for name, (_, _, prob) in rankings.items():
                r = frames[dim][name].loc[code]
                roc, ap = r["aucs"]
                out[f"{name}_selected"] = int(r["selected"])
                out[f"{name}_ceiling"] = _value(r["ceiling"])
                out[f"{name}_recall"] = _value(r["recall"])
                out[f"{name}_precision"] = _value(r["precision"])
                out[f"{name}_roc_auc"] = roc
                out[f"{name}_pr_auc"] = ap
                if prob is not None:
                    out[f"{name}_ece"] = float(r["ece"])
            for col in positive_means or {}:
                out[col] = _value(h[col])
            rows.append(out)
    return pd.DataFrame(rows)


def _random_case(seed: int, n: int = 20_000):
    rng = np.random.default_rng(seed)
    age = pd.Categorical.from_codes(rng.integers(0, 4, n), ["<40", "40-64", "65-79", "80+"])
    # "미상" is an unused category, as for heads of unknown sex: it must be left out.
    sex = pd.Categorical.from_codes(rng.integers(0, 2, n), ["남", "여", "미상"])
    sido = rng.choice(["서울", "강원", "제주", "세종"], n, p=[0.5, 0.3, 0.19, 0.01])
    # A group with no positive at all ("세종"): recall, ceiling and AUCs are None there.
    y = (rng.random(n) < np.where(sido == "강원", 0.08, 0.03)) & (sido != "세종")
    p = np.clip(0.03 + 0.2 * y * rng.random(n) + 0.05 * rng.random(n), 0, 1)
    b = np.round(rng.random(n) * 4) + 0.5 * y * rng.random(n)  # ties, as the count rule has
    emd = rng.integers(0, 150, n)
    rankings = {
        "model": (p, within_capacity(emd, p, 0.02), p),
        "baseline": (b, within_capacity(emd, b, 0.02), None),
    }
    groups = {"연령대": age, "성별": sex, "시도": sido}
    means = {"positive_mean_signals": rng.poisson(2.0, n).astype(np.int16)}
    return groups, y.astype(np.int8), rankings, means


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loop_table_equals_metricframe(seed):
    groups, y, rankings, means = _random_case(seed)
    new = subgroup_table(groups, y, rankings, positive_means=means)
    reference = _metricframe_subgroup_table(groups, y, rankings, positive_means=means)
    pd.testing.assert_frame_equal(new, reference, check_exact=True)
    # Real values, not only equal frames: the categories' order, the unused one left out,
    # and the group without positives.
    assert new[new["dimension"] == "연령대"]["group"].tolist() == ["<40", "40-64", "65-79", "80+"]
    assert new[new["dimension"] == "성별"]["group"].tolist() == ["남", "여"]
    sejong = new[(new["dimension"] == "시도") & (new["group"] == "세종")].iloc[0]
    assert sejong["positives"] == 0 and pd.isna(sejong["model_recall"]) and pd.isna(sejong["model_pr_auc"])
    assert new["n"].groupby(new["dimension"]).sum().tolist() == [len(y)] * 3


def test_subgroup_table_on_a_hand_made_case():
    t = subgroup_table(
        {"g": np.array(["a", "a", "a", "a", "b", "b", "b", "b"])},
        np.array([1, 1, 1, 0, 1, 0, 0, 0]),
        {"m": (np.arange(8.0)[::-1], np.array([1, 0, 0, 0, 1, 0, 0, 0], bool), None)},
    )
    assert t[["group", "prevalence", "m_selected", "m_ceiling", "m_recall", "m_precision"]].values.tolist() == [
        ["a", 0.75, 1, 1 / 3, 1 / 3, 1.0],
        ["b", 0.25, 1, 1.0, 1.0, 1.0],
    ]
    # Group a, sorted by score: 1 1 1 0 → every positive ranks first: ROC-AUC 1, AP 1.
    assert t["m_roc_auc"].tolist() == [1.0, 1.0] and t["m_pr_auc"].tolist() == [1.0, 1.0]


def test_card_names_the_smaller_factor_of_a_gap():
    """An age gap: the model chose how many of each group to visit (the rankings' counts
    differ), so the card speaks of the model's selection and precision, never of the
    capacity rule; recall ratio = selection ratio × precision ratio, from the rows."""
    from blindspot.model.card import _gap_reason

    rows = [
        {"dimension": "연령대", "group": "40-64", "positives": 1000, "prevalence": 0.025, "model_selected": 250,
         "baseline_selected": 300, "model_precision": 0.36, "positive_mean_signals": 1.62},
        {"dimension": "연령대", "group": "80+", "positives": 800, "prevalence": 0.058, "model_selected": 232,
         "baseline_selected": 150, "model_precision": 0.52, "positive_mean_signals": 1.99},
    ]  # fmt: skip
    gap = {"dimension": "연령대", "worst_group": "40-64", "worst_recall": 0.09, "best_group": "80+",
           "best_recall": 0.1508, "ratio": 0.597, "baseline_ratio": 0.72}  # fmt: skip
    text = _gap_reason(gap, rows)
    assert "방문 용량은" not in text and "방문 용량 배분" not in text
    assert "모델이 용량 안에 고른 가구는 그 집단 위기 가구 수의 '40-64' 25%, '80+' 29%입니다" in text
    # 0.25/0.29 = 0.862 (selection) × 0.36/0.52 = 0.692 (precision) = 0.597: precision is the smaller.
    assert "재현율 비율 0.60 = 선택 비율 0.86 × 정밀도 비율 0.69: 격차는 주로 정밀도에서 옵니다" in text
    assert "모델 0.60, 지표 개수 규칙 0.72: 모델의 격차가 더 큽니다" in text
    assert "신호가 적어" not in text  # the signals are a measured fact, not a claimed cause
    # Group names like "80+" have no known reading, so no particle follows them.
    assert "위기 가구가 보이는 위기정보는 평균 '40-64' 1.62건, '80+' 1.99건입니다" in text
