"""위험 가구 목록: the ranked list of scored households an office visits this round.

:func:`risk_list` reads the ``scores`` table inside the caller's scope (in SQL), applies
the filters, trims to each 읍면동's visit capacity, masks the rows by role and writes one
audit record.  :func:`risk_summary` is its aggregate per 시군구 or 읍면동, with
small-count suppression, which any role (the presenter too) may see.

Masking: the pseudonymous id (``households.pseudo_id``) is the only identifier ever
returned.  The address goes only to the district official of that area; the synthetic
data has no street address, so :func:`synthetic_address` makes a deterministic,
clearly marked stand-in from the 읍면동 name and the pseudonymous id.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blindspot import glossary, settings
from blindspot.access import Scope, can_see_address, may, narrow, protect, scope_sql_named, subset, threshold
from blindspot.casework import audit, sql
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.maps.measures import RISK_BANDS, previous_round
from blindspot.vocab import DEFAULT_AGE_BANDS

DEFAULT_CAPACITY = settings.default("capacity_share")
DEFAULT_K = settings.default("min_count")
# (name, smallest size, largest size) of each household type.
HOUSEHOLD_TYPES = {
    code: (glossary.HOUSEHOLD_TYPES[code], lo, hi)
    for code, lo, hi in (("all", 1, 99), ("one_person", 1, 1), ("two_person", 2, 2), ("three_plus", 3, 99))
}
AGE_BANDS = {"all": ("전체", 0, 200), **{f"{lo}_{hi}": (label, lo, hi) for lo, hi, label in DEFAULT_AGE_BANDS}}
# How a household came onto the list: its band, or the random audit sample (docs/model.md).
LISTED, AUDIT_PICK = glossary.LIST_SELECTION["listed"], glossary.LIST_SELECTION["audit_pick"]
SYNTHETIC_ADDRESS_NOTE = "(합성 주소)"
# Real extraction files carry no address (docs/ingest-format.md): the list says so instead.
NO_ADDRESS_NOTE = "(주소 정보 없음: 추출 파일에 주소가 없습니다)"

# Columns of the list as shown and exported, with Korean headers.
COLUMNS = glossary.LIST_COLUMNS


@dataclass(frozen=True)
class ListFilters:
    """What the list shows.  ``area`` is a 시도 (2), 시군구 (5) or 읍면동 (10 digits) code or
    None (the whole scope); ``bands`` band codes (high/medium/low/none); ``capacity`` the share
    of a 읍면동's households it can visit this round (None = no trimming)."""

    round_id: int
    area: str | None = None
    bands: tuple[str, ...] = ("high", "medium")
    indicator: str | None = None
    domain: str | None = None
    household_type: str = "all"
    age_band: str = "all"
    new_only: bool = False
    not_visited: bool = False
    capacity: float | None = DEFAULT_CAPACITY
    audit: bool = True  # the random audit sample (무작위 점검) is on the list besides the bands

    def __post_init__(self) -> None:
        if self.household_type not in HOUSEHOLD_TYPES:
            raise ValueError(f"가구 유형은 {', '.join(HOUSEHOLD_TYPES)} 중 하나여야 합니다.")
        if self.age_band not in AGE_BANDS:
            raise ValueError(f"연령대는 {', '.join(AGE_BANDS)} 중 하나여야 합니다.")
        if not set(self.bands) <= set(RISK_BANDS):
            raise ValueError(f"등급은 {', '.join(RISK_BANDS)} 중에서 골라야 합니다.")
        if self.capacity is not None and not 0 < self.capacity <= 1:
            raise ValueError("방문 용량은 0 초과 1 이하의 비율이어야 합니다 (예: 0.008 = 0.8 %).")

    def as_dict(self) -> dict:
        """Plain values for the audit record and the export's metadata."""
        return dataclasses.asdict(self) | {"bands": list(self.bands)}

    @classmethod
    def from_text(cls, text: str) -> ListFilters:
        """The filters back from their audit JSON (a plain-value cache key).

        >>> f = ListFilters(20243, area="29110", bands=("high",))
        >>> ListFilters.from_text(audit.filters_text(f.as_dict())) == f
        True
        """
        values = json.loads(text)
        return cls(**values | {"bands": tuple(values["bands"])})


