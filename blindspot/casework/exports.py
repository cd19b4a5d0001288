"""Files of the risk list and its per-area summary: CSV (UTF-8 with a BOM, so that
Excel shows Korean) and XLSX (openpyxl, write-only) with a 정보 (metadata) sheet.

A household-level export is an audited event: :func:`export_risk_list` writes one
``audit_log`` record with the file's SHA-256.  An export with no rows gives no file
(:class:`EmptyExport`, a message that says why).  Per-area summaries suppress counts
under *k* (default 5) and say so in the file.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pandas as pd
from openpyxl import Workbook

from blindspot.access import ROLES, Scope, threshold
from blindspot.casework import audit, lists
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.spreadsheet import csv_bytes, neutralise, xlsx_text_cell

CONFIDENTIAL = "개인정보 — 업무 목적 외 사용·유출 금지"
FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SUMMARY_COLUMNS = {
    "code": "지역 코드",
    "full_name": "지역",
    "scored": "점수 산출 가구",
    "high": "위험",
    "medium": "주의",
    "low": "관심",
    "visited_at_risk": "방문한 위험·주의 가구",
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


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)


def _cell_xml(value) -> str:
    """The inner part of one cell element (type attribute and value), '' for an empty cell.

    >>> _cell_xml("이○○ <1>"), _cell_xml(3), _cell_xml(True), _cell_xml(float("nan"))
    (' t="inlineStr"><is><t xml:space="preserve">이○○ &lt;1&gt;</t></is>', '><v>3</v>', ' t="b"><v>1</v>', '')
    >>> _cell_xml("=1+1")  # text, never a formula, and quoted as in the CSV
    ' t="inlineStr"><is><t xml:space="preserve">\\'=1+1</t></is>'
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return f' t="b"><v>{int(value)}</v>'
    if isinstance(value, (int, float)):
        return f"><v>{value!r}</v>"
    return f' t="inlineStr"><is><t xml:space="preserve">{escape(neutralise(_ILLEGAL_XML.sub("", str(value))))}</t></is>'


def _column_xml(values: pd.Series) -> list[str]:
    """Whole cell elements of one column, without cell references (the reader places
    them in order; an empty cell is ``<c/>`` so that later columns keep their place)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return [f'<c t="b"><v>{int(v)}</v></c>' for v in values.tolist()]
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        return [f"<c><v>{v}</v></c>" for v in values.tolist()]
    if pd.api.types.is_float_dtype(values.dtype):
        return ["<c/>" if v != v else f"<c><v>{v!r}</v></c>" for v in values.tolist()]
    return [f"<c{x}</c>" if (x := _cell_xml(v)) else "<c/>" for v in values.tolist()]


def _sheet_xml(frame: pd.DataFrame) -> bytes:
    header = "".join(f"<c{_cell_xml(str(c))}</c>" for c in frame.columns)
    columns = [_column_xml(frame[c]) for c in frame.columns]
    parts = [_SHEET_HEAD, f'<row r="1">{header}</row>']
    parts += [f'<row r="{r}">{"".join(cells)}</row>' for r, cells in enumerate(zip(*columns, strict=False), 2)]
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str, metadata: dict) -> bytes:
    """An XLSX workbook: ``sheet`` with the table, then 정보 with one (항목, 값) row per
    metadata entry.

    openpyxl builds the workbook (sheets, metadata, package parts); the table's sheet
    XML is then streamed in column by column with inline strings, because openpyxl's
    cell-by-cell writer needed about a minute for 100,000 rows on a 2-core machine
    (``export_100k_seconds`` in ``bench --json`` must stay ≤ 20 s).  openpyxl, pandas
    and Excel read the result as an ordinary workbook.
    """
    wb = Workbook(write_only=True)
    wb.create_sheet(sheet)  # placeholder: its XML is replaced below
    info = wb.create_sheet("정보")
    info.append(["항목", "값"])
    for key, value in metadata.items():
        info.append(
            [
                xlsx_text_cell(info, str(key)),
                value if isinstance(value, (int, float)) else xlsx_text_cell(info, str(value)),
            ]
        )
    built = io.BytesIO()
    wb.save(built)
    out = io.BytesIO()
    with zipfile.ZipFile(built) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = _sheet_xml(frame) if item.filename == "xl/worksheets/sheet1.xml" else src.read(item.filename)
            dst.writestr(item.filename, data)
    return out.getvalue()


def list_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The list's export columns with Korean headers (probability as a 0..1 number)."""
    columns = [c for c in lists.COLUMNS if c in rows]
    return rows[columns].rename(columns=lists.COLUMNS)


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
        "필터": audit.filters_text(filters.as_dict()),
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
        data = xlsx_bytes(frame, "위험 가구 목록", meta)
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
    note = f"{k_used} 미만은 비공개 (소수 억제)"
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
            {"소수 억제": f"1~{k_used - 1} 가구인 칸은 비워 두었습니다 (k = {k_used})."},
        )
        data = xlsx_bytes(frame, "지역별 집계", meta)
    return ExportFile(data, _file_name("지역별집계", filters, now, fmt), FORMATS[fmt], len(frame), audit.sha256(data))


AUDIT_COLUMNS = {
    "event_id": "번호",
    "happened_at": "시각",
    "user_name": "사용자",
    "role": "역할",
    "action": "행위",
    "scope": "권한 범위",
    "filters": "필터",
    "row_count": "행 수",
    "purpose": "목적",
    "file_hash": "파일 SHA-256",
    "detail": "비고",
}


def audit_frame(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log with Korean headers and action names, as shown and exported."""
    out = log.assign(action=log["action"].map(audit.ACTIONS).fillna(log["action"]))
    return out[list(AUDIT_COLUMNS)].rename(columns=AUDIT_COLUMNS)


def export_audit(scope: Scope, **filters) -> ExportFile:
    """The filtered audit log as CSV (admin only; see :func:`blindspot.casework.audit.audit_log`)."""
    log = audit.audit_log(scope, **filters)
    if log.empty:
        raise EmptyExport("조건에 맞는 감사 기록이 없어 파일을 만들지 않았습니다.")
    data = csv_bytes(audit_frame(log))
    now = dt.datetime.now()
    return ExportFile(data, f"감사기록_{now:%Y%m%d-%H%M%S}.csv", FORMATS["csv"], len(log), audit.sha256(data))
