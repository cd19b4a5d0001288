"""The reach gap per region and round: expected crisis households, found, supported, the
gap as a count and as a ratio with an exact interval, its class, its trend and its hot spots.

* **Expected** (예상 위기 가구): the sum of the calibrated probabilities of every scored
  household of the region — the number of households a visit would find in need, were every
  household visited (the model's probability is that of a visit confirming a need).
* **Found** (발견): households visited in the round with the need confirmed (욕구 확인 or 지원
  연계, ``vocab.CONFIRMED_OUTCOMES``); **supported** (지원 연계): those linked to support.
  Both are the maps' counts (:func:`blindspot.maps.counts.region_counts`): snapshot visits
  with the outcomes officials entered laid over them (``visits_now``), and, for a
  presenter, protected once over the scope's whole tree, so this page, the map and the
  briefing hide the same cells.
* **Gap** (발굴 격차): expected − found (households, may be negative), and the **ratio**
  found ÷ expected (발견률) with an exact Poisson interval (:func:`poisson_interval`).
* **Class**: an area is a *gap* only when its whole interval lies below ``reach_gap_ratio``
  times the ratio of the caller's whole scope (:func:`gap_class`), so a small area with
  two households found does not shout; *ahead* when its interval lies wholly above it.

Privacy: expected is shown only where the region's households are shown (the maps'
decision) and at least *k* households were scored (:func:`blindspot.access.mask_statistic`);
gap, ratio and interval only where both found and expected are shown (each gives found
back from expected).  Described in docs/reach-gap.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from blindspot import glossary, settings
from blindspot.access import Scope, mask_statistic, narrow, outer_scope, scope_sql_named, threshold
from blindspot.db import aggregates
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.geo import regions as geography
from blindspot.maps import hotspots as maphotspots
from blindspot.maps import spatial
from blindspot.maps.counts import region_counts
from blindspot.maps.measures import LEVEL_COLUMN, NATION, VISIT_LEVEL_COLUMN
from blindspot.reach import sql

CONFIDENCE = 0.95  # two-sided level of the ratio's interval (docs/reach-gap.md)
LEVELS = ("nation", "sido", "sgg", "emd")

# Class of an area, in the order of the legend.
CLASSES = glossary.REACH_CLASSES


def poisson_interval(n, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) two-sided interval of a Poisson mean from an observed count ``n``
    (households): ``lo = χ²(α/2; 2n)/2`` (0 when n = 0), ``hi = χ²(1−α/2; 2n+2)/2``.

    Why this interval: found households are a count of rare events among many households
    (each household is found with a small probability), so the count is close to Poisson
    (a sum of many independent rare Bernoulli trials); the expected count is treated as
    known, as for a standardised mortality ratio (it sums thousands of model
    probabilities, so its own error is small beside the count's).  The exact interval
    never undercovers, and it is wide for a small count: an area with two households found
    cannot be called a gap by chance.  A Wilson interval would need a binomial
    denominator, which the expected sum is not.

    By hand: n = 0 gives hi = −ln 0.025 = 3.689 (a mean of 3.689 shows 0 with chance
    e^−3.689 = 0.025); n = 1 gives lo = −ln 0.975 = 0.0253 and hi = 5.572, which solves
    e^−μ (1 + μ) = 0.025.

    >>> lo, hi = poisson_interval([0, 1])
    >>> [round(float(v), 4) for v in lo], [round(float(v), 3) for v in hi]
    ([0.0, 0.0253], [3.689, 5.572])
    """
    n = np.asarray(n, dtype="float64")
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        lo = np.where(n > 0, stats.chi2.ppf(alpha / 2, 2 * n) / 2, 0.0)
        hi = stats.chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2
    missing = ~np.isfinite(n)
    return np.where(missing, np.nan, lo), np.where(missing, np.nan, hi)


