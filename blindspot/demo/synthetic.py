"""Deterministic synthetic households and crisis signals on the real geography.

Real household data is confidential, so the demo data is generated: households per
읍면동 equal the real registered households × ``scale``, heads' age and sex follow
the 읍면동's age structure, and crisis signals come from a latent hardship with
spatial correlation, persistence across rounds and new onsets.  The model and the
calibration it reaches are described in ``docs/synthetic-data.md``.

Determinism: every 읍면동 draws from its own random stream, seeded by
``(seed, stage, 읍면동 code)``; national steps (area effects, visit selection) have
streams of their own.  The same seed and scale give identical tables, whatever the
machine's core count, and a 시도 built alone gets the same households (and ids) as
in a national build.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from blindspot import rounds as rounds_mod
from blindspot.db import sql
from blindspot.errors import BlindspotError
from blindspot.geo.regions import GeoData
from blindspot.indicators.catalogue import Catalogue
from blindspot.progress import ProgressFn, silent

GENERATOR_VERSION = "2"

HOUSING = ("apartment", "multiplex", "detached", "officetel", "vulnerable", "other")
WELFARE = ("none", "basic_livelihood", "near_poor")
AGE_GROUPS = ("young", "middle", "older")  # heads aged <40, 40–64, 65+
SUPPORT_TYPES = ("민간자원 연계", "긴급지원", "서비스 연계", "공공급여 연계", "기초생활보장 신청")
SUPPORT_WEIGHTS = (0.45, 0.2, 0.2, 0.13, 0.02)

# Stage numbers that keep the random streams apart.
_AREA, _HOUSEHOLDS, _SIGNALS, _VISITS = 1, 2, 3, 4

# Relative propensity, by head's age (5-year group from 20) and sex, to head a
# one-person household (alone) or a household of several (head).  Shapes follow the
# registered-household pattern: young adults and older women live alone most often;
# heads of larger households are mostly men aged 35–69.
_AGE_FROM = np.arange(20, 105, 5)  # 20, 25, ..., 100 (100+)
_ALONE_M = np.array([1.0, 1.3, 1.0, 0.8, 0.75, 0.75, 0.8, 0.8, 0.75, 0.7, 0.7, 0.75, 0.8, 0.9, 1.0, 1.0, 1.0])
_ALONE_F = np.array([1.0, 1.1, 0.6, 0.35, 0.3, 0.33, 0.4, 0.5, 0.6, 0.75, 0.95, 1.2, 1.5, 1.7, 1.7, 1.6, 1.5])
_HEAD_M = np.array([0.08, 0.35, 0.75, 0.95, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
_HEAD_F = np.array([0.04, 0.1, 0.18, 0.22, 0.24, 0.26, 0.27, 0.28, 0.3, 0.32, 0.35, 0.4, 0.45, 0.5, 0.5, 0.45, 0.4])

# Housing-type log-odds by 읍면동 type, and shifts for living alone and for hardship.
_HOUSING_BASE = {
    "dong": np.array([1.2, 0.0, -0.5, -1.0, -2.6, -2.6]),
    "eup": np.array([0.8, -0.9, 0.4, -2.2, -3.2, -2.2]),
    "myeon": np.array([-0.9, -2.2, 1.6, -3.6, -3.4, -2.0]),
}
_HOUSING_ALONE = np.array([-0.6, 0.3, 0.0, 1.2, 1.0, 0.0])
_HOUSING_HARDSHIP = np.array([-0.35, 0.1, 0.1, 0.0, 0.7, 0.0])

# Kind of crisis (an indicator domain) by head's age group: young, middle (40–64), older.
# Young adults lose jobs and homes; middle-aged heads debts and jobs; older people fall
# ill or lose a partner.  A domain not listed here gets weight 0.1 in every group.
CRISIS_KIND_WEIGHTS = {
    "economy": (0.20, 0.15, 0.20),
    "housing": (0.25, 0.10, 0.15),
    "health": (0.10, 0.20, 0.35),
    "finance": (0.15, 0.25, 0.05),
    "employment": (0.25, 0.25, 0.05),
    "family": (0.05, 0.05, 0.20),
}


def crisis_kind_p(domains: tuple[str, ...]) -> np.ndarray:
    """[3 age groups, domains] probabilities of each crisis kind.

    >>> crisis_kind_p(("health", "finance")).round(3).tolist()
    [[0.4, 0.6], [0.444, 0.556], [0.875, 0.125]]
    """
    w = np.array([CRISIS_KIND_WEIGHTS.get(d, (0.1, 0.1, 0.1)) for d in domains]).T
    return w / w.sum(1, keepdims=True)


# Area archetypes ("clusters the data tells") and what they add to hardship.
ARCHETYPE_EFFECT = {
    "ageing_rural": 0.35,      # 읍·면 where ≥ 30 % of residents are 65+
    "dense_one_person": 0.30,  # 동 with many one-person households and high density
    "old_urban": 0.20,         # older 동 (≥ 22 % aged 65+)
    "family_suburb": -0.20,    # large average household (≥ 2.4 persons)
    "mixed": 0.0,
}

_TIER_EDGES = np.array([-0.3, 0.6, 1.5])  # hardship tiers 0..3
# Signal rate ratio per hardship-tier step.  Long-running arrears (persistence ≥ 0.7:
# telecom, pensions, health insurance, taxes, rents) follow chronic poverty closely;
# acute events (cut-offs, a drop in use, a death) much less.  Chronically poor households
# therefore collect many signals without being in crisis, which is what makes a plain
# signal count a weak ranking (domain.md: specificity of indicators differs).
_TIER_RR_CHRONIC = 1.9
_TIER_RR_ACUTE = 1.2
_CHRONIC_PERSISTENCE = 0.7
_GROUP_RR = 2.0                            # rate ratio for the indicator's own age group
_CRISIS_PERSIST_FACTOR = 0.55              # signals outlive a crisis less often
# Rounds simulated before the first stored round, so that the first stored round is in
# steady state (old arrears still running, crises that ended leaving signals behind).
BURN_IN = 3


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of a demo build; everything else is fixed by the generator version."""

    seed: int = 42
    scale: float = 0.1
    rounds: int = 6
    sido: tuple[str, ...] | None = None
    latest_round: str = rounds_mod.LATEST_DEMO_ROUND
    one_person_target: float = 0.41
    crisis_intercept: float = -4.6      # log-odds of crisis at hardship 0 (≈3 % in crisis)
    crisis_slope: float = 1.15
    crisis_persistence: float = 0.70
    # A crisis has a kind (one indicator domain: a job lost, an illness, debts...).  Its own
    # domain's signals rise by the catalogue's crisis_rr; other domains' by crisis_rr^spill.
    crisis_spill: float = 0.5
    flagged_share: float = 0.008        # households visited per round (domain.md: ≈0.8 %)
    channel_shares: tuple[float, float, float] = (0.65, 0.25, 0.10)  # system, local, referrals
    system_noise: float = 1.7
    unreachable: float = 0.07
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def validate(self) -> None:
        if not 0 < self.scale <= 2:
            raise BlindspotError(f"--scale 는 0보다 크고 2 이하여야 합니다 (받은 값: {self.scale}).")
        if not 1 <= self.rounds <= 36:
            raise BlindspotError(f"--rounds 는 1~36 이어야 합니다 (받은 값: {self.rounds}).")
        if self.seed < 0:
            raise BlindspotError("--seed 는 0 이상의 정수여야 합니다.")


