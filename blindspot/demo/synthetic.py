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

GENERATOR_VERSION = "3"


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of a demo build; everything else is fixed by the generator version."""

    seed: int = settings.default("demo_seed")
    scale: float = settings.default("demo_scale")
    rounds: int = settings.default("demo_rounds")
    sido: tuple[str, ...] | None = None
    latest_round: str = rounds_mod.LATEST_DEMO_ROUND
    # domain.md: "Registered one-person households are roughly 41–42 % of registered
    # households"; the middle of that band (0.41 realises 40.9 %, under it).
    one_person_target: float = 0.415
    # Log-odds of crisis at hardship 0: ≈6.5 % of households in crisis per round.  No domain.md
    # figure gives the crisis share; it is set so the supported share of the flagged lands in
    # the middle of the field's "50.2 % (2022 ...), 49.4 % (2023 ...), 58.4 % (2024 ...)"
    # (generator 2: −4.6, ≈3 %, which gave 34 %; docs/synthetic-data.md, "Calibration").
    crisis_intercept: float = -3.7
    crisis_slope: float = 1.15
    crisis_persistence: float = 0.70
    # A crisis has a kind (one indicator domain: a job lost, an illness, debts...).  Its own
    # domain's signals rise by the catalogue's crisis_rr; other domains' by crisis_rr^spill.
    crisis_spill: float = 0.5
    # Households flagged per round (system list + local choice): a field figure, part of the
    # frozen synthetic world, not the operational capacity_share setting (which an office may
    # change without changing the world its model is measured in).  domain.md: "≈200,000 a
    # round ... ≈0.8 % of all households per round".
    flagged_share: float = 0.008
    # Of the flagged: system list, local choice.  domain.md: "about 150,000 people centrally
    # plus about 50,000 chosen by local governments".
    channel_shares: tuple[float, float] = (0.75, 0.25)
    # Referrals (neighbours, volunteers, meter readers) come on top of the flagged and are
    # counted apart: domain.md counts the lists only.  Their number is a modelling choice
    # (the 0.08 % of households that generator v2 drew inside the 0.8 %).
    referral_share: float = 0.0008
    # Sd of the noise in the national system's score: what the system cannot know of its
    # own weights.  No domain.md figure pins it (the real model is unknown) and it cannot
    # bring the supported share into the field band on its own (docs/synthetic-data.md,
    # "Calibration"), so it stays at generator 2's value, a modelling choice.
    system_noise: float = 1.7
    # Visits that reach nobody.  domain.md: "32,906 cases closed as unreachable 2016–2022"
    # against ≈1.2 million flagged a year: at most 2.7 % (were they all one year's), about
    # 0.4 % spread over seven such years; 1 % lies between.
    unreachable: float = 0.01
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def validate(self) -> None:
        if not 0 < self.scale <= 2:
            raise BlindspotError(f"--scale 는 0보다 크고 2 이하여야 합니다 (받은 값: {self.scale}).")
        if not 1 <= self.rounds <= 36:
            raise BlindspotError(f"--rounds 는 1~36 이어야 합니다 (받은 값: {self.rounds}).")
        if self.seed < 0:
            raise BlindspotError("--seed 는 0 이상의 정수여야 합니다.")
        if abs(sum(self.channel_shares) - 1) > 1e-9:
            raise ValueError(f"channel_shares must add up to 1, not {self.channel_shares}")


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

    per_indicator = np.zeros(len(catalogue.indicators), dtype=np.int64)

    def write_observations(table) -> None:
        store.append("observations", table)
        report.observations += table.num_rows
        # The indicator column's dictionary is the catalogue in order, so its indices count rows.
        per_indicator[:] += np.bincount(
            table["indicator_code"].combine_chunks().indices.to_numpy(), minlength=len(per_indicator)
        )

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
    prevalence = per_indicator / (report.households * cfg.rounds)
    ratio = prevalence / np.array([i.prevalence for i in catalogue.indicators])
    report.calibration = _calibration(pop, area, visits, chosen, report, cfg, round_list, ratio)
    return report


# The field figures the world is held to (docs/synthetic-data.md, "Calibration"): name,
# range (fractions) and the sentence of ../shared/docs/domain.md (or the catalogue column)
# it comes from.  A per-round figure must lie in its range in every stored round.
FIELD_TARGETS = (
    (
        "flagged_share_per_round",
        (0.0075, 0.0085),
        "A round flags about 150,000 people centrally plus about 50,000 chosen by local governments "
        "(≈200,000 a round, ≈1.2 million a year; ≈0.8 % of all households per round).",
    ),
    (
        "system_share_of_flagged",
        (0.74, 0.76),
        "A round flags about 150,000 people centrally plus about 50,000 chosen by local governments.",
    ),
    (
        "supported_share_of_flagged_per_round",
        (0.49, 0.584),
        "Share of flagged people who ended up supported: 50.2 % (2022, 1,208,086 flagged), "
        "49.4 % (2023, 1,388,689 flagged), 58.4 % (2024, 1,423,466 flagged).",
    ),
    (
        "basic_livelihood_share_of_supported",
        (0.01, 0.03),
        "Most support is private or one-off; only ~2 % became basic-livelihood recipients.",
    ),
    (
        "unreachable_share_of_flagged",
        (0.004, 0.027),
        "lost contact (32,906 cases closed as unreachable 2016–2022) [against ≈1.2 million flagged a year]",
    ),
    (
        "one_person_share",
        (0.41, 0.42),
        "Registered one-person households are roughly 41–42 % of registered households nationally.",
    ),
    (
        "indicator_prevalence_ratio",
        (0.75, 1.25),
        "blindspot/data/indicators.csv, column prevalence (no domain.md figure; ×0.75–×1.25: the column "
        "is given to one significant figure for 34 of 47 indicators, e.g. 0.002 for 0.0015–0.0025)",
    ),
)


def field_target_rows(reached: dict[str, list[float]]) -> list[dict]:
    """One row per field target: name, field range, source sentence, reached value (the
    pooled or single figure, a fraction), reached min and max, and ``ok`` (every value of
    ``reached[name]`` inside the range).  ``reached[name]`` lists the pooled figure first,
    then the per-round or per-indicator values.

    >>> rows = field_target_rows({"one_person_share": [0.4152], "flagged_share_per_round": [0.008, 0.008, 0.0079]})
    >>> [(r["name"], r["reached"], r["ok"]) for r in rows]
    [('flagged_share_per_round', 0.008, True), ('one_person_share', 0.4152, True)]
    """
    rows = []
    for name, (lo, hi), source in FIELD_TARGETS:
        if name not in reached:
            continue
        values = [float(v) for v in reached[name]]
        parts = values[1:] or values
        rows.append(
            {
                "name": name,
                "field_range": [lo, hi],
                "source": source,
                "reached": round(values[0], 6),
                "reached_min": round(min(parts), 6),
                "reached_max": round(max(parts), 6),
                "ok": bool(all(lo <= v <= hi for v in parts)),
            }
        )
    return rows


def _calibration(
    pop: Population,
    area: AreaModel,
    visits: pd.DataFrame,
    chosen: np.ndarray,
    report: BuildReport,
    cfg: SyntheticConfig,
    round_list: list[rounds_mod.Round],
    prevalence_ratio: np.ndarray,
) -> dict:
    """The figures a build reaches, stored as meta ``calibration`` (shares are fractions).

    "Flagged" are the system and local lists (domain.md counts those); referrals come on top
    and are counted apart.  ``flagged_share``: flagged per household, mean over rounds;
    ``supported_share``: supported of the flagged, pooled over rounds;
    ``supported_share_all_visits``: supported of every visit, referrals included;
    ``prevalence_ratio``: each indicator's share of household-rounds over its catalogue
    prevalence.  E.g. scale 0.1, seed 42: flagged_share 0.008, supported_share 0.544.
    """
    n_hh = report.households
    flagged = visits["channel"].isin(["system", "local"]).to_numpy()
    supported = (visits["outcome"] == "supported").to_numpy()
    confirmed = visits["outcome"].isin(["need_confirmed", "supported"]).to_numpy()
    code_of = {r.round_id: r.code for r in round_list}
    by_round = (
        pd.DataFrame({"round": visits["round_id"].map(code_of), "flagged": flagged, "supported": supported & flagged})
        .groupby("round", sort=True)[["flagged", "supported"]]
        .sum()
    )
    flagged_by_round = {k: round(float(v) / n_hh, 6) for k, v in by_round["flagged"].items()}
    supported_by_round = {k: round(float(v), 4) for k, v in (by_round["supported"] / by_round["flagged"]).items()}
    n_flagged = int(flagged.sum())
    basic = (visits["support_type"] == "기초생활보장 신청").to_numpy()
    reached = {
        "flagged_share_per_round": [n_flagged / (n_hh * cfg.rounds), *flagged_by_round.values()],
        "system_share_of_flagged": [float((visits["channel"] == "system").sum() / n_flagged)],
        "supported_share_of_flagged_per_round": [(supported & flagged).sum() / n_flagged, *supported_by_round.values()],
        "basic_livelihood_share_of_supported": [float(basic.sum() / max(supported.sum(), 1))],
        "unreachable_share_of_flagged": [
            float(((visits["outcome"] == "unreachable").to_numpy() & flagged).sum() / n_flagged)
        ],
        "one_person_share": [float(pop.one_person.mean())],
        "indicator_prevalence_ratio": [float(np.median(prevalence_ratio)), *prevalence_ratio],
    }
    return {
        "one_person_share": float(pop.one_person.mean()),
        "one_person_model_intercept": float(area.intercept),
        "crisis_share": float(pop.crisis[:, BURN_IN:].mean()),
        "flagged_share": float(n_flagged / (n_hh * cfg.rounds)),
        "flagged_share_by_round": flagged_by_round,
        "referral_share": float((~flagged).sum() / (n_hh * cfg.rounds)),
        "confirmed_share": float(confirmed[flagged].mean()),
        "supported_share": float(supported[flagged].mean()),
        "supported_share_of_flagged_by_round": supported_by_round,
        "supported_share_all_visits": float(supported.mean()),
        "prevalence_ratio_min": float(prevalence_ratio.min()),
        "prevalence_ratio_max": float(prevalence_ratio.max()),
        "signals_per_household_round": float(report.observations / (n_hh * cfg.rounds)),
        "archetypes": {k: int(v) for k, v in pd.Series(area.archetype[chosen]).value_counts().items()},
        "field_targets": field_target_rows(reached),
    }
