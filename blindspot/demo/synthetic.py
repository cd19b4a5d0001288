"""Deterministic synthetic households and crisis signals on the real geography.

Real household data is confidential, so the demo data is generated: households per
읍면동 equal the real registered households × ``scale``, heads' age and sex follow
the 읍면동's age structure, and crisis signals come from a latent hardship with
spatial correlation, persistence across rounds and new onsets.  The model and the
calibration it reaches are described in ``docs/synthetic-data.md``.

:func:`generate` runs the stages in order, each in a module of its own:

1. ``areas``: the area model of every 읍면동 (one-person share, head distribution,
   archetype, spatially correlated hardship effect) and the point sampler;
2. ``households``: households, their hardship, crisis chain and crisis kind;
3. ``signals``: crisis signals per round and the national system's score;
4. ``visits``: who is visited each round, the outcomes, and the ground truth.

Every fixed number is in ``calibration``; the per-build parameters are
:class:`SyntheticConfig`.

Determinism: every 시군구 draws from its own random streams, seeded by
``(seed, stage, 시군구 code)``; national steps (area effects, visit selection) have
streams of their own (``streams``).  The same seed and scale give identical tables,
whatever the machine's core count, and a 시도 built alone gets the same households (and
ids) as in a national build.  ``tests/demo/test_generator_pinned.py`` pins the tables of a
small build: a change to the generated data must be deliberate and bump
``GENERATOR_VERSION``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blindspot import rounds as rounds_mod
from blindspot import settings
from blindspot.db.store import Store
from blindspot.demo import sql, streams
from blindspot.demo.areas import AreaModel, PointSampler, build_area_model
from blindspot.demo.calibration import BURN_IN
from blindspot.demo.households import Population, generate_households
from blindspot.demo.signals import generate_signals
from blindspot.demo.visits import generate_visits
from blindspot.errors import BlindspotError
from blindspot.geo.regions import GeoData
from blindspot.indicators.catalogue import Catalogue
from blindspot.progress import ProgressFn, silent

GENERATOR_VERSION = "2"


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of a demo build; everything else is fixed by the generator version."""

    seed: int = settings.default("demo_seed")
    scale: float = settings.default("demo_scale")
    rounds: int = settings.default("demo_rounds")
    sido: tuple[str, ...] | None = None
    latest_round: str = rounds_mod.LATEST_DEMO_ROUND
    one_person_target: float = 0.41
    crisis_intercept: float = -4.6  # log-odds of crisis at hardship 0 (≈3 % in crisis)
    crisis_slope: float = 1.15
    crisis_persistence: float = 0.70
    # A crisis has a kind (one indicator domain: a job lost, an illness, debts...).  Its own
    # domain's signals rise by the catalogue's crisis_rr; other domains' by crisis_rr^spill.
    crisis_spill: float = 0.5
    # Households visited per round: a field figure (domain.md: ≈0.8 %), part of the frozen
    # synthetic world, not the operational capacity_share setting (which an office may change
    # without changing the world its model is measured in).
    flagged_share: float = 0.008
    channel_shares: tuple[float, float, float] = (0.65, 0.25, 0.10)  # system, local, referrals
    system_noise: float = 1.7
    unreachable: float = 0.07  # visits that reach nobody (domain.md: lost contact; share: modelling choice)
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def validate(self) -> None:
        if not 0 < self.scale <= 2:
            raise BlindspotError(f"--scale 는 0보다 크고 2 이하여야 합니다 (받은 값: {self.scale}).")
        if not 1 <= self.rounds <= 36:
            raise BlindspotError(f"--rounds 는 1~36 이어야 합니다 (받은 값: {self.rounds}).")
        if self.seed < 0:
            raise BlindspotError("--seed 는 0 이상의 정수여야 합니다.")


@dataclass
class BuildReport:
    households: int = 0
    observations: int = 0
    visits: int = 0
    crisis_rows: int = 0
    calibration: dict = field(default_factory=dict)
    model: dict | None = None


def generate(
    store: Store,
    geo: GeoData,
    catalogue: Catalogue,
    adjacency: pd.DataFrame,
    cfg: SyntheticConfig,
    progress: ProgressFn = silent,
) -> BuildReport:
    """Generate households, signals, visits and ground truth into ``store``.

    ``store`` must have the schema and regions; rows are appended in 읍면동 order so
    that region filters prune row groups.  The stages run in order (module docstring);
    each draws from streams of its own, so the order of the draws within a stage is
    what keeps the data identical for a seed.
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
    blocks = [(code, np.flatnonzero((sgg_codes == code) & chosen)) for code in pd.unique(sgg_codes[chosen])]
    pseudo_key = int(streams.stream(cfg.seed, streams.PSEUDONYM).integers(0, 2**32))

    pop = generate_households(
        area,
        blocks,
        points,
        cfg,
        tuple(d.code for d in catalogue.domains),
        int(round_ids[0]),
        write=lambda table: store.run_with(sql.INSERT_HOUSEHOLDS, table, [pseudo_key]),
        progress=lambda f, m: progress(0.45 * f, m),
    )
    report.households = len(pop.household_id)

    def write_observations(table) -> None:
        store.append("observations", table)
        report.observations += table.num_rows

    cand = generate_signals(
        pop,
        area,
        blocks,
        catalogue,
        cfg,
        round_ids,
        write_observations,
        progress=lambda f, m: progress(0.45 + 0.45 * f, m),
    )

    visits, truth = generate_visits(pop, cand, area, round_list, cfg, progress=lambda f, m: progress(0.9 + 0.08 * f, m))
    del cand
    store.append("visits", visits)
    store.append("synthetic_crisis", truth)
    report.visits = len(visits)
    report.crisis_rows = len(truth)
    report.calibration = _calibration(pop, area, visits, chosen, report, cfg)
    return report


def _calibration(
    pop: Population,
    area: AreaModel,
    visits: pd.DataFrame,
    chosen: np.ndarray,
    report: BuildReport,
    cfg: SyntheticConfig,
) -> dict:
    """The figures a build reaches (shares are fractions; stored as meta ``calibration``)."""
    confirmed = visits["outcome"].isin(["need_confirmed", "supported"]).mean()
    return {
        "one_person_share": float(pop.one_person.mean()),
        "one_person_model_intercept": float(area.intercept),
        "crisis_share": float(pop.crisis[:, BURN_IN:].mean()),
        "flagged_share": float(len(visits) / (report.households * cfg.rounds)),
        "confirmed_share": float(confirmed),
        "supported_share": float((visits["outcome"] == "supported").mean()),
        "signals_per_household_round": float(report.observations / (report.households * cfg.rounds)),
        "archetypes": {k: int(v) for k, v in pd.Series(area.archetype[chosen]).value_counts().items()},
    }
