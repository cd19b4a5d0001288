"""Reading an XLSX extraction file (the first sheet) into a :class:`RawTable`.

The sheet XML is scanned for merged cells and formulas before openpyxl reads values,
and every zip member is checked against the expansion limits first
(:data:`blindspot.config.INGEST_LIMITS`), so a zip bomb is refused unread.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pyarrow as pa

from blindspot import config
from blindspot.ingest.readers import (
    MAX_RAGGED,
    Problem,
    RawTable,
    ReadError,
    check_names,
    check_rows,
    column_letter,
    drop_trailing_blank,
    echo,
    too_big,
)

_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')
_FORMULA_RE = re.compile(rb'<(?:\w+:)?c\s+r="([A-Z]+\d+)"[^>]*>\s*<(?:\w+:)?f[\s>/]')


def _scan_sheet_xml(archive: zipfile.ZipFile, path: str) -> tuple[list[str], list[str]]:
    """Merged ranges and formula cells of a sheet, read from its XML in chunks (openpyxl's
    read-only mode, needed for large sheets, does not expose either)."""
    merges: list[str] = []
    formulas: list[str] = []
    tail = b""
    with archive.open(path) as f:
        while True:
            chunk = f.read(8 << 20)
            if not chunk:
                break
            buf = tail + chunk
            # Scan up to the last cell (or tag) start, so no element is cut between chunks.
            cut = buf.rfind(b"<c ")
            if cut < 0:
                cut = buf.rfind(b"<")
            cut = len(buf) if cut < 0 else cut
            part, tail = buf[:cut], buf[cut:]
            merges += [m.decode() for m in _MERGE_RE.findall(part)]
            formulas += [m.decode() for m in _FORMULA_RE.findall(part)]
    merges += [m.decode() for m in _MERGE_RE.findall(tail)]
    formulas += [m.decode() for m in _FORMULA_RE.findall(tail)]
    return merges, formulas


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer() and abs(v) < 2.0**53:
        return str(int(v))  # beyond 2**53 a float is no exact integer: "1e+300" is reported as such
    text = str(v).strip()
    return text or None


def _check_zip(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse an XLSX whose members declare more bytes than the limit, or expand more
    than the ratio limit (a zip bomb), before any member is decompressed.  Python's
    zipfile never returns more than a member's declared size, so declared sizes bound
    what is read; a member that lies fails its CRC check (testzip) instead."""
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    max_bytes = config.ingest_limit("BLINDSPOT_INGEST_MAX_XLSX_BYTES")
    if total > max_bytes:
        raise too_big(
            name,
            f"엑셀 파일의 압축을 풀면 {total:,}바이트로 한도 {max_bytes:,}바이트를 넘습니다",
            "BLINDSPOT_INGEST_MAX_XLSX_BYTES",
        )
    ratio = config.ingest_limit("BLINDSPOT_INGEST_MAX_ZIP_RATIO")
    for i in infos:
        # Small members (styles, an empty sheet) legitimately compress very well.
        if i.file_size > 1_000_000 and i.file_size > ratio * max(i.compress_size, 1):
            raise too_big(
                name,
                f"엑셀 파일 안의 {echo(i.filename, 40)} 파일이 {i.compress_size:,}바이트에서 "
                f"{i.file_size:,}바이트로 {i.file_size // max(i.compress_size, 1):,}배 늘어납니다 "
                f"(한도 {ratio:,}배)",
                "BLINDSPOT_INGEST_MAX_ZIP_RATIO",
            )


def read_xlsx(data: bytes, name: str) -> RawTable:
    import openpyxl

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        _check_zip(archive, name)
        bad = archive.testzip()
        if bad:
            raise zipfile.BadZipFile(bad)
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, ValueError) as exc:
        raise ReadError(
            [
                Problem(
                    name,
                    None,
                    None,
                    None,
                    (
                        f"엑셀(.xlsx) 파일을 열 수 없습니다 ({type(exc).__name__}). "
                        "파일이 잘렸거나(전송 중단) 엑셀 파일이 아닙니다. "
                        "원본에서 다시 내려받거나 엑셀에서 다시 저장하세요."
                    ),
                )
            ]
        ) from None
    try:
        ws = wb.worksheets[0]
        merges, formulas = _scan_sheet_xml(archive, ws._worksheet_path)
        problems = []
        for ref in merges[:50]:
            header = re.match(r"[A-Z]+(\d+)", ref)
            where = "머리글에 " if header and header.group(1) == "1" else ""
            problems.append(
                Problem(
                    name,
                    int(header.group(1)) if header else None,
                    ref,
                    ref,
                    (
                        f"시트 '{ws.title}' {where}병합된 셀이 있습니다: {ref}. "
                        "병합을 풀고, 1행에 열 이름 한 줄만 두세요 "
                        "(제목·설명 행은 지우세요)."
                    ),
                )
            )
        for ref in formulas[:200]:
            row = int(re.match(r"[A-Z]+(\d+)", ref).group(1))
            problems.append(
                Problem(
                    name,
                    row,
                    ref,
                    ref,
                    (
                        f"시트 '{ws.title}' 셀 {ref} 에 수식이 있습니다. "
                        "수식 결과는 파일에 값으로 남지 않을 수 있어 받지 "
                        "않습니다: 전체 선택 → 복사 → '값으로 붙여넣기' 한 뒤 저장하세요."
                    ),
                )
            )
        if len(formulas) > 200:
            problems.append(
                Problem(name, None, None, len(formulas), f"수식이 있는 셀이 모두 {len(formulas):,}개입니다.")
            )
        if problems:
            raise ReadError(problems)
        rows_iter = ws.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None or all(v is None for v in header):
            raise ReadError(
                [
                    Problem(
                        name,
                        1,
                        None,
                        None,
                        (f"시트 '{ws.title}' 의 1행(머리글)이 비어 있습니다. 1행에 열 이름을 쓰세요."),
                    )
                ]
            )
        names = [(_cell_text(v) or "") for v in header]
        while names and not names[-1]:
            names.pop()
        check_names(names, name)
        width = len(names)
        columns: list[list] = [[] for _ in range(width)]
        extra: list[Problem] = []
        max_rows = config.ingest_limit("BLINDSPOT_INGEST_MAX_ROWS")
        for r, values in enumerate(rows_iter, start=2):
            if r - 1 > max_rows:
                check_rows(name, r - 1)
            values = values or ()
            for j in range(width):
                columns[j].append(_cell_text(values[j]) if j < len(values) else None)
            beyond = [v for v in values[width:] if _cell_text(v) is not None]
            if beyond and len(extra) < MAX_RAGGED:
                extra.append(
                    Problem(
                        name,
                        r,
                        None,
                        _cell_text(beyond[0]),
                        f"머리글이 없는 열({column_letter(width)}열 이후)에 값이 있습니다.",
                    )
                )
    finally:
        wb.close()
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=False)})
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64)
    table, rows = drop_trailing_blank(table, rows)
    return RawTable(name, "xlsx", table, rows, None, extra)
