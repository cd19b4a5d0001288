"""The household-level 고독사 위험 grade: a transparent rule, not a model.

For a one-person household, the score is the sum of the weights of the lonely-death
indicators it shows this round; a weight is the indicator's specificity, estimated the way
the strong baseline weighs signals (:func:`blindspot.model.evaluation.signal_weights`: the
log rate ratio of a confirmed need among visited one-person households with the signal,
rounds before the graded one, never the synthetic ground truth).  Grades:

* 높음 (``high``): score ≥ ``lonely_high_score`` (setting, default 0.35);
* 보통 (``medium``): at least one lonely-death signal with a positive weight;
* 낮음 (``low``): one-person, no such signal;
* 해당 없음 (``na``): not a one-person household.

Reasons: the life stage (or 중장년 1인 남성) and the signals, strongest first.  Without
labelled earlier rounds every weight is half the 높음 score, so two signals make 높음.
Described and measured in docs/lonely.md.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from blindspot import glossary, settings
from blindspot.db.store import Store
from blindspot.lonely import sql
from blindspot.lonely.stages import AgeBands, is_middle_aged_man, life_stages, stage_name, stage_of
from blindspot.model.evaluation import signal_weights

GRADES = glossary.LONELY_GRADES
MAX_REASONS = 3
NOT_ONE_PERSON = "1인 가구 아님"
__all__ = ["GRADES", "NOT_ONE_PERSON", "grade", "grade_frame", "life_stages", "lonely_indicators", "lonely_weights"]

_MEMO: OrderedDict[tuple, dict[str, float]] = OrderedDict()


def lonely_indicators(store: Store) -> dict[str, str]:
    """The catalogue's lonely-death indicators: code → Korean name (15 in the catalogue)."""
    return {str(c): str(n) for c, n in store.rows(sql.LONELY_CODES)}


def weights_from_labels(codes: Sequence[str], signals: Sequence[Sequence[str]], y) -> dict[str, float]:
    """Weight per lonely-death indicator from labelled households (``signals`` the codes each
    showed, ``y`` 1 = need confirmed): :func:`signal_weights`, log rate ratio ≥ 0.

    >>> w = weights_from_labels(["a", "b"], [["a"], ["a"], ["b"], ["b"], [], []], [1, 1, 0, 1, 0, 0])
    >>> {k: round(v, 4) for k, v in w.items()}
    {'a': 0.5108, 'b': 0.0}
    """
    present = np.array([[c in set(s) for c in codes] for s in signals], dtype=bool).reshape(len(signals), len(codes))
    w = signal_weights(present, np.asarray(y))
    return {c: float(v) for c, v in zip(codes, w, strict=True)}


def weights_from_counts(codes: Sequence[str], counts: Mapping[str, tuple[int, int]], total: int, positive: int):
    """:func:`weights_from_labels` from counts instead of rows: ``counts`` code → (labelled
    households showing it, those with a need confirmed), ``total``/``positive`` over all
    labelled households.  The same formula (:func:`signal_weights`), the same weights.

    >>> w = weights_from_counts(["a", "b"], {"a": (2, 2), "b": (2, 1)}, 6, 3)
    >>> w == weights_from_labels(["a", "b"], [["a"], ["a"], ["b"], ["b"], [], []], [1, 1, 0, 1, 0, 0])
    True
    """
    n = np.array([counts.get(c, (0, 0))[0] for c in codes], dtype=np.float64)
    pos = np.array([counts.get(c, (0, 0))[1] for c in codes], dtype=np.float64)
    overall = (positive + 0.5) / (total + 1)
    w = np.maximum(0.0, np.log(((pos + 0.5) / (n + 1)) / overall))
    return {c: float(v) for c, v in zip(codes, w, strict=True)}


def lonely_weights(store: Store, round_id: int) -> dict[str, float]:
    """The grade's weights for round ``round_id``: estimated on visits of earlier rounds
    (all areas, like the risk model's training); without any, half of ``lonely_high_score``
    each.  Remembered per database, round and state of the earlier visits.

    Example: ``lonely_weights(store, 20243)["mail_pileup"]`` ≈ 0.29 in the demo world.
    """
    codes = list(lonely_indicators(store))
    fingerprint = tuple(store.rows(sql.WEIGHT_FINGERPRINT, {"t": int(round_id)})[0])
    key = (str(getattr(store, "path", id(store))), store.meta().get("built_at"), int(round_id), fingerprint)
    if key in _MEMO:
        return dict(_MEMO[key])
    counts = {code: (int(n), int(pos)) for code, n, pos in store.rows(sql.WEIGHT_COUNTS, {"t": int(round_id)})}
    total, total_pos = counts.pop(None, (0, 0))
    if total and 0 < total_pos < total:
        weights = weights_from_counts(codes, counts, total, total_pos)
    else:
        weights = {c: float(settings.get("lonely_high_score")) / 2 for c in codes}
    _MEMO[key] = weights
    while len(_MEMO) > 16:
        _MEMO.popitem(last=False)
    return dict(weights)


