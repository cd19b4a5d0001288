"""Reasons shown beside each household's score: the largest contributions to its log-odds.

The model is linear, so a household's log-odds is exactly ``base_logit`` plus one
contribution per feature (``pipeline.explain``).  The reasons are the ``k`` largest of
those contributions in absolute value, with their sign and a Korean phrase; they are a
part of that sum, never an approximation of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from blindspot import vocab
from blindspot.indicators.catalogue import Catalogue
from blindspot.model.features import AGE_BANDS

if TYPE_CHECKING:
    from blindspot.model.pipeline import FittedModel

_NUMERIC_REASON = {
    "n_signals": "위기정보 {v}건",
    "n_domains": "{v}개 영역 위기정보 동시 발생",
    "max_months": "최장 {v}개월 체납",
    "total_amount": "연체·체납액 {v:,}원",
    "n_new": "이번 차수 새 위기정보 {v}건",
    "n_signals_prev": "직전 차수 위기정보 {v}건",
    "prev_rounds_signalled": "최근 3개 차수 중 {v}회 위기정보",
    "streak": "{v}개 차수 연속 위기정보",
    "emd_signal_rate": "읍면동 위기정보 가구 비율 {p}%",
    "household_size": "가구원 {v}명",
}
_AGE_REASON = {
    "<40": "세대주 40세 미만",
    "40-64": "세대주 40~64세",
    "65-79": "세대주 65~79세",
    "80+": "세대주 80세 이상",
}
_CATEGORY_REASON = {
    "age_band": _AGE_REASON,
    "head_sex": {"M": "세대주 남성", "F": "세대주 여성"},
    "one_person": {"yes": "1인 가구", "no": "다인 가구"},
    "housing_type": {k: f"주거: {v}" for k, v in vocab.HOUSING_TYPES.items()},
    "welfare_status": {"none": "복지급여 미수급", "basic_livelihood": "기초생활수급 가구", "near_poor": "차상위 가구"},
    "emd_type": {k: f"{v} 지역" for k, v in vocab.EMD_TYPES.items()},
}
assert {label for *_, label in AGE_BANDS} == set(_AGE_REASON)


# A count or amount at zero is worded as an absence ("신규 위기정보 없음"), never "0건".
_ZERO_REASON = {
    "n_signals": "위기정보 없음",
    "n_domains": "위기 영역 없음",
    "max_months": "체납 없음",
    "total_amount": "연체·체납액 없음",
    "n_new": "신규 위기정보 없음",
    "n_signals_prev": "직전 차수 위기정보 없음",
    "prev_rounds_signalled": "최근 3개 차수 위기정보 없음",
    "streak": "연속 위기정보 없음",
}
LOWERS = " (위험 낮춤)"


def reason_text(feature: str, value, catalogue: Catalogue, contribution: float = 1.0) -> str:
    """Korean phrase for a feature's value; a reason that lowered the risk (``contribution``
    < 0, log-odds) ends in " (위험 낮춤)", one that raised it is the bare phrase.  An
    indicator or a count at 0 reads as an absence.

    >>> from blindspot.indicators.catalogue import load_catalogue
    >>> cat = load_catalogue()
    >>> reason_text("ind_health_ins_arrears", 6, cat), reason_text("ind_elec_cutoff", 1, cat)
    ('건강보험료 6개월 체납', '단전')
    >>> reason_text("streak", 3, cat), reason_text("one_person", "yes", cat)
    ('3개 차수 연속 위기정보', '1인 가구')
    >>> reason_text("n_new", 0, cat, -0.4), reason_text("ind_health_ins_arrears", 0, cat, -0.2)
    ('신규 위기정보 없음 (위험 낮춤)', '건강보험료 체납 없음 (위험 낮춤)')
    """
    suffix = LOWERS if contribution < 0 else ""
    if feature.startswith("ind_"):
        ind = catalogue.by_code(feature[4:])
        return (ind.reason(value) if float(value) > 0 else f"{ind.name_ko} 없음") + suffix
    if feature in _NUMERIC_REASON:
        v = float(value)
        if v <= 0 and feature in _ZERO_REASON:
            return _ZERO_REASON[feature] + suffix
        return _NUMERIC_REASON[feature].format(v=int(round(v)), p=int(round(100 * v))) + suffix
    table = _CATEGORY_REASON.get(feature, {})
    return table.get(str(value), f"{feature}: {value}") + suffix


@dataclass
class Reasons:
    """The ``k`` strongest reasons of each household, as indices into ``phrases``.

    ``feature[r]`` and ``phrase[r]`` are int32 arrays (-1 = no reason at rank r),
    ``contribution[r]`` float32 log-odds with its sign (NaN when none).
    """

    phrases: list[str]
    feature: list[np.ndarray]
    phrase: list[np.ndarray]
    contribution: list[np.ndarray]

    def text(self, rank: int) -> np.ndarray:
        table = np.array(self.phrases + [None], dtype=object)
        return table[self.phrase[rank]]


def top_reasons(model: FittedModel, X: pd.DataFrame, contrib: np.ndarray, catalogue: Catalogue, k: int = 3) -> Reasons:
    """The ``k`` features that raised each household's log-odds the most (largest positive
    contribution over the population base), with their Korean text (:func:`reason_text`).

    Every feature competes, a value of 0 included: "신규 위기정보 없음" is shown when it is
    among what raised the risk most.  Features that lowered the risk are not shown: a list's
    reasons answer "why is this household on the list", and with correlated counts (signals,
    domains, new signals) a lowering term next to a raising one reads as a contradiction to an
    official; the full signed decomposition (base + every contribution = log-odds) is in the
    model card and docs/model.md, with how often a lowering term would have been among the
    largest.  A household with fewer than ``k`` raising features gets fewer reasons.
    """
    names = list(model.features.all)
    n, G = contrib.shape
    # Per feature: its raw values (numbers) or category codes.
    values: list[np.ndarray] = []
    labels: list[list | None] = []
    size = np.empty((G, n), dtype=np.float32)  # |contribution|, feature-major: each row contiguous
    for g, name in enumerate(names):
        col = X[name]
        if name in model.features.categorical:
            values.append(col.cat.codes.to_numpy())
            labels.append([str(c) for c in col.cat.categories])
        else:
            values.append(col.to_numpy(np.float64))
            labels.append(None)
        size[g] = contrib[:, g]
    size[size <= 0] = -np.inf  # only what raised the risk
    phrases: list[str] = []
    index: dict[str, int] = {}
    features, phrase_idx, contributions = [], [], []
    rows_all = np.arange(n)
    for _ in range(k):
        # A running maximum over the feature rows: much faster than argmax(axis=0).
        best = size[0].copy()
        g = np.zeros(n, dtype=np.int64)
        for f in range(1, G):
            better = size[f] > best
            best[better] = size[f][better]
            g[better] = f
        ok = np.isfinite(best)
        size[g, rows_all] = -np.inf  # next rank takes the next best
        signed = contrib[rows_all, g]
        pid = np.full(n, -1, dtype=np.int32)
        rows_ok = np.flatnonzero(ok)
        order = rows_ok[np.argsort(g[rows_ok], kind="stable")]
        g_sorted = g[order]
        # No household has a reason at this rank (nothing else raised any risk): no groups.
        starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]]) if len(order) else np.array([], int)
        for lo, hi in zip(starts, np.r_[starts[1:], len(order)], strict=False):
            gi = int(g_sorted[lo])
            rows = order[lo:hi]
            name = names[gi]
            raw = values[gi][rows]
            if labels[gi] is not None:
                keys = raw.astype(np.int64)
            elif name == "emd_signal_rate":
                keys = np.rint(raw * 100).astype(np.int64)  # whole percent, as the text shows it
            else:
                keys = np.rint(raw).astype(np.int64)
            # One phrase per (value, sign): key*2 + 1 when the reason lowered the risk
            # (floor division and modulo decode negative keys too).
            uniq, inv = np.unique(keys * 2 + (signed[rows] < 0), return_inverse=True)
            ids = []
            for u in uniq:
                key, lowers = int(u // 2), int(u % 2)
                value = labels[gi][key] if labels[gi] is not None else key / 100 if name == "emd_signal_rate" else key
                text = reason_text(name, value, catalogue, -1.0 if lowers else 1.0)
                if text not in index:
                    index[text] = len(phrases)
                    phrases.append(text)
                ids.append(index[text])
            pid[rows] = np.asarray(ids, dtype=np.int32)[inv]
        features.append(np.where(ok, g, -1).astype(np.int32))
        phrase_idx.append(pid)
        contributions.append(np.where(ok, signed, np.nan).astype(np.float32))
    return Reasons(phrases, features, phrase_idx, contributions)


def reason_census(model: FittedModel, X: pd.DataFrame, contrib: np.ndarray, k: int = 3) -> dict:
    """How value-0 features and risk-lowering contributions fare among each row's ``k``
    largest |contributions| (shares of the rows of ``X``, 0–1): the figures of
    docs/model.md for the 2,000 highest-probability households.

    ``value0_in_top``: rows with a feature at value ≤ 0 among their ``k``; ``value0_largest``:
    rows whose largest is one; ``lowering``: share of the ``k`` reasons that lower the
    log-odds; ``rows_lowering``: rows with at least one such reason.

    >>> from blindspot.model.features import FeatureSet
    >>> class M: features = FeatureSet(("a",), (), (), ("n",), ())
    >>> X = pd.DataFrame({"a": [1, 0], "n": [2, 0]})
    >>> reason_census(M, X, np.array([[0.5, -0.1], [0.2, 0.3]]), k=1)
    {'rows': 2, 'value0_in_top': 0.5, 'value0_largest': 0.5, 'lowering': 0.0, 'rows_lowering': 0.0}
    """
    names = list(model.features.all)
    order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :k]
    zero = np.column_stack(
        [np.zeros(len(X), bool) if n in model.features.categorical else X[n].to_numpy(np.float64) <= 0 for n in names]
    )
    zero_top = np.take_along_axis(zero, order, axis=1)
    lowers = np.take_along_axis(np.asarray(contrib), order, axis=1) < 0
    return {
        "rows": len(X),
        "value0_in_top": float(zero_top.any(axis=1).mean()),
        "value0_largest": float(zero_top[:, 0].mean()),
        "lowering": float(lowers.mean()),
        "rows_lowering": float(lowers.any(axis=1).mean()),
    }
