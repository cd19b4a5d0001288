"""Stage 2 of the synthetic world: households, their hardship and their crises.

Per 시군구 block, from the block's own household stream: whether the household lives
alone, the head's age and sex, size, hardship, housing, welfare status, the crisis chain
over the burn-in and stored rounds, the crisis kind and a point inside the 읍면동
(``docs/synthetic-data.md`` §1–5).  The stage writes the ``households`` rows through a
callback and keeps, as a :class:`Population`, what the later stages need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from blindspot.demo import streams
from blindspot.demo.areas import AreaModel, PointSampler
from blindspot.demo.calibration import (
    AGE_FROM,
    BURN_IN,
    CRISIS_KIND_WEIGHTS,
    HOUSING,
    HOUSING_ALONE,
    HOUSING_HARDSHIP,
    TIER_EDGES,
    WELFARE,
)
from blindspot.demo.streams import categorical, sigmoid
from blindspot.progress import ProgressFn, silent

if TYPE_CHECKING:
    from blindspot.demo.synthetic import SyntheticConfig

# A block: a 시군구 code and the indices of its chosen 읍면동 (contiguous in AreaModel.emd).
Block = tuple[str, np.ndarray]


def crisis_kind_p(domains: tuple[str, ...]) -> np.ndarray:
    """[3 age groups, domains] probabilities of each crisis kind.

    >>> crisis_kind_p(("health", "finance")).round(3).tolist()
    [[0.4, 0.6], [0.444, 0.556], [0.875, 0.125]]
    """
    w = np.array([CRISIS_KIND_WEIGHTS.get(d, (0.1, 0.1, 0.1)) for d in domains]).T
    return w / w.sum(1, keepdims=True)


def dict_column(indices: np.ndarray, values) -> pa.DictionaryArray:
    """A dictionary-encoded string column: DuckDB reads it far faster than Python strings.

    >>> dict_column(np.array([1, 0, 1]), ["M", "F"]).to_pylist()
    ['F', 'M', 'F']
    """
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(indices, dtype=np.int32)), pa.array(list(values), pa.string())
    )


@dataclass
class Population:
    """What later stages need of every generated household (arrays in id order)."""

    household_id: np.ndarray  # int32 (national ids stay below 2**31)
    emd_index: np.ndarray  # int32 index into AreaModel.emd
    tier: np.ndarray  # int8 hardship tier 0..3
    group: np.ndarray  # int8 age group 0 young, 1 middle, 2 older
    one_person: np.ndarray  # bool
    crisis: np.ndarray  # bool [households, BURN_IN + rounds]
    kind: np.ndarray  # int8 crisis kind: index into the catalogue's domains
    older_alone: np.ndarray  # bool


def households_of_block(
    rng: np.random.Generator,
    area: AreaModel,
    e: np.ndarray,
    points: PointSampler,
    cfg: SyntheticConfig,
    kind_p: np.ndarray,
) -> dict[str, np.ndarray]:
    """The households of a block of 읍면동; ``e`` is each household's 읍면동 index.

    Draws, in this order from ``rng``: living alone (a uniform each), the head's age×sex
    cell (a draw from each of the two tables), the year within the 5-year group, the size
    (Poisson excess over 2), hardship noise (normal, sd 0.85), housing (Gumbel per type),
    welfare (a uniform), the crisis chain (a uniform per round, burn-in included), the
    crisis kind, the location.  Ages
    in years, sizes in persons, lon/lat in degrees; ``crisis`` is [households, BURN_IN +
    rounds]; ``kind`` indexes the columns of ``kind_p`` (the catalogue's domains).
    Needs a real area model, so exercised by ``tests/demo``.
    """
    n = len(e)
    one = rng.random(n) < area.one_person_share[e]
    cells = np.where(one, categorical(rng, area.alone_cdf, e), categorical(rng, area.head_cdf, e))
    male = cells < 17
    age = AGE_FROM[cells % 17] + rng.integers(0, 5, size=n)
    size = np.where(one, 1, 2 + rng.poisson(np.maximum(area.multi_size[e] - 2.0, 0.05)))
    size = np.minimum(size, 12)
    mid_male_alone = one & male & (age >= 40) & (age < 65)
    hardship = (
        area.effect[e]
        + 0.35 * one
        + 0.25 * (age >= 65)
        + 0.2 * (age >= 80)
        + 0.35 * mid_male_alone
        + 0.15 * (one & (age < 35))
        - 0.1 * (size >= 4)
        + 0.85 * rng.standard_normal(n)
    )
    logits = (
        area.housing_base[e]
        + np.outer(one, HOUSING_ALONE)
        + np.outer(hardship, HOUSING_HARDSHIP)
        + rng.gumbel(size=(n, len(HOUSING)))
    )
    housing = logits.argmax(1)
    u = rng.random(n)
    p_basic = sigmoid(-3.4 + 1.0 * hardship)
    p_near = sigmoid(-4.0 + 0.8 * hardship)
    welfare = np.where(u < p_basic, 1, np.where(u < p_basic + p_near, 2, 0))
    # Crisis: a two-state Markov chain per household whose stationary probability
    # rises with hardship, so crises persist, end, and start anew across rounds.
    pi = sigmoid(cfg.crisis_intercept + cfg.crisis_slope * hardship)
    rho = cfg.crisis_persistence
    onset = pi * (1 - rho) / np.maximum(1 - pi, 1e-9)
    crisis = np.empty((n, BURN_IN + cfg.rounds), dtype=bool)
    crisis[:, 0] = rng.random(n) < pi
    for t in range(1, BURN_IN + cfg.rounds):
        u = rng.random(n)
        crisis[:, t] = np.where(crisis[:, t - 1], u < rho, u < onset)
    group = np.where(age < 40, 0, np.where(age < 65, 1, 2))
    kind = categorical(rng, np.cumsum(kind_p, 1), group)
    xy = points.sample(rng, e)
    return {
        "head_age": age.astype(np.int16),
        "male": male,
        "household_size": size.astype(np.int16),
        "one_person": one,
        "housing": housing.astype(np.int8),
        "welfare": welfare.astype(np.int8),
        "lon": xy[:, 0],
        "lat": xy[:, 1],
        "hardship": hardship,
        "crisis": crisis,
        "group": group.astype(np.int8),
        "kind": kind.astype(np.int8),
    }


def generate_households(
    area: AreaModel,
    blocks: list[Block],
    points: PointSampler,
    cfg: SyntheticConfig,
    domains: tuple[str, ...],
    first_round_id: int,
    write: Callable[[pa.Table], None],
    progress: ProgressFn = silent,
) -> Population:
    """Draw the households of every block, ``write`` each block's ``households`` rows (an
    Arrow table in the column order of ``sql.INSERT_HOUSEHOLDS``, valid from
    ``first_round_id``) and return what later stages need.

    Each block draws from its own household stream, seeded by its 시군구 code; ids follow
    the national 읍면동 order, so a 시도 built alone keeps its national ids.  ``progress``
    gets the fraction of blocks done.
    """
    emd = area.emd
    n_emd = emd["n"].to_numpy()
    offsets = np.r_[0, np.cumsum(n_emd)[:-1]]
    emd_codes = emd["emd_code"].to_numpy()
    sido_codes = emd["sido_code"].to_numpy()
    keep = {
        k: [] for k in ("household_id", "emd_index", "tier", "group", "one_person", "crisis", "kind", "older_alone")
    }
    kind_p = crisis_kind_p(domains)
    for done, (sgg, es) in enumerate(blocks):
        rng = streams.stream(cfg.seed, streams.HOUSEHOLDS, int(sgg))
        e = np.repeat(es, n_emd[es])
        ids = np.concatenate([offsets[x] + np.arange(n_emd[x]) for x in es])
        h = households_of_block(rng, area, e, points, cfg, kind_p)
        age = h["head_age"]
        local = e - es[0]  # 읍면동 of a 시군구 are contiguous
        write(
            pa.table(
                {
                    "household_id": ids.astype(np.int32),
                    "sido_code": dict_column(np.zeros(len(e)), [sido_codes[es[0]]]),
                    "sgg_code": dict_column(np.zeros(len(e)), [sgg]),
                    "emd_code": dict_column(local, emd_codes[es[0] : es[-1] + 1]),
                    "head_age": age,
                    "head_sex": dict_column(~h["male"], ["M", "F"]),
                    "household_size": h["household_size"],
                    "one_person": h["one_person"],
                    "housing_type": dict_column(h["housing"], HOUSING),
                    "welfare_status": dict_column(h["welfare"], WELFARE),
                    "lon": h["lon"],
                    "lat": h["lat"],
                    "valid_from_round": np.full(len(e), first_round_id, dtype=np.int32),
                    "valid_to_round": pa.nulls(len(e), pa.int32()),
                }
            )
        )
        keep["household_id"].append(ids.astype(np.int32))
        keep["emd_index"].append(e.astype(np.int32))
        keep["tier"].append(np.digitize(h["hardship"], TIER_EDGES).astype(np.int8))
        keep["group"].append(h["group"])
        keep["kind"].append(h["kind"])
        keep["one_person"].append(h["one_person"])
        keep["crisis"].append(h["crisis"])
        keep["older_alone"].append(h["one_person"] & (age >= 65))
        progress((done + 1) / len(blocks), f"가구 생성 {done + 1}/{len(blocks)} 시군구")
    return Population(**{k: np.concatenate(v) for k, v in keep.items()})
