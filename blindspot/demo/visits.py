"""Stage 4 of the synthetic world: who is visited each round, what the visit finds, and
the ground truth.

Per stored round, from the national visit stream: the system list takes the top of the
system's score, local governments choose among the remaining signalled households, and
referrals bring in households mostly in crisis; each visit then gets an outcome and, when
supported, a kind of support (``docs/synthetic-data.md`` §7).  The probabilities are named
in ``calibration``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from blindspot import rounds as rounds_mod
from blindspot.demo import streams
from blindspot.demo.calibration import (
    BURN_IN,
    LOCAL_OLDER_ALONE_LEAN,
    LOCAL_SCORE_WEIGHT,
    P_NOT_ELIGIBLE_NO_CRISIS,
    P_ONE_OFF_SUPPORT_NO_CRISIS,
    P_SUPPORTED_IN_CRISIS,
    P_SUPPORTED_OR_CONFIRMED_IN_CRISIS,
    RECORDED_HOURS_AFTER_ROUND_END,
    REFERRAL_CHANNEL_WEIGHTS,
    REFERRAL_CHANNELS,
    REFERRAL_CRISIS_SHARE,
    SUPPORT_TYPES,
    SUPPORT_WEIGHTS,
)
from blindspot.demo.households import Population
from blindspot.demo.signals import Candidates
from blindspot.progress import ProgressFn, silent

if TYPE_CHECKING:
    from blindspot.demo.areas import AreaModel
    from blindspot.demo.synthetic import SyntheticConfig


def select_visits(
    vrng: np.random.Generator,
    pos: np.ndarray,
    score: np.ndarray,
    pop: Population,
    in_crisis_now: np.ndarray,
    flagged: int,
    shares: tuple[float, float],
    referred: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The households visited in one round: (positions in ``pop``, channel), by household id.

    ``pos``/``score`` are the round's signalled households and their system score;
    ``in_crisis_now`` is the crisis column of the round.  ``flagged`` households (counts of
    households) are flagged, split by ``shares`` between the system list and local choice;
    ``referred`` households come on top from referrals and are not flagged (domain.md counts
    the system's and local governments' lists only).  Draws, in this order: a Gumbel per
    locally eligible household (weighted sampling without replacement, Gumbel top-k), the
    referred households in crisis, the other referred households, the referral channels.
    Needs a population, so exercised by ``tests/demo`` (e.g. 1,916 flagged → 1,437 system +
    479 local at scale 0.01).
    """
    n_households = len(pop.household_id)
    q_sys = int(round(flagged * shares[0]))
    q_local = flagged - q_sys
    q_ref = referred
    order = np.argsort(-score, kind="stable")
    sys_pick = pos[order[:q_sys]]
    rest = pos[order[q_sys:]]
    # Local governments choose among the remaining signalled households, leaning towards
    # older people living alone.  They know their area, so their choice follows the
    # signals more than the noise.
    weight = LOCAL_SCORE_WEIGHT * score[order[q_sys:]] + LOCAL_OLDER_ALONE_LEAN * pop.older_alone[rest]
    local_pick = rest[np.argsort(-(weight + vrng.gumbel(size=len(rest))), kind="stable")[:q_local]]
    taken = np.zeros(n_households, dtype=bool)
    taken[sys_pick] = True
    taken[local_pick] = True
    in_crisis = np.flatnonzero(in_crisis_now & ~taken)
    q_ref_c = min(int(round(q_ref * REFERRAL_CRISIS_SHARE)), len(in_crisis))
    ref_c = vrng.choice(in_crisis, size=q_ref_c, replace=False) if q_ref_c else in_crisis[:0]
    taken[ref_c] = True
    free = np.flatnonzero(~taken)
    ref_o = vrng.choice(free, size=min(q_ref - q_ref_c, len(free)), replace=False)
    ref = np.concatenate([ref_c, ref_o])
    ref_channel = vrng.choice(np.array(REFERRAL_CHANNELS), size=len(ref), p=list(REFERRAL_CHANNEL_WEIGHTS))
    rows = [
        (sys_pick, np.full(len(sys_pick), "system", dtype=object)),
        (local_pick, np.full(len(local_pick), "local", dtype=object)),
        (ref, ref_channel.astype(object)),
    ]
    idx = np.concatenate([r[0] for r in rows])
    channel = np.concatenate([r[1] for r in rows])
    order = np.argsort(pop.household_id[idx], kind="stable")
    return idx[order], channel[order]


