"""Visit capacity that fits the office and the need: how many households each 읍면동 office
can visit in a round, and how a 시군구's visits are shared among its 읍면동.

Three inputs make a :class:`Plan`:

* the national share (setting ``capacity_share``, domain.md: ≈0.8 % of households are
  flagged per round) — the default for every 시군구 without a registered staff count;
* a 시군구's registered officers × visits per officer (setting ``visits_per_officer``,
  domain.md: "~100 targets per officer per round") — the capacity of that 시군구 when an
  admin has registered its staff (``python -m blindspot capacity set``);
* the allocation rule (setting ``capacity_allocation``): ``flat`` shares a 시군구's visits in
  proportion to each 읍면동's households (the national system's flat share), ``need`` in
  proportion to each 읍면동's expected crisis households (the sum of calibrated probabilities),
  so that a 읍면동 with more predicted need gets more of the 시군구's visits.

With no staff registered and the flat rule, every 읍면동 keeps exactly the old rule
(``share`` of its households, rounded, at least one), so models and metrics measured before
are unchanged.  Everything here is a pure function of arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from blindspot import glossary, settings

RULES = ("flat", "need")
RULE_LABELS = glossary.CAPACITY_RULES


@dataclass(frozen=True)
class Plan:
    """How capacity is set: ``share`` of households by default, ``officers`` × ``visits_per_officer``
    for the 시군구 in ``officers`` (keyed by 5-digit code), shared by ``rule`` (:data:`RULES`)."""

    share: float = settings.default("capacity_share")
    rule: str = settings.default("capacity_allocation")
    officers: Mapping[str, float] = field(default_factory=dict)
    visits_per_officer: int = settings.default("visits_per_officer")

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"capacity_allocation: {self.rule!r} (허용: {', '.join(RULES)})")

    @classmethod
    def configured(cls, officers: Mapping[str, float] | None = None, share: float | None = None) -> Plan:
        """The plan of the settings (environment first), with registered ``officers``."""
        return cls(
            share=share if share is not None else settings.get("capacity_share"),
            rule=settings.get("capacity_allocation"),
            officers=dict(officers or {}),
            visits_per_officer=settings.get("visits_per_officer"),
        )

    def summary(self) -> dict:
        """What a score run records: enough to say which plan made its bands."""
        return {
            "share": self.share,
            "rule": self.rule,
            "visits_per_officer": self.visits_per_officer,
            "sgg_with_staff": len(self.officers),
            "officers": float(sum(self.officers.values())),
        }


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` visits shared in proportion to ``weights`` as whole numbers that sum to
    ``total`` (largest remainder; ties go to the earlier row).  All-zero weights share evenly.

    >>> apportion(10, np.array([1.0, 1.0, 1.0])).tolist()
    [4, 3, 3]
    >>> apportion(7, np.array([0.5, 2.5, 0.0])).tolist()   # quotas 1.167, 5.833, 0
    [1, 6, 0]
    """
    w = np.clip(np.asarray(weights, dtype=np.float64), 0, None)
    n = len(w)
    if total <= 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    if w.sum() <= 0:
        w = np.ones(n)
    quota = total * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:rest]] += 1
    return base


def emd_capacities(households: np.ndarray, expected: np.ndarray, sgg: np.ndarray, plan: Plan) -> np.ndarray:
    """Visits per 읍면동 (households) under ``plan``; the arrays are one entry per 읍면동:
    its households, its expected crisis households (Σ calibrated probability) and its
    시군구 code.

    A 시군구 with registered staff has ``officers × visits_per_officer`` visits; one without
    keeps the sum of its 읍면동's national-share capacities.  The flat rule then shares them by
    households, the need rule by expected crises.  With no staff and the flat rule each 읍면동
    keeps the national share (at least one visit), exactly as before.

    >>> h, e, s = np.array([1000, 250, 500]), np.array([30.0, 2.0, 8.0]), np.array(["11110", "11110", "11140"])
    >>> emd_capacities(h, e, s, Plan(share=0.008, rule="flat")).tolist()
    [8, 2, 4]
    >>> emd_capacities(h, e, s, Plan(share=0.008, rule="need")).tolist()   # 10 visits: 30:2
    [9, 1, 4]
    >>> emd_capacities(h, e, s, Plan(share=0.008, officers={"11110": 0.5}, visits_per_officer=100)).tolist()
    [40, 10, 4]
    """
    households = np.asarray(households)
    expected = np.asarray(expected, dtype=np.float64)
    sgg = np.asarray(sgg).astype(str)
    out = np.maximum(1, np.rint(households * plan.share)).astype(np.int64)
    if plan.rule == "flat" and not plan.officers:
        return out
    for code in np.unique(sgg):
        idx = np.flatnonzero(sgg == code)
        staff = plan.officers.get(str(code))
        if staff is None and plan.rule == "flat":
            continue
        total = int(round(staff * plan.visits_per_officer)) if staff is not None else int(out[idx].sum())
        out[idx] = apportion(total, expected[idx] if plan.rule == "need" else households[idx])
    return np.minimum(out, households)


def capacity_rows(emd: np.ndarray, sgg: np.ndarray, probability: np.ndarray, plan: Plan) -> np.ndarray:
    """For each household row, the capacity of its 읍면동 under ``plan`` (:func:`emd_capacities`).
    Every 읍면동 of a 시군구 must be among the rows (scoring batches are whole 시군구).

    >>> emd = np.array([1] * 3 + [2] * 2); sgg = np.array(["11110"] * 5)
    >>> capacity_rows(emd, sgg, np.array([0.9, 0.8, 0.7, 0.1, 0.1]), Plan(rule="need")).tolist()
    [2, 2, 2, 0, 0]
    """
    codes, first, inverse, counts = np.unique(
        np.asarray(emd), return_index=True, return_inverse=True, return_counts=True
    )
    expected = np.bincount(inverse, weights=np.asarray(probability, dtype=np.float64), minlength=len(codes))
    return emd_capacities(counts, expected, np.asarray(sgg)[first], plan)[inverse]


def current_plan(share: float | None = None) -> Plan:
    """The plan in force: the settings, with the staff registered in the operational store
    (:meth:`blindspot.db.opstaff.Staffing.staff`).  ``share``: the model's own national share."""
    from blindspot.db.opstore import open_ops

    return Plan.configured(open_ops().staff(), share)