def _dict(indices: np.ndarray, values) -> pa.DictionaryArray:
    """A dictionary-encoded string column: DuckDB reads it far faster than Python strings."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(indices, dtype=np.int32)),
                                          pa.array(list(values), pa.string()))


def _rng(seed: int, stage: int, key: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stage, key])))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _z(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    mean = np.average(x, weights=w)
    sd = math.sqrt(np.average((x - mean) ** 2, weights=w)) or 1.0
    return (x - mean) / sd


# --- area model ------------------------------------------------------------------------

@dataclass
class AreaModel:
    """Per-읍면동 quantities shared by every household of the 읍면동 (arrays in emd order)."""

    emd: pd.DataFrame            # emd_code, sgg_code, sido_code, emd_type, households, n (synthetic)
    one_person_share: np.ndarray  # modelled share of one-person households
    multi_size: np.ndarray        # mean size of the other households
    effect: np.ndarray            # additive hardship effect of the area
    archetype: np.ndarray         # archetype label
    alone_cdf: np.ndarray         # [emd, 34] cumulative probability of head's age×sex cell, one-person
    head_cdf: np.ndarray          # [emd, 34] the same for heads of larger households
    housing_base: np.ndarray      # [emd, 6] housing-type log-odds by 읍면동 type
    intercept: float              # calibrated logit intercept of the one-person model


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


def calibrate_intercept(target: float, weights: np.ndarray, linear: np.ndarray,
                        lower: np.ndarray, upper: np.ndarray) -> float:
    """Intercept ``a`` with weighted mean of clip(sigmoid(a + linear), lower, upper) = target.

    Bisection; the mean is monotone in ``a``.

    >>> abs(calibrate_intercept(0.5, np.ones(2), np.zeros(2), np.zeros(2), np.ones(2))) < 1e-9
    True
    """
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        share = np.average(np.clip(_sigmoid(mid + linear), lower, upper), weights=weights)
        lo, hi = (mid, hi) if share < target else (lo, mid)
    return (lo + hi) / 2


def build_area_model(geo: GeoData, adjacency: pd.DataFrame, cfg: SyntheticConfig) -> AreaModel:
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
    table = adult.pivot_table(index="code", columns=["sex", "age_from"], values="population",
                              aggfunc="sum", fill_value=0)
    table = table.reindex(e["emd_code"]).fillna(0)
    male = table["male"][list(_AGE_FROM)].to_numpy(float)
    female = table["female"][list(_AGE_FROM)].to_numpy(float)
    adults = male.sum(1) + female.sum(1)
    young = (male[:, :4].sum(1) + female[:, :4].sum(1)) / np.maximum(adults, 1)
    w = np.maximum(hh, 1) * inhabited

    # One-person share: fewer persons per household and more young or old adults
    # mean more people living alone.  The lower bound keeps the multi-person mean ≥ 2.
    linear = -1.6 * (avg - 2.14) + 2.0 * (old - 0.195) + 1.5 * (young - np.average(young, weights=w))
    lower = np.clip(2.0 - avg + 0.01, 0.02, 0.9)
    upper = np.full_like(lower, 0.9)
    a = calibrate_intercept(cfg.one_person_target, w, linear, lower, upper)
    p1 = np.clip(_sigmoid(a + linear), lower, upper)
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
    noise = smooth_on_graph(_rng(cfg.seed, _AREA).standard_normal(len(e)), pairs)
    effect = (0.25 * _z(old, w) + 0.15 * _z(p1, w) + 0.35 * noise
              + np.array([ARCHETYPE_EFFECT[k] for k in archetype]))

    alone = np.hstack([male * _ALONE_M, female * _ALONE_F])
    head = np.hstack([male * _HEAD_M, female * _HEAD_F])
    alone_cdf = np.cumsum(alone, 1) / np.maximum(alone.sum(1, keepdims=True), 1e-12)
    head_cdf = np.cumsum(head, 1) / np.maximum(head.sum(1, keepdims=True), 1e-12)
    alone_cdf[:, -1] = head_cdf[:, -1] = 1.0
    housing_base = np.stack([_HOUSING_BASE[t] for t in e["emd_type"]])

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
        n = len(owners)
        k = np.searchsorted(self.key, owners + rng.random(n), side="right")
        k = np.clip(k, self.first[owners], self.last[owners])
        r1 = np.sqrt(rng.random(n))
        r2 = rng.random(n)
        a, b, c = self.tri[k, 0], self.tri[k, 1], self.tri[k, 2]
        return (1 - r1)[:, None] * a + (r1 * (1 - r2))[:, None] * b + (r1 * r2)[:, None] * c


# --- households ------------------------------------------------------------------------

@dataclass
class Population:
    """What later stages need of every generated household (arrays in id order)."""

    household_id: np.ndarray  # int32 (national ids stay below 2**31)
    emd_index: np.ndarray     # int32 index into AreaModel.emd
    tier: np.ndarray          # int8 hardship tier 0..3
    group: np.ndarray         # int8 age group 0 young, 1 middle, 2 older
    one_person: np.ndarray    # bool
    crisis: np.ndarray        # bool [households, BURN_IN + rounds]
    kind: np.ndarray          # int8 crisis kind: index into the catalogue's domains
    older_alone: np.ndarray   # bool


def _categorical(rng, cdf: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element of ``rows`` from the categorical distribution ``cdf[row]``.

    Offsetting each row's cdf by its row number lets one ``searchsorted`` serve all rows.

    >>> cdf = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> _categorical(np.random.default_rng(0), cdf, np.array([0, 1, 0])).tolist()
    [1, 0, 1]
    """
    flat = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
    pos = np.searchsorted(flat, rows + rng.random(len(rows)), side="right")
    return np.minimum(pos - rows * cdf.shape[1], cdf.shape[1] - 1)


