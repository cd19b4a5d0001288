"""Reading extraction files (CSV, XLSX, Parquet) into a table of text cells.

Every reader returns a :class:`RawTable`: column names as written in the file, every
cell as text (``None`` for an empty cell) in an Arrow table, and for every data row
the row number the user sees in the file (header = row 1).  Types are decided later
by :mod:`blindspot.validation`, the same way for all three formats, so that a value
such as ``'abc'`` in a numeric column is reported with its row instead of making the
whole file unreadable.

Problems that stop reading altogether (unknown encoding, merged header cells,
formulas, a cut-off file) raise :class:`ReadError` with a list of problems in the
same shape as the validation report.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from blindspot.errors import BlindspotError

FORMATS = ("csv", "xlsx", "parquet")
# Charset-normalizer names for the Korean legacy encodings; CP949 decodes all of EUC-KR.
_KOREAN_LEGACY = {"cp949", "euc_kr", "johab", "iso2022_kr", "ms949", "uhc"}
_MAX_RAGGED = 1000


@dataclass
class Problem:
    """One line of the validation report (row 1 = header; None = the whole file)."""

    file: str
    row: int | None
    column: str | None
    value: object
    message: str


class ReadError(BlindspotError):
    """The file cannot be read at all; ``problems`` says why, in report form."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        p = problems[0]
        where = f" {p.row}행" if p.row else ""
        col = f" '{p.column}'" if p.column else ""
        super().__init__(f"{p.file}{where}{col}: {p.message}")


@dataclass
class RawTable:
    file: str
    format: str
    table: pa.Table            # every column pa.string(); None = empty cell
    row_numbers: np.ndarray    # int64, as the user sees them (header = 1)
    encoding: str | None = None
    problems: list[Problem] = field(default_factory=list)  # rows that could not be read

    @property
    def columns(self) -> list[str]:
        return self.table.column_names

    def __len__(self) -> int:
        return self.table.num_rows


def file_format(name: str) -> str:
    """The format from the file name.

    >>> file_format("가구_2024-R3.CSV"), file_format("a.xlsx"), file_format("b.parquet")
    ('csv', 'xlsx', 'parquet')
    """
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("csv", "txt", "tsv"):
        return "csv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("parquet", "pq"):
        return "parquet"
    raise ReadError([Problem(name, None, None, suffix, (
        f"지원하지 않는 파일 형식입니다 ('.{suffix}'). CSV(.csv), 엑셀(.xlsx), Parquet(.parquet) 중 하나로 "
        "저장하세요 (옛 엑셀 .xls 는 엑셀에서 '다른 이름으로 저장 → .xlsx').")) ])


def read_table(data: bytes, name: str) -> RawTable:
    """Read one file's bytes; the format comes from the name's extension."""
    fmt = file_format(name)
    if not data:
        raise ReadError([Problem(name, None, None, None, "파일이 비어 있습니다 (0바이트).")])
    return {"csv": read_csv, "xlsx": read_xlsx, "parquet": read_parquet}[fmt](data, name)


# --- CSV -----------------------------------------------------------------------------------

def detect_encoding(data: bytes, name: str = "") -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) or the Korean CP949/EUC-KR.

    Returns (text, encoding name).  Anything else is refused, because a wrongly guessed
    encoding turns Korean labels into garbage that might still pass as text.

    >>> detect_encoding("가구,읍면동\\n".encode("cp949"))
    ('가구,읍면동\\n', 'cp949')
    >>> detect_encoding(b"\\xef\\xbb\\xbfa,b\\n")
    ('a,b\\n', 'utf-8-sig')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _encoding_error(data, exc, name, "utf-8") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as first:
        utf8_error = first
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError([Problem(name, None, None, "UTF-16", (
            "UTF-16 으로 저장된 파일입니다. 'CSV UTF-8(쉼표로 분리)' 또는 CP949(ANSI)로 다시 저장하세요."))])
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    guess = (best.encoding if best else "") or ""
    if guess.lower().replace("-", "_") in _KOREAN_LEGACY or _hangul_cp949(data):
        try:
            return data.decode("cp949"), "cp949"
        except UnicodeDecodeError as exc:
            raise _encoding_error(data, exc, name, "cp949") from None
    raise _encoding_error(data, utf8_error, name, guess or "알 수 없음")


def _hangul_cp949(data: bytes) -> bool:
    """Short files give charset-normalizer too little to go on: accept CP949 when it decodes
    strictly and its non-ASCII characters are almost all Hangul syllables."""
    try:
        text = data.decode("cp949")
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text if ord(ch) > 127]
    return bool(wide) and sum("\uac00" <= ch <= "\ud7a3" for ch in wide) >= 0.9 * len(wide)


