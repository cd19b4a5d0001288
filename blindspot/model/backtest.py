"""Rolling backtest: every labelled round in turn is the test round of a model fitted on the
rounds before it, with cluster-bootstrap 95 % intervals on every headline figure.

One held-out round says how a model did once; the backtest says how steady that is.  Each
fold runs the same path as ``train`` (:func:`pipeline.plan_rounds` for the training rounds,
the same C and thresholds, the same recalibration (:func:`propensity.fit_calibrated`), the
strong baseline's weights from that fold's training rows) and is judged by
:func:`training.headline`, the very figures ``evaluate`` prints.

Intervals resample 읍면동, the unit capacity is shared in (a 읍면동's visits are one
decision, so its households are not independent).  Each 읍면동 is reduced to sufficient
statistics — crises, visits and crises visited per ranking, per-bin sums for ECE, and score
histograms for PR-AUC — so B replicates are a (B × 읍면동) matrix of multinomial counts times
those statistics: seconds, whatever the number of households.  Recall, precision and ECE of
a replicate are exactly those of the resampled rows; PR-AUC is approximate: scores are cut
into :data:`PR_BINS` bins (edges at quantiles of the crisis households' scores of the latest
fold) and a bin counts as one tied threshold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blindspot import glossary, settings
from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model.evaluation import RELIABILITY_BINS
from blindspot.model.features import feature_set
from blindspot.model.pipeline import (
    RANDOM_STATE,
    ModelError,
    Thresholds,
    check_labels,
    labelled_rounds,
    plan_rounds,
    training_frame,
)
from blindspot.model.propensity import fit_calibrated
from blindspot.model.training import RoundRows, headline, round_rows, strong_weights
from blindspot.progress import ProgressFn, silent
from blindspot.rounds import from_id

PR_BINS = 512
RANKINGS = ("model", "baseline", "strong_baseline")
RANKING_KO = glossary.RANKINGS
METRICS = ("recall_at_capacity", "precision_at_capacity", "pr_auc")
CALIBRATION = ("ece", "ece_signalled")
RATIOS = {"recall_ratio": "baseline", "recall_ratio_strong": "strong_baseline"}
COMMAND = "python -m blindspot train"


def fold_plan(store: Store, latest: int | None = None) -> list[tuple[int, list[int]]]:
    """(test round, training rounds) of every labelled round that has a trainable round
    before it (:func:`pipeline.plan_rounds`), oldest first; ``latest``: only the last N.

    Example: six demo rounds 2023-R4…2024-R3 give four folds, 2023-R6…2024-R3 (2023-R5's only
    earlier round, 2023-R4, has no loaded previous round, so it cannot be trained on).
    """
    folds = []
    for t in labelled_rounds(store)["round_id"].tolist():
        try:
            train, _ = plan_rounds(store, t)
        except ModelError:  # nothing trainable before t
            continue
        folds.append((t, train))
    return folds[-latest:] if latest else folds


@dataclass
class AreaStats:
    """Sufficient statistics per cluster (one row per 읍면동 of a fold).

    ``tp``/``selected``: crises visited / visits inside capacity, per ranking;
    ``hist``: [clusters, 2 (negatives, crises), bins] score histogram per ranking;
    ``calib``: [clusters, 2 (all, signalled), 3 (rows, Σ label, Σ probability), ECE bins];
    ``areas``: the 읍면동 code of each cluster (None: every cluster its own 읍면동).
    """

    positives: np.ndarray
    tp: dict[str, np.ndarray]
    selected: dict[str, np.ndarray]
    hist: dict[str, np.ndarray]
    calib: np.ndarray
    areas: np.ndarray | None = None

    @property
    def clusters(self) -> int:
        return len(self.positives)

    def units(self) -> tuple[int, np.ndarray]:
        """Number of 읍면동 and, per cluster, the index of its 읍면동: what a resample draws."""
        if self.areas is None:
            return self.clusters, np.arange(self.clusters)
        uniques, index = np.unique(self.areas, return_inverse=True)
        return len(uniques), index

    @staticmethod
    def concat(parts: list[AreaStats]) -> AreaStats:
        """The clusters of several folds side by side: one per (round, 읍면동), each keeping
        its 읍면동 so that a resample draws a 읍면동 with all its rounds."""
        return AreaStats(
            np.concatenate([s.positives for s in parts]),
            {r: np.concatenate([s.tp[r] for s in parts]) for r in parts[0].tp},
            {r: np.concatenate([s.selected[r] for s in parts]) for r in parts[0].selected},
            {r: np.concatenate([s.hist[r] for s in parts]) for r in parts[0].hist},
            np.concatenate([s.calib for s in parts]),
            np.concatenate([s.areas if s.areas is not None else np.arange(s.clusters) for s in parts]),
        )


def pr_edges(y: np.ndarray, score: np.ndarray, bins: int = PR_BINS) -> np.ndarray:
    """Inner bin edges for a PR histogram: quantiles of the crisis households' scores, so each
    bin holds about 1/``bins`` of the crises (AP is a mean over crises, so that is where
    resolution counts); all rows' quantiles when there is no crisis.

    >>> pr_edges(np.array([1, 1, 1, 1, 0]), np.array([4.0, 3.0, 2.0, 1.0, 0.0]), bins=2).tolist()
    [2.5]
    """
    y = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    base = s[y] if y.any() else s
    if not len(base):
        return np.array([])
    return np.unique(np.quantile(base, np.linspace(0, 1, bins + 1)[1:-1]))


def area_stats(rows: RoundRows, edges: dict[str, np.ndarray]) -> AreaStats:
    """Reduce one fold's rows to :class:`AreaStats`, one cluster per 읍면동."""
    codes, uniques = pd.factorize(rows.emd)
    A = len(uniques)
    y = rows.y.astype(np.float64)

    def per_area(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=A)

    scores = {"model": (rows.p, rows.sel_m), "baseline": (rows.b, rows.sel_b)}
    if rows.strong is not None:
        scores["strong_baseline"] = (rows.strong, rows.sel_s)
    tp, selected, hist = {}, {}, {}
    for name, (score, sel) in scores.items():
        tp[name] = per_area(y * sel)
        selected[name] = per_area(sel.astype(np.float64))
        e = edges[name]
        cell = codes * (len(e) + 1) + np.searchsorted(e, score, side="right")
        h = np.bincount(cell * 2 + rows.y.astype(np.int64), minlength=A * (len(e) + 1) * 2)
        hist[name] = h.reshape(A, len(e) + 1, 2).transpose(0, 2, 1).astype(np.float64)
    nb = RELIABILITY_BINS
    b = np.minimum((rows.p * nb).astype(np.int64), nb - 1)  # the bins of expected_calibration_error
    calib = np.zeros((A, 2, 3, nb))
    for k, mask in enumerate((np.ones(len(y), dtype=bool), rows.signalled)):
        cell = codes[mask] * nb + b[mask]
        for j, w in enumerate((None, y[mask], rows.p[mask])):
            calib[:, k, j, :] = np.bincount(cell, weights=w, minlength=A * nb).reshape(A, nb)
    return AreaStats(per_area(y), tp, selected, hist, calib, np.asarray(uniques))


