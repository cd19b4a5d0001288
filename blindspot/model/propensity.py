"""Calibration on the signalled population: inverse listing-propensity weights and the
recalibration of the model's log-odds.

Labels come only from listed households (the system list and local selection,
``LABEL_CHANNELS``), chosen from the top of a score on the signals; the probabilities are
used on every signalled household, 98 % of whom are never listed.  The log-loss fit is
calibrated where its rows are, the top of the score, and over-predicts below it (generator 3,
scale 0.05, seed 42, test 2024-R3: listed households predicted 0.618 against 0.605 observed,
signalled households never listed 0.146 against 0.120).

Remedy, with data real offices have too (who was listed is in the visit file, whatever the
outcome):

1. **Listing propensity** (:func:`listing_propensity`): per training round, a logistic
   regression of "listed" on the model's own features among the round's signalled
   households.  At national scale a round has millions of them, so every listed household is
   kept with a seeded share of the others (:data:`UNLISTED_PER_LISTED` per listed one),
   weighted by the inverse of that share (consistent under this case-control sampling, as the
   oracle's fit).
2. **Weights** (:func:`inverse_propensity_weights`): each labelled row gets 1/p, clipped at the
   :data:`WEIGHT_CLIP_QUANTILE` quantile, normalised to mean 1.  Weighted, the labelled rows
   stand for the signalled population rather than the top of the list.
3. **Recalibration** (:func:`platt`, :func:`recalibrate`): the model is fitted unweighted (its
   ranking), then a weighted logistic regression of the label on the model's log-odds gives a
   slope *a* and an intercept *c*, folded into the estimator (coefficients × *a*, intercept
   × *a* + *c*).  The model stays one Pipeline whose log-odds is an exact sum of
   contributions; with *a* > 0 the order of households, hence every list, is unchanged.

Fitting the model itself with these weights (``sample_weight``) calibrated as well but cost
ranking (seed 1: recall 1.103× the strong baseline against 1.142× unweighted; docs/model.md),
so the weights only set the two calibration parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue
from blindspot.model import sql
from blindspot.model.features import FeatureSet
from blindspot.model.oracle import case_control_rows, negative_share
from blindspot.model.pipeline import LABEL_CHANNELS, FittedModel, ModelError, make_pipeline
from blindspot.progress import ProgressFn, silent
from blindspot.rounds import from_id

METHOD = "listing_ipw_platt"
UNLISTED_PER_LISTED = 20  # signalled households never listed, kept per listed one (propensity fit)
# ... but at most this many a round: nationally 20 per listed one would be 3.8 million rows and
# 10 GB of features, while a logistic regression of some 70 coefficients is as sure of itself on
# a million (the demo's 0.1 scale keeps about 380,000, under the cap).
MAX_UNLISTED = 1_000_000
WEIGHT_CLIP_QUANTILE = 0.99  # 1/p above this quantile of the labelled rows' weights is cut to it


def unlisted_share(
    listed: int, signalled: int, per_listed: int = UNLISTED_PER_LISTED, cap: int = MAX_UNLISTED
) -> float:
    """The share of signalled households outside the lists kept for the propensity fit (0–1):
    ``per_listed`` per listed household, at most ``cap`` households.

    >>> unlisted_share(1_000, 41_000), unlisted_share(1_000, 11_000)
    (0.5, 1.0)
    >>> unlisted_share(190_000, 8_190_000)  # national: a million of the 8 million kept, not 3.8 million
    0.125
    """
    # The oracle's case-control share, capped (rounding is monotone: the minimum of rounded
    # shares is the rounded minimum).
    return min(negative_share(listed, signalled, per_listed), round(cap / max(signalled - listed, 1), 5))


def listing_rows(store: Store, round_id: int, catalogue: Catalogue) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Signalled households of ``round_id``: every listed one and a seeded share of the others,
    with "listed" (system or local list, any outcome) and the sampling weight (1 / kept share)."""
    listed_ids = store.df(sql.LISTED_IDS, {"t": round_id, "channels": list(LABEL_CHANNELS)})["household_id"]
    listed_ids = listed_ids.to_numpy()
    signalled = int(store.scalar(sql.SIGNALLED_IN_ROUND, [round_id]))
    share = unlisted_share(len(listed_ids), signalled)
    return case_control_rows(
        store, round_id, catalogue, listed_ids, share, among=lambda frame: frame["n_signals"].to_numpy() > 0
    )


def listing_propensity(store: Store, round_id: int, fs: FeatureSet, catalogue: Catalogue, C: float) -> pd.DataFrame:
    """P(listed | features) of ``round_id``'s listed households: ``household_id``, ``propensity``."""
    X, listed, w = listing_rows(store, round_id, catalogue)
    if listed.all() or not listed.any():
        raise ModelError(f"차수 {round_id} 에 명단 밖 위기정보 가구가 없어 선정 확률을 잴 수 없습니다.")
    pipe = make_pipeline(fs, C)
    pipe.fit(X[list(fs.all)], listed, clf__sample_weight=w)
    rows = X[listed]
    return pd.DataFrame(
        {"household_id": rows["household_id"].to_numpy(), "propensity": pipe.predict_proba(rows[list(fs.all)])[:, 1]}
    )