def grade(one_person: bool, codes: Sequence[str], weights: Mapping[str, float], high: float | None = None) -> str:
    """The grade code of one household (see the module text).

    >>> w = {"mail_pileup": 0.29, "elec_arrears": 0.10, "telecom_arrears": 0.0}
    >>> grade(True, ["mail_pileup", "elec_arrears"], w, 0.35), grade(True, ["mail_pileup"], w, 0.35)
    ('high', 'medium')
    >>> grade(True, ["telecom_arrears"], w, 0.35), grade(True, [], w, 0.35), grade(False, ["mail_pileup"], w, 0.35)
    ('low', 'low', 'na')
    """
    if not one_person:
        return "na"
    high = float(settings.get("lonely_high_score")) if high is None else float(high)
    # Rounded as the database rounds it (sql.GRADE_COUNTS): a sum in another order may differ
    # in the last bit, which must not move a household across the 높음 line.
    score = round(sum(weights.get(c, 0.0) for c in codes), 9)
    if score >= high and score > 0:
        return "high"
    return "medium" if score > 0 else "low"


def reasons(
    one_person: bool,
    age: int,
    sex: str,
    codes: Sequence[str],
    weights: Mapping[str, float],
    names: Mapping[str, str],
    bands: AgeBands,
) -> str:
    """Why: the life stage (중장년 1인 남성 when it applies) and the weighted signals, strongest
    first (at most three), joined by " · "; :data:`NOT_ONE_PERSON` for any other household.

    >>> w = {"mail_pileup": 0.29, "elec_arrears": 0.10}
    >>> n = {"mail_pileup": "우편물 방치", "elec_arrears": "전기요금 체납"}
    >>> reasons(True, 52, "M", ["elec_arrears", "mail_pileup"], w, n, ((20, 39), (40, 64), (65, None)))
    '중장년 1인 남성 · 우편물 방치 · 전기요금 체납'
    >>> reasons(True, 70, "F", [], w, n, ((20, 39), (40, 64), (65, None)))
    '1인 가구 노년 (65세 이상) · 고독사 위기정보 없음'
    """
    if not one_person:
        return NOT_ONE_PERSON
    if is_middle_aged_man(age, sex):
        who = glossary.MIDDLE_AGED_MEN
    else:
        band = stage_of(age, bands)
        who = "1인 가구" + (f" {stage_name(band)}" if band else "")
    signals = sorted((c for c in codes if weights.get(c, 0.0) > 0), key=lambda c: (-weights[c], c))
    texts = [names.get(c, c) for c in signals[:MAX_REASONS]] or ["고독사 위기정보 없음"]
    return " · ".join([who, *texts])


def grade_frame(
    rows: pd.DataFrame,
    weights: Mapping[str, float],
    names: Mapping[str, str],
    bands: AgeBands,
    high: float | None = None,
) -> pd.DataFrame:
    """``lonely_grade`` (code), ``lonely_score`` and ``lonely_reasons`` for rows with columns
    one_person, head_age, head_sex and codes (the lonely-death codes shown).

    >>> r = pd.DataFrame({"one_person": [True, False], "head_age": [70, 40], "head_sex": ["F", "M"],
    ...                   "codes": [["mail_pileup"], []]})
    >>> g = grade_frame(r, {"mail_pileup": 0.4}, {"mail_pileup": "우편물 방치"}, ((65, None),), 0.35)
    >>> g["lonely_grade"].tolist(), g["lonely_score"].tolist()
    (['high', 'na'], [0.4, 0.0])
    >>> g["lonely_reasons"].tolist()
    ['1인 가구 노년 (65세 이상) · 우편물 방치', '1인 가구 아님']
    """
    high = float(settings.get("lonely_high_score")) if high is None else float(high)
    out: dict[str, list] = {"lonely_grade": [], "lonely_score": [], "lonely_reasons": []}
    for one, age, sex, codes in zip(rows["one_person"], rows["head_age"], rows["head_sex"], rows["codes"], strict=True):
        codes = list(codes) if codes is not None else []
        one = bool(one)
        out["lonely_grade"].append(grade(one, codes, weights, high))
        out["lonely_score"].append(round(float(sum(weights.get(c, 0.0) for c in codes)), 6) if one else 0.0)
        out["lonely_reasons"].append(reasons(one, int(age), str(sex), codes, weights, names, bands))
    return pd.DataFrame(out, index=rows.index)