def shown_columns(rows: pd.DataFrame) -> list[str]:
    """The list's columns in display order (``address`` only when the rows carry it).

    >>> shown_columns(pd.DataFrame(columns=["pseudo_id", "sgg_code", "rank"]))
    ['rank', 'pseudo_id']
    """
    return [c for c in COLUMNS if c in rows.columns]


def synthetic_address(emd_full_name: str, pseudo_id: str) -> str:
    """A deterministic stand-in address for a synthetic household: its 읍면동 and a 번지
    derived from the pseudonymous id, marked as synthetic.

    >>> synthetic_address("광주광역시 동구 충장동", "H1A2B3C4D")
    '광주광역시 동구 충장동 188-3 (합성 주소)'
    """
    n = int(pseudo_id.lstrip("H"), 16)
    return f"{emd_full_name} {n % 997 + 1}-{n // 997 % 40 + 1} {SYNTHETIC_ADDRESS_NOTE}"


def is_synthetic_round(store: Store, round_id: int) -> bool:
    """True when the round's households come from the synthetic generator: a demo
    database (``data_kind`` synthetic) whose round was not replaced by an ingested file.

    Example: in a database made by ``init-db`` and loaded with ``ingest`` this is False.
    """
    if store.meta().get("data_kind") != "synthetic":
        return False
    return store.scalar(db_sql.ROUND_SOURCE, [int(round_id)]) == "synthetic"


def _params(store: Store, scope: Scope, filters: ListFilters) -> tuple[Scope, dict, str | None]:
    view = narrow(store, scope, filters.area[:5] if filters.area and len(filters.area) == 10 else filters.area)
    emd = filters.area if filters.area and len(filters.area) == 10 else None
    _, params = scope_sql_named(view, "sgg_code")
    params.update(t=int(filters.round_id), emd=emd)
    return view, params, emd


def _conditions(view: Scope) -> dict:
    return {
        key: scope_sql_named(view, column)[0]
        for key, column in (
            ("scope", "sgg_code"),
            ("obs_scope", "o.sgg_code"),
            ("visit_scope", "v.sgg_code"),
            ("score_scope", "s.sgg_code"),
        )
    }


def risk_list(store: Store, scope: Scope, filters: ListFilters, purpose: str) -> pd.DataFrame:
    """The ranked, masked list of one round's scored households in the scope, and one
    audit record of the view.

    Needs household-level access and a purpose (raises AccessDenied / PurposeRequired).
    Columns are the keys of :data:`COLUMNS` (``address`` only for a district official,
    :func:`blindspot.access.can_see_address`) plus ``sgg_code``, ``emd_code`` and
    ``model_version``; ``probability`` is 0..1, ``rank`` 1 = highest in the list.
    With ``filters.capacity`` each 읍면동 keeps its top ``max(1, round(households × capacity))``
    rows of the filtered list.

    Example: ``risk_list(store, Scope.district(["29110"]), ListFilters(20243), "방문 계획")``
    gives 광주 동구's 위험·주의 households within this round's visit capacity.
    """
    rows, purpose = _masked_rows(store, scope, filters, purpose)
    audit.record(scope, "view_list", filters.as_dict(), len(rows), purpose)
    return rows


