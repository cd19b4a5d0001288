"""Spatial statistics of 읍면동 rates, pure functions of values and neighbour pairs (no
store, no SQL): Getis-Ord Gi*, local Moran's I, Benjamini–Hochberg FDR, Mann-Kendall
trend and emerging hotspots, and the small tables the hotspot page shows.

A 읍면동 with no neighbour inside the analysed set (an island, or one whose neighbours are
all suppressed or outside the scope) is "not tested", never an error.  Inference is by
conditional permutation with a fixed seed, then FDR correction over all tested 읍면동;
classes are hot/cold at 90, 95 and 99 %.  Results are deterministic for a seed.
:mod:`blindspot.maps.hotspots` reads the values and neighbours from the store.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from blindspot import glossary

SEED = 20240630
PERMUTATIONS = 999
LEVELS = ((0.01, "99"), (0.05, "95"), (0.10, "90"))

GI_CLASSES = glossary.GI_CLASSES
MORAN_CLASSES = glossary.MORAN_CLASSES
_QUADRANT = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}


# --- weights ---------------------------------------------------------------------------------


def neighbours(codes, pairs) -> dict[str, list[str]]:
    """Neighbour lists restricted to ``codes`` (pairs: iterable of (code, neighbour)).

    >>> neighbours(["a", "b", "c"], [("a", "b"), ("b", "a"), ("b", "z")])
    {'a': ['b'], 'b': ['a'], 'c': []}
    """
    keep = set(codes)
    out: dict[str, list[str]] = {c: [] for c in codes}
    for a, b in pairs:
        if a in keep and b in keep and a != b and b not in out[a]:
            out[a].append(b)
    return out


def _weights(nb: dict[str, list[str]], codes: list[str]):
    """Binary queen weights with a self-weight of 1 (Gi* counts the area itself)."""
    from libpysal.weights import W, fill_diagonal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about disconnected components; expected here
        w = W({c: nb[c] for c in codes}, id_order=codes)
        return fill_diagonal(w, 1.0)


def gi_star_z(y, nb_lists: list[list[int]]) -> np.ndarray:
    """Getis–Ord Gi* z-scores (Ord & Getis 1995) with the area itself included:

    z_i = (Σ_j w_ij x_j − x̄ Σ_j w_ij) / (S √((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))

    with x̄ and S (population standard deviation) over all n areas.  Weights are 1 for
    the area and its neighbours; row-standardising them scales numerator and
    denominator alike, so z is the same for row-standardised weights.  NaN where the
    denominator is zero (all values equal, or the area neighbours every other area).

    Example (n = 3, x̄ = 4, S = √18): area 0 with neighbour 1 has
    (1 + 1 − 4·2) / (√18 · √((3·2 − 4) / 2)) = −6/√18 = −√2.

    >>> [round(float(v), 4) for v in gi_star_z([1, 1, 10], [[1], [0, 2], [1]])]
    [-1.4142, nan, 0.7071]
    """
    y = np.asarray(y, dtype="float64")
    n = len(y)
    mean = y.mean()
    s = np.sqrt((y**2).mean() - mean**2)
    out = np.full(n, np.nan)
    for i, nb in enumerate(nb_lists):
        idx = [i, *nb]
        sw = float(len(idx))
        num = y[idx].sum() - mean * sw
        den = s * np.sqrt((n * sw - sw**2) / (n - 1)) if n > 1 else 0.0
        if den > 1e-12:
            out[i] = num / den
    return out


def fdr(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (scipy), NaN kept as NaN.

    >>> fdr([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    p = np.asarray(p, dtype="float64")
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def gi_class(z: float, p_adjusted: float) -> str:
    """Hot/cold class at the strictest of 99/95/90 % the adjusted p-value passes.

    >>> gi_class(2.8, 0.004), gi_class(-2.0, 0.03), gi_class(1.7, 0.2), gi_class(float("nan"), float("nan"))
    ('hot_99', 'cold_95', 'not_significant', 'not_tested')
    """
    if not (np.isfinite(z) and np.isfinite(p_adjusted)):
        return "not_tested"
    for alpha, name in LEVELS:
        if p_adjusted <= alpha:
            return f"{'hot' if z > 0 else 'cold'}_{name}"
    return "not_significant"


def _tested(values: pd.Series, pairs) -> tuple[list[str], dict[str, list[str]]]:
    """Areas with a value and at least one neighbour that has a value."""
    values = values.dropna()
    nb = neighbours(list(values.index), pairs)
    while True:  # dropping an isolated area can isolate no one else, but be sure
        codes = [c for c in nb if nb[c]]
        if len(codes) == len(nb):
            return codes, nb
        nb = neighbours(codes, pairs)


def getis_ord(values: pd.Series, pairs, permutations: int = PERMUTATIONS, seed: int = SEED) -> pd.DataFrame:
    """Gi* per area of ``values`` (a rate indexed by 읍면동 code).

    Columns: code, value, z (Gi* z-score, :func:`gi_star_z`), p_sim (esda's one-sided
    pseudo p-value from ``permutations`` conditional permutations with row-standardised
    weights), p_fdr (BH-adjusted over the tested areas), cls (``GI_CLASSES`` key).
    Missing values and areas without neighbours are "not_tested".
    """
    from esda import G_Local

    out = pd.DataFrame({"code": values.index.astype(str), "value": values.values.astype("float64")})
    out["z"] = np.nan
    out["p_sim"] = np.nan
    codes, nb = _tested(values.astype("float64"), pairs)
    if len(codes) >= 3:
        y = values.loc[codes].to_numpy(dtype="float64")
        pos = {c: i for i, c in enumerate(codes)}
        z = gi_star_z(y, [[pos[n] for n in nb[c]] for c in codes])
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            g = G_Local(
                y,
                _weights(nb, codes),
                transform="R",
                star=True,
                permutations=permutations,
                seed=seed,
                n_jobs=1,
                keep_simulations=False,
            )
        idx = out.set_index("code").index.get_indexer(codes)
        out.loc[idx, "z"] = z
        out.loc[idx, "p_sim"] = np.where(np.isfinite(z), g.p_sim, np.nan) if permutations else np.nan
    out["p_fdr"] = fdr(out["p_sim"])
    out["cls"] = [gi_class(z, p) for z, p in zip(out["z"], out["p_fdr"], strict=False)]
    return out


def local_moran(values: pd.Series, pairs, permutations: int = PERMUTATIONS, seed: int = SEED) -> pd.DataFrame:
    """Local Moran's I per area (esda Moran_Local, row-standardised queen weights
    without self-weight): columns code, value, I, quadrant (HH/LH/LL/HL), p_sim, p_fdr,
    cls (quadrant when the BH-adjusted p ≤ 0.05, else not_significant / not_tested).
    """
    from esda import Moran_Local
    from libpysal.weights import W

    out = pd.DataFrame({"code": values.index.astype(str), "value": values.values.astype("float64")})
    out["I"], out["quadrant"], out["p_sim"] = np.nan, None, np.nan
    codes, nb = _tested(values.astype("float64"), pairs)
    if len(codes) >= 3 and values.loc[codes].nunique() > 1:
        y = values.loc[codes].to_numpy(dtype="float64")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = W({c: nb[c] for c in codes}, id_order=codes)
            m = Moran_Local(
                y, w, transformation="r", permutations=permutations, seed=seed, n_jobs=1, keep_simulations=False
            )
        idx = out.set_index("code").index.get_indexer(codes)
        out.loc[idx, "I"] = m.Is
        out.loc[idx, "quadrant"] = [_QUADRANT[int(q)] for q in m.q]
        out.loc[idx, "p_sim"] = m.p_sim
    out["p_fdr"] = fdr(out["p_sim"])
    out["cls"] = [
        "not_tested" if q is None or not np.isfinite(p) else (q if p <= 0.05 else "not_significant")
        for q, p in zip(out["quadrant"], out["p_fdr"], strict=False)
    ]
    return out


def mann_kendall(series) -> tuple[float, float]:
    """Mann–Kendall trend test of a series in time order: Kendall's tau against the
    round order and its one-sided p-value for an upward trend (scipy, exact for short
    series).  NaN when fewer than three finite values.

    >>> tau, p = mann_kendall([-1.0, 0.2, 0.5, 1.1, 1.9, 2.4])
    >>> round(tau, 3), round(p, 5)
    (1.0, 0.00139)
    """
    y = np.asarray(series, dtype="float64")
    t = np.arange(len(y))
    ok = np.isfinite(y)
    if ok.sum() < 3 or np.unique(y[ok]).size < 2:
        return float("nan"), float("nan")
    res = stats.kendalltau(t[ok], y[ok], alternative="greater")
    return float(res.statistic), float(res.pvalue)


def emerging(z_by_round: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Emerging hotspots from Gi* z-scores (rows: 읍면동 codes, columns: rounds in time
    order): an area is emerging when its z rose by the Mann–Kendall test (tau > 0,
    one-sided p ≤ ``alpha``) and it now lies above the average (last z > 0) — a
    cold spot warming towards the mean is not a hotspot.  Columns: code, tau, p,
    z_first, z_last, emerging.

    >>> z = pd.DataFrame([[-1, 0, 1, 2, 3, 4], [1, 1, 0, 1, 0, 1], [-6, -5, -4, -3, -2, -1]],
    ...                  index=["a", "b", "c"])
    >>> emerging(z)[["code", "emerging"]].values.tolist()
    [['a', True], ['b', False], ['c', False]]
    """
    rows = []
    for code, series in z_by_round.iterrows():
        tau, p = mann_kendall(series.values)
        rows.append(
            {
                "code": str(code),
                "tau": tau,
                "p": p,
                "z_first": float(series.iloc[0]),
                "z_last": float(series.iloc[-1]),
                "emerging": bool(np.isfinite(p) and tau > 0 and p <= alpha and series.iloc[-1] > 0),
            }
        )
    return pd.DataFrame(rows, columns=["code", "tau", "p", "z_first", "z_last", "emerging"])


