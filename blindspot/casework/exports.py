"""Files of the risk list and its per-area summary: CSV (UTF-8 with a BOM, so that
Excel shows Korean) and XLSX (:mod:`blindspot.casework.workbook`: formatted, printable) with a
정보 (metadata) sheet.

A household-level export is an audited event: :func:`export_risk_list` writes one
``audit_log`` record with the file's SHA-256.  An export with no rows gives no file
(:class:`EmptyExport`, a message that says why).  Per-area summaries suppress counts
under *k* (default 5) and say so in the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from blindspot import glossary
from blindspot.access import ROLES, Scope, threshold
from blindspot.casework import audit, describe, lists
from blindspot.casework.workbook import xlsx_bytes as xlsx_bytes  # callers read it here
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.spreadsheet import csv_bytes
from blindspot.vocab import YES_NO

CONFIDENTIAL = "개인정보 — 업무 목적 외 사용·유출 금지"
FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SUMMARY_COLUMNS = {
    "code": glossary.FILTER_LABELS["area"],
    "full_name": "지역",
    "scored": "점수 산출 가구",
    **{band: glossary.BAND_LABELS[band] for band in ("high", "medium", "low")},
    "visited_at_risk": f"방문한 {glossary.AT_RISK_HOUSEHOLDS}",
}


class EmptyExport(BlindspotError):
    """Nothing to export: no file is made."""


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    file_name: str
    mime: str
    rows: int
    sha256: str


# Columns of the list holding a 0..1 share: a number in the file, shown as % in XLSX.
PERCENT_COLUMNS = frozenset({lists.COLUMNS["probability"]})


def list_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The list's export columns with Korean headers: the probability a 0..1 number to four
    places (0.01 %; more digits only pretend to precision), yes/no columns as 예/아니요.

    >>> list_frame(pd.DataFrame({"probability": [0.123456789], "visited": [True]})).to_dict("records")
    [{'위기 확률': 0.1235, '방문 여부': '예'}]
    """
    columns = [c for c in lists.COLUMNS if c in rows]
    out = rows[columns].rename(columns=lists.COLUMNS)
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c].dtype):
            out[c] = out[c].map(YES_NO)
    if PERCENT_COLUMNS & set(out.columns):
        out[list(PERCENT_COLUMNS & set(out.columns))] = out[list(PERCENT_COLUMNS & set(out.columns))].round(4)
    return out


def metadata(
    scope: Scope,
    filters: lists.ListFilters,
    rows: int,
    model_version: str | None,
    purpose: str | None,
    now: dt.datetime,
    extra: dict | None = None,
) -> dict:
    """The 정보 sheet: round, model version, filters, exporter, time, rows, confidentiality."""
    from blindspot.rounds import from_id

    return {
        "차수": from_id(filters.round_id).code,
        "모델 버전": model_version or "—",
        "필터": describe.filters_korean(filters.as_dict()),
        "내보낸 사람": f"{scope.user} ({ROLES.get(scope.role, scope.role)})",
        "권한 범위": scope.label,
        "내보낸 시각": now.strftime("%Y-%m-%d %H:%M:%S"),
        "행 수": rows,
        **({"목적": purpose} if purpose else {}),
        **(extra or {}),
        "보안": CONFIDENTIAL,
    }


def _file_name(kind: str, filters: lists.ListFilters, now: dt.datetime, fmt: str) -> str:
    from blindspot.rounds import from_id

    return f"{kind}_{from_id(filters.round_id).code}_{now:%Y%m%d-%H%M%S}.{fmt}"


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"형식은 {', '.join(FORMATS)} 중 하나여야 합니다.")