def _households_of_block(rng: np.random.Generator, area: AreaModel, e: np.ndarray,
                         points: "PointSampler", cfg: SyntheticConfig,
                         kind_p: np.ndarray) -> dict[str, np.ndarray]:
    """Households of a block of 읍면동; ``e`` is each household's 읍면동 index."""
    n = len(e)
    one = rng.random(n) < area.one_person_share[e]
    cells = np.where(one, _categorical(rng, area.alone_cdf, e), _categorical(rng, area.head_cdf, e))
    male = cells < 17
    age = _AGE_FROM[cells % 17] + rng.integers(0, 5, size=n)
    size = np.where(one, 1, 2 + rng.poisson(np.maximum(area.multi_size[e] - 2.0, 0.05)))
    size = np.minimum(size, 12)
    mid_male_alone = one & male & (age >= 40) & (age < 65)
    hardship = (area.effect[e] + 0.35 * one + 0.25 * (age >= 65) + 0.2 * (age >= 80)
                + 0.35 * mid_male_alone + 0.15 * (one & (age < 35)) - 0.1 * (size >= 4)
                + 0.85 * rng.standard_normal(n))
    logits = (area.housing_base[e] + np.outer(one, _HOUSING_ALONE)
              + np.outer(hardship, _HOUSING_HARDSHIP) + rng.gumbel(size=(n, len(HOUSING))))
    housing = logits.argmax(1)
    u = rng.random(n)
    p_basic = _sigmoid(-3.4 + 1.0 * hardship)
    p_near = _sigmoid(-4.0 + 0.8 * hardship)
    welfare = np.where(u < p_basic, 1, np.where(u < p_basic + p_near, 2, 0))
    # Crisis: a two-state Markov chain per household whose stationary probability
    # rises with hardship, so crises persist, end, and start anew across rounds.
    pi = _sigmoid(cfg.crisis_intercept + cfg.crisis_slope * hardship)
    rho = cfg.crisis_persistence
    onset = pi * (1 - rho) / np.maximum(1 - pi, 1e-9)
    crisis = np.empty((n, BURN_IN + cfg.rounds), dtype=bool)
    crisis[:, 0] = rng.random(n) < pi
    for t in range(1, BURN_IN + cfg.rounds):
        u = rng.random(n)
        crisis[:, t] = np.where(crisis[:, t - 1], u < rho, u < onset)
    group = np.where(age < 40, 0, np.where(age < 65, 1, 2))
    kind = _categorical(rng, np.cumsum(kind_p, 1), group)
    xy = points.sample(rng, e)
    return {
        "head_age": age.astype(np.int16), "male": male,
        "household_size": size.astype(np.int16), "one_person": one,
        "housing": housing.astype(np.int8), "welfare": welfare.astype(np.int8),
        "lon": xy[:, 0], "lat": xy[:, 1], "hardship": hardship, "crisis": crisis,
        "group": group.astype(np.int8), "kind": kind.astype(np.int8),
    }


