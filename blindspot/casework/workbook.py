"""The XLSX workbook of every table export: a formatted sheet an official can print, and a
정보 (metadata) sheet.

The table's sheet is written as XML column by column (openpyxl's cell-by-cell writer needed
about a minute for 100,000 rows on a 2-core machine; ``export_100k_seconds`` in
``bench --json`` must stay ≤ 20 s), with what a spreadsheet user expects of a list:

* number formats: counts with thousands separators (``#,##0``), shares and probabilities as
  % (``0.0%``), other decimals with two places; a bold header;
* column widths from the text (a Hangul syllable counts two), capped;
* the header row frozen, an autofilter over the table;
* print settings: A4 landscape, fitted to one page wide, the header row repeated on each page.

openpyxl builds the rest of the package (the 정보 sheet, workbook, content types); the style
sheet is this module's own, so the style numbers the cells use are known.  Text cells are
inline strings passed through :func:`blindspot.spreadsheet.neutralise`: never a formula.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from xml.sax.saxutils import escape

import pandas as pd
from openpyxl import Workbook

from blindspot.spreadsheet import neutralise, xlsx_text_cell

# Cell styles (indexes into cellXfs of STYLES_XML).
DEFAULT, HEADER, INTEGER, PERCENT, DECIMAL = range(5)
# Korean Excel's default face; LibreOffice and other readers substitute their own Korean font.
_FONT = '<sz val="11"/><name val="맑은 고딕"/><family val="3"/><charset val="129"/>'
STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/>'
    '<numFmt numFmtId="165" formatCode="#,##0.00"/></numFmts>'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="표준" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_WIDTH = 50  # characters: a long reason wraps on screen rather than pushing the page wide
WIDTH_SAMPLE = 500  # rows measured for the widths: enough for a list, cheap for 100,000 rows


def text_width(text: str) -> int:
    """Display width of ``text`` in character cells: wide (Hangul, CJK) characters count 2.

    >>> text_width("충장동"), text_width("ab"), text_width("12.5%")
    (6, 2, 5)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_letter(i: int) -> str:
    """Spreadsheet column name of 0-based index ``i``.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def column_style(values: pd.Series, percent: bool) -> int:
    """The cell style of a column: % for the columns named as shares, ``#,##0`` for integers,
    two decimals for other numbers, none for text."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return DEFAULT
    if percent:
        return PERCENT
    if pd.api.types.is_integer_dtype(values.dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.dropna()
        return INTEGER if len(whole) and (whole == whole.round()).all() else DECIMAL
    return DEFAULT


def _shown(value, style: int) -> str:
    """The value as the spreadsheet shows it, for the column width."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if style == PERCENT:
        return f"{value:.1%}"
    if style == INTEGER:
        return f"{value:,.0f}"
    if style == DECIMAL:
        return f"{value:,.2f}"
    return str(value)


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


def _column_xml(values: pd.Series, style: int) -> list[str]:
    """Whole cell elements of one column, without cell references (the reader places
    them in order; an empty cell is ``<c/>`` so that later columns keep their place)."""
    s = f' s="{style}"' if style else ""
    if pd.api.types.is_bool_dtype(values.dtype):
        return [f'<c t="b"><v>{int(v)}</v></c>' for v in values.tolist()]
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        return [f"<c{s}><v>{v}</v></c>" for v in values.tolist()]
    if pd.api.types.is_float_dtype(values.dtype):
        return ["<c/>" if v != v else f"<c{s}><v>{v!r}</v></c>" for v in values.tolist()]
    return [f"<c{s}{x}</c>" if (x := _cell_xml(v)) else "<c/>" for v in values.tolist()]


def sheet_xml(frame: pd.DataFrame, percent: frozenset[str] = frozenset()) -> bytes:
    """The table's worksheet XML: frozen bold header, widths, number formats, autofilter and
    print settings (A4 landscape, one page wide).  ``percent`` names the columns holding
    shares (0..1) shown as %."""
    styles = [column_style(frame[c], c in percent) for c in frame.columns]
    head = frame.head(WIDTH_SAMPLE)
    widths = [
        min(MAX_WIDTH, 2 + max([text_width(str(c))] + [text_width(_shown(v, st)) for v in head[c].tolist()]))
        for c, st in zip(frame.columns, styles, strict=True)
    ]
    last = f"{column_letter(max(len(frame.columns) - 1, 0))}{len(frame) + 1}"
    header = "".join(f'<c s="{HEADER}"{_cell_xml(str(c))}</c>' for c in frame.columns)
    columns = [_column_xml(frame[c], st) for c, st in zip(frame.columns, styles, strict=True)]
    parts = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">',
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>',
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
        "<cols>"
        + "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        + "</cols>",
        f'<sheetData><row r="1">{header}</row>',
    ]
    parts += [f'<row r="{r}">{"".join(cells)}</row>' for r, cells in enumerate(zip(*columns, strict=False), 2)]
    parts += [
        f'</sheetData><autoFilter ref="A1:{last}"/>',
        '<printOptions gridLines="1"/>',
        '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>',
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>',
        "</worksheet>",
    ]
    return "".join(parts).encode("utf-8")


def xlsx_bytes(
    frame: pd.DataFrame,
    sheet: str,
    metadata: dict,
    percent: frozenset[str] = frozenset(),
    extra: dict[str, list[list]] | None = None,
) -> bytes:
    """An XLSX workbook: ``sheet`` with the table (:func:`sheet_xml`), then 정보 with one
    (항목, 값) row per metadata entry, then one sheet per ``extra`` entry (name → rows, the
    first row its header; text neutralised like every other cell).

    >>> import openpyxl
    >>> wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(pd.DataFrame({"n": [1200]}), "표", {"행 수": 1})))
    >>> ws = wb["표"]; ws.freeze_panes, ws.auto_filter.ref, ws["A2"].number_format, ws.page_setup.orientation
    ('A2', 'A1:A2', '#,##0', 'landscape')
    >>> ws.print_title_rows, [r for r in wb["정보"].values]
    ('$1:$1', [('항목', '값'), ('행 수', 1)])
    """
    wb = Workbook(write_only=True)
    table = wb.create_sheet(sheet)  # placeholder: its XML is replaced below
    # openpyxl writes this as the workbook's print-titles name: the header on every printed page.
    table.print_title_rows = "1:1"
    info = wb.create_sheet("정보")
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 80
    info.page_setup.paperSize = "9"  # A4
    info.page_setup.orientation = "landscape"
    info.page_setup.fitToWidth, info.page_setup.fitToHeight = 1, 0
    info.sheet_properties.pageSetUpPr.fitToPage = True
    info.append(["항목", "값"])
    for key, value in metadata.items():
        info.append(
            [
                xlsx_text_cell(info, str(key)),
                value if isinstance(value, (int, float)) else xlsx_text_cell(info, str(value)),
            ]
        )
    for name, rows in (extra or {}).items():
        more = wb.create_sheet(name)
        for row in rows:
            more.append([xlsx_text_cell(more, v) for v in row])
    built = io.BytesIO()
    wb.save(built)
    out = io.BytesIO()
    with zipfile.ZipFile(built) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml(frame, percent)
            elif item.filename == "xl/styles.xml":
                data = STYLES_XML.encode("utf-8")
            else:
                data = src.read(item.filename)
            dst.writestr(item.filename, data)
    return out.getvalue()
