"""The XLSX an official opens and prints: number formats, widths, frozen header, autofilter,
print settings; read back with openpyxl, and printed by LibreOffice (Debian's package)."""

import io
import os
import shutil
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from blindspot.casework import exports
from blindspot.casework.workbook import MAX_WIDTH, xlsx_bytes

ROWS = 120


def _list_like(n: int = ROWS) -> pd.DataFrame:
    """A risk list as the export writes it (Korean headers, 14 columns)."""
    rng = np.random.default_rng(7)
    return exports.list_frame(
        pd.DataFrame(
            {
                "rank": np.arange(1, n + 1),
                "pseudo_id": [f"H{i:08d}" for i in range(n)],
                "sgg_name": "동구",
                "emd_name": "충장동",
                "band": "위험",
                "probability": rng.random(n),
                "rank_listed": np.arange(1, n + 1),
                "reason_1": "전기요금 체납 3개월",
                "reason_2": "건강보험료 체납 6개월",
                "reason_3": "단전",
                "household_type": "1인 가구",
                "age_band": "40–64세",
                "new_signal": rng.random(n) < 0.5,
                "visited": np.zeros(n, dtype=bool),
            }
        )
    )


def _book(frame: pd.DataFrame) -> bytes:
    meta = {"차수": "2024년 3차", "행 수": len(frame), "보안": exports.CONFIDENTIAL}
    return xlsx_bytes(frame, "위험 가구 목록", meta, exports.PERCENT_COLUMNS)


def test_the_sheet_is_formatted_for_reading_and_printing():
    frame = _list_like()
    wb = openpyxl.load_workbook(io.BytesIO(_book(frame)))
    ws = wb["위험 가구 목록"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:N{ROWS + 1}"
    assert ws.print_title_rows == "$1:$1"  # the header on every printed page
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert (
        ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
    )
    header = [c.value for c in ws[1]]
    assert header[:6] == ["순위", "가명 ID", "시군구", "읍면동", "등급", "위기 확률"] and ws["A1"].font.b
    fmt = {h: ws.cell(2, i + 1).number_format for i, h in enumerate(header)}
    assert fmt["위기 확률"] == "0.0%" and fmt["순위"] == "#,##0" and fmt["가명 ID"] == "General"
    # Yes/no as words, probabilities to four places (never 16 decimals or True/False).
    assert {ws.cell(r, header.index("방문 여부") + 1).value for r in range(2, ROWS + 2)} == {"아니요"}
    assert ws["F2"].value == round(float(frame["위기 확률"].iloc[0]), 4)
    # Widths from the text: a Hangul syllable counts two cells ("충장동" = 6, plus 2 of margin).
    widths = {h: ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width for i, h in enumerate(header)}
    assert widths["읍면동"] == 8 and widths["가명 ID"] == 11 and max(widths.values()) <= MAX_WIDTH
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert [r for r in wb["정보"].values][0] == ("항목", "값")


def test_libreoffice_prints_it_one_page_wide_with_the_header_on_every_page(tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        message = "LibreOffice(soffice) 가 없습니다: `make browser-deps` 가 libreoffice-calc-nogui 를 설치합니다."
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: the print check must run there
        pytest.skip(message)
    book = tmp_path / "목록.xlsx"
    book.write_bytes(_book(_list_like()))
    profile = tmp_path / "lo-profile"  # a private profile: parallel or earlier runs do not lock it
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(book),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pages = PdfReader(tmp_path / "목록.pdf").pages
    texts = [p.extract_text() for p in pages]
    table_pages = [t for t in texts if "H000000" in t]
    # 120 rows of 14 columns on A4 landscape: a few pages, not the 6 overlapping ones of an
    # unformatted sheet, every one beginning with the header and the last page the 정보 sheet.
    assert 2 <= len(table_pages) <= 4 and len(pages) == len(table_pages) + 1
    assert all(t.lstrip().startswith("순위") for t in table_pages)
    assert all(float(p.mediabox.width) > float(p.mediabox.height) for p in pages)  # landscape
    assert "보안" in texts[-1] and "2024년 3차".replace(" ", "") in texts[-1].replace(" ", "")
    assert "%" in texts[0] and "True" not in "".join(texts)
    assert "H00000119" in "".join(table_pages)  # the last row is printed
