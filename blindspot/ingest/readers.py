"""Reading extraction files (CSV, XLSX, Parquet) into a table of text cells.

Every reader returns a :class:`RawTable`: column names as written in the file, every
cell as text (``None`` for an empty cell) in an Arrow table, and for every data row
the row number the user sees in the file (header = row 1).  Types are decided later
by :mod:`blindspot.ingest.validation`, the same way for all three formats, so that a value
such as ``'abc'`` in a numeric column is reported with its row instead of making the
whole file unreadable.

Problems that stop reading altogether (unknown encoding, merged header cells,
formulas, a cut-off file) raise :class:`ReadError` with a list of problems in the
same shape as the validation report.  CSV is read here, XLSX in :mod:`blindspot.ingest.xlsx`
and Parquet in :mod:`blindspot.ingest.parquet`.

Why over 500 lines: the CSV and Parquet readers with their hostile-file checks (size,
encoding, ragged rows, compression bombs, types), each with its Korean message; the XLSX
reader is already apart (:mod:`blindspot.ingest.xlsx`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from blindspot import config
from blindspot.errors import BlindspotError

FORMATS = ("csv", "xlsx", "parquet")
ECHO_MAX = 80  # characters of a file's value repeated in a message or the report
# Shapes of personal data that must never be repeated back: a
# 주민등록번호 (6 + 7 digits, with or without the dash) and Korean phone numbers.
_RRN_ECHO = re.compile(r"(?<!\d)\d{6}\s*-?\s*\d{7}(?!\d)")
_PHONE_ECHO = re.compile(r"(?<!\d)(?:01[016789]|0[2-6]\d?|070|050\d?)[-. )]?\d{3,4}[-. ]?\d{4}(?!\d)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufeff\u2028\u2029\u200b-\u200f\u202a-\u202e]")
# Charset-normalizer names for the Korean legacy encodings; CP949 decodes all of EUC-KR.
_KOREAN_LEGACY = {"cp949", "euc_kr", "johab", "iso2022_kr", "ms949", "uhc"}
MAX_RAGGED = 1000


def echo(value: object, limit: int = ECHO_MAX) -> str | None:
    r"""A file's value made safe to repeat in a message or the validation report.

    The one place every echoed value passes through: resident registration and phone
    numbers are masked, control characters (NUL, tab, line breaks, BOM, bidi marks) are
    shown as ``\xNN`` escapes, and the text is cut at ``limit`` characters.

    >>> echo("900101-1234567"), echo("연락처 010-1234-5678")
    ('######-#######', '연락처 ###-####-####')
    >>> print(echo("H1\x00\n2"), echo("x" * 100)[-12:], echo(None))
    H1\x00\x0a2 xxx…(총 100자) None
    """
    if value is None:
        return None
    try:
        if value != value:  # NaN / pd.NA
            return None
    except (TypeError, ValueError):
        pass
    text = value if isinstance(value, str) else str(value)
    long = len(text)
    text = text[: limit * 4]  # masking and escaping never need more than this
    text = _RRN_ECHO.sub("######-#######", text)
    text = _PHONE_ECHO.sub("###-####-####", text)
    text = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text
    )
    if long > limit or len(text) > limit:
        # At most ``limit`` characters in all, so echoing an echoed value changes nothing.
        suffix = f"…(총 {long:,}자)"
        text = text[: limit - len(suffix)].rstrip() + suffix
    return text


def too_big(name: str, what: str, setting: str, row: int | None = None) -> ReadError:
    return ReadError(
        [
            Problem(
                name,
                row,
                None,
                None,
                (
                    f"{what}. 압축을 풀면 지나치게 커지는 파일(압축 폭탄)이거나 "
                    "한 번에 적재하기에 너무 큰 파일이라 읽기 전에 멈췄습니다. "
                    "파일을 시군구·시도별로 나누거나, "
                    f"정상 파일이면 관리자가 환경변수 {setting} 의 값을 올려 한도를 늘리세요 "
                    "(docs/ingest-format.md)."
                ),
            )
        ]
    )


def check_rows(name: str, rows: int, compressed: int | None = None) -> None:
    """Refuse a file with more data rows than the limit, or (Parquet) implausibly many
    rows per stored byte: real rows carry a distinct id, so they cannot compress to less
    than a byte each (:data:`config.INGEST_LIMITS`)."""
    max_rows = config.ingest_limit("BLINDSPOT_INGEST_MAX_ROWS")
    if rows > max_rows:
        raise too_big(name, f"자료 행이 {rows:,}개로 한도 {max_rows:,}행을 넘습니다", "BLINDSPOT_INGEST_MAX_ROWS")
    per_kb = config.ingest_limit("BLINDSPOT_INGEST_MAX_ROWS_PER_KB")
    if compressed is not None and rows > max(100_000, compressed * per_kb // 1000):
        raise too_big(
            name,
            f"{compressed:,}바이트 파일이 {rows:,}행을 담고 있다고 합니다 (1KB당 {per_kb:,}행 초과)",
            "BLINDSPOT_INGEST_MAX_ROWS_PER_KB",
        )


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
        col = f" '{echo(p.column)}'" if p.column else ""
        super().__init__(f"{echo(p.file)}{where}{col}: {p.message}")


@dataclass
class RawTable:
    file: str
    format: str
    table: pa.Table  # every column pa.string(); None = empty cell
    row_numbers: np.ndarray  # int64, as the user sees them (header = 1)
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
    raise ReadError(
        [
            Problem(
                name,
                None,
                None,
                suffix,
                (
                    f"지원하지 않는 파일 형식입니다 ('.{suffix}'). CSV(.csv), 엑셀(.xlsx), Parquet(.parquet) 중 하나로 "
                    "저장하세요 (옛 엑셀 .xls 는 엑셀에서 '다른 이름으로 저장 → .xlsx')."
                ),
            )
        ]
    )


def read_table(data: bytes, name: str) -> RawTable:
    """Read one file's bytes; the format comes from the name's extension.

    Size limits (:data:`blindspot.config.INGEST_LIMITS`) are checked before anything is
    expanded or parsed, so a decompression bomb is refused in milliseconds.
    """
    fmt = file_format(name)
    if not data:
        raise ReadError([Problem(name, None, None, None, "파일이 비어 있습니다 (0바이트).")])
    max_bytes = config.ingest_limit("BLINDSPOT_INGEST_MAX_FILE_BYTES")
    if len(data) > max_bytes:
        raise too_big(
            name,
            f"파일 크기 {len(data):,}바이트가 한도 {max_bytes:,}바이트를 넘습니다",
            "BLINDSPOT_INGEST_MAX_FILE_BYTES",
        )
    if fmt == "xlsx":
        # The XLSX reader builds on this module's guards and types, hence imported here.
        from blindspot.ingest.xlsx import read_xlsx

        return read_xlsx(data, name)
    if fmt == "parquet":
        from blindspot.ingest.parquet import read_parquet

        return read_parquet(data, name)
    return read_csv(data, name)


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
    if _looks_utf16(data):
        raise _utf16_error(name, bom=data.startswith((b"\xff\xfe", b"\xfe\xff")))
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
        raise _utf16_error(name)
    try:
        return data.decode("cp949"), "cp949"  # strict: every byte is CP949, no guessing needed
    except UnicodeDecodeError as exc:
        cp949_error = exc
    # A CP949 file with one bad byte (a cut character, a stray byte from another system)
    # is still a CP949 file: report the byte at its row instead of guessing another encoding.
    if cp949_error.start > 0 and _hangul_cp949(data[: cp949_error.start]):
        raise _encoding_error(data, cp949_error, name, "CP949(EUC-KR)") from None
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    guess = (best.encoding if best else "") or ""
    if guess.lower().replace("-", "_") in _KOREAN_LEGACY:
        raise _encoding_error(data, cp949_error, name, "CP949(EUC-KR)") from None
    raise _encoding_error(data, utf8_error, name, None)


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 (with or without a BOM): NUL bytes beside ASCII characters, or text that
    decodes as UTF-16 into Hangul, ASCII and line breaks only.

    >>> _looks_utf16("가구ID,읍면동코드\\n".encode("utf-16-le")), _looks_utf16("가구,동\\n".encode("utf-16-be"))
    (True, True)
    >>> _looks_utf16(b"a,b\\n"), _looks_utf16("가구,읍면동\\n".encode("cp949"))
    (False, False)
    """
    head = data[:65536]
    if len(head) >= 4 and head.count(b"\x00") >= len(head) // 4:
        return True
    head = head[: len(head) // 2 * 2]
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = head.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
        plain = sum(ch.isascii() or "\uac00" <= ch <= "\ud7a3" for ch in text)
        if text and ("\n" in text or "," in text) and plain >= 0.98 * len(text):
            return True
    return False


def _utf16_error(name: str, bom: bool = True) -> ReadError:
    what = "UTF-16 으로" if bom else "UTF-16 (BOM 없음) 으로 보이는 형식으로"
    return ReadError(
        [
            Problem(
                name,
                None,
                None,
                "UTF-16",
                (
                    f"{what} 저장된 파일입니다 (글자마다 0 바이트가 끼어 있음). "
                    "'CSV UTF-8(쉼표로 분리)' 또는 CP949(ANSI)로 "
                    "다시 저장하세요."
                ),
            )
        ]
    )


def _hangul_cp949(data: bytes) -> bool:
    """Short files give charset-normalizer too little to go on: accept CP949 when it decodes
    strictly and its non-ASCII characters are almost all Hangul syllables."""
    try:
        text = data.decode("cp949")
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text if ord(ch) > 127]
    return bool(wide) and sum("\uac00" <= ch <= "\ud7a3" for ch in wide) >= 0.9 * len(wide)