def _encoding_error(data: bytes, exc: UnicodeDecodeError, name: str, guess: str) -> ReadError:
    line = data.count(b"\n", 0, exc.start) + 1
    return ReadError([Problem(name, line, None, data[exc.start:exc.start + 4].hex(" "), (
        f"문자 인코딩을 읽을 수 없습니다 (추정: {guess}). UTF-8 또는 CP949(EUC-KR) 로 저장된 CSV만 받습니다. "
        "엑셀에서 'CSV UTF-8(쉼표로 분리)' 형식으로 다시 저장하세요."))])


def _header(text: str, name: str) -> tuple[list[str], str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise ReadError([Problem(name, 1, None, None, "1행(머리글)이 비어 있습니다. 1행에 열 이름을 쓰세요.")])
    # Excel in Korean locale saves "텍스트(탭으로 분리)"; accept tabs, not guessed others.
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    names = next(csv.reader([first], delimiter=delimiter))
    return [n.strip() for n in names], delimiter


def read_csv(data: bytes, name: str) -> RawTable:
    text, encoding = detect_encoding(data, name)
    names, delimiter = _header(text, name)
    _check_names(names, name)
    ragged: list[tuple[int | None, str, int]] = []

    def on_bad_row(row) -> str:
        ragged.append((row.number, row.text, row.actual_columns))
        return "skip"

    body = text.encode("utf-8") if encoding != "utf-8" else data
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(column_names=[f"c{i}" for i in range(len(names))], skip_rows=1,
                                            block_size=16 << 20),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_bad_row,
                                              ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(len(names))},
                                                  strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                  null_values=[""]))
    except pa.ArrowInvalid as exc:
        raise ReadError([Problem(name, None, None, None, f"CSV 로 읽을 수 없습니다: {exc}")]) from None
    table = table.rename_columns(names)
    problems: list[Problem] = []
    ragged_lines = _locate(text, ragged)
    for line, (_, row_text, actual) in zip(ragged_lines[:_MAX_RAGGED], ragged[:_MAX_RAGGED]):
        problems.append(Problem(name, line, None, row_text[:80], (
            f"열 개수가 머리글과 다릅니다 (머리글 {len(names)}개, 이 행 {actual}개). 파일이 중간에 잘렸거나 "
            "값 안에 쉼표가 있으면 따옴표로 감싸야 합니다.")))
    if len(ragged) > _MAX_RAGGED:
        problems.append(Problem(name, None, None, len(ragged), f"열 개수가 다른 행이 모두 {len(ragged):,}개입니다 "
                                                            f"(앞의 {_MAX_RAGGED}개만 표시)."))
    total = table.num_rows + len(ragged)
    rows = np.arange(2, total + 2, dtype=np.int64)
    if ragged_lines:
        rows = np.setdiff1d(rows, np.asarray(ragged_lines, dtype=np.int64), assume_unique=True)[:table.num_rows]
    table, rows = _drop_trailing_blank(table, rows)
    return RawTable(name, "csv", table, rows, encoding, problems)


def _locate(text: str, ragged: list[tuple[int | None, str, int]]) -> list[int]:
    """Line numbers of rows the CSV parser skipped (it does not always know them)."""
    out = []
    pos = 0
    for number, row_text, _ in ragged:
        if number is not None and number > 0:
            out.append(int(number))
            continue
        # Anchored at a line start, so a short row text is not found inside an earlier line.
        at = text.find("\n" + row_text, pos)
        if at < 0:
            out.append(0)
            continue
        out.append(text.count("\n", 0, at + 1) + 1)
        pos = at + 1 + max(len(row_text), 1)
    return out


