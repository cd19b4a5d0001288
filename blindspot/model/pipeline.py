"""The blind-spot risk model: a scikit-learn Pipeline trained on visit outcomes.

Why logistic regression (not gradient boosting): on the synthetic world a
``HistGradientBoostingClassifier`` trained on the same rows ranks no better (recall at
capacity 0.112 vs 0.112, docs/model.md), while a linear model gives

* reasons that are *exact*: a household's log-odds is the intercept plus one additive
  contribution per feature, so the three reasons shown are the model's own arithmetic,
  not an approximation (SHAP for trees would cost minutes per million households);
* calibrated probabilities without a second model: the log-loss fit is calibrated on
  the population it learns from, the listed households; a slope and an intercept on its
  log-odds, fitted with inverse listing-propensity weights, carry that to every signalled
  household and are folded into the coefficients (:mod:`blindspot.model.propensity`;
  measured: expected calibration error, ECE);
* scoring of 24 million households in a few minutes on two cores.

Labels.  Outcomes of visits from the national system list and from local selection are
used; reports by neighbours, volunteers and meter readers are not, because those
households were chosen *because* someone saw the crisis (selection on the outcome),
which teaches a model that few signals mean crisis (measured: training on all channels
drops recall at capacity to 0.65× the count rule).  System and local lists are chosen
from signals alone, so their outcomes are unbiased labels for households like them.

Leakage.  Features of round *t* read rounds *t-3..t* only (features.py, tested);
training rounds all come before the test round; the test round's outcomes and the
synthetic ground truth are read only by evaluation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from blindspot import settings
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.errors import BlindspotError

# The inputs' names live in the glossary; the old name stays for drift and the model card.
from blindspot.glossary import FEATURE_LABELS
from blindspot.indicators.catalogue import Catalogue
from blindspot.model import sql
from blindspot.model.features import FeatureSet, build_features

# Re-exported: scoring and the tests take the reasons from the pipeline module.
from blindspot.model.reasons import Reasons, reason_text, top_reasons  # noqa: F401
from blindspot.progress import ProgressFn, silent
from blindspot.rounds import from_id

LABEL_CHANNELS = ("system", "local")
RANDOM_STATE = 20240601
MIN_POSITIVES = 30
MIN_NEGATIVES = 30

BANDS = ("high", "medium", "low", "none")


class ModelError(BlindspotError):
    """Training, loading or scoring cannot go on; the model in service stays."""


@dataclass(frozen=True)
class Thresholds:
    """How probability and visit capacity map to the four tiers of domain.md.

    * 위험 (high): inside this round's visit capacity of the 읍면동 (its top
      ``capacity_share`` of households by probability) and probability ≥ ``medium``;
    * 주의 (medium): probability ≥ ``medium``;
    * 관심 (low): probability ≥ ``low``;
    * 해당 없음 (none): the rest.

    The defaults are the settings table's (``band_medium``, ``band_low``, ``capacity_share``);
    :meth:`configured` also reads their environment variables.
    """

    medium: float = settings.default("band_medium")
    low: float = settings.default("band_low")
    capacity_share: float = settings.default("capacity_share")

    @classmethod
    def configured(cls) -> Thresholds:
        """The thresholds of the settings, environment first (``BLINDSPOT_BAND_MEDIUM`` …)."""
        return cls(settings.get("band_medium"), settings.get("band_low"), settings.get("capacity_share"))

    def validate(self) -> None:
        if not 0 < self.low < self.medium < 1:
            raise ModelError(f"임계값은 0 < 관심({self.low}) < 주의({self.medium}) < 1 이어야 합니다.")
        if not 0 < self.capacity_share <= 0.2:
            raise ModelError(f"방문 용량 비율은 0 초과 0.2 이하여야 합니다 (받은 값: {self.capacity_share}).")


def assign_bands(probability: np.ndarray, in_capacity: np.ndarray, t: Thresholds) -> np.ndarray:
    """Band per household as an index into :data:`BANDS` (int8).

    >>> codes = assign_bands(np.array([0.6, 0.6, 0.2, 0.07, 0.01]),
    ...                      np.array([True, False, False, True, True]), Thresholds())
    >>> [BANDS[c] for c in codes]
    ['high', 'medium', 'medium', 'low', 'none']
    """
    p = np.asarray(probability)
    band = np.full(len(p), 3, dtype=np.int8)
    band[p >= t.low] = 2
    band[p >= t.medium] = 1
    band[(p >= t.medium) & np.asarray(in_capacity)] = 0
    return band


# --- pipeline ---------------------------------------------------------------------------


def make_pipeline(fs: FeatureSet, C: float = settings.default("model_c")) -> Pipeline:
    """Preprocessing + logistic regression.

    Flags pass through as 0/1; months, amounts and counts are skewed, so they are
    log1p-transformed and standardised (one coefficient then means "per doubling",
    roughly); categories are one-hot encoded, unseen categories ignored.
    """
    prep = ColumnTransformer(
        [
            ("flag", "passthrough", list(fs.flags)),
            (
                "log",
                Pipeline(
                    [
                        ("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                        ("scale", StandardScaler()),
                    ]
                ),
                list(fs.months) + list(fs.amounts) + list(fs.numeric),
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(fs.categorical)),
        ],
        verbose_feature_names_out=False,
    )
    clf = LogisticRegression(C=C, max_iter=2000, random_state=RANDOM_STATE)
    return Pipeline([("prep", prep), ("clf", clf)])


def column_groups(pipeline: Pipeline, fs: FeatureSet) -> np.ndarray:
    """For each transformed column, the index into ``fs.all`` of the feature it came from."""
    prep = pipeline.named_steps["prep"]
    groups: list[int] = []
    names = list(fs.all)
    for name, _, cols in prep.transformers_:
        if name in ("flag", "log"):
            groups.extend(names.index(c) for c in cols)
        elif name == "cat":
            enc = prep.named_transformers_["cat"]
            for c, cats in zip(cols, enc.categories_, strict=False):
                groups.extend([names.index(c)] * len(cats))
    return np.asarray(groups, dtype=np.int64)


# --- training data --------------------------------------------------------------------


def labelled_rounds(store: Store, channels=LABEL_CHANNELS) -> pd.DataFrame:
    """Rounds with usable labels: round_id, labelled, positives."""
    return store.df(sql.LABELLED_ROUNDS, {"channels": list(channels)})


def loaded_round_ids(store: Store) -> list[int]:
    return [r for (r,) in store.rows(db_sql.ROUND_IDS)]


def plan_rounds(store: Store, test_round: int | None = None, channels=LABEL_CHANNELS) -> tuple[list[int], int]:
    """Training rounds and the test round (temporal validation).

    The test round is the latest labelled round unless given; training uses every
    labelled round before it whose previous round is loaded too (so that history
    features mean the same as in later rounds).
    """
    lab = labelled_rounds(store, channels)
    loaded = set(loaded_round_ids(store))
    if lab.empty:
        raise ModelError(
            "방문 결과(라벨)가 있는 차수가 없습니다. 방문 결과를 먼저 적재하세요 "
            "(합성 데이터: `python -m blindspot build-demo`)."
        )
    labelled = lab["round_id"].tolist()
    if test_round is None:
        test_round = labelled[-1]
    elif test_round not in labelled:
        code = from_id(test_round).code
        raise ModelError(
            f"검증 차수 {code} 에 방문 결과가 없습니다. 방문 결과가 있는 차수: "
            + ", ".join(from_id(r).code for r in labelled)
        )
    train = [r for r in labelled if r < test_round and from_id(r).prev().round_id in loaded]
    if not train:
        raise ModelError(
            f"학습에 쓸 차수가 없습니다: 검증 차수 {from_id(test_round).code} 이전에, 직전 차수 자료까지 "
            "적재된 라벨 차수가 하나 이상 필요합니다 (최소 3개 차수: 이력 1 + 학습 1 + 검증 1)."
        )
    return train, test_round


def training_frame(
    store: Store,
    rounds: list[int],
    catalogue: Catalogue | None = None,
    channels=LABEL_CHANNELS,
    progress: ProgressFn = silent,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels of the labelled households of ``rounds`` (one row per visit)."""
    frames, labels = [], []
    for k, r in enumerate(rounds):
        progress(k / len(rounds), f"학습 자료 {from_id(r).code}")
        f = build_features(store, r, catalogue=catalogue, visited_only=True)
        lab = store.df(sql.CHANNEL_LABELS, {"t": r, "channels": list(channels)})
        f = f.merge(lab, on="household_id", how="inner")
        f.insert(0, "round_id", np.int32(r))
        labels.append(f.pop("label").to_numpy(np.int8))
        frames.append(f)
    X = pd.concat(frames, ignore_index=True)
    return X, np.concatenate(labels)