def _encoding_error(data: bytes, exc: UnicodeDecodeError, name: str, guess: str | None) -> ReadError:
    line = data.count(b"\n", 0, exc.start) + 1
    if guess:
        why = (
            f"{guess} 파일로 보이지만 이 행에 {guess} 인코딩으로 읽을 수 없는 바이트가 있습니다 (글자가 잘렸거나 다른 "
            "시스템의 문자가 섞임). 그 행을 고치거나"
        )
    else:
        why = "문자 인코딩을 알 수 없습니다. UTF-8 또는 CP949(EUC-KR) 로 저장된 CSV만 받습니다."
    return ReadError(
        [
            Problem(
                name,
                line,
                None,
                data[exc.start : exc.start + 4].hex(" "),
                (f"{why} 엑셀에서 'CSV UTF-8(쉼표로 분리)' 형식으로 다시 저장하세요."),
            )
        ]
    )


def _header(text: str, name: str) -> tuple[list[str], str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise ReadError([Problem(name, 1, None, None, "1행(머리글)이 비어 있습니다. 1행에 열 이름을 쓰세요.")])
    # Excel in Korean locale saves "텍스트(탭으로 분리)"; accept tabs, not guessed others.
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    names = next(csv.reader([first], delimiter=delimiter))
    return [n.strip() for n in names], delimiter


def read_csv(data: bytes, name: str) -> RawTable:
    # Lines bound rows from above (quoted line breaks only make rows fewer): cheap, before parsing.
    check_rows(name, data.count(b"\n") - 1)
    text, encoding = detect_encoding(data, name)
    names, delimiter = _header(text, name)
    check_names(names, name)
    ragged: list[tuple[int | None, str, int]] = []

    def on_bad_row(row) -> str:
        ragged.append((row.number, row.text, row.actual_columns))
        return "skip"

    body = text.encode("utf-8") if encoding != "utf-8" else data
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(names))], skip_rows=1, block_size=16 << 20
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, invalid_row_handler=on_bad_row, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(len(names))},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise ReadError([Problem(name, None, None, None, f"CSV 로 읽을 수 없습니다: {exc}")]) from None
    table = table.rename_columns(names)
    problems: list[Problem] = []
    ragged_lines = _locate(text, ragged)
    for line, (_, _row_text, actual) in zip(ragged_lines[:MAX_RAGGED], ragged[:MAX_RAGGED], strict=False):
        # The row's own text is not repeated: it is a household's data.
        problems.append(
            Problem(
                name,
                line,
                None,
                f"{actual}개 열",
                (
                    f"열 개수가 머리글과 다릅니다 (머리글 {len(names)}개, 이 행 {actual}개). 파일이 중간에 잘렸거나 "
                    "값 안에 쉼표가 있으면 따옴표로 감싸야 합니다."
                ),
            )
        )
    if len(ragged) > MAX_RAGGED:
        problems.append(
            Problem(
                name,
                None,
                None,
                len(ragged),
                f"열 개수가 다른 행이 모두 {len(ragged):,}개입니다 (앞의 {MAX_RAGGED}개만 표시).",
            )
        )
    total = table.num_rows + len(ragged)
    rows = np.arange(2, total + 2, dtype=np.int64)
    if ragged_lines:
        rows = np.setdiff1d(rows, np.asarray(ragged_lines, dtype=np.int64), assume_unique=True)[: table.num_rows]
    table, rows = drop_trailing_blank(table, rows)
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


def drop_trailing_blank(table: pa.Table, rows: np.ndarray) -> tuple[pa.Table, np.ndarray]:
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
    return (table.slice(0, n - k), rows[: n - k]) if k else (table, rows)


def check_names(names: list[str], name: str) -> None:
    problems = []
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        letter = column_letter(i)
        if not n:
            problems.append(Problem(name, 1, letter, None, f"{letter}열의 머리글(열 이름)이 비어 있습니다."))
        elif n in seen:
            problems.append(
                Problem(
                    name, 1, n, n, f"열 이름이 두 번 나옵니다: '{echo(n)}' ({column_letter(seen[n])}열, {letter}열)."
                )
            )
        seen.setdefault(n, i)
    if problems:
        raise ReadError(problems)


def column_letter(i: int) -> str:
    """Excel column letter of a 0-based index.

    >>> column_letter(0), column_letter(25), column_letter(26)
    ('A', 'Z', 'AA')
    """
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out
