"""Filters and audit notes in Korean words, for what people read: the 정보 sheet of an export
and the audit page.  The audit log itself keeps its canonical JSON (``audit.filters_text``),
which is what its hash chain and view keys are computed from; only the showing is translated.
"""

from __future__ import annotations

import json

from blindspot import glossary, vocab
from blindspot.casework import lists
from blindspot.maps.measures import RISK_BANDS

# Each filter key of an audit record or an export, as read.
FILTER_LABELS = glossary.FILTER_LABELS
# Audit notes (비고) that are codes.
DETAIL_LABELS = glossary.DETAIL_LABELS


def _round_text(value) -> str:
    try:
        return glossary.round_label(value)
    except Exception:  # noqa: BLE001 - a note that is not a round is shown as it is
        return str(value)


def _value_text(key: str, value) -> str:
    if isinstance(value, bool):
        return vocab.YES_NO[value]
    if key in ("round_id", "round"):
        return _round_text(value)
    if key == "bands":
        return ", ".join(RISK_BANDS.get(b, b) for b in value) or "없음"
    if key == "household_type":
        return lists.HOUSEHOLD_TYPES.get(value, (value,))[0]
    if key == "age_band":
        return lists.AGE_BANDS.get(value, (value,))[0]
    if key == "capacity":
        return f"{value:.1%}" if isinstance(value, int | float) else str(value)
    if key == "outcome":
        return vocab.OUTCOMES.get(value, value)
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def filters_korean(filters: dict | str | None) -> str:
    """Filters (a dict or the audit log's JSON) as Korean "이름: 값" pairs; a filter that is
    not set (None, "all") is left out, and an empty result reads "조건 없음".

    >>> filters_korean({"round_id": 20243, "bands": ["high", "medium"], "household_type": "one_person",
    ...                 "new_only": True, "indicator": None, "age_band": "all"})
    '차수: 2024년 3차 · 등급: 위험, 주의 · 가구 유형: 1인 가구 · 이번 차수 신규 위기정보만: 예'
    >>> filters_korean({"capacity": 0.008})
    '방문 용량 (읍면동 가구 대비): 0.8%'
    >>> filters_korean('{"round": "2024-R3", "format": "xlsx"}'), filters_korean(None)
    ('차수: 2024년 3차 · 파일 형식: xlsx', '조건 없음')
    """
    if filters is None or filters == "":
        return "조건 없음"
    if isinstance(filters, str):
        text = filters
        try:
            filters = json.loads(text)
        except ValueError:
            return text
    if not isinstance(filters, dict):
        return str(filters)
    # In the table's order (차수 first), whatever order the JSON kept (it sorts its keys).
    order = {k: i for i, k in enumerate(FILTER_LABELS)}
    parts = [
        f"{FILTER_LABELS.get(k, k)}: {_value_text(k, v)}"
        for k, v in sorted(filters.items(), key=lambda kv: order.get(kv[0], len(order)))
        if v is not None and v != "all" and not (k in ("new_only", "not_visited", "long") and v is False)
    ]
    return " · ".join(parts) or "조건 없음"


def detail_korean(detail: str | None) -> str:
    """An audit note as read: codes in words, nothing as "".

    >>> detail_korean("updated"), detail_korean(None), detail_korean("첫 모델")
    ('고침', '', '첫 모델')
    """
    return "" if detail is None else DETAIL_LABELS.get(detail, detail)