# --- signals ----------------------------------------------------------------------------

@dataclass
class SignalModel:
    """Rates of each indicator in each stratum (crisis state × tier × age group × one-person)."""

    stationary: np.ndarray   # [S, J] probability a signal is present
    onset_lambda: np.ndarray  # [S] Poisson total of new signals per household-round
    onset_cdf: np.ndarray    # [S, J] cumulative split of new signals over indicators
    start_lambda: np.ndarray
    start_cdf: np.ndarray
    persist: np.ndarray      # [S, J]


def n_strata(n_domains: int) -> int:
    """Strata: crisis state (none, or in crisis of one of ``n_domains`` kinds) × 4 tiers
    × 3 age groups × living alone."""
    return (1 + n_domains) * 4 * 3 * 2


def stratum(state, tier, group, one_person):
    """Index of a household-round's stratum; ``state`` is 0 (no crisis) or 1 + crisis kind.

    >>> int(stratum(0, 0, 0, 0)), int(stratum(1, 3, 2, 1)), int(stratum(6, 3, 2, 1))
    (0, 47, 167)
    """
    return ((np.asarray(state, dtype=np.int64) * 4 + tier) * 3 + group) * 2 + np.asarray(one_person, dtype=np.int64)


def crisis_state(crisis: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """0 outside a crisis, 1 + kind during one.

    >>> crisis_state(np.array([False, True]), np.array([3, 3])).tolist()
    [0, 4]
    """
    return np.where(crisis, 1 + kind.astype(np.int64), 0)


def build_signal_model(catalogue: Catalogue, counts: np.ndarray, spill: float = 0.5) -> SignalModel:
    """Indicator rates per stratum, normalised so each indicator's mean rate over the
    generated household-rounds equals its catalogue ``prevalence``.

    ``counts`` are household-rounds per stratum (:func:`stratum` order)."""
    domains = [d.code for d in catalogue.domains]
    s = np.arange(n_strata(len(domains)))
    one = s % 2
    group = (s // 2) % 3
    tier = (s // 6) % 4
    state = s // 24
    inds = catalogue.indicators
    rr = np.ones((len(s), len(inds)))
    for j, ind in enumerate(inds):
        tier_rr = _TIER_RR_CHRONIC if ind.persistence >= _CHRONIC_PERSISTENCE else _TIER_RR_ACUTE
        rr[:, j] *= tier_rr ** tier
        own = state == 1 + domains.index(ind.domain)
        rr[:, j] *= np.where(own, ind.crisis_rr, np.where(state > 0, ind.crisis_rr ** spill, 1.0))
        rr[:, j] *= np.where(one == 1, ind.one_person_rr, 1.0)
        if ind.target_group != "all":
            rr[:, j] *= np.where(group == AGE_GROUPS.index(ind.target_group), _GROUP_RR, 1.0)
    weights = counts / max(counts.sum(), 1)
    prevalence = np.array([i.prevalence for i in inds])
    base = prevalence / np.maximum(weights @ rr, 1e-12)
    stationary = np.minimum(base[None, :] * rr, 0.9)
    pers = np.array([i.persistence for i in inds])[None, :] * np.where(state > 0, 1.0, _CRISIS_PERSIST_FACTOR)[:, None]
    onset = stationary * (1 - pers)

    def split(rate):
        lam = rate.sum(1)
        cdf = np.cumsum(rate / lam[:, None], axis=1)
        cdf[:, -1] = 1.0
        return lam, cdf

    onset_lambda, onset_cdf = split(-np.log1p(-np.minimum(onset, 0.95)))
    start_lambda, start_cdf = split(-np.log1p(-stationary))
    return SignalModel(stationary, onset_lambda, onset_cdf, start_lambda, start_cdf, pers)


def _draw_new(rng, lam, cdf, strata):
    """Household index and indicator index of new signals (Poisson splitting)."""
    k = rng.poisson(lam[strata])
    hh = np.repeat(np.arange(len(strata)), k)
    if not len(hh):
        return hh, hh.copy()
    j = _categorical(rng, cdf, strata[hh])
    key = np.unique(hh.astype(np.int64) * cdf.shape[1] + j)
    return (key // cdf.shape[1]).astype(np.int64), (key % cdf.shape[1]).astype(np.int64)


def _new_values(rng, j, kinds, scales, first_round: bool):
    v = np.ones(len(j), dtype=np.int64)
    months = kinds[j] == 1
    if months.any():
        extra = rng.geometric(0.45, size=int(months.sum())) - 1
        if first_round:  # arrears found in the first round have usually run for a while
            extra += 2 * (rng.geometric(0.5, size=len(extra)) - 1)
        v[months] = scales[j[months]] + extra
    amount = kinds[j] == 2
    if amount.any():
        raw = scales[j[amount]] * np.exp(0.7 * rng.standard_normal(int(amount.sum())))
        v[amount] = np.maximum(np.rint(np.minimum(raw, 6 * scales[j[amount]]) / 10_000) * 10_000, 10_000)
    return v


def _signals_of_block(rng, model: SignalModel, pop_slice: dict, catalogue_arrays, n_rounds: int):
    # n_rounds counts the burn-in rounds too; the caller drops those.
    """All signals of a block's households over the rounds: one tuple per round of
    (household offset in the block, indicator index, value), sorted."""
    kinds, scales = catalogue_arrays
    tier, group, one, crisis = pop_slice["tier"], pop_slice["group"], pop_slice["one_person"], pop_slice["crisis"]
    kind = pop_slice["kind"]
    out = []
    prev_hh = prev_j = prev_v = None
    J = model.onset_cdf.shape[1]
    for t in range(n_rounds):
        strata = stratum(crisis_state(crisis[:, t], kind), tier, group, one)
        if t == 0:
            hh, j = _draw_new(rng, model.start_lambda, model.start_cdf, strata)
            v = _new_values(rng, j, kinds, scales, True)
        else:
            keep = rng.random(len(prev_hh)) < model.persist[strata[prev_hh], prev_j]
            c_hh, c_j, c_v = prev_hh[keep], prev_j[keep], prev_v[keep]
            c_v = np.where(kinds[c_j] == 1, c_v + 2, c_v)
            grow = kinds[c_j] == 2
            if grow.any():
                c_v[grow] = np.rint(c_v[grow] * (1 + 0.1 * rng.random(int(grow.sum()))) / 10_000) * 10_000
            n_hh, n_j = _draw_new(rng, model.onset_lambda, model.onset_cdf, strata)
            fresh = ~np.isin(n_hh * J + n_j, c_hh * J + c_j)
            n_hh, n_j = n_hh[fresh], n_j[fresh]
            n_v = _new_values(rng, n_j, kinds, scales, False)
            hh = np.concatenate([c_hh, n_hh])
            j = np.concatenate([c_j, n_j])
            v = np.concatenate([c_v, n_v])
            order = np.lexsort((j, hh))
            hh, j, v = hh[order], j[order], v[order]
        out.append((hh, j, v))
        prev_hh, prev_j, prev_v = hh, j, v
    return out


# --- the build --------------------------------------------------------------------------

@dataclass
class BuildReport:
    households: int = 0
    observations: int = 0
    visits: int = 0
    crisis_rows: int = 0
    calibration: dict = field(default_factory=dict)
    model: dict | None = None


def generate(store, geo: GeoData, catalogue: Catalogue, adjacency: pd.DataFrame,
             cfg: SyntheticConfig, progress: ProgressFn = silent) -> BuildReport:
    """Generate households, signals, visits and ground truth into ``store``.

    ``store`` must have the schema and regions; rows are appended in 읍면동 order so
    that region filters prune row groups.
    """
    cfg.validate()
    area = build_area_model(geo, adjacency, cfg)
    emd = area.emd
    if cfg.sido:
        unknown = sorted(set(cfg.sido) - set(emd["sido_code"]))
        if unknown:
            raise BlindspotError(f"--sido 에 없는 시도 코드가 있습니다: {', '.join(unknown)} (예: 11 서울, 41 경기)")
        selected = emd["sido_code"].isin(cfg.sido).to_numpy()
    else:
        selected = np.ones(len(emd), dtype=bool)
    # Ids follow the national 읍면동 order, so a 시도 built alone keeps its national ids.
    offsets = np.r_[0, np.cumsum(emd["n"].to_numpy())[:-1]]
    round_list = rounds_mod.last_n(cfg.rounds, cfg.latest_round)
    round_ids = np.array([r.round_id for r in round_list])
    geom = geo.emd.set_index("emd_code").loc[emd["emd_code"], "geometry"].values
    points = PointSampler(geom)

    report = BuildReport()
    n_emd = emd["n"].to_numpy()
    chosen = selected & (n_emd > 0)
    if not chosen.any():
        raise BlindspotError("생성할 가구가 없습니다 (--scale 이 너무 작거나 선택한 시도에 가구가 없음).")
    # Blocks are 시군구 (contiguous in 읍면동-code order); each has its own random
    # streams, so the work is vectorised over a block and still reproducible per 시군구.
    sgg_codes = emd["sgg_code"].to_numpy()
    blocks = [(code, np.flatnonzero((sgg_codes == code) & chosen))
              for code in pd.unique(sgg_codes[chosen])]
    emd_codes = emd["emd_code"].to_numpy()
    sido_codes = emd["sido_code"].to_numpy()
    pseudo_key = int(_rng(cfg.seed, 99).integers(0, 2**32))

    # Stage 1: households.
    keep = {k: [] for k in ("household_id", "emd_index", "tier", "group", "one_person", "crisis", "kind",
                            "older_alone")}
    kind_p = crisis_kind_p(tuple(d.code for d in catalogue.domains))
    for done, (sgg, es) in enumerate(blocks):
        rng = _rng(cfg.seed, _HOUSEHOLDS, int(sgg))
        e = np.repeat(es, n_emd[es])
        ids = np.concatenate([offsets[x] + np.arange(n_emd[x]) for x in es])
        h = _households_of_block(rng, area, e, points, cfg, kind_p)
        age = h["head_age"]
        local = e - es[0]  # 읍면동 of a 시군구 are contiguous
        frame = pa.table({
            "household_id": ids.astype(np.int32),
            "sido_code": _dict(np.zeros(len(e)), [sido_codes[es[0]]]),
            "sgg_code": _dict(np.zeros(len(e)), [sgg]),
            "emd_code": _dict(local, emd_codes[es[0]:es[-1] + 1]),
            "head_age": age, "head_sex": _dict(~h["male"], ["M", "F"]),
            "household_size": h["household_size"], "one_person": h["one_person"],
            "housing_type": _dict(h["housing"], HOUSING),
            "welfare_status": _dict(h["welfare"], WELFARE),
            "lon": h["lon"], "lat": h["lat"],
            "valid_from_round": np.full(len(e), round_ids[0], dtype=np.int32),
            "valid_to_round": pa.nulls(len(e), pa.int32()),
        })
        store.run_with(sql.INSERT_HOUSEHOLDS, frame, [pseudo_key])
        keep["household_id"].append(ids.astype(np.int32))
        keep["emd_index"].append(e.astype(np.int32))
        keep["tier"].append(np.digitize(h["hardship"], _TIER_EDGES).astype(np.int8))
        keep["group"].append(h["group"])
        keep["kind"].append(h["kind"])
        keep["one_person"].append(h["one_person"])
        keep["crisis"].append(h["crisis"])
        keep["older_alone"].append(h["one_person"] & (age >= 65))
        progress(0.45 * (done + 1) / len(blocks), f"가구 생성 {done + 1}/{len(blocks)} 시군구")
    pop = Population(**{k: np.concatenate(v) for k, v in keep.items()})
    del keep
    report.households = len(pop.household_id)

    # Stage 2: signals.  Rates are normalised over the household-rounds generated.
    n_s = n_strata(len(catalogue.domains))
    strata_counts = np.zeros(n_s)
    for t in range(BURN_IN, BURN_IN + cfg.rounds):
        strata_counts += np.bincount(stratum(crisis_state(pop.crisis[:, t], pop.kind), pop.tier, pop.group,
                                             pop.one_person), minlength=n_s)
    model = build_signal_model(catalogue, strata_counts, cfg.crisis_spill)
    kinds = np.array([{"flag": 0, "months": 1, "amount": 2}[i.kind] for i in catalogue.indicators])
    scales = np.array([i.value_scale for i in catalogue.indicators], dtype=np.int64)
    domain_of = pd.factorize(pd.Series([i.domain for i in catalogue.indicators]))[0]
    n_domains = int(domain_of.max()) + 1
    specificity = np.log([i.crisis_rr for i in catalogue.indicators])
    cand = {k: [] for k in ("pos", "round", "score")}
    a = 0
    for done, (sgg, es) in enumerate(blocks):
        n = int(n_emd[es].sum())
        b = a + n
        rng = _rng(cfg.seed, _SIGNALS, int(sgg))
        sl = {"tier": pop.tier[a:b], "group": pop.group[a:b], "one_person": pop.one_person[a:b],
              "crisis": pop.crisis[a:b], "kind": pop.kind[a:b]}
        frames = []
        for t, (hh, j, v) in enumerate(_signals_of_block(rng, model, sl, (kinds, scales), BURN_IN + cfg.rounds)):
            t -= BURN_IN
            if t < 0 or not len(hh):
                continue
            frames.append(pa.table({
                "round_id": np.full(len(hh), round_ids[t], dtype=np.int32),
                "household_id": pop.household_id[a + hh].astype(np.int32),
                "sgg_code": _dict(np.zeros(len(hh)), [sgg]),
                "emd_code": _dict(pop.emd_index[a + hh] - es[0], emd_codes[es[0]:es[-1] + 1]),
                "indicator_code": _dict(j, catalogue.codes), "value": v.astype(np.int32),
            }))
            # What the national system ranks by: its own model weighs each signal by how
            # specific it is to crises (log rate ratio) and counts the domains hit, blurred
            # by what it cannot know.  It sees signals only, never the crisis itself, so
            # visits are selected on observables and their outcomes are unbiased labels.
            n_sig = np.bincount(hh, minlength=n)
            has = np.flatnonzero(n_sig)
            dom = np.unique(hh.astype(np.int64) * n_domains + domain_of[j])
            n_dom = np.bincount(dom // n_domains, minlength=n)
            weighted = np.bincount(hh, weights=specificity[j], minlength=n)
            score = weighted[has] + 0.5 * n_dom[has] + cfg.system_noise * rng.standard_normal(len(has))
            cand["pos"].append((a + has).astype(np.int32))
            cand["round"].append(np.full(len(has), t, dtype=np.int8))
            cand["score"].append(score.astype(np.float32))
        if frames:
            obs = pa.concat_tables(frames)
            store.append("observations", obs)
            report.observations += obs.num_rows
        a = b
        progress(0.45 + 0.45 * (done + 1) / len(blocks), f"위기정보 생성 {done + 1}/{len(blocks)} 시군구")

    # Stage 3: visits per round and the ground truth.
    cand_pos = np.concatenate(cand["pos"])
    cand_round = np.concatenate(cand["round"])
    cand_score = np.concatenate(cand["score"])
    del cand
    vrng = _rng(cfg.seed, _VISITS)
    visit_frames = []
    truth_frames = []
    for t, rnd in enumerate(round_list):
        in_round = cand_round == t
        pos, score = cand_pos[in_round], cand_score[in_round]
        quota = int(round(cfg.flagged_share * report.households))
        q_sys = int(round(quota * cfg.channel_shares[0]))
        q_local = int(round(quota * cfg.channel_shares[1]))
        q_ref = quota - q_sys - q_local
        order = np.argsort(-score, kind="stable")
        sys_pick = pos[order[:q_sys]]
        rest = pos[order[q_sys:]]
        # Local governments choose among the remaining signalled households, leaning
        # towards older people living alone (Gumbel top-k: weighted sampling without replacement).
        # They know their area, so their choice follows the signals more than the noise.
        weight = 2.0 * score[order[q_sys:]] + 0.5 * pop.older_alone[rest]
        local_pick = rest[np.argsort(-(weight + vrng.gumbel(size=len(rest))), kind="stable")[:q_local]]
        taken = np.zeros(report.households, dtype=bool)
        taken[sys_pick] = True
        taken[local_pick] = True
        # Referrals (neighbours, honorary officials, meter readers) mostly find real crises.
        in_crisis = np.flatnonzero(pop.crisis[:, BURN_IN + t] & ~taken)
        q_ref_c = min(int(round(q_ref * 0.7)), len(in_crisis))
        ref_c = vrng.choice(in_crisis, size=q_ref_c, replace=False) if q_ref_c else in_crisis[:0]
        taken[ref_c] = True
        free = np.flatnonzero(~taken)
        ref_o = vrng.choice(free, size=min(q_ref - q_ref_c, len(free)), replace=False)
        picks = [(sys_pick, "system"), (local_pick, "local")]
        ref = np.concatenate([ref_c, ref_o])
        ref_channel = vrng.choice(np.array(["neighbour", "volunteer", "meter_reader"]), size=len(ref),
                                  p=[0.5, 0.3, 0.2])
        rows = []
        for idx, channel in picks:
            rows.append((idx, np.full(len(idx), channel, dtype=object)))
        rows.append((ref, ref_channel.astype(object)))
        idx = np.concatenate([r[0] for r in rows])
        channel = np.concatenate([r[1] for r in rows])
        order = np.argsort(pop.household_id[idx], kind="stable")
        idx, channel = idx[order], channel[order]
        truth = pop.crisis[idx, BURN_IN + t]
        u = vrng.random(len(idx))
        u2 = vrng.random(len(idx))
        unreachable = u < cfg.unreachable
        outcome = np.where(
            unreachable, "unreachable",
            np.where(truth, np.where(u2 < 0.85, "supported", np.where(u2 < 0.95, "need_confirmed", "refused")),
                     np.where(u2 < 0.4, "not_eligible", "contacted")))
        support = np.where(outcome == "supported",
                           vrng.choice(np.array(SUPPORT_TYPES, dtype=object), size=len(idx), p=SUPPORT_WEIGHTS),
                           None)
        e_idx = pop.emd_index[idx]
        visit_frames.append(pd.DataFrame({
            "round_id": np.int32(rnd.round_id), "household_id": pop.household_id[idx].astype(np.int32),
            "sgg_code": emd["sgg_code"].to_numpy()[e_idx], "emd_code": emd["emd_code"].to_numpy()[e_idx],
            "channel": channel, "outcome": outcome, "support_type": support,
            "recorded_at": pd.Timestamp(rnd.end) + pd.Timedelta(hours=18), "recorded_by": "synthetic",
        }))
        crisis_ids = pop.household_id[pop.crisis[:, BURN_IN + t]]
        truth_frames.append(pd.DataFrame({"round_id": np.int32(rnd.round_id),
                                          "household_id": crisis_ids.astype(np.int32)}))
        progress(0.9 + 0.08 * (t + 1) / len(round_list), f"방문 결과 생성 {rnd.code}")
    visits = pd.concat(visit_frames, ignore_index=True)
    store.append("visits", visits)
    truth = pd.concat(truth_frames, ignore_index=True)
    store.append("synthetic_crisis", truth)
    report.visits = len(visits)
    report.crisis_rows = len(truth)

    confirmed = visits["outcome"].isin(["need_confirmed", "supported"]).mean()
    report.calibration = {
        "one_person_share": float(pop.one_person.mean()),
        "one_person_model_intercept": float(area.intercept),
        "crisis_share": float(pop.crisis[:, BURN_IN:].mean()),
        "flagged_share": float(len(visits) / (report.households * cfg.rounds)),
        "confirmed_share": float(confirmed),
        "supported_share": float((visits["outcome"] == "supported").mean()),
        "signals_per_household_round": float(report.observations / (report.households * cfg.rounds)),
        "archetypes": {k: int(v) for k, v in pd.Series(area.archetype[chosen]).value_counts().items()},
    }
    return report