def ratio_interval(found, expected, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Found ÷ expected (0..∞, households per expected crisis household) with the exact
    interval of :func:`poisson_interval` divided by the expected count.  NaN where either is
    missing or expected is not positive.

    >>> r, lo, hi = ratio_interval([0, 5], [10.0, 10.0])
    >>> [round(float(v), 3) for v in r], [round(float(v), 3) for v in lo], [round(float(v), 3) for v in hi]
    ([0.0, 0.5], [0.0, 0.162], [0.369, 1.167])
    """
    found = np.asarray(found, dtype="float64")
    expected = np.asarray(expected, dtype="float64")
    ok = np.isfinite(found) & np.isfinite(expected) & (expected > 0)
    den = np.where(ok, expected, np.nan)
    lo, hi = poisson_interval(np.where(ok, found, np.nan), confidence)
    return found / den, lo / den, hi / den


def gap_class(relative_low: float, relative_high: float, limit: float) -> str:
    """Class of an area from its ratio interval relative to the reference (the ratio of the
    caller's whole scope): ``gap`` when the interval's upper end is below ``limit``
    (``reach_gap_ratio``), ``ahead`` when its lower end is above 1, else ``even``.

    >>> gap_class(0.2, 0.7, 0.8), gap_class(0.2, 1.9, 0.8), gap_class(1.1, 1.6, 0.8)
    ('gap', 'even', 'ahead')
    """
    if relative_high < limit:
        return "gap"
    if relative_low > 1.0:
        return "ahead"
    return "even"


def _expected(store: Store, scope: Scope, level: str, round_id: int) -> pd.DataFrame:
    """Households scored and expected crisis households per region (exact, not yet masked)."""
    if aggregates.risk_ready(store, round_id):
        statement, column = sql.EXPECTED_STATS, LEVEL_COLUMN[level]
    else:
        statement, column = sql.EXPECTED_LIVE, VISIT_LEVEL_COLUMN[level]
    cond, params = scope_sql_named(scope, "sgg_code")
    df = store.df(statement.format(level_col=column, scope=cond), {**params, "t": int(round_id)})
    return df.set_index("code")[["scored", "expected"]].astype("float64")


def _regions(store: Store, view: Scope, level: str) -> pd.DataFrame:
    if level == "nation":
        return pd.DataFrame([{k: NATION[k] for k in ("code", "name", "full_name", "parent_code")}])
    return geography.regions(store, view, level)[["code", "name", "full_name", "parent_code"]]


def _figures(store: Store, view: Scope, level: str, round_id: int, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """households, expected, found, supported per region of the view (index: code), masked.
    ``counts``: the view's :func:`~blindspot.maps.counts.region_counts` when the caller
    holds them already (the same cells, so nothing is counted twice)."""
    counts = region_counts(store, view, level, round_id) if counts is None else counts
    exp = _expected(store, view, level, round_id).reindex(counts.index)
    k = threshold(view)
    expected = mask_statistic(exp["expected"], exp["scored"].fillna(0), max(k, 1))
    expected = expected.where(counts["households"].notna())
    out = pd.DataFrame(
        {
            "households": counts["households"],
            "expected": expected,
            "found": counts["confirmed"],
            "supported": counts["supported"],
            "scored_any": exp["scored"].fillna(0) > 0,
        },
        index=counts.index,
    )
    # A figure built on two others is shown only when both are (it would give one back).
    both = out["found"].notna() & out["expected"].notna()
    out["gap"] = (out["expected"] - out["found"]).where(both)
    shown = both & out["households"].notna() & (out["households"] > 0)
    out["gap_rate"] = (out["gap"] / out["households"] * 1000.0).where(shown)
    return out


def gap_rate(
    store: Store, scope: Scope, level: str, round_id: int, area: str | None = None, counts: pd.DataFrame | None = None
) -> pd.Series:
    """The gap per 1,000 households ((expected − found) ÷ households × 1,000; may be
    negative) per region of ``level`` ("sgg" or "emd") in the scope narrowed to ``area``, one
    round (index: code): the ``gap_rate`` column of :func:`reach_gap`, without the reference
    ratio and the classes, which cost the whole scope's figures once more.  NaN where
    hidden.  ``counts``: the regions' :func:`~blindspot.maps.counts.region_counts` in that
    view, when the caller has them (the special support zones read the map's counts once).

    Example: ``gap_rate(store, Scope.analyst(), "sgg", 20243)["29110"]`` equals the
    ``gap_rate`` of 29110 in ``reach_gap(store, Scope.analyst(), "sgg", 20243)``.
    """
    return _figures(store, narrow(store, scope, area), level, int(round_id), counts)["gap_rate"]


def _reference(store: Store, scope: Scope, round_id: int) -> float:
    """The ratio found ÷ expected of the caller's whole scope (the yardstick of the classes)."""
    whole = outer_scope(scope)
    row = _figures(store, whole, "nation", round_id)
    code = str(NATION["code"])
    if code not in row.index:
        return float("nan")
    found, expected = row.loc[[code], ["found", "expected"]].to_numpy(dtype="float64")[0]
    return float(found / expected) if np.isfinite(found) and np.isfinite(expected) and expected > 0 else float("nan")


def reach_gap(
    store: Store,
    scope: Scope,
    level: str,
    round_id: int,
    area: str | None = None,
    limit: float | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """One row per region of ``level`` ("nation", "sido", "sgg", "emd") in the scope,
    narrowed to ``area``, for one round.

    Columns: code, name, full_name, parent_code; households, expected, found, supported
    (households; NaN when hidden or absent), gap (expected − found, households), gap_rate
    (gap per 1,000 households), ratio (found ÷ expected) with ratio_low/ratio_high (the
    ``confidence`` interval), reference (the ratio of the caller's whole scope), relative,
    relative_low, relative_high (the ratio and its interval ÷ reference), cls
    (:data:`CLASSES` key) and has_data.  ``limit`` defaults to the ``reach_gap_ratio`` setting.

    Example: ``reach_gap(store, Scope.analyst(), "sgg", 20243)`` has one row per 시군구;
    a row with expected 100.0 and found 4 has ratio 0.04 and interval 0.011–0.102.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    limit = float(settings.get("reach_gap_ratio") if limit is None else limit)
    view = narrow(store, scope, area)
    figures = _figures(store, view, level, int(round_id))
    out = _regions(store, view, level).merge(figures, left_on="code", right_index=True, how="left")
    out["has_data"] = out["code"].isin(figures.index)
    out["scored_any"] = out["scored_any"].astype("boolean").fillna(False).astype(bool)
    ratio, lo, hi = ratio_interval(out["found"], out["expected"], confidence)
    out["ratio"], out["ratio_low"], out["ratio_high"] = ratio, lo, hi
    reference = _reference(store, scope, int(round_id))
    out["reference"] = reference
    for col in ("", "_low", "_high"):
        out[f"relative{col}"] = out[f"ratio{col}"] / reference if reference > 0 else np.nan
    out["cls"] = [_class(row, limit) for row in out.itertuples(index=False)]
    return out.drop(columns=["scored_any"]).reset_index(drop=True)


def _class(row, limit: float) -> str:
    if not row.has_data:
        return "no_data"
    if not row.scored_any:
        return "no_scores"
    if not (np.isfinite(row.ratio) and np.isfinite(row.relative_low)):
        return "hidden" if not np.isfinite(row.ratio) else "even"
    return gap_class(row.relative_low, row.relative_high, limit)


def _level_of(code: str | None) -> str:
    """>>> _level_of(None), _level_of("29"), _level_of("29110"), _level_of("2911051500")
    ('nation', 'sido', 'sgg', 'emd')
    """
    if code is None or code == NATION["code"]:
        return "nation"
    return {2: "sido", 5: "sgg", 10: "emd"}[len(str(code))]


def reach_trend(
    store: Store, scope: Scope, round_id: int, area: str | None = None, since: int | None = None
) -> pd.DataFrame:
    """The area's figures in every loaded round up to ``round_id`` (from ``since`` when
    given; the whole scope when ``area`` is None), oldest first: round_id, households,
    expected, found, supported, gap,
    ratio, ratio_low, ratio_high (as :func:`reach_gap`; expected is NaN in a round without
    scores).  Each round's counts are that round's protected map counts.

    Example: ``reach_trend(store, Scope.district(["29110"]), 20243, "29110")`` has one row
    per loaded round, 2023-R6 … 2024-R3 on the test world.
    """
    level = _level_of(area)
    view = narrow(store, scope, area) if level != "nation" else scope
    code = NATION["code"] if level == "nation" else str(area)
    rows = []
    for (rid,) in store.rows(db_sql.ROUND_IDS):
        if int(rid) > int(round_id) or (since is not None and int(rid) < int(since)):
            continue
        figures = _figures(store, view, level, int(rid))
        row = figures.loc[code] if code in figures.index else pd.Series(dtype="float64")
        rows.append({"round_id": int(rid), **{c: row.get(c, np.nan) for c in TREND_COLUMNS}})
    out = pd.DataFrame(rows, columns=["round_id", *TREND_COLUMNS]).astype({c: "float64" for c in TREND_COLUMNS})
    ratio, lo, hi = ratio_interval(out["found"], out["expected"])
    return out.assign(ratio=ratio, ratio_low=lo, ratio_high=hi)


TREND_COLUMNS = ("households", "expected", "found", "supported", "gap")


def gap_hotspots(
    store: Store,
    scope: Scope,
    round_id: int,
    area: str | None = None,
    permutations: int = spatial.PERMUTATIONS,
    seed: int = spatial.SEED,
) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots of the gap per 1,000 households over the 읍면동 in
    view, with the maps' machinery (:func:`blindspot.maps.spatial.getis_ord`: queen
    neighbours in scope, conditional permutations, Benjamini–Hochberg FDR, classes at
    90/95/99 %).  A hidden or missing value is not tested.  Columns: code, name, full_name,
    value (gap per 1,000 households), z, p_sim, p_fdr, cls (``spatial.GI_CLASSES`` key).

    Example: ``gap_hotspots(store, Scope.analyst(), 20243, area="29")`` classes 광주's 읍면동.
    """
    view = narrow(store, scope, area)
    rows = reach_gap(store, scope, "emd", round_id, area)
    series = rows.set_index("code")["gap_rate"].astype("float64")
    result = spatial.getis_ord(series, maphotspots.adjacency(store, view), permutations, seed)
    return rows[["code", "name", "full_name"]].merge(result, on="code")
