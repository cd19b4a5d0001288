"""The learnable ceiling: the same pipeline fitted on the *full* ground truth of the round
before the test round, every household labelled, not only the visited ones.

No office has that knowledge, so no model trained on visit outcomes can be expected to beat
it; the model's recall over the oracle's says how much of what this world lets anyone learn
the model learns (the sweep's target: ≥ 0.95×, :data:`blindspot.model.sweep.TARGETS`).
Synthetic data only: real data has no ground truth outside the visits, and then there is no
oracle.

At national scale the previous round has 24 M households; the oracle keeps every household in
crisis and a seeded random share of the others (``ORACLE_NEGATIVES`` per crisis household),
weighted by the inverse of that share, so the fit sees the population's odds (a weighted
logistic regression is consistent under this case-control sampling) in memory of the order of
the training rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from blindspot import settings
from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model import sql
from blindspot.model.evaluation import ranking_metrics
from blindspot.model.features import feature_set
from blindspot.model.pipeline import RANDOM_STATE, FittedModel, Thresholds, column_groups, make_pipeline
from blindspot.model.scoring import feature_batches, sgg_batches
from blindspot.progress import ProgressFn, silent

ORACLE_NEGATIVES = 20  # non-crisis households kept per crisis household


def negative_share(positives: int, households: int, per_positive: int = ORACLE_NEGATIVES) -> float:
    """The share of non-crisis households the oracle keeps (0–1).

    >>> negative_share(1_000, 100_000), negative_share(1_000, 10_000)
    (0.20202, 1.0)
    """
    negatives = max(households - positives, 1)
    return round(min(1.0, per_positive * positives / negatives), 5)


def case_control_rows(
    store: Store,
    round_id: int,
    catalogue: Catalogue,
    cases: np.ndarray,
    share: float,
    among: Callable[[pd.DataFrame], np.ndarray] | None = None,
    progress: ProgressFn = silent,
    what: str = "표본 학습 행",
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The features of every household of ``round_id`` whose id is in ``cases`` and of a seeded
    ``share`` of the others, with "is a case" and the weight (1 / kept share): a weighted
    logistic regression on them is consistent for the whole round.  ``among``: the mask of a
    batch's rows the sample is drawn from (default every household).  Used by the oracle
    (cases: crisis households) and the listing propensity (cases: listed households, among the
    signalled ones)."""
    batches = sgg_batches(store, round_id)
    rng = np.random.default_rng(RANDOM_STATE + round_id)  # the same rows on every run
    frames, flags, seen = [], [], 0
    for k, frame in enumerate(feature_batches(store, round_id, catalogue, batches)):
        seen += len(frame)
        if among is not None:
            frame = frame[among(frame)]
        case = np.isin(frame["household_id"].to_numpy(), cases)
        keep = case | (rng.random(len(frame)) < share)
        frames.append(frame[keep])
        flags.append(case[keep])
        progress((k + 1) / len(batches), f"{what}: {seen:,}가구 읽음")
    case = np.concatenate(flags)
    return pd.concat(frames, ignore_index=True), case, np.where(case, 1.0, 1.0 / share)


def oracle_rows(
    store: Store, round_id: int, catalogue: Catalogue, progress: ProgressFn = silent
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
    """Every crisis household of ``round_id`` and a seeded share of the others, with labels and
    weights (1 / kept share); None when the round has no ground truth."""
    if not store.scalar(sql.TRUTH_ROUND_COUNT, [round_id]):
        return None
    truth = store.df(sql.TRUTH_IDS, [round_id])["household_id"].to_numpy()
    households = int(store.scalar(sql.HOUSEHOLDS_IN_ROUND, [round_id, round_id]))
    share = negative_share(len(truth), households)
    X, y, w = case_control_rows(store, round_id, catalogue, truth, share, progress=progress, what="오라클 학습 행")
    return X, y.astype(np.int8), w


def fit_oracle(
    store: Store,
    round_id: int,
    catalogue: Catalogue | None = None,
    C: float | None = None,
    thresholds: Thresholds | None = None,
    progress: ProgressFn = silent,
) -> FittedModel | None:
    """The pipeline fitted on ``round_id``'s ground truth (see the module); None without it."""
    catalogue = catalogue or load_catalogue()
    got = oracle_rows(store, round_id, catalogue, progress)
    if got is None:
        return None
    X, y, w = got
    fs = feature_set(catalogue)
    pipe = make_pipeline(fs, settings.get("model_c") if C is None else C)
    pipe.fit(X[list(fs.all)], y, clf__sample_weight=w)
    Z = pipe.named_steps["prep"].transform(X[list(fs.all)])
    return FittedModel(
        pipe,
        fs,
        column_groups(pipe, fs),
        np.average(np.asarray(Z), axis=0, weights=w),
        thresholds or Thresholds(),
        f"오라클: {round_id} 정답 전체",
    )


def oracle_metrics(
    store: Store,
    test_round: int,
    model_recall: float | None,
    catalogue: Catalogue | None = None,
    capacity_share: float | None = None,
    progress: ProgressFn = silent,
) -> dict | None:
    """``oracle`` of ``evaluate --json``: the ranking metrics on ``test_round`` of the pipeline
    fitted on the previous loaded round's full ground truth, and the model's recall over it
    (``recall_ratio_oracle``); None when either round has no ground truth."""
    from blindspot.model.training import round_rows  # training imports this module's callers

    catalogue = catalogue or load_catalogue()
    rounds = [r for (r,) in store.rows(sql.ROUNDS_WITH_TRUTH)]
    earlier = [r for r in rounds if r < test_round]
    if test_round not in rounds or not earlier:
        return None
    fitted = fit_oracle(store, earlier[-1], catalogue, progress=lambda f, m: progress(0.6 * f, m))
    if fitted is None:
        return None
    share = capacity_share or settings.get("capacity_share")
    rows = round_rows(store, fitted, test_round, catalogue, share, lambda f, m: progress(0.6 + 0.4 * f, m))
    out = ranking_metrics(rows.y, rows.p, rows.sel_m)
    out["trained_on"] = int(earlier[-1])
    ratio = model_recall / out["recall_at_capacity"] if model_recall and out["recall_at_capacity"] else None
    return {"oracle": out, "recall_ratio_oracle": ratio}