def gi_star_series(values: pd.Series, pairs) -> pd.Series:
    """Analytical Gi* z of every area (index = code) with neighbours among the tested
    areas; NaN where not tested or when fewer than three areas can be tested.

    >>> gi_star_series(pd.Series([1.0, 1.0, 9.0], index=["a", "b", "c"]), []).isna().all()
    np.True_
    """
    codes, nb = _tested(values, pairs)
    z = pd.Series(np.nan, index=values.index)
    if len(codes) >= 3:
        pos = {c: i for i, c in enumerate(codes)}
        z.loc[codes] = gi_star_z(values.loc[codes].values, [[pos[n] for n in nb[c]] for c in codes])
    return z


# --- page tables ------------------------------------------------------------------------------


def class_counts(result: pd.DataFrame, labels: dict) -> pd.Series:
    """Number of 읍면동 per class, in the order of ``labels``, named in Korean.

    >>> class_counts(pd.DataFrame({"cls": ["hot_99", "not_tested", "hot_99"]}), GI_CLASSES).to_dict()
    {'핫스팟 99%': 2, '검정 안 함 (이웃 없음·자료 없음)': 1}
    """
    counts = result["cls"].value_counts()
    return pd.Series({labels[c]: int(counts[c]) for c in labels if c in counts}, name="읍면동 수", dtype="int64")


def significant(result: pd.DataFrame) -> pd.DataFrame:
    """The significant rows (hot/cold or a Moran quadrant), strongest first."""
    rows = result[~result["cls"].isin(["not_significant", "not_tested"])]
    key = "z" if "z" in rows else "I"
    return rows.reindex(rows[key].abs().sort_values(ascending=False).index)


def rising(trend: pd.DataFrame) -> pd.DataFrame:
    """The emerging 읍면동 of :func:`blindspot.maps.hotspots.emerging_hotspots`, steepest trend first."""
    return trend[trend["emerging"]].sort_values(["tau", "z_last"], ascending=False)


EMERGING_LABELS = glossary.EMERGING_LABELS


def emerging_classes(trend: pd.DataFrame) -> pd.DataFrame:
    """:func:`blindspot.maps.hotspots.emerging_hotspots` rows as map classes (value = latest Gi* z)."""
    return trend.assign(value=trend["z_last"], cls=np.where(trend["emerging"], "emerging", "other"))
