"""Stage 1 of the synthetic world: the 읍면동 (area model) and points inside them.

Per 읍면동, from the real geography: the modelled share of one-person households, the
mean size of the others, the age×sex distribution of heads, the archetype and the
spatially correlated hardship effect that every household of the 읍면동 shares
(``docs/synthetic-data.md`` §2–4).  Draws: one standard normal per 읍면동 from the
national area stream; :class:`PointSampler` draws household locations for stage 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from blindspot.demo import streams
from blindspot.demo.calibration import AGE_FROM, ALONE_F, ALONE_M, ARCHETYPE_EFFECT, HEAD_F, HEAD_M, HOUSING_BASE
from blindspot.demo.streams import sigmoid
from blindspot.geo.regions import GeoData

if TYPE_CHECKING:
    from blindspot.demo.synthetic import SyntheticConfig


def _z(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x`` standardised with weights ``w`` (weighted mean 0, sd 1; sd 0 counts as 1)."""
    mean = np.average(x, weights=w)
    sd = math.sqrt(np.average((x - mean) ** 2, weights=w)) or 1.0
    return (x - mean) / sd


@dataclass
class AreaModel:
    """Per-읍면동 quantities shared by every household of the 읍면동 (arrays in emd order)."""

    emd: pd.DataFrame  # emd_code, sgg_code, sido_code, emd_type, households, n (synthetic)
    one_person_share: np.ndarray  # modelled share of one-person households
    multi_size: np.ndarray  # mean size of the other households
    effect: np.ndarray  # additive hardship effect of the area
    archetype: np.ndarray  # archetype label
    alone_cdf: np.ndarray  # [emd, 34] cumulative probability of head's age×sex cell, one-person
    head_cdf: np.ndarray  # [emd, 34] the same for heads of larger households
    housing_base: np.ndarray  # [emd, 6] housing-type log-odds by 읍면동 type
    intercept: float  # calibrated logit intercept of the one-person model


def smooth_on_graph(values: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], steps: int = 4) -> np.ndarray:
    """Spatially smooth ``values`` by repeated half-weight neighbour averaging.

    ``pairs`` are (i, j) index arrays of neighbouring units (both directions).
    Islands (no neighbours) keep their own value.  Standardised to mean 0, sd 1.

    >>> v = smooth_on_graph(np.array([1.0, -1.0, 0.0]), (np.array([0, 1]), np.array([1, 0])), steps=1)
    >>> bool(abs(v[0] - v[1]) < abs(1.0 - -1.0))
    True
    """
    i, j = pairs
    deg = np.bincount(i, minlength=len(values)).astype(float)
    out = values.astype(float).copy()
    for _ in range(steps):
        nb = np.bincount(i, weights=out[j], minlength=len(values))
        mean_nb = np.divide(nb, deg, out=out.copy(), where=deg > 0)
        out = 0.5 * out + 0.5 * mean_nb
    return (out - out.mean()) / (out.std() or 1.0)


