"""Cells of every CSV and XLSX file the product writes: no text a spreadsheet would run.

A value that begins with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line
feed (or the full-width ``＝ ＋ － ＠`` that Korean and Japanese input methods produce and
Excel also reads as a formula) is opened by Excel, LibreOffice and Google Sheets as a
formula — ``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM(...)`` — even when it is an
ingested id or a typed purpose (CSV/formula injection).  Following the OWASP
"CSV Injection" guidance, such a text gets a leading single quote, so the spreadsheet
shows it as text.  Leading spaces do not hide a trigger (`` =1+1`` is quoted too).

Numbers stay numbers: numeric values are never touched, and neither is a text that is
exactly a decimal number (``-3``, ``+1.5``, ``-2e3``): a spreadsheet reads it as that
number, not a formula, and in a CSV it is indistinguishable from a numeric cell.

Every writer calls :func:`neutralise` (or :func:`neutralise_frame`): the risk list and
summary exports and the audit log export (:mod:`blindspot.casework.exports`, CSV and XLSX including
the 정보 sheet), ``export-round`` (:mod:`blindspot.ingest.exchange`, CSV and XLSX) and the ingest
validation report (:func:`blindspot.ingest.report.report_csv`).  XLSX cells are moreover
always written as strings (inline strings, or openpyxl ``data_type 's'`` via
:func:`xlsx_text_cell`), never as formulas.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

# What makes a spreadsheet read a cell as a formula (OWASP), plus the full-width forms.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value):
    """The value as a cell that no spreadsheet treats as a formula.

    Text beginning (after spaces) with ``= + - @``, tab, CR or LF gets a leading ``'``;
    anything else — numbers, ``None``, ordinary text, a text that is exactly a
    number — comes back unchanged.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("@SUM(A1)"), neutralise("\\t=1")
    ('\\'=HYPERLINK("http://x")', "'@SUM(A1)", "'\\t=1")
    >>> neutralise(" +1+2"), neutralise("－1"), neutralise("-1+2")
    ("' +1+2", "'－1", "'-1+2")
    >>> neutralise("-3"), neutralise("+1.5"), neutralise(-3), neutralise(None), neutralise("충장동")
    ('-3', '+1.5', -3, None, '충장동')
    """
    if not isinstance(value, str) or not value:
        return value
    head = value.lstrip(" ")
    if head[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series.dtype)
        or pd.api.types.is_bool_dtype(series.dtype)
        or pd.api.types.is_datetime64_any_dtype(series.dtype)
    )


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name passed through
    :func:`neutralise`; numeric, boolean and date columns are left as they are.

    >>> out = neutralise_frame(pd.DataFrame({"id": ["=1+1", "H1"], "n": [-1, 2]}))
    >>> out["id"].tolist(), out["n"].tolist(), str(out["n"].dtype)
    (["'=1+1", 'H1'], [-1, 2], 'int64')
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if _is_text(series):
            if isinstance(series.dtype, pd.CategoricalDtype):
                series = series.astype(object)
            out[column] = series.map(neutralise, na_action="ignore")
    out.columns = [neutralise(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV with a UTF-8 byte-order mark (so Excel shows Korean), headers as given, missing
    values empty, CRLF rows (so a CR or LF inside a value is quoted, never a row break);
    text that a spreadsheet would run as a formula is neutralised, numbers stay numbers.

    >>> csv_bytes(pd.DataFrame({"읍면동": ["충장동"], "가구": [3]}))[:3] == b"\\xef\\xbb\\xbf"
    True
    >>> csv_bytes(pd.DataFrame({"id": ["=1+1"], "n": [-2]})).decode("utf-8-sig").split()
    ['id,n', "'=1+1,-2"]
    """
    buffer = io.StringIO()
    neutralise_frame(frame).to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_text_cell(sheet, value):
    """A cell for openpyxl's write-only ``sheet.append``: text is neutralised and a
    neutralised text is stored as a string cell (``data_type 's'``), because openpyxl
    turns any text beginning with ``=`` into a formula; other values go in as they are.

    >>> from openpyxl import Workbook
    >>> ws = Workbook(write_only=True).create_sheet("s")
    >>> c = xlsx_text_cell(ws, "=1+1"); (c.value, c.data_type)
    ("'=1+1", 's')
    >>> xlsx_text_cell(ws, "충장동"), xlsx_text_cell(ws, -3)
    ('충장동', -3)
    """
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # openpyxl refuses XML-illegal control characters; they carry no meaning in a cell.
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    safe = neutralise(text)
    if safe is text:
        return text  # cannot begin with "=": openpyxl stores it as a string
    cell = WriteOnlyCell(sheet, value=safe)
    cell.data_type = "s"
    return cell