def _masked_rows(store: Store, scope: Scope, filters: ListFilters, purpose: str) -> tuple[pd.DataFrame, str]:
    """The rows of :func:`risk_list` and the checked purpose, without the audit record:
    for :mod:`blindspot.casework.exports`, which records the export with its file hash instead."""
    scope.require_household_level()
    purpose = audit.check_purpose(purpose)
    df = _listed(store, scope, filters)
    df.insert(0, "rank", range(1, len(df) + 1))
    df["band"] = df["band"].map(RISK_BANDS).fillna(df["band"])
    df["selection"] = np.where(df.pop("audit_pick").fillna(False).astype(bool), AUDIT_PICK, LISTED)
    df["household_type"] = [
        HOUSEHOLD_TYPES["one_person" if n == 1 else "two_person" if n == 2 else "three_plus"][0]
        for n in df["household_size"]
    ]
    df["age_band"] = [
        next((label for lo, hi, label in DEFAULT_AGE_BANDS if lo <= a <= hi), "20세 미만") for a in df["head_age"]
    ]
    df = pd.concat([df, lonely_columns(store, df, filters.round_id)], axis=1)
    columns = [c for c in COLUMNS if c != "address"]
    if may(scope.role, "see_address"):
        # The stand-in address reads the synthetic id's hex digits: real ids (any shape the
        # documented alphabet allows) must never reach it, so the gate is the round's origin.
        synthetic = is_synthetic_round(store, filters.round_id)
        df["address"] = [
            (synthetic_address(full, pid) if synthetic else NO_ADDRESS_NOTE) if can_see_address(scope, sgg) else None
            for full, pid, sgg in zip(df["emd_full_name"], df["pseudo_id"], df["sgg_code"], strict=False)
        ]
        columns.append("address")
    return df[columns + ["sgg_code", "emd_code", "model_version"]].reset_index(drop=True), purpose


def lonely_columns(store: Store, rows: pd.DataFrame, round_id: int) -> pd.DataFrame:
    """The 고독사 위험 grade (its Korean label) and reasons of the list's rows
    (:mod:`blindspot.lonely.grade`; docs/lonely.md): rows of :func:`_listed`."""
    from blindspot.lonely import grade as lonely

    frame = pd.DataFrame(
        {
            "one_person": rows["household_size"] == 1,
            "head_age": rows["head_age"],
            "head_sex": rows["head_sex"],
            "codes": rows["lonely_codes"],
        },
        index=rows.index,
    )
    graded = lonely.grade_frame(
        frame, lonely.lonely_weights(store, round_id), lonely.lonely_indicators(store), lonely.life_stages()
    )
    return pd.DataFrame(
        {"lonely_grade": graded["lonely_grade"].map(lonely.GRADES), "lonely_reasons": graded["lonely_reasons"]},
        index=rows.index,
    )


def _listed(store: Store, scope: Scope, filters: ListFilters) -> pd.DataFrame:
    """The list's raw rows (pseudo_id, band code, ...; unmasked, unaudited) in the scope:
    the one query behind :func:`risk_list`, its exports, and the check in
    :func:`blindspot.casework.outcomes.record_outcome` that a household is on the list shown."""
    scope.require_household_level()
    view, params, _ = _params(store, scope, filters)
    _, size_lo, size_hi = HOUSEHOLD_TYPES[filters.household_type]
    _, age_lo, age_hi = AGE_BANDS[filters.age_band]
    params.update(
        prev=previous_round(store, filters.round_id),
        bands=list(filters.bands),
        indicator=filters.indicator,
        domain=filters.domain,
        size_lo=size_lo,
        size_hi=size_hi,
        age_lo=age_lo,
        age_hi=age_hi,
        new_only=bool(filters.new_only),
        not_visited=bool(filters.not_visited),
        audit=bool(filters.audit),
        trim=filters.capacity is not None,
        capacity=float(filters.capacity or 0.0),
    )
    return store.df(sql.RISK_LIST.format(**_conditions(view)), params)


SUMMARY_COUNTS = ("scored", "high", "medium", "low", "visited_at_risk")