def export_risk_list(
    store: Store, scope: Scope, filters: lists.ListFilters, purpose: str, fmt: str = "xlsx"
) -> ExportFile:
    """The masked risk list as a file, and one audit record with its SHA-256.

    Raises AccessDenied (no household-level access), PurposeRequired (no purpose) or
    :class:`EmptyExport` (no rows: no file, nothing recorded).
    Example: ``export_risk_list(store, Scope.analyst("kim"), ListFilters(20243), "점검", "csv").data``
    starts with the UTF-8 BOM.
    """
    _check_format(fmt)
    rows, purpose = lists._masked_rows(store, scope, filters, purpose)
    if rows.empty:
        raise EmptyExport("조건에 맞는 가구가 없어 파일을 만들지 않았습니다. 필터를 넓혀 보세요.")
    now = dt.datetime.now().replace(microsecond=0)
    frame = list_frame(rows)
    if fmt == "csv":
        data = csv_bytes(frame)
    else:
        meta = metadata(scope, filters, len(frame), lists.model_version(store, filters.round_id), purpose, now)
        data = xlsx_bytes(frame, "위험 가구 목록", meta, PERCENT_COLUMNS)
    digest = audit.sha256(data)
    audit.record(scope, "export_list", {**filters.as_dict(), "format": fmt}, len(frame), purpose, file_hash=digest)
    return ExportFile(data, _file_name("위험가구목록", filters, now, fmt), FORMATS[fmt], len(frame), digest)


def export_summary(
    store: Store,
    scope: Scope,
    filters: lists.ListFilters,
    level: str = "emd",
    k: int = lists.DEFAULT_K,
    fmt: str = "xlsx",
) -> ExportFile:
    """The per-area summary (:func:`blindspot.casework.lists.risk_summary`) as a file; suppressed
    counts are empty cells, and the file says so (a 비고 column, and the 정보 sheet).
    An aggregate: any role may export it and nothing is audited."""
    _check_format(fmt)
    table = lists.risk_summary(store, scope, filters, level, k)
    if table.empty:
        raise EmptyExport("이 차수·지역에는 점수가 산출된 가구가 없어 파일을 만들지 않았습니다.")
    k_used = threshold(scope, k)
    counts = [c for c in SUMMARY_COLUMNS if c not in ("code", "full_name")]
    note = f"{k_used} 미만은 {glossary.SUPPRESSED} ({glossary.SUPPRESSION})"
    frame = table.rename(columns=SUMMARY_COLUMNS)
    frame["비고"] = [note if table.loc[i, counts].isna().any() else "" for i in table.index]
    now = dt.datetime.now().replace(microsecond=0)
    if fmt == "csv":
        data = csv_bytes(frame)
    else:
        meta = metadata(
            scope,
            filters,
            len(frame),
            lists.model_version(store, filters.round_id),
            None,
            now,
            {glossary.SUPPRESSION: f"1~{k_used - 1} 가구인 칸은 비워 두었습니다 (k = {k_used})."},
        )
        data = xlsx_bytes(frame, "지역별 집계", meta)
    return ExportFile(data, _file_name("지역별집계", filters, now, fmt), FORMATS[fmt], len(frame), audit.sha256(data))


AUDIT_COLUMNS = glossary.AUDIT_COLUMNS


def audit_frame(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log with Korean headers, and its actions, roles, filters and notes in Korean
    words, as shown and exported (the log keeps its codes and canonical JSON)."""
    out = log.assign(
        action=log["action"].map(audit.ACTIONS).fillna(log["action"]),
        role=log["role"].map(ROLES).fillna(log["role"]),
        filters=log["filters"].map(describe.filters_korean),
        detail=log["detail"].map(describe.detail_korean),
    )
    return out[list(AUDIT_COLUMNS)].rename(columns=AUDIT_COLUMNS)


def export_audit(scope: Scope, **filters) -> ExportFile:
    """The filtered audit log as CSV (admin only; see :func:`blindspot.casework.audit.audit_log`)."""
    log = audit.audit_log(scope, **filters)
    if log.empty:
        raise EmptyExport("조건에 맞는 감사 기록이 없어 파일을 만들지 않았습니다.")
    data = csv_bytes(audit_frame(log))
    now = dt.datetime.now()
    return ExportFile(data, f"감사기록_{now:%Y%m%d-%H%M%S}.csv", FORMATS["csv"], len(log), audit.sha256(data))
