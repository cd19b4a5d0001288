"""The due list as a file (CSV or formatted XLSX with its 정보 sheet): what an official takes on a
round of calls.  Household-level rows, so the export is an audited event of its own — one
``export_followups`` record with the file's SHA-256 — besides the list's view record; a list
with no rows gives no file."""

from __future__ import annotations

import datetime as dt

from blindspot.access import ROLES, Scope
from blindspot.casework import audit
from blindspot.casework.exports import CONFIDENTIAL, FORMATS, EmptyExport, ExportFile
from blindspot.casework.workbook import xlsx_bytes
from blindspot.followup import cadence, cases
from blindspot.glossary import round_label
from blindspot.spreadsheet import csv_bytes


def export_due(view: cases.DueList, scope: Scope, purpose: str, fmt: str = "xlsx", owner: str = "all") -> ExportFile:
    """``view`` (a :func:`blindspot.followup.cases.due_list` of ``scope``) as a file with Korean
    headers and values as the page shows them; one audit record with the file's hash.

    Example: ``export_due(view, Scope.district(["29110"], user="kim"), "사례관리", "csv")`` →
    ``ExportFile(…, file_name="후속연락대상_29110_2025-10-12_….csv", rows=31)``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt}")
    purpose = audit.check_purpose(purpose)
    if view.rows.empty:
        raise EmptyExport("연락 대상 사례가 없어 파일을 만들지 않았습니다. 기한을 늦춰 보세요.")
    frame = cases.display(view.rows).rename(columns=cases.ROW_COLUMNS)
    now = dt.datetime.now().replace(microsecond=0)
    if fmt == "csv":
        data = csv_bytes(frame)
    else:
        meta = {
            "시군구": view.sgg_code,
            "연락 기한": cadence.korean_date(view.due_by),
            "담당": cases.OWNERS[owner],
            "등급 기준 차수": round_label(view.round_id) if view.round_id else "점수 없음",
            "내보낸 사람": f"{scope.user} ({ROLES.get(scope.role, scope.role)})",
            "권한 범위": scope.label,
            "내보낸 시각": now.strftime("%Y-%m-%d %H:%M:%S"),
            "행 수": len(frame),
            "목적": purpose,
            "보안": CONFIDENTIAL,
        }
        data = xlsx_bytes(frame, "후속 연락 대상", meta)
    digest = audit.sha256(data)
    filters = {"sgg": view.sgg_code, "due_by": view.due_by.isoformat(), "owner": owner, "format": fmt}
    audit.record(scope, "export_followups", filters, len(frame), purpose, file_hash=digest)
    name = f"후속연락대상_{view.sgg_code}_{view.due_by.isoformat()}_{now:%Y%m%d-%H%M%S}.{fmt}"
    return ExportFile(data, name, FORMATS[fmt], len(frame), digest)
