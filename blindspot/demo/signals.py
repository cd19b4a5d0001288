"""Stage 3 of the synthetic world: crisis signals per round, and the system's score.

Driven row by row by the indicator catalogue: a household-round belongs to a stratum
(crisis state × hardship tier × age group × living alone), each indicator has a rate per
stratum, signals persist into the next round or start anew (``docs/synthetic-data.md``
§6).  Per 시군구 block, from the block's own signal stream, the stage draws every round's
signals (burn-in included) first and then, per stored round, the noise of the national
system's score that selects visits in stage 4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from blindspot.demo import streams
from blindspot.demo.calibration import (
    AGE_GROUPS,
    BURN_IN,
    CHRONIC_PERSISTENCE,
    CRISIS_PERSIST_FACTOR,
    GROUP_RR,
    SYSTEM_DOMAIN_WEIGHT,
    TIER_RR_ACUTE,
    TIER_RR_CHRONIC,
)
from blindspot.demo.households import Block, Population, dict_column
from blindspot.demo.streams import categorical
from blindspot.indicators.catalogue import Catalogue
from blindspot.progress import ProgressFn, silent

if TYPE_CHECKING:
    from blindspot.demo.areas import AreaModel
    from blindspot.demo.synthetic import SyntheticConfig


@dataclass
class SignalModel:
    """Rates of each indicator in each stratum (crisis state × tier × age group × one-person)."""

    stationary: np.ndarray  # [S, J] probability a signal is present
    onset_lambda: np.ndarray  # [S] Poisson total of new signals per household-round
    onset_cdf: np.ndarray  # [S, J] cumulative split of new signals over indicators
    start_lambda: np.ndarray
    start_cdf: np.ndarray
    persist: np.ndarray  # [S, J]


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
        tier_rr = TIER_RR_CHRONIC if ind.persistence >= CHRONIC_PERSISTENCE else TIER_RR_ACUTE
        rr[:, j] *= tier_rr**tier
        own = state == 1 + domains.index(ind.domain)
        rr[:, j] *= np.where(own, ind.crisis_rr, np.where(state > 0, ind.crisis_rr**spill, 1.0))
        rr[:, j] *= np.where(one == 1, ind.one_person_rr, 1.0)
        if ind.target_group != "all":
            rr[:, j] *= np.where(group == AGE_GROUPS.index(ind.target_group), GROUP_RR, 1.0)
    weights = counts / max(counts.sum(), 1)
    prevalence = np.array([i.prevalence for i in inds])
    base = prevalence / np.maximum(weights @ rr, 1e-12)
    stationary = np.minimum(base[None, :] * rr, 0.9)
    pers = np.array([i.persistence for i in inds])[None, :] * np.where(state > 0, 1.0, CRISIS_PERSIST_FACTOR)[:, None]
    # A new signal that meets a continuing one of the same indicator is dropped (one row per
    # household, indicator and round), so onsets reach only the households without one:
    # s = s·pers + onset·(1 − s·pers) keeps the stationary share s.
    onset = stationary * (1 - pers) / (1 - stationary * pers)

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
    j = categorical(rng, cdf, strata[hh])
    key = np.unique(hh.astype(np.int64) * cdf.shape[1] + j)
    return (key // cdf.shape[1]).astype(np.int64), (key % cdf.shape[1]).astype(np.int64)


def _new_values(rng, j, kinds, scales, first_round: bool):
    """First-report values of new signals of indicators ``j``: 1 for flags, months overdue
    (``scales`` + a geometric excess, longer in the first round) and amounts in won
    (log-normal around ``scales``, rounded to ₩10,000)."""
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
    """All signals of a block's households over the rounds: one tuple per round of
    (household offset in the block, indicator index, value), sorted.

    ``n_rounds`` counts the burn-in rounds too; the caller drops those.  Returns a list,
    not a generator: every round is drawn before the caller draws the system's score
    noise from the same stream, and that order is part of the generated data.
    """
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


@dataclass
class Candidates:
    """The national system's view of every signalled household-round (stored rounds only)."""

    pos: np.ndarray  # int32 position in the Population arrays
    round: np.ndarray  # int8 stored round index (0 = first stored round)
    score: np.ndarray  # float32 the system's score (log rate ratios + domains + noise)