def calibrate_intercept(
    target: float, weights: np.ndarray, linear: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> float:
    """Intercept ``a`` with weighted mean of clip(sigmoid(a + linear), lower, upper) = target.

    Bisection; the mean is monotone in ``a``.

    >>> abs(calibrate_intercept(0.5, np.ones(2), np.zeros(2), np.zeros(2), np.ones(2))) < 1e-9
    True
    """
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        share = np.average(np.clip(sigmoid(mid + linear), lower, upper), weights=weights)
        lo, hi = (mid, hi) if share < target else (lo, mid)
    return (lo + hi) / 2


def build_area_model(geo: GeoData, adjacency: pd.DataFrame, cfg: SyntheticConfig) -> AreaModel:
    """The area model of every 읍면동 of ``geo`` (national, whatever ``cfg.sido`` selects).

    Shares are fractions of households, sizes persons per household; the effect is added
    to the hardship of each household of the 읍면동 (a latent score: crisis log-odds are
    ``cfg.crisis_intercept + cfg.crisis_slope × hardship``); ``emd["n"]`` is the number of
    synthetic households, ``round(households × cfg.scale)``.  Draws one standard normal per
    읍면동 (smoothed over ``adjacency``, queen contiguity) from the area stream.  Built on the
    real geography, so exercised by ``tests/demo`` rather than a doctest.
    """
    e = geo.emd.sort_values("emd_code").reset_index(drop=True)
    hh = e["households"].to_numpy(float)
    pop = e["population"].to_numpy(float)
    inhabited = hh > 0
    avg = np.where(inhabited, pop / np.maximum(hh, 1), 2.14)
    old = np.where(pop > 0, e["population_age_65_plus"].to_numpy(float) / np.maximum(pop, 1), 0.2)
    density = pop / np.maximum(e["area_km2"].to_numpy(float), 0.01)

    ages = geo.ages[geo.ages["level"] == "emd"].copy()
    ages["age_from"] = ages["age_group"].str.extract(r"^(\d+)")[0].astype(int)
    adult = ages[ages["age_from"] >= 20]
    table = adult.pivot_table(
        index="code", columns=["sex", "age_from"], values="population", aggfunc="sum", fill_value=0
    )
    table = table.reindex(e["emd_code"]).fillna(0)
    male = table["male"][list(AGE_FROM)].to_numpy(float)
    female = table["female"][list(AGE_FROM)].to_numpy(float)
    adults = male.sum(1) + female.sum(1)
    young = (male[:, :4].sum(1) + female[:, :4].sum(1)) / np.maximum(adults, 1)
    w = np.maximum(hh, 1) * inhabited

    # One-person share: fewer persons per household and more young or old adults
    # mean more people living alone.  The lower bound keeps the multi-person mean ≥ 2.
    linear = -1.6 * (avg - 2.14) + 2.0 * (old - 0.195) + 1.5 * (young - np.average(young, weights=w))
    lower = np.clip(2.0 - avg + 0.01, 0.02, 0.9)
    upper = np.full_like(lower, 0.9)
    a = calibrate_intercept(cfg.one_person_target, w, linear, lower, upper)
    p1 = np.clip(sigmoid(a + linear), lower, upper)
    multi = np.maximum((avg - p1) / np.maximum(1 - p1, 0.05), 2.0)

    rural = e["emd_type"].isin(["eup", "myeon"]).to_numpy()
    dong_p1_q75 = np.quantile(p1[~rural & inhabited], 0.75) if (~rural & inhabited).any() else 1.0
    archetype = np.full(len(e), "mixed", dtype=object)
    archetype[avg >= 2.4] = "family_suburb"
    archetype[~rural & (old >= 0.22)] = "old_urban"
    archetype[~rural & (p1 >= dong_p1_q75) & (density >= 10_000)] = "dense_one_person"
    archetype[rural & (old >= 0.30)] = "ageing_rural"

    idx = pd.Series(np.arange(len(e)), index=e["emd_code"])
    pairs = (idx.reindex(adjacency["emd_code"]).to_numpy(), idx.reindex(adjacency["neighbor_code"]).to_numpy())
    ok = ~(np.isnan(pairs[0].astype(float)) | np.isnan(pairs[1].astype(float)))
    pairs = (pairs[0][ok].astype(int), pairs[1][ok].astype(int))
    noise = smooth_on_graph(streams.stream(cfg.seed, streams.AREA).standard_normal(len(e)), pairs)
    effect = 0.25 * _z(old, w) + 0.15 * _z(p1, w) + 0.35 * noise + np.array([ARCHETYPE_EFFECT[k] for k in archetype])

    alone = np.hstack([male * ALONE_M, female * ALONE_F])
    head = np.hstack([male * HEAD_M, female * HEAD_F])
    alone_cdf = np.cumsum(alone, 1) / np.maximum(alone.sum(1, keepdims=True), 1e-12)
    head_cdf = np.cumsum(head, 1) / np.maximum(head.sum(1, keepdims=True), 1e-12)
    alone_cdf[:, -1] = head_cdf[:, -1] = 1.0
    housing_base = np.stack([HOUSING_BASE[t] for t in e["emd_type"]])

    n = np.rint(hh * cfg.scale).astype(np.int64)
    frame = e[["emd_code", "sgg_code", "sido_code", "emd_type", "households"]].copy()
    frame["n"] = n
    return AreaModel(frame, p1, multi, effect, archetype, alone_cdf, head_cdf, housing_base, a)


class PointSampler:
    """Uniform random points inside polygons, by area-weighted triangles.

    Each polygon is cut into triangles once (constrained Delaunay); a point picks a
    triangle with probability proportional to its area, then a uniform position in
    it, so every point lies inside its polygon without rejection sampling.

    >>> import shapely
    >>> ps = PointSampler(np.array([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 7)]))
    >>> xy = ps.sample(np.random.default_rng(0), np.array([0] * 500 + [1] * 500))
    >>> bool((xy[:500] <= 1).all() and (xy[500:, 1] >= 5).all() and (xy[500:, 1] <= 7).all())
    True
    """

    def __init__(self, geometry: np.ndarray) -> None:
        tris = shapely.constrained_delaunay_triangles(geometry)
        parts, owner = shapely.get_parts(tris, return_index=True)
        self.tri = shapely.get_coordinates(parts).reshape(-1, 4, 2)[:, :3, :]
        area = shapely.area(parts)
        total = np.bincount(owner, weights=area, minlength=len(geometry))
        # Cumulative area fraction within each owner, shifted by the owner index so that
        # one searchsorted over all triangles finds the triangle of (owner + u).
        csum = np.cumsum(area / total[owner])
        starts = np.searchsorted(owner, np.arange(len(geometry)))
        base = np.r_[0.0, csum][starts]
        self.key = owner + (csum - base[owner])
        self.owner = owner
        self.first = starts
        self.last = np.searchsorted(owner, np.arange(len(geometry)), side="right") - 1

    def sample(self, rng: np.random.Generator, owners: np.ndarray) -> np.ndarray:
        """[n, 2] lon/lat (the polygons' units) of one point in polygon ``owners[i]`` each;
        draws three uniforms per point (triangle, then two barycentric)."""
        n = len(owners)
        k = np.searchsorted(self.key, owners + rng.random(n), side="right")
        k = np.clip(k, self.first[owners], self.last[owners])
        r1 = np.sqrt(rng.random(n))
        r2 = rng.random(n)
        a, b, c = self.tri[k, 0], self.tri[k, 1], self.tri[k, 2]
        return (1 - r1)[:, None] * a + (r1 * (1 - r2))[:, None] * b + (r1 * r2)[:, None] * c