def inverse_propensity_weights(p: np.ndarray, clip_quantile: float | None = WEIGHT_CLIP_QUANTILE) -> np.ndarray:
    """1/p, clipped at the ``clip_quantile`` quantile of 1/p (None: not clipped), normalised to mean 1.

    >>> inverse_propensity_weights(np.array([0.5, 0.5, 0.25, 0.125]), clip_quantile=None).tolist()  # 1/p = 2, 2, 4, 8
    [0.5, 0.5, 1.0, 2.0]
    """
    w = 1.0 / np.asarray(p, dtype=np.float64)
    if clip_quantile is not None:
        w = np.minimum(w, np.quantile(w, clip_quantile))
    return w / w.mean()


def listing_weights(
    store: Store,
    X: pd.DataFrame,
    fs: FeatureSet,
    catalogue: Catalogue,
    C: float,
    cache: dict[int, pd.DataFrame] | None = None,
    progress: ProgressFn = silent,
) -> np.ndarray:
    """The inverse listing-propensity weight of each row of ``X`` (training rows with
    ``round_id`` and ``household_id``), each round's propensity fitted on that round alone.
    ``cache`` (round → :func:`listing_propensity`) spares the backtest refitting a round.
    Each round not in the cache reads all its households' features (minutes at national
    scale), so each is announced to ``progress``."""
    cache = {} if cache is None else cache
    p = np.full(len(X), np.nan)
    rounds = X["round_id"].to_numpy()
    todo = [int(r) for r in np.unique(rounds)]
    for i, r in enumerate(todo):
        if r not in cache:
            progress(i / len(todo), f"명단 선정 확률 추정: {from_id(r).code} ({i + 1}/{len(todo)})")
            cache[r] = listing_propensity(store, r, fs, catalogue, C)
        here = rounds == r
        p[here] = X.loc[here, "household_id"].map(cache[r].set_index("household_id")["propensity"]).to_numpy()
    if np.isnan(p).any():  # a labelled household with no signal this round: as likely as the least likely
        p[np.isnan(p)] = np.nanmin(p)
    return inverse_propensity_weights(p)


def platt(logit: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the weighted logistic regression of ``y`` on ``logit`` (unpenalised)."""
    cal = LogisticRegression(C=1e6, max_iter=1000)
    cal.fit(np.asarray(logit, dtype=np.float64)[:, None], y, sample_weight=w)
    return float(cal.coef_[0, 0]), float(cal.intercept_[0])


def recalibrate(model: FittedModel, X: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> dict:
    """Fold :func:`platt` of the model's log-odds on ``X`` into its estimator; the metadata of
    the recalibration (``training.calibration``).  Refuses a slope ≤ 0 (it would reverse the order)."""
    clf = model.pipeline.named_steps["clf"]
    logit = model.pipeline.decision_function(X[list(model.features.all)])
    a, c = platt(logit, y, w)
    if not a > 0:
        raise ModelError(f"보정 기울기가 양수가 아닙니다({a:.3f}): 순위를 뒤집는 보정은 하지 않습니다.")
    clf.coef_ = clf.coef_ * a
    clf.intercept_ = clf.intercept_ * a + c
    ess = float(w.sum() ** 2 / (w**2).sum())
    return {
        "method": METHOD,
        "slope": round(a, 6),
        "intercept": round(c, 6),
        "weights": {
            "clip_quantile": WEIGHT_CLIP_QUANTILE,
            "min": round(float(w.min()), 4),
            "max": round(float(w.max()), 4),
            "effective_rows": round(ess, 1),
        },
        "text": "학습 후, 명단 선정 확률의 역수로 가중한 방문 결과로 로그오즈의 기울기·절편을 다시 맞춤 "
        "(위기정보 가구 전체에 맞춘 보정; 순위는 그대로)",
    }


def fit_calibrated(
    store: Store,
    X: pd.DataFrame,
    y: np.ndarray,
    fs: FeatureSet,
    catalogue: Catalogue,
    C: float,
    thresholds=None,
    cache: dict[int, pd.DataFrame] | None = None,
    progress: ProgressFn = silent,
) -> tuple[FittedModel, dict]:
    """The training recipe: :func:`blindspot.model.pipeline.fit` (unweighted), then
    :func:`recalibrate` with the inverse listing-propensity weights of the rows
    (:func:`listing_weights`); the fitted model and ``training.calibration``."""
    from blindspot.model.pipeline import fit

    fitted = fit(X, y, fs, C=C, thresholds=thresholds)
    w = listing_weights(store, X, fs, catalogue, C, cache, progress)
    return fitted, recalibrate(fitted, X, y, w)
