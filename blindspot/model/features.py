"""Model features per household and round, computed in DuckDB from the store.

Features of round *t* use the signals of *t* and of the three rounds before it, never a
later round (tested).  The feature list is derived from the indicator catalogue, so a new
catalogue row becomes a new feature.

Feature groups:

* one column per catalogue indicator: 1/0 for flags, months overdue, amount in won;
* signal history: number of signals and of domains hit at once (the "double check"),
  longest arrears, total amount, new onsets since *t-1*, signals in *t-1*, rounds with
  signals among *t-1..t-3*, and the streak of consecutive signalled rounds up to *t*;
* household: head's age band and sex, one person, size, housing, welfare status;
* area: 읍면동 type and the 읍면동's share of signalled households in *t*.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blindspot import vocab
from blindspot.access import Scope, scope_sql_named
from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model import sql
from blindspot.rounds import from_id

NUMERIC = (
    "n_signals",
    "n_domains",
    "max_months",
    "total_amount",
    "n_new",
    "n_signals_prev",
    "prev_rounds_signalled",
    "streak",
    "emd_signal_rate",
    "household_size",
)
CATEGORICAL = ("age_band", "head_sex", "one_person", "housing_type", "welfare_status", "emd_type")
AGE_BANDS = ((0, 39, "<40"), (40, 64, "40-64"), (65, 79, "65-79"), (80, 200, "80+"))


@dataclass(frozen=True)
class FeatureSet:
    """Names of the model's input columns, by how they are transformed."""

    flags: tuple[str, ...]
    months: tuple[str, ...]
    amounts: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.flags + self.months + self.amounts + self.numeric + self.categorical

    @property
    def fingerprint(self) -> str:
        """Changes whenever a feature is added, removed or renamed (artifacts check it)."""
        return hashlib.sha256("|".join(self.all).encode()).hexdigest()[:12]


def feature_set(catalogue: Catalogue | None = None) -> FeatureSet:
    cat = catalogue or load_catalogue()
    by = {k: tuple(f"ind_{i.code}" for i in cat.indicators if i.kind == k) for k in ("flag", "months", "amount")}
    return FeatureSet(by["flag"], by["months"], by["amount"], NUMERIC, CATEGORICAL)


def previous_rounds(round_id: int, n: int = 3) -> list[int]:
    """The ``n`` round ids before ``round_id`` (whether loaded or not).

    >>> previous_rounds(20241)
    [20236, 20235, 20234]
    """
    out, r = [], from_id(round_id)
    for _ in range(n):
        r = r.prev()
        out.append(r.round_id)
    return out


def build_features(
    store: Store,
    round_id: int,
    scope: Scope | None = None,
    catalogue: Catalogue | None = None,
    visited_only: bool = False,
) -> pd.DataFrame:
    """Feature frame of every household valid in ``round_id`` within ``scope``
    (or only those visited in that round).

    Columns: household_id, sgg_code and emd_code (as integers), then the
    :func:`feature_set` columns;
    sorted by household_id.  Units: months for ``max_months`` and months indicators,
    won for ``total_amount`` and amount indicators, a 0..1 share for ``emd_signal_rate``.

    Example: ``build_features(store, 20243, Scope.district(["11110"]))`` gives one row
    per household of 종로구 in round 2024-R3.
    """
    cat = catalogue or load_catalogue()
    scope = scope or Scope.all_areas()
    cond, params = scope_sql_named(scope, "sgg_code")
    subset = sql.FEATURES_VISITED if visited_only else "TRUE"
    t1, t2, t3 = previous_rounds(round_id)
    named = {"t": round_id, "t1": t1, "t2": t2, "t3": t3, **params}
    vocab_params = {
        "sex": list(vocab.HEAD_SEX),
        "housing": list(vocab.HOUSING_TYPES),
        "welfare": list(vocab.WELFARE_STATUS),
        "emd_types": list(vocab.EMD_TYPES),
    }
    base = store.run(sql.FEATURES.format(scope=cond, subset=subset), {**named, **vocab_params}).fetchnumpy()
    order = np.argsort(base["household_id"], kind="stable")
    cols = {k: np.asarray(v)[order] for k, v in base.items()}
    ids = cols["household_id"]
    data: dict = {
        "household_id": ids,
        # Integer region codes (zero-padding restored where they are written back as text).
        "sgg_code": cols["sgg"],
        "emd_code": cols["emd"],
    }
    # Indicator columns: scatter the long (household, indicator, value) rows into a matrix.
    sig_params = {k: v for k, v in named.items() if k not in ("t1", "t2", "t3")}
    sig = store.run(sql.FEATURE_SIGNALS.format(scope=cond, subset=subset), sig_params).fetchnumpy()
    matrix = np.zeros((len(ids), len(cat.indicators)), dtype=np.float64)
    pos = np.searchsorted(ids, np.asarray(sig["household_id"]))
    matrix[pos, np.asarray(sig["j"])] = np.asarray(sig["value"])
    for j, ind in enumerate(cat.indicators):
        data[f"ind_{ind.code}"] = matrix[:, j]
    for name in NUMERIC:
        data[name] = cols[name].astype(np.float64)
    data["household_size"] = np.minimum(data["household_size"], 8)
    df = pd.DataFrame(data)
    age = cols["head_age"]
    df["age_band"] = pd.Categorical.from_codes(
        np.searchsorted([hi for _, hi, _ in AGE_BANDS], age, side="left").clip(0, len(AGE_BANDS) - 1),
        categories=[label for *_, label in AGE_BANDS],
    )
    df["head_sex"] = _categorical(cols["head_sex"], vocab.HEAD_SEX)
    df["one_person"] = pd.Categorical.from_codes(cols["one_person"].astype(np.int8), categories=["no", "yes"])
    df["housing_type"] = _categorical(cols["housing_type"], vocab.HOUSING_TYPES)
    df["welfare_status"] = _categorical(cols["welfare_status"], vocab.WELFARE_STATUS)
    df["emd_type"] = _categorical(cols["emd_type"], vocab.EMD_TYPES)
    return df


def _categorical(positions: np.ndarray, vocabulary: dict) -> pd.Categorical:
    """1-based vocabulary positions (0 = unknown) to a Categorical with 'unknown'."""
    cats = list(vocabulary) + ["unknown"]
    codes = np.asarray(positions, dtype=np.int64) - 1
    codes[codes < 0] = len(cats) - 1
    return pd.Categorical.from_codes(codes, categories=cats)


def labels(store: Store, round_id: int) -> pd.DataFrame:
    """Visit-outcome labels of a round (household_id, label 0/1); unreachable excluded."""
    return store.df(sql.LABELS, [round_id])