def generate_signals(
    pop: Population,
    area: AreaModel,
    blocks: list[Block],
    catalogue: Catalogue,
    cfg: SyntheticConfig,
    round_ids: np.ndarray,
    write: Callable[[pa.Table], None],
    progress: ProgressFn = silent,
) -> Candidates:
    """Draw the signals of every block, ``write`` each block's ``observations`` rows (one
    Arrow table per block, stored rounds only) and return the system's candidates.

    Indicator rates are normalised over the household-rounds generated (stored rounds), so
    each indicator's share of household-rounds with the signal is its catalogue
    ``prevalence``.  The system's score of a signalled household is the sum of its signals'
    log crisis rate ratios + ``SYSTEM_DOMAIN_WEIGHT`` × domains hit + normal noise of sd
    ``cfg.system_noise``: it weighs each signal by how specific it is to crises, blurred by
    what it cannot know, and sees signals only, never the crisis itself, so visits are
    selected on observables and their outcomes are unbiased labels.  ``progress`` gets the
    fraction of blocks done.
    """
    n_s = n_strata(len(catalogue.domains))
    strata_counts = np.zeros(n_s)
    for t in range(BURN_IN, BURN_IN + cfg.rounds):
        strata_counts += np.bincount(
            stratum(crisis_state(pop.crisis[:, t], pop.kind), pop.tier, pop.group, pop.one_person), minlength=n_s
        )
    model = build_signal_model(catalogue, strata_counts, cfg.crisis_spill)
    kinds = np.array([{"flag": 0, "months": 1, "amount": 2}[i.kind] for i in catalogue.indicators])
    scales = np.array([i.value_scale for i in catalogue.indicators], dtype=np.int64)
    domain_of = pd.factorize(pd.Series([i.domain for i in catalogue.indicators]))[0]
    n_domains = int(domain_of.max()) + 1
    specificity = np.log([i.crisis_rr for i in catalogue.indicators])
    n_emd = area.emd["n"].to_numpy()
    emd_codes = area.emd["emd_code"].to_numpy()
    cand = {k: [] for k in ("pos", "round", "score")}
    a = 0
    for done, (sgg, es) in enumerate(blocks):
        n = int(n_emd[es].sum())
        b = a + n
        rng = streams.stream(cfg.seed, streams.SIGNALS, int(sgg))
        sl = {
            "tier": pop.tier[a:b],
            "group": pop.group[a:b],
            "one_person": pop.one_person[a:b],
            "crisis": pop.crisis[a:b],
            "kind": pop.kind[a:b],
        }
        frames = []
        for t, (hh, j, v) in enumerate(_signals_of_block(rng, model, sl, (kinds, scales), BURN_IN + cfg.rounds)):
            t -= BURN_IN
            if t < 0 or not len(hh):
                continue
            frames.append(
                pa.table(
                    {
                        "round_id": np.full(len(hh), round_ids[t], dtype=np.int32),
                        "household_id": pop.household_id[a + hh].astype(np.int32),
                        "sgg_code": dict_column(np.zeros(len(hh)), [sgg]),
                        "emd_code": dict_column(pop.emd_index[a + hh] - es[0], emd_codes[es[0] : es[-1] + 1]),
                        "indicator_code": dict_column(j, catalogue.codes),
                        "value": v.astype(np.int32),
                    }
                )
            )
            n_sig = np.bincount(hh, minlength=n)
            has = np.flatnonzero(n_sig)
            dom = np.unique(hh.astype(np.int64) * n_domains + domain_of[j])
            n_dom = np.bincount(dom // n_domains, minlength=n)
            weighted = np.bincount(hh, weights=specificity[j], minlength=n)
            score = weighted[has] + SYSTEM_DOMAIN_WEIGHT * n_dom[has] + cfg.system_noise * rng.standard_normal(len(has))
            cand["pos"].append((a + has).astype(np.int32))
            cand["round"].append(np.full(len(has), t, dtype=np.int8))
            cand["score"].append(score.astype(np.float32))
        if frames:
            write(pa.concat_tables(frames))
        a = b
        progress((done + 1) / len(blocks), f"위기정보 생성 {done + 1}/{len(blocks)} 시군구")
    return Candidates(*(np.concatenate(cand[k]) for k in ("pos", "round", "score")))
