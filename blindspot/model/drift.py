"""Drift checks: how far a scored round's households moved from those the model was tested
on (population stability index per feature), and how many needs its lists really confirmed.

Reference.  When a model becomes a candidate (:func:`blindspot.model.registry.prepare`),
:func:`reference` reads its test round once and stores in ``metadata.json`` under
``drift_reference``, per feature:

* indicators (flags, months, amounts): the share of households with the signal present;
* counts and other numeric features: bins at the deciles of the test round (repeated edges
  merged, so a count that is 0 for most households gets bins 0, 1, 2, …), with each bin's
  share — edges and shares from a fixed sample (``household_id`` divisible by a step, about
  :data:`REFERENCE_SAMPLE` households: at that size a share is known to ±0.1 point, far
  below what a PSI threshold notices);
* categories (age band, sex, one person, housing, welfare, 읍면동 type): each category's share.

Each scored round.  :func:`blindspot.model.scoring.score_round` already builds the round's
features batch by batch; :class:`Histograms` counts them into the reference's bins as they
pass (exact counts, no second read), and the round's PSI per feature is written to
``feature_drift`` with its scores.

PSI = Σ (actual − expected) · ln(actual / expected) over the bins, shares floored at
:data:`FLOOR` so an empty bin does not give infinity.  The thresholds (``psi_warn`` 0.1,
``psi_alert`` 0.25) are the usual convention, not a field figure.

Realised precision.  For each scored round: the households of its lists (band 위험, i.e.
inside the 읍면동's visit capacity) that were visited with an outcome (loaded or entered;
unreachable excluded), and the share of them whose need was confirmed, beside the mean
predicted probability of the same households — what a calibrated model promised.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from blindspot import glossary, settings
from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model import sql
from blindspot.model.features import FeatureSet
from blindspot.progress import ProgressFn, silent
from blindspot.rounds import from_id

REFERENCE_SAMPLE = 200_000
DECILES = np.linspace(0.1, 0.9, 9)
FLOOR = 1e-4
MIN_VISITED = 30  # fewer visited households than this: no warning on realised precision
STATUS = tuple(glossary.DRIFT_STATUS.values())  # stable, shift, alert


def psi(expected, actual, floor: float = FLOOR) -> float:
    """Population stability index of ``actual`` shares against ``expected`` ones.

    Hand-computed for shares 0.5/0.5 becoming 0.25/0.75: (0.25 − 0.5)·ln(0.25/0.5) +
    (0.75 − 0.5)·ln(0.75/0.5) = 0.25·0.6931 + 0.25·0.4055 = 0.2747.

    >>> round(psi([0.5, 0.5], [0.25, 0.75]), 4)
    0.2747
    >>> psi([0.2, 0.8], [0.2, 0.8])
    0.0
    >>> round(psi([0.0, 1.0], [0.0, 1.0]), 6)  # an empty bin in both: floored, no infinity
    0.0
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), floor)
    a = np.maximum(np.asarray(actual, dtype=np.float64), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def status(value: float) -> str:
    """안정 / 변화 / 큰 변화 for a PSI, by the settings ``psi_warn`` and ``psi_alert``.

    >>> status(0.05), status(0.1), status(0.3)
    ('안정', '변화', '큰 변화')
    """
    if value >= settings.get("psi_alert"):
        return STATUS[2]
    return STATUS[1] if value >= settings.get("psi_warn") else STATUS[0]


def _bin(spec: dict, values) -> np.ndarray:
    """Bin index of each value under a feature's reference ``spec``: right-closed bins
    (x ≤ e0, e0 < x ≤ e1, …, x > last edge), or the position in the category list (−1: not in it).

    >>> _bin({"edges": [0.0]}, np.array([0.0, 3.0])).tolist()
    [0, 1]
    >>> _bin({"edges": [0.0, 1.0, 2.0]}, np.array([0, 1, 1.5, 2, 7])).tolist()
    [0, 1, 2, 2, 3]
    """
    if "categories" in spec:
        v = values if isinstance(values, pd.Series) else pd.Series(values)
        if isinstance(v.dtype, pd.CategoricalDtype):
            # Codes, not strings: millions of rows per batch.
            cats = [str(c) for c in v.cat.categories]
            wanted = spec["categories"]
            lookup = np.array([wanted.index(c) if c in wanted else -1 for c in cats] + [-1], dtype=np.int64)
            return lookup[v.cat.codes.to_numpy()]  # code -1 (missing) takes the last entry, -1
        return np.asarray(pd.Categorical(v.astype(str), categories=spec["categories"]).codes)
    return np.searchsorted(np.asarray(spec["edges"], dtype=np.float64), np.asarray(values, dtype=np.float64))


def _size(spec: dict) -> int:
    return len(spec["categories"]) if "categories" in spec else len(spec["edges"]) + 1


class Histograms:
    """Counts of a round's households per reference bin, fed batch by batch."""

    def __init__(self, reference: dict) -> None:
        self.reference = reference
        self.counts = {f: np.zeros(_size(s), dtype=np.int64) for f, s in reference["features"].items()}
        self.n = 0

    def add(self, X: pd.DataFrame) -> None:
        for f, spec in self.reference["features"].items():
            if f not in X:
                continue
            idx = _bin(spec, X[f])
            self.counts[f] += np.bincount(idx[idx >= 0], minlength=len(self.counts[f]))
        self.n += len(X)

    def results(self) -> list[dict]:
        """One row per feature: its PSI and this round's shares."""
        out = []
        for f, spec in self.reference["features"].items():
            c = self.counts[f]
            shares = c / max(int(c.sum()), 1)
            out.append({"feature": f, "psi": psi(spec["proportions"], shares), "shares": shares.round(6).tolist()})
        return out


def reference(
    store: Store, round_id: int, fs: FeatureSet, catalogue: Catalogue | None = None, progress: ProgressFn = silent
) -> dict:
    """The drift reference of a model: its test round's population, binned (module docstring)."""
    from blindspot.model.scoring import feature_batches, sgg_batches

    catalogue = catalogue or load_catalogue()
    total = int(store.scalar(sql.HOUSEHOLDS_IN_ROUND, [round_id, round_id]) or 0)
    step = max(1, total // REFERENCE_SAMPLE)
    indicators = [*fs.flags, *fs.months, *fs.amounts]
    present = np.zeros(len(indicators), dtype=np.int64)
    cat_counts: dict[str, np.ndarray] = {}
    cat_names: dict[str, list[str]] = {}
    sample: dict[str, list[np.ndarray]] = {f: [] for f in fs.numeric}
    n = 0
    batches = sgg_batches(store, round_id)
    for k, X in enumerate(feature_batches(store, round_id, catalogue, batches)):
        present += (X[indicators].to_numpy() > 0).sum(axis=0)
        for f in fs.categorical:
            cats = [str(c) for c in X[f].cat.categories]
            cat_names.setdefault(f, cats)
            idx = _bin({"categories": cat_names[f]}, X[f])
            cat_counts[f] = cat_counts.get(f, np.zeros(len(cats), dtype=np.int64)) + np.bincount(
                idx[idx >= 0], minlength=len(cat_names[f])
            )
        keep = X["household_id"].to_numpy() % step == 0
        for f in fs.numeric:
            sample[f].append(X[f].to_numpy(np.float64)[keep])
        n += len(X)
        progress((k + 1) / len(batches), f"분포 기준 {from_id(round_id).code}: {n:,}가구")
    features: dict[str, dict] = {}
    for j, f in enumerate(indicators):
        share = present[j] / max(n, 1)
        features[f] = {"edges": [0.0], "proportions": [round(1 - share, 8), round(share, 8)]}
    for f in fs.numeric:
        values = np.concatenate(sample[f]) if sample[f] else np.zeros(1)
        edges = np.unique(np.quantile(values, DECILES))
        counts = np.bincount(_bin({"edges": edges}, values), minlength=len(edges) + 1)
        features[f] = {"edges": edges.tolist(), "proportions": (counts / max(len(values), 1)).round(8).tolist()}
    for f in fs.categorical:
        c = cat_counts.get(f, np.zeros(1, dtype=np.int64))
        features[f] = {"categories": cat_names.get(f, ["unknown"]), "proportions": (c / max(n, 1)).round(8).tolist()}
    return {
        "round": from_id(round_id).code,
        "households": n,
        "sample": int(sum(len(v) for v in sample[fs.numeric[0]])) if fs.numeric else 0,
        "features": features,
    }


def write(store: Store, round_id: int, version: str, hist: Histograms) -> float:
    """Replace the round's drift rows with these (inside the caller's transaction); returns the largest PSI."""
    rows = hist.results()
    store.run(sql.DELETE_DRIFT, [round_id])
    ref_round = hist.reference["round"]
    for r in rows:
        store.run(sql.INSERT_DRIFT, [round_id, version, ref_round, r["feature"], r["psi"], json.dumps(r["shares"])])
    return max((r["psi"] for r in rows), default=0.0)


def _label(feature: str, catalogue: Catalogue) -> str:
    from blindspot.model.pipeline import FEATURE_LABELS

    if feature.startswith("ind_"):
        return catalogue.by_code(feature[4:]).name_ko
    return FEATURE_LABELS.get(feature, feature)


def drift_table(store: Store, round_id: int | None = None, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """PSI per feature of ``round_id`` (default: the latest round with drift rows), largest
    first: round, model_version, reference_round, feature, label, psi, status."""
    catalogue = catalogue or load_catalogue()
    if round_id is None:
        round_id = store.scalar(sql.LATEST_DRIFT_ROUND)
    cols = ["round", "model_version", "reference_round", "feature", "label", "psi", "status"]
    if round_id is None:
        return pd.DataFrame(columns=cols)
    df = store.df(sql.DRIFT_ROWS, [int(round_id)])
    df["round"] = [from_id(int(r)).code for r in df["round_id"]]
    df["label"] = [_label(f, catalogue) for f in df["feature"]]
    df["status"] = [status(v) for v in df["psi"]]
    return df.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)[cols]


def realised_precision(store: Store) -> pd.DataFrame:
    """Per scored round: households listed (band 위험), visited with an outcome (unreachable
    excluded), needs confirmed, realised precision, the mean predicted probability of the
    visited ones (expected precision), and ``warn``: realised below
    ``precision_warn_ratio`` × expected on at least :data:`MIN_VISITED` visits."""
    df = store.df(sql.REALISED_PRECISION)
    df["round"] = [from_id(int(r)).code for r in df["round_id"]]
    visited = df["visited"].astype(float)
    df["precision"] = np.where(visited > 0, df["confirmed"] / visited.where(visited > 0, 1.0), np.nan)
    ratio = settings.get("precision_warn_ratio")
    df["warn"] = (visited >= MIN_VISITED) & (df["precision"] < ratio * df["expected"])
    return df[["round", "listed", "visited", "confirmed", "precision", "expected", "warn"]]