def risk_summary(
    store: Store, scope: Scope, filters: ListFilters, level: str = "emd", k: int = DEFAULT_K
) -> pd.DataFrame:
    """Scored households per 시군구 (``level="sgg"``) or 읍면동 of one round in the scope:
    code, full_name, scored, high, medium, low, visited_at_risk (위험·주의 households
    visited).  An aggregate, so any role may see it and nothing is audited.

    Counts 1..k-1 (``k = threshold(scope, k)``) are missing, and so is whatever would give
    one back by subtraction (:func:`summary_protect`); a true zero is 0.

    Example: ``risk_summary(store, Scope.aggregates_only(), ListFilters(20243), "sgg")``
    has one row per scored 시군구.
    """
    if level not in ("sgg", "emd"):
        raise ValueError("level 은 sgg 또는 emd 여야 합니다.")
    view, params, _ = _params(store, scope, filters)
    conditions = _conditions(view)
    statement = sql.RISK_SUMMARY.format(
        level_col=f"{level}_code", visit_scope=conditions["visit_scope"], score_scope=conditions["score_scope"]
    )
    df = store.df(statement, params)
    k = threshold(scope, k)
    if k <= 1 or df.empty:
        return df
    hide = summary_protect(df, level, k)
    for col in SUMMARY_COUNTS:
        df[col] = df[col].astype("float64").where(np.array([(c, col) not in hide for c in df["code"]]))
    return df


def summary_equations(codes, level: str) -> tuple[list, set, set]:
    """Relations of the per-area summary: scored = 위험 + 주의 + 관심 + 해당 없음 (the last
    never shown), 위험 + 주의 ⊃ visited; each column's total over the file and (읍면동
    rows) over each 시군구, which the map and the overview publish.  Returns equations,
    the cells never shown, and the totals (known to a reader).

    >>> eqs, rest, totals = summary_equations(["2911051000"], "emd")
    >>> eqs[0][0], [band for _, band in eqs[0][1]], len(eqs), sorted(totals)[:1]
    (('2911051000', 'scored'), ['high', 'medium', 'low', 'none'], 13, [('29110', 'high')])
    """
    codes = list(codes)
    eqs: list[tuple] = []
    rest: set[tuple] = set()
    totals: set[tuple] = set()
    for c in codes:
        eqs.append(((c, "scored"), ((c, "high"), (c, "medium"), (c, "low"), (c, "none"))))
        eqs.append(((c, "at_risk"), ((c, "high"), (c, "medium"))))
        eqs.append(subset((c, "at_risk"), (c, "visited_at_risk"), (c, "not_visited")))
        rest |= {(c, "none"), (c, "at_risk"), (c, "not_visited")}
    groups = {"all": codes}
    if level == "emd":
        for c in codes:
            groups.setdefault(c[:5], []).append(c)
    for g, members in groups.items():
        for col in SUMMARY_COUNTS:
            eqs.append(((g, col), tuple((c, col) for c in members)))
            totals.add((g, col))
    return eqs, rest, totals


def summary_protect(df: pd.DataFrame, level: str, k: int) -> set:
    """Cells ``(code, column)`` of the summary to blank (see :func:`summary_equations`)."""
    codes = [str(c) for c in df["code"]]
    eqs, rest, totals = summary_equations(codes, level)
    values = {}
    for c, row in zip(codes, df.itertuples(), strict=False):
        for col in SUMMARY_COUNTS:
            values[(c, col)] = int(getattr(row, col))
        values[(c, "none")] = values[(c, "scored")] - values[(c, "high")] - values[(c, "medium")] - values[(c, "low")]
        values[(c, "at_risk")] = values[(c, "high")] + values[(c, "medium")]
        values[(c, "not_visited")] = values[(c, "at_risk")] - values[(c, "visited_at_risk")]
    for total, parts in eqs:
        if total in totals:
            values[total] = sum(values[p] for p in parts)
    return protect(values, eqs, k, implicit=rest, fixed=totals)


def indicators(store: Store) -> pd.DataFrame:
    """The indicator catalogue (code, name_ko, domain) for the filter boxes."""
    return store.df(sql.INDICATOR_LIST)


def model_version(store: Store, round_id: int) -> str | None:
    """Model version whose scores the round holds, or None when it is not scored."""
    return store.scalar(sql.MODEL_VERSION_OF_ROUND, [int(round_id)])