def data_fingerprint(X: pd.DataFrame, y: np.ndarray) -> str:
    """SHA-256 of the training rows and labels (metadata: which data made this model)."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    h.update(np.asarray(y, dtype=np.int8).tobytes())
    return h.hexdigest()


def check_labels(y: np.ndarray, rounds: list[int]) -> None:
    pos = int(np.sum(y))
    neg = int(len(y) - pos)
    codes = ", ".join(from_id(r).code for r in rounds)
    if pos < MIN_POSITIVES or neg < MIN_NEGATIVES:
        raise ModelError(
            f"학습 차수({codes})의 라벨이 너무 적습니다: 욕구 확인 {pos}건, 미해당 {neg}건 "
            f"(각각 최소 {MIN_POSITIVES}/{MIN_NEGATIVES}건 필요). 방문 결과를 더 적재하세요."
        )


@dataclass
class FittedModel:
    """A fitted pipeline with what is needed to explain and check it.

    ``column_means`` is the reference point of the reasons (each contribution is measured
    from it) and ``base_population`` says whose means they are: the training rows after
    :func:`fit`, a round's whole scored population after :func:`set_population_base`.
    """

    pipeline: Pipeline
    features: FeatureSet
    groups: np.ndarray  # transformed column -> index into features.all
    column_means: np.ndarray  # mean of each transformed column over base_population
    thresholds: Thresholds = field(default_factory=Thresholds)
    base_population: str = "학습 행 (방문 가구)"

    @property
    def coef(self) -> np.ndarray:
        return self.pipeline.named_steps["clf"].coef_[0]

    @property
    def base_logit(self) -> float:
        """Log-odds of a household whose every transformed column is at ``column_means``."""
        clf = self.pipeline.named_steps["clf"]
        return float(clf.intercept_[0] + self.coef @ self.column_means)


def fit(
    X: pd.DataFrame,
    y: np.ndarray,
    fs: FeatureSet,
    C: float = settings.default("model_c"),
    thresholds: Thresholds | None = None,
) -> FittedModel:
    pipe = make_pipeline(fs, C)
    pipe.fit(X[list(fs.all)], y)
    Z = pipe.named_steps["prep"].transform(X[list(fs.all)])
    return FittedModel(
        pipe,
        fs,
        column_groups(pipe, fs),
        np.asarray(Z.mean(axis=0)),
        thresholds or Thresholds(),
        f"학습 행 {len(X):,}건 (방문 가구)",
    )


def column_sums(model: FittedModel, X: pd.DataFrame) -> np.ndarray:
    """Sum over the rows of ``X`` of each transformed column (float64, one per coefficient),
    without materialising the one-hot matrix: flags as 0/1, log-scaled columns as the
    pipeline's standardised values, categories as row counts (unseen or missing → none).

    Tested equal to the column sums of ``pipeline["prep"].transform(X)``.
    """
    prep = model.pipeline.named_steps["prep"]
    out = np.zeros(len(model.coef), dtype=np.float64)
    col = 0
    for name, transformer, cols in prep.transformers_:
        if name == "flag":
            for c in cols:
                out[col] = X[c].to_numpy(np.float64).sum()
                col += 1
        elif name == "log":
            scaler = transformer.named_steps["scale"]
            for k, c in enumerate(cols):
                out[col] = ((np.log1p(X[c].to_numpy(np.float64)) - scaler.mean_[k]) / scaler.scale_[k]).sum()
                col += 1
        elif name == "cat":
            for c, cats in zip(cols, transformer.categories_, strict=False):
                position = {str(v): i for i, v in enumerate(cats)}
                for label, count in X[c].value_counts(dropna=True).items():
                    if str(label) in position:
                        out[col + position[str(label)]] += count
                col += len(cats)
    return out


def set_population_base(model: FittedModel, round_code: str, frames: Iterable[pd.DataFrame]) -> dict:
    """Measure the reasons from a round's whole scored population: ``model.column_means``
    becomes the mean of each transformed column over every row of ``frames`` (feature
    batches of the round, e.g. ``scoring.feature_batches``; summed batch by batch, so a
    national round of 24 million households never sits in memory).

    The training rows are visited households only, chosen because they had signals, so
    their means make an unrepresentative reference: measured from them, "no new signal
    this round" added +1.51 log-odds on average (+0.31 from the population; scale-0.1
    demo, docs/model.md).  Probabilities do not change: the
    decomposition ``logit = base_logit + Σ contributions`` holds for any reference point
    (tested to 1e-9); only the split between base and contributions moves.

    Returns the metadata of the base (``explain`` in ``metadata.json``), e.g.
    ``{"base_population": "2024-R3 전체 가구 2,395,058", "base_households": 2395058,
    "base_logit": -3.49}`` (log-odds).
    """
    sums = np.zeros(len(model.coef), dtype=np.float64)
    n = 0
    for X in frames:
        sums += column_sums(model, X)
        n += len(X)
    if not n:
        raise ModelError(f"차수 {round_code} 에 기준값을 잴 가구가 없습니다.")
    model.column_means = sums / n
    model.base_population = f"{round_code} 전체 가구 {n:,}"
    return {"base_population": model.base_population, "base_households": n, "base_logit": model.base_logit}


# --- prediction (the reasons are in reasons.py) ---------------------------------------


def explain(model: FittedModel, X: pd.DataFrame, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Probability and per-feature contributions (log-odds) for each row of ``X``.

    Exact decomposition: ``logit = base_logit + contributions.sum(axis=1)``, where the
    contribution of a feature is the sum over its transformed columns of
    ``coefficient × (value − column mean)`` (means over ``model.base_population``).
    Computed from the fitted steps' parameters without materialising the one-hot matrix
    (4× faster at 24 million households); tested equal to the pipeline's own
    ``predict_proba``.  Contributions are ``dtype`` (float32 to halve the memory of a
    batch; float64 where the sum must match the log-odds to 1e-9): [rows,
    len(features.all)] (a transposed view of a feature-major array, so that each
    feature's column is contiguous).
    """
    prep = model.pipeline.named_steps["prep"]
    w = model.coef
    mu = model.column_means
    names = list(model.features.all)
    by_feature = np.empty((len(names), len(X)), dtype=dtype)
    contrib = by_feature.T
    col = 0
    for name, transformer, cols in prep.transformers_:
        if name == "flag":
            for c in cols:
                v = X[c].to_numpy(np.float32)
                contrib[:, names.index(c)] = w[col] * (v - mu[col])
                col += 1
        elif name == "log":
            scaler = transformer.named_steps["scale"]
            for k, c in enumerate(cols):
                z = (np.log1p(X[c].to_numpy(np.float64)) - scaler.mean_[k]) / scaler.scale_[k]
                contrib[:, names.index(c)] = w[col] * (z - mu[col])
                col += 1
        elif name == "cat":
            for c, cats in zip(cols, transformer.categories_, strict=False):
                block = slice(col, col + len(cats))
                offset = float(w[block] @ mu[block])
                values = X[c]
                labels = list(values.cat.categories) if hasattr(values, "cat") else sorted(set(values))
                codes = (
                    values.cat.codes.to_numpy()
                    if hasattr(values, "cat")
                    else pd.Categorical(values, categories=labels).codes
                )
                position = {str(v): i for i, v in enumerate(cats)}
                table = np.array(
                    [w[col + position[str(lab)]] - offset if str(lab) in position else -offset for lab in labels]
                    + [-offset],
                    dtype=np.float64,
                )
                contrib[:, names.index(c)] = table[codes]  # code -1 (missing) -> last entry
                col += len(cats)
    logit = model.base_logit + by_feature.sum(axis=0, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-logit)), contrib


def importance(model: FittedModel, contrib: np.ndarray, catalogue: Catalogue) -> pd.DataFrame:
    """Global importance: mean |contribution| (log-odds) of each feature over ``contrib``'s rows."""
    names = list(model.features.all)
    mean_abs = np.abs(contrib).mean(axis=0)
    label = [catalogue.by_code(n[4:]).name_ko if n.startswith("ind_") else FEATURE_LABELS.get(n, n) for n in names]
    df = pd.DataFrame({"feature": names, "label": label, "mean_abs_contribution": mean_abs})
    return df.sort_values("mean_abs_contribution", ascending=False, kind="stable").reset_index(drop=True)