def binned_average_precision(hist: np.ndarray) -> np.ndarray:
    """Average precision from score histograms [..., 2 (negatives, crises), bins] (bins in
    ascending score); each bin is one tied threshold, as :func:`evaluation.ranked_auc` treats
    tied scores, so one distinct score per bin gives its exact value.

    >>> float(binned_average_precision(np.array([[1, 0, 1, 0], [0, 1, 0, 1]])))  # scores 0.1 0.3 0.8 0.9
    0.8333333333333333
    """
    neg = np.asarray(hist, dtype=np.float64)[..., 0, ::-1]
    pos = np.asarray(hist, dtype=np.float64)[..., 1, ::-1]
    tp = np.cumsum(pos, axis=-1)
    fp = np.cumsum(neg, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(pos > 0, tp / (tp + fp), 0.0)
        return (pos * precision).sum(axis=-1) / tp[..., -1]


def replicate_metrics(stats: AreaStats, weights: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Headline figures of each row of ``weights`` [replicates, clusters] (how many times each
    cluster is drawn); a row of ones gives the figures of the data itself.  NaN where a
    replicate has no crisis or no visit.

    >>> s = AreaStats(np.array([1.0, 0.0]), {"model": np.array([1.0, 0.0])},
    ...               {"model": np.array([1.0, 1.0])}, {"model": np.zeros((2, 2, 1))}, np.zeros((2, 2, 3, 10)))
    >>> m = replicate_metrics(s, np.array([[1.0, 1.0], [2.0, 0.0]]))["model"]
    >>> m["recall_at_capacity"].tolist(), m["precision_at_capacity"].tolist()
    ([1.0, 1.0], [0.5, 1.0])
    """
    W = np.asarray(weights, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        positives = W @ stats.positives
        out: dict[str, dict[str, np.ndarray]] = {}
        for name in stats.tp:
            tp = W @ stats.tp[name]
            hist = np.tensordot(W, stats.hist[name], axes=1)
            out[name] = {
                "recall_at_capacity": tp / positives,
                "precision_at_capacity": tp / (W @ stats.selected[name]),
                "pr_auc": binned_average_precision(hist),
            }
        calib = np.tensordot(W, stats.calib, axes=1)  # [replicates, 2, 3, bins]
        ece = np.abs(calib[:, :, 1, :] - calib[:, :, 2, :]).sum(axis=-1) / calib[:, :, 0, :].sum(axis=-1)
    out["model"]["ece"], out["model"]["ece_signalled"] = ece[:, 0], ece[:, 1]
    for ratio, other in RATIOS.items():
        if other in out:
            with np.errstate(invalid="ignore", divide="ignore"):
                r = out["model"]["recall_at_capacity"] / out[other]["recall_at_capacity"]
            out["model"][ratio] = np.where(np.isfinite(r), r, np.nan)
    return out


def bootstrap(stats: AreaStats, replicates: int, seed: int, block: int = 250) -> dict[str, dict[str, list]]:
    """95 % percentile intervals per ranking and figure from ``replicates`` resamples of
    읍면동 (each draws as many 읍면동 as there are, with replacement, and a drawn 읍면동 brings
    its clusters of every round: the same office's households are alike from round to round,
    so drawing (round, 읍면동) apart would narrow the interval; seeded, so deterministic).

    >>> same = AreaStats(np.ones(5), {"model": np.full(5, 0.5)}, {"model": np.ones(5)},
    ...                  {"model": np.zeros((5, 2, 1))}, np.zeros((5, 2, 3, 10)))
    >>> bootstrap(same, 200, seed=1)["model"]["recall_at_capacity"]  # identical clusters
    [0.5, 0.5]
    """
    rng = np.random.default_rng(seed)
    A, index = stats.units()
    draws: dict[str, dict[str, list[np.ndarray]]] = {}
    for start in range(0, replicates, block):  # blocks bound the memory of the weight matrix
        W = rng.multinomial(A, np.full(A, 1.0 / A), size=min(block, replicates - start))[:, index]
        for name, figures in replicate_metrics(stats, W).items():
            for key, values in figures.items():
                draws.setdefault(name, {}).setdefault(key, []).append(values)
    out: dict[str, dict[str, list]] = {}
    for name, figures in draws.items():
        for key, parts in figures.items():
            values = np.concatenate(parts)
            values = values[np.isfinite(values)]
            out.setdefault(name, {})[key] = (
                [round(float(v), 6) for v in np.percentile(values, [2.5, 97.5])] if len(values) else None
            )
    return out


def _number(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _summary(points: dict, ci: dict) -> dict:
    """The stored shape of one fold (or the pooled folds): per ranking its figures and
    ``ci95``; the recall ratios, with theirs under a ``ci95`` of the fold."""
    out: dict = {}
    for name in RANKINGS:
        if name not in points:
            continue
        keys = METRICS + (CALIBRATION if name == "model" else ())
        out[name] = {k: _number(points[name].get(k)) for k in keys}
        out[name]["ci95"] = {k: ci[name].get(k) for k in keys}
    for ratio in RATIOS:
        out[ratio] = _number(points.get(ratio))
    out["ci95"] = {ratio: ci["model"].get(ratio) for ratio in RATIOS if ratio in ci["model"]}
    return out


def method_text(replicates: int, bins: int = PR_BINS) -> str:
    """The one Korean sentence that says how the intervals were made.

    >>> "1,000회 복원추출" in method_text(1000), "512개 구간" in method_text(1000)
    (True, True)
    """
    return (
        f"각 검증 차수는 그 이전 차수로만 학습한 모델로 평가했고, 95% 구간은 읍면동을 단위로(합친 수치는 "
        f"한 읍면동의 모든 검증 차수를 함께) {replicates:,}회 복원추출한 군집 부트스트랩의 2.5·97.5 백분위수이며, "
        f"PR-AUC는 위기 가구 점수 분위 {bins}개 구간의 히스토그램으로 근사했습니다."
    )


def run_backtest(
    store: Store,
    *,
    C: float,
    thresholds: Thresholds,
    catalogue: Catalogue | None = None,
    replicates: int | None = None,
    folds: int | None = None,
    seed: int = RANDOM_STATE,
    reuse: tuple[int, list[int], RoundRows] | None = None,
    propensities: dict | None = None,
    progress: ProgressFn = silent,
) -> dict:
    """The rolling backtest, as stored in ``metadata["backtest"]``.

    ``replicates`` and ``folds`` default to the settings ``backtest_replicates`` and
    ``backtest_folds``; ``reuse`` = (test round, training rounds, rows) of a fold the caller
    has predicted already (``train``'s own), so that fold is not fitted twice; ``propensities``
    (round → listing propensity, :func:`blindspot.model.propensity.listing_weights`) are shared
    between folds, a round's propensity depending on that round alone.
    """
    catalogue = catalogue or load_catalogue()
    replicates = settings.get("backtest_replicates") if replicates is None else replicates
    folds_max = settings.get("backtest_folds") if folds is None else folds
    fs = feature_set(catalogue)
    plan = fold_plan(store, folds_max)
    edges: dict[str, np.ndarray] | None = None
    done, skipped, parts = {}, [], {}
    # Latest first: its crisis households set the PR bins every fold shares (pooling needs one set).
    for k, (t, train) in enumerate(reversed(plan)):
        code = from_id(t).code
        progress(k / len(plan), f"차수별 검증 {code} ({k + 1}/{len(plan)})")
        started = time.monotonic()
        if reuse is not None and reuse[0] == t and list(reuse[1]) == list(train):
            rows = reuse[2]
        else:
            X, y = training_frame(store, train, catalogue)
            try:
                check_labels(y, train)
            except ModelError as exc:  # an early fold with too few labels: say so, go on
                skipped.append({"round": code, "reason": str(exc)})
                continue
            fitted, _ = fit_calibrated(store, X, y, fs, catalogue, C, thresholds, propensities)
            weights = strong_weights(X, y, fs)
            del X
            rows = round_rows(store, fitted, t, catalogue, thresholds.capacity_share, weights=weights)
        if edges is None:
            edges = {"model": pr_edges(rows.y, rows.p), "baseline": pr_edges(rows.y, rows.b)}
            if rows.strong is not None:
                edges["strong_baseline"] = pr_edges(rows.y, rows.strong)
        point = headline(rows)
        stats = area_stats(rows, edges)
        ci = bootstrap(stats, replicates, seed=seed + t)
        done[t] = {
            "round": code,
            "train_rounds": [from_id(r).code for r in train],
            "ground_truth": rows.truth,
            "households": int(len(rows.y)),
            "positives": int(rows.y.sum()),
            "areas": stats.clusters,
            **_summary(point, ci),
            "seconds": round(time.monotonic() - started, 1),  # the national cost scales from this
        }
        parts[t] = stats
        del rows
    if not done:
        raise ModelError("차수별 검증을 할 차수가 없습니다: 학습할 수 있는 차수 뒤에 라벨 차수가 하나 이상 필요합니다.")
    rounds = sorted(done)
    pooled_stats = AreaStats.concat([parts[t] for t in rounds])
    ones = np.ones((1, pooled_stats.clusters))
    point = {
        name: {k: v[0] for k, v in figures.items()} for name, figures in replicate_metrics(pooled_stats, ones).items()
    }
    point.update({ratio: point["model"].get(ratio) for ratio in RATIOS})
    pooled = {
        "rounds": [from_id(t).code for t in rounds],
        "households": sum(done[t]["households"] for t in rounds),
        "positives": sum(done[t]["positives"] for t in rounds),
        "areas": pooled_stats.units()[0],  # distinct 읍면동: the bootstrap's unit
        **_summary(point, bootstrap(pooled_stats, replicates, seed=seed)),
    }
    progress(1.0, f"차수별 검증 완료: {len(rounds)}개 차수")
    out = {
        "folds": [done[t] for t in rounds],
        "pooled": pooled,
        "replicates": int(replicates),
        "method": method_text(replicates),
        "seed": seed,
        "pr_auc_bins": PR_BINS,
        "folds_setting": folds_max,
    }
    if skipped:
        out["skipped"] = skipped
    return out


# --- display: the model page's table and the card's section ------------------------------


def _fmt(v, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _interval(ci, digits: int = 3) -> str:
    return "—" if not ci else f"{ci[0]:.{digits}f}–{ci[1]:.{digits}f}"


def backtest_frame(meta: dict) -> pd.DataFrame:
    """The backtest as a table of text: one row per test round and ranking, then the pooled
    rows; every figure beside its 95 % interval, "—" where there is none (an empty table for a
    model trained before the backtest existed).

    >>> f = backtest_frame({"backtest": {"folds": [], "pooled": {"rounds": ["2024-R3"],
    ...     "model": {"recall_at_capacity": 0.1091, "ci95": {"recall_at_capacity": [0.105, 0.113]}},
    ...     "recall_ratio_strong": 1.13, "ci95": {"recall_ratio_strong": [1.1, 1.16]}}}})
    >>> f.iloc[0][["검증 차수", "순위", "용량 내 재현율", "재현율 95% 구간"]].tolist()
    ['전체 (1개 차수)', '모델', '0.109', '0.105–0.113']
    """
    bt = (meta or {}).get("backtest") or {}
    entries = [(f["round"], ", ".join(f.get("train_rounds", [])), f) for f in bt.get("folds", [])]
    if bt.get("pooled"):
        pooled = bt["pooled"]
        entries.append((f"전체 ({len(pooled.get('rounds', []))}개 차수)", "각 차수 이전 차수", pooled))
    rows = []
    for test, train, fold in entries:
        for name in RANKINGS:
            m = fold.get(name)
            if not m:
                continue
            ci = m.get("ci95") or {}
            ratio_key = {"baseline": "recall_ratio", "strong_baseline": "recall_ratio_strong"}.get(name)
            row = {"검증 차수": test, "학습 차수": train, "순위": RANKING_KO[name]}
            for key, label in (("recall_at_capacity", "재현율"), ("precision_at_capacity", "정밀도")):
                row[f"용량 내 {label}"] = _fmt(m.get(key))
                row[f"{label} 95% 구간"] = _interval(ci.get(key))
            row["PR-AUC"] = _fmt(m.get("pr_auc"))
            row["PR-AUC 95% 구간"] = _interval(ci.get("pr_auc"))
            for key, label in (("ece", "ECE"), ("ece_signalled", "ECE (신호 있는 가구)")):
                row[label] = _fmt(m.get(key), 4)
                row[f"{label} 95% 구간"] = _interval(ci.get(key), 4)
            row["모델 재현율 ÷ 이 순위"] = _fmt(fold.get(ratio_key), 2) if ratio_key else "—"
            row["배율 95% 구간"] = _interval((fold.get("ci95") or {}).get(ratio_key), 2) if ratio_key else "—"
            rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["검증 차수", "학습 차수", "순위"])


def _with_ci(m: dict, key: str, digits: int = 3) -> str:
    ci = (m.get("ci95") or {}).get(key)
    text = _fmt(m.get(key), digits)
    return text if not ci else f"{text} (95% 구간 {_interval(ci, digits)})"


def card_section(meta: dict) -> str:
    """The model card's "차수별 검증" section (markdown, Korean): per test round and pooled,
    each figure with its interval, and the command that produced it; "" without a backtest."""
    bt = (meta or {}).get("backtest")
    if not bt or not bt.get("folds"):
        return ""
    pooled = bt["pooled"]
    m, s, b = pooled["model"], pooled.get("strong_baseline") or {}, pooled["baseline"]
    ci = pooled.get("ci95") or {}
    strong, count = RANKING_KO["strong_baseline"], RANKING_KO["baseline"]
    lines = [
        "## 차수별 검증 (백테스트)",
        "",
        f"명령: `{COMMAND}` (학습할 때 함께 계산, `metadata.json` 의 `backtest`; "
        "`python -m blindspot evaluate --json` 이 그대로 출력). " + bt.get("method", ""),
        "",
        f"검증 차수 {len(pooled['rounds'])}개({', '.join(pooled['rounds'])})를 합친 용량 내 재현율: "
        f"모델 {_with_ci(m, 'recall_at_capacity')}, "
        f"{strong} {_with_ci(s, 'recall_at_capacity')}, "
        f"{count} {_with_ci(b, 'recall_at_capacity')}. 모델 ÷ {strong} "
        f"{_fmt(pooled.get('recall_ratio_strong'), 2)} (95% 구간 {_interval(ci.get('recall_ratio_strong'), 2)}), "
        f"모델 ÷ {count} {_fmt(pooled.get('recall_ratio'), 2)} "
        f"(95% 구간 {_interval(ci.get('recall_ratio'), 2)}). ECE {_with_ci(m, 'ece', 4)}, "
        f"신호 있는 가구 ECE {_with_ci(m, 'ece_signalled', 4)}.",
        "",
        f"| 검증 차수 | 학습 차수 | 모델 재현율 | {strong} 재현율 | {count} 재현율 | 모델 ÷ {strong} "
        "| 모델 정밀도 | 모델 PR-AUC | ECE | 신호 가구 ECE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in bt["folds"]:
        fm, fs_, fb = f["model"], f.get("strong_baseline") or {}, f["baseline"]
        ratio_ci = (f.get("ci95") or {}).get("recall_ratio_strong")
        ratio = f"{_fmt(f.get('recall_ratio_strong'), 2)} ({_interval(ratio_ci, 2)})"
        cells = [
            f["round"],
            ", ".join(f.get("train_rounds", [])),
            _with_ci(fm, "recall_at_capacity"),
            _with_ci(fs_, "recall_at_capacity"),
            _with_ci(fb, "recall_at_capacity"),
            ratio,
            _with_ci(fm, "precision_at_capacity"),
            _with_ci(fm, "pr_auc"),
            _with_ci(fm, "ece", 4),
            _with_ci(fm, "ece_signalled", 4),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for skip in bt.get("skipped", []):
        lines.append(f"\n{skip['round']} 차수는 검증하지 못했습니다: {skip['reason']}")
    return "\n".join(lines) + "\n"
