"""The fixed tables, rate ratios and probabilities of the synthetic world, with where
they come from.

The per-build parameters (seed, scale, crisis intercept and slope, visit share, channel
shares, unreachable share...) are the defaults of ``synthetic.SyntheticConfig``; the
numbers here are fixed by the generator version (the coefficients of the area and
hardship formulas stay in those formulas, in ``areas`` and ``households``, as written in
``docs/synthetic-data.md``, which describes the model they feed).  Facts cited as
"domain.md" are in ``../shared/docs/domain.md``; a number without a cited fact is a
modelling choice.

Changing any value here changes the generated data: bump ``synthetic.GENERATOR_VERSION``
and the pinned fingerprints of ``tests/demo/test_generator_pinned.py``.
"""

from __future__ import annotations

import numpy as np

HOUSING = ("apartment", "multiplex", "detached", "officetel", "vulnerable", "other")
WELFARE = ("none", "basic_livelihood", "near_poor")
AGE_GROUPS = ("young", "middle", "older")  # heads aged <40, 40–64, 65+ (domain.md: default bands)

# --- heads of household -----------------------------------------------------------------
# Relative propensity, by head's age (5-year group from 20) and sex, to head a
# one-person household (alone) or a household of several (head).  Shapes follow the
# registered-household pattern: young adults and older women live alone most often;
# heads of larger households are mostly men aged 35–69.
AGE_FROM = np.arange(20, 105, 5)  # 20, 25, ..., 100 (100+)
ALONE_M = np.array([1.0, 1.3, 1.0, 0.8, 0.75, 0.75, 0.8, 0.8, 0.75, 0.7, 0.7, 0.75, 0.8, 0.9, 1.0, 1.0, 1.0])
ALONE_F = np.array([1.0, 1.1, 0.6, 0.35, 0.3, 0.33, 0.4, 0.5, 0.6, 0.75, 0.95, 1.2, 1.5, 1.7, 1.7, 1.6, 1.5])
HEAD_M = np.array([0.08, 0.35, 0.75, 0.95, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
HEAD_F = np.array([0.04, 0.1, 0.18, 0.22, 0.24, 0.26, 0.27, 0.28, 0.3, 0.32, 0.35, 0.4, 0.45, 0.5, 0.5, 0.45, 0.4])

# Housing-type log-odds by 읍면동 type, and shifts for living alone and for hardship
# (order of HOUSING; a modelling choice).
HOUSING_BASE = {
    "dong": np.array([1.2, 0.0, -0.5, -1.0, -2.6, -2.6]),
    "eup": np.array([0.8, -0.9, 0.4, -2.2, -3.2, -2.2]),
    "myeon": np.array([-0.9, -2.2, 1.6, -3.6, -3.4, -2.0]),
}
HOUSING_ALONE = np.array([-0.6, 0.3, 0.0, 1.2, 1.0, 0.0])
HOUSING_HARDSHIP = np.array([-0.35, 0.1, 0.1, 0.0, 0.7, 0.0])

# --- crisis -----------------------------------------------------------------------------
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

# Area archetypes ("clusters the data tells") and what they add to hardship.
ARCHETYPE_EFFECT = {
    "ageing_rural": 0.35,  # 읍·면 where ≥ 30 % of residents are 65+
    "dense_one_person": 0.30,  # 동 with many one-person households and high density
    "old_urban": 0.20,  # older 동 (≥ 22 % aged 65+)
    "family_suburb": -0.20,  # large average household (≥ 2.4 persons)
    "mixed": 0.0,
}

# --- signals ----------------------------------------------------------------------------
TIER_EDGES = np.array([-0.3, 0.6, 1.5])  # hardship tiers 0..3
# Signal rate ratio per hardship-tier step.  Long-running arrears (persistence ≥ 0.7:
# telecom, pensions, health insurance, taxes, rents) follow chronic poverty closely;
# acute events (cut-offs, a drop in use, a death) much less.  Chronically poor households
# therefore collect many signals without being in crisis, which is what makes a plain
# signal count a weak ranking (domain.md: specificity of indicators differs).
TIER_RR_CHRONIC = 1.9
TIER_RR_ACUTE = 1.2
CHRONIC_PERSISTENCE = 0.7
GROUP_RR = 2.0  # rate ratio for the indicator's own age group
CRISIS_PERSIST_FACTOR = 0.55  # signals outlive a crisis less often
# Rounds simulated before the first stored round, so that the first stored round is in
# steady state (old arrears still running, crises that ended leaving signals behind).
BURN_IN = 3

# --- who is visited -----------------------------------------------------------------------
# The national system's score per signalled household: the sum of its signals' log crisis
# rate ratios plus this weight per indicator domain hit (plus SyntheticConfig.system_noise).
# domain.md: the system "ranks people by the likelihood of crisis"; its model is unknown,
# so the weight is a modelling choice.
SYSTEM_DOMAIN_WEIGHT = 0.5
# Local governments choose among the remaining signalled households by
# LOCAL_SCORE_WEIGHT × score + LOCAL_OLDER_ALONE_LEAN × (older person living alone), through
# Gumbel top-k.  domain.md: ≈50,000 of ≈200,000 a round are chosen locally, and older people
# living alone are a named blind-spot group; the weights are a modelling choice.
LOCAL_SCORE_WEIGHT = 2.0
LOCAL_OLDER_ALONE_LEAN = 0.5
# Referrals (neighbours, honorary officials, meter readers) mostly find real crises: this
# share of the referral quota are households truly in crisis (modelling choice).
REFERRAL_CRISIS_SHARE = 0.7
# The channels of a referral (domain.md: "the channel that found the household (system
# list, neighbour report, volunteer, meter reader...)"); their shares are a modelling choice.
REFERRAL_CHANNELS = ("neighbour", "volunteer", "meter_reader")
REFERRAL_CHANNEL_WEIGHTS = (0.5, 0.3, 0.2)

# --- outcomes of a visit --------------------------------------------------------------------
# A reached household truly in crisis is supported, or its need is confirmed without support
# yet, or it refuses (the rest, 5 %): shares are a modelling choice.
P_SUPPORTED_IN_CRISIS = 0.85
P_SUPPORTED_OR_CONFIRMED_IN_CRISIS = 0.95  # 0.85 supported + 0.10 need confirmed
# A reached household not in crisis may still get one-off or private help (a food parcel, a
# voucher): domain.md, "Most support is private or one-off".  Generator 3 keeps this at 0, so
# that "supported" (and a visit's label) stays a sign of the crisis the ground truth records;
# the field's supported share is reached through the crisis share instead
# (SyntheticConfig.crisis_intercept; docs/synthetic-data.md, "Calibration", says why and
# what 0.33, the alternative, would do).
P_ONE_OFF_SUPPORT_NO_CRISIS = 0.0
# A reached household not in crisis and not helped is found not eligible, or contacted with
# no need (the rest).  domain.md names "flagged but not eligible" as a known failure mode; the
# share is a modelling choice.  (The unreachable share is SyntheticConfig.unreachable.)
P_NOT_ELIGIBLE_NO_CRISIS = 0.4
# The kind of support given (vocab.SUPPORT_TYPES order).  domain.md: "Most support is private
# or one-off; only ~2 % became basic-livelihood recipients."
SUPPORT_TYPES = ("민간자원 연계", "긴급지원", "서비스 연계", "공공급여 연계", "기초생활보장 신청")
SUPPORT_WEIGHTS = (0.45, 0.2, 0.2, 0.13, 0.02)
# A visit's outcome is recorded on the evening of the round's last day (modelling choice).
RECORDED_HOURS_AFTER_ROUND_END = 18