def draw_outcomes(vrng: np.random.Generator, truth: np.ndarray, unreachable: float) -> tuple[np.ndarray, np.ndarray]:
    """(outcome, support type or None) of each visit; ``truth`` says whether the visited
    household is in crisis, ``unreachable`` is the share not reached (a probability).
    A reached household in crisis is supported (85 %), confirmed (10 %) or refuses; one not
    in crisis gets one-off help (``P_ONE_OFF_SUPPORT_NO_CRISIS``, 0 in generator 3), else is
    not eligible (40 % of the rest) or contacted.

    Draws, in this order: a uniform per visit (unreachable?), a uniform per visit (the
    outcome), a support type per visit (kept only where supported).

    >>> out, support = draw_outcomes(np.random.default_rng(1), np.array([True, False]), unreachable=1.0)
    >>> out.tolist(), support.tolist()
    (['unreachable', 'unreachable'], [None, None])
    >>> out, _ = draw_outcomes(np.random.default_rng(1), np.ones(10_000, dtype=bool), unreachable=0.0)
    >>> round(float((out == "supported").mean()), 2), round(float((out == "refused").mean()), 2)
    (0.85, 0.05)
    >>> out, _ = draw_outcomes(np.random.default_rng(1), np.zeros(200_000, dtype=bool), unreachable=0.0)
    >>> round(float((out == "supported").mean()), 2), round(float((out == "not_eligible").mean()), 2)
    (0.0, 0.4)
    """
    u = vrng.random(len(truth))
    u2 = vrng.random(len(truth))
    # Of those not helped, P_NOT_ELIGIBLE_NO_CRISIS are found not eligible.
    not_eligible_below = P_ONE_OFF_SUPPORT_NO_CRISIS + (1 - P_ONE_OFF_SUPPORT_NO_CRISIS) * P_NOT_ELIGIBLE_NO_CRISIS
    outcome = np.where(
        u < unreachable,
        "unreachable",
        np.where(
            truth,
            np.where(
                u2 < P_SUPPORTED_IN_CRISIS,
                "supported",
                np.where(u2 < P_SUPPORTED_OR_CONFIRMED_IN_CRISIS, "need_confirmed", "refused"),
            ),
            np.where(
                u2 < P_ONE_OFF_SUPPORT_NO_CRISIS,
                "supported",
                np.where(u2 < not_eligible_below, "not_eligible", "contacted"),
            ),
        ),
    )
    support = np.where(
        outcome == "supported",
        vrng.choice(np.array(SUPPORT_TYPES, dtype=object), size=len(truth), p=SUPPORT_WEIGHTS),
        None,
    )
    return outcome, support


def generate_visits(
    pop: Population,
    cand: Candidates,
    area: AreaModel,
    round_list: list[rounds_mod.Round],
    cfg: SyntheticConfig,
    progress: ProgressFn = silent,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``visits`` rows and the ground truth (``synthetic_crisis`` rows: households in
    crisis) of every stored round, from the national visit stream.

    Each round ``cfg.flagged_share`` of the generated households are flagged (rounded to a
    whole number), split by ``cfg.channel_shares`` between the system list and local choice,
    and ``cfg.referral_share`` more are referred (not flagged); outcomes are recorded
    ``RECORDED_HOURS_AFTER_ROUND_END`` hours after the round's last day, by "synthetic".
    ``progress`` gets the fraction of rounds done.
    """
    vrng = streams.stream(cfg.seed, streams.VISITS)
    n_households = len(pop.household_id)
    sgg_codes = area.emd["sgg_code"].to_numpy()
    emd_codes = area.emd["emd_code"].to_numpy()
    visit_frames = []
    truth_frames = []
    flagged = int(round(cfg.flagged_share * n_households))
    referred = int(round(cfg.referral_share * n_households))
    for t, rnd in enumerate(round_list):
        in_round = cand.round == t
        crisis_now = pop.crisis[:, BURN_IN + t]
        idx, channel = select_visits(
            vrng, cand.pos[in_round], cand.score[in_round], pop, crisis_now, flagged, cfg.channel_shares, referred
        )
        outcome, support = draw_outcomes(vrng, crisis_now[idx], cfg.unreachable)
        e_idx = pop.emd_index[idx]
        visit_frames.append(
            pd.DataFrame(
                {
                    "round_id": np.int32(rnd.round_id),
                    "household_id": pop.household_id[idx].astype(np.int32),
                    "sgg_code": sgg_codes[e_idx],
                    "emd_code": emd_codes[e_idx],
                    "channel": channel,
                    "outcome": outcome,
                    "support_type": support,
                    "recorded_at": pd.Timestamp(rnd.end) + pd.Timedelta(hours=RECORDED_HOURS_AFTER_ROUND_END),
                    "recorded_by": "synthetic",
                }
            )
        )
        crisis_ids = pop.household_id[crisis_now]
        truth_frames.append(
            pd.DataFrame({"round_id": np.int32(rnd.round_id), "household_id": crisis_ids.astype(np.int32)})
        )
        progress((t + 1) / len(round_list), f"방문 결과 생성 {rnd.code}")
    return pd.concat(visit_frames, ignore_index=True), pd.concat(truth_frames, ignore_index=True)