def _drop_trailing_blank(table: pa.Table, rows: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Blank lines at the end of a file are not data; blank lines inside are reported later."""
    if table.num_rows == 0 or table.num_columns == 0:
        return table, rows
    n = table.num_rows
    tail = table.slice(max(0, n - 1000))
    blank = np.ones(tail.num_rows, dtype=bool)
    for col in tail.columns:
        blank &= col.is_null().to_numpy(zero_copy_only=False)
    k = 0
    while k < len(blank) and blank[len(blank) - 1 - k]:
        k += 1
    return (table.slice(0, n - k), rows[:n - k]) if k else (table, rows)


def _check_names(names: list[str], name: str) -> None:
    problems = []
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        letter = _column_letter(i)
        if not n:
            problems.append(Problem(name, 1, letter, None, f"{letter}열의 머리글(열 이름)이 비어 있습니다."))
        elif n in seen:
            problems.append(Problem(name, 1, n, n, f"열 이름 '{n}' 이 두 번 나옵니다 ({_column_letter(seen[n])}열, {letter}열)."))
        seen.setdefault(n, i)
    if problems:
        raise ReadError(problems)


def _column_letter(i: int) -> str:
    """Excel column letter of a 0-based index.

    >>> _column_letter(0), _column_letter(25), _column_letter(26)
    ('A', 'Z', 'AA')
    """
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


# --- XLSX ----------------------------------------------------------------------------------

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
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    text = str(v).strip()
    return text or None


def read_xlsx(data: bytes, name: str) -> RawTable:
    import openpyxl

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        bad = archive.testzip()
        if bad:
            raise zipfile.BadZipFile(bad)
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, ValueError) as exc:
        raise ReadError([Problem(name, None, None, None, (
            f"엑셀(.xlsx) 파일을 열 수 없습니다 ({type(exc).__name__}). 파일이 잘렸거나(전송 중단) 엑셀 파일이 아닙니다. "
            "원본에서 다시 내려받거나 엑셀에서 다시 저장하세요."))]) from None
    try:
        ws = wb.worksheets[0]
        merges, formulas = _scan_sheet_xml(archive, ws._worksheet_path)
        problems = []
        for ref in merges[:50]:
            header = re.match(r"[A-Z]+(\d+)", ref)
            where = "머리글에 " if header and header.group(1) == "1" else ""
            problems.append(Problem(name, int(header.group(1)) if header else None, ref, ref, (
                f"시트 '{ws.title}' {where}병합된 셀 {ref} 이 있습니다. 병합을 풀고, 1행에 열 이름 한 줄만 두세요 "
                "(제목·설명 행은 지우세요).")))
        for ref in formulas[:200]:
            row = int(re.match(r"[A-Z]+(\d+)", ref).group(1))
            problems.append(Problem(name, row, ref, ref, (
                f"시트 '{ws.title}' 셀 {ref} 에 수식이 있습니다. 수식 결과는 파일에 값으로 남지 않을 수 있어 받지 "
                "않습니다: 전체 선택 → 복사 → '값으로 붙여넣기' 한 뒤 저장하세요.")))
        if len(formulas) > 200:
            problems.append(Problem(name, None, None, len(formulas), f"수식이 있는 셀이 모두 {len(formulas):,}개입니다."))
        if problems:
            raise ReadError(problems)
        rows_iter = ws.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None or all(v is None for v in header):
            raise ReadError([Problem(name, 1, None, None, (
                f"시트 '{ws.title}' 의 1행(머리글)이 비어 있습니다. 1행에 열 이름을 쓰세요."))])
        names = [(_cell_text(v) or "") for v in header]
        while names and not names[-1]:
            names.pop()
        _check_names(names, name)
        width = len(names)
        columns: list[list] = [[] for _ in range(width)]
        extra: list[Problem] = []
        for r, values in enumerate(rows_iter, start=2):
            values = values or ()
            for j in range(width):
                columns[j].append(_cell_text(values[j]) if j < len(values) else None)
            beyond = [v for v in values[width:] if _cell_text(v) is not None]
            if beyond and len(extra) < _MAX_RAGGED:
                extra.append(Problem(name, r, None, _cell_text(beyond[0]),
                                     f"머리글이 없는 열({_column_letter(width)}열 이후)에 값이 있습니다."))
    finally:
        wb.close()
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns)})
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64)
    table, rows = _drop_trailing_blank(table, rows)
    return RawTable(name, "xlsx", table, rows, None, extra)


# --- Parquet -------------------------------------------------------------------------------

def read_parquet(data: bytes, name: str) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise ReadError([Problem(name, None, None, None, (
            f"Parquet 파일을 읽을 수 없습니다 ({str(exc)[:120]}). 파일이 잘렸거나(전송 중단) Parquet 형식이 아닙니다. "
            "원본에서 다시 내려받으세요."))]) from None
    names = [str(n).strip() for n in table.column_names]
    _check_names(names, name)
    cols = []
    for n, col in zip(names, table.columns):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        if pa.types.is_boolean(col.type):
            col = pa.compute.cast(col, pa.int8())
        if pa.types.is_floating(col.type):
            # 3.0 → "3": integral floats are common when a tool stores integers with gaps as float.
            arr = col.to_numpy(zero_copy_only=False)
            integral = np.isfinite(arr) & (arr == np.round(arr))
            if integral[~np.isnan(arr)].all():
                col = pa.array(np.where(integral, arr, 0).astype(np.int64), mask=~integral)
        cols.append(pa.compute.cast(col, pa.string()) if col.type != pa.string() else col)
    out = pa.table(dict(zip(names, cols))) if cols else pa.table({})
    return RawTable(name, "parquet", out, np.arange(2, out.num_rows + 2, dtype=np.int64))
