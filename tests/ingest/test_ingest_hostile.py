"""Hostile and odd extraction files: ids outside the
documented alphabet, decompression bombs, values no cast can hold, personal data in
messages, wrong encodings, partial rounds.  Every refusal leaves every table as it was
(``fingerprint``) and never shows a traceback."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.access import Scope
from blindspot.casework import exports, lists
from blindspot.db import queries, schema
from blindspot.db.store import Store, fingerprint
from blindspot.errors import BlindspotError
from blindspot.ingest import load as ingest
from blindspot.ingest.report import report_csv
from blindspot.maps import data as mapdata

ROUND = "2024-R3"
SEJONG = "36110"
ALL_TABLES = list(schema.TABLES)
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sejong(sejong) -> pd.DataFrame:
    """Sejong's households only (the shared fixture also has its outcomes)."""
    return sejong[0]


def _base(sejong, n: int = 40) -> pd.DataFrame:
    return sejong.head(n).copy().astype(object)


def _csv(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def _set(frame, i, column, value):
    frame = frame.copy()
    frame.iloc[i, frame.columns.get_loc(column)] = value
    return frame


def _refused(store, households, match: str, row=None, column=None, round_code=ROUND, sgg=(SEJONG,), outcomes=None):
    """The file is refused with a report line matching ``match`` (at row/column if given),
    the summary is short, and no table changed."""
    before = fingerprint(store, ALL_TABLES)
    with pytest.raises(ingest.IngestError) as info:
        ingest.ingest(store, round_code, households, outcomes, sgg=sgg)
    report = info.value.report
    hits = report[report["message"].str.contains(match, regex=False)]
    assert not hits.empty, report.to_string()
    if row is not None:
        assert row in hits["row"].tolist(), hits.to_string()
    if column is not None:
        assert column in hits["column"].tolist(), hits.to_string()
    assert fingerprint(store, ALL_TABLES) == before
    assert len(str(info.value)) < 3000
    return report, str(info.value)


# --- the id alphabet ---------------------------------------------------------

BAD_IDS = {
    "formula_equals": "=1+1",
    "formula_plus": "+SUM(A1)",
    "formula_minus": "-2+3",
    "formula_at": "@cmd",
    "space_inside": "H1 A2",
    "bom_inside": "H1\ufeffA2",
    "nul_inside": "H1\x00A2",
    "line_break_inside": "H1\nA2",
    "carriage_return_inside": "H1\rA2",
    "tab_inside": "H1\tA2",
    "hangul": "가구1",
    "too_long": "H" * 65,
    "starts_with_underscore": "_abc",
    "quote": "H1'A2",
}


@pytest.mark.parametrize("case", list(BAD_IDS))
@pytest.mark.parametrize("at", [0, 17])
def test_ids_outside_the_alphabet_are_refused(case, at, sejong, fresh):
    import csv

    # Quoted, so a line break inside the id is part of the value, not a new row.
    data = _set(_base(sejong), at, "pseudo_id", BAD_IDS[case]).to_csv(index=False, quoting=csv.QUOTE_ALL).encode()
    report, text = _refused(fresh, ("h.csv", data), "가구 ID는 영문자", at + 2, "pseudo_id")
    # What is echoed back carries no raw control character (it is escaped).
    for value in report["value"].dropna():
        assert not any(ch in value for ch in "\x00\n\r\t\ufeff"), repr(value)


def test_bom_before_the_first_id_and_in_the_middle_of_a_file(sejong, fresh):
    data = _csv(_base(sejong))
    lines = data.split(b"\n")
    lines[1] = "\ufeff".encode() + lines[1]  # the first id
    lines[20] = lines[20] + "\ufeff".encode()  # the end of a row in the middle
    lines[30] = "\ufeff".encode() + lines[30]
    report, _ = _refused(fresh, ("h.csv", b"\n".join(lines)), "가구 ID는 영문자", 2, "pseudo_id")
    assert 31 in report["row"].tolist()


def test_outcome_ids_and_free_text_formulas_are_refused(sejong, fresh):
    base = _base(sejong)
    visits = pd.DataFrame(
        {
            "pseudo_id": [base["pseudo_id"][0], "=HYPERLINK(1)", base["pseudo_id"][2]],
            "channel": ["system"] * 3,
            "outcome": ["supported"] * 3,
            "support_type": ["긴급지원", None, '=HYPERLINK("http://x")'],
        }
    )
    report, _ = _refused(
        fresh, ("h.csv", _csv(base)), "가구 ID는 영문자", 3, "pseudo_id", outcomes=("o.csv", _csv(visits))
    )
    assert any(
        "수식으로 실행될 수 있어" in m and r == 4 for m, r in zip(report["message"], report["row"], strict=False)
    )


# --- real ids never reach the synthetic address ----------------------------------------

REAL_IDS = ["P-001", "abc_12", "x", "Z9", "p-0001_b"]


def _real_ids(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["pseudo_id"] = REAL_IDS + [f"P-{i:03d}" for i in range(len(REAL_IDS), len(frame))]
    return frame


def _open_everything(st, round_id=20243):
    """The district official's list, the map drill-down and both list exports."""
    scope = Scope.district([SEJONG], user="세종 담당")
    filters = lists.ListFilters(round_id, area=SEJONG, bands=("high", "medium", "low", "none"), capacity=None)
    rows = lists.risk_list(st, scope, filters, "방문 계획 수립")
    top = mapdata.top_households(st, scope, SEJONG, round_id, "방문 계획 수립", limit=50)
    files = {fmt: exports.export_risk_list(st, scope, filters, "방문 계획 수립", fmt) for fmt in ("csv", "xlsx")}
    return rows, top, files


def test_non_hex_ids_load_and_open_the_list_map_and_exports(modelled, sejong, empty_db, tmp_path):
    from blindspot.model import artifacts

    _, models, meta = modelled
    path = tmp_path / "real.duckdb"
    shutil.copy(empty_db, path)
    st = Store(path)
    try:
        frame = _real_ids(sejong.head(300))
        ingest.ingest(st, ROUND, ("h.csv", _csv(frame)), sgg=[SEJONG])
        artifacts.activate(st, models, meta["version"])  # the demo's model, put in service here
        ingest.rescore(st, ROUND, models)
        rows, top, files = _open_everything(st)
        assert len(rows) == 300 and set(rows["pseudo_id"]) == set(frame["pseudo_id"])
        assert set(REAL_IDS) <= set(rows["pseudo_id"])
        assert set(rows["address"]) == {lists.NO_ADDRESS_NOTE}  # real files carry no address
        assert len(top) == 50 and set(top["pseudo_id"]) <= set(frame["pseudo_id"])
        assert files["csv"].rows == files["xlsx"].rows == 300
        assert "P-001" in files["csv"].data.decode("utf-8-sig")
    finally:
        st.close()


def test_a_replaced_demo_round_is_no_longer_synthetic(modelled, sejong, tmp_path):
    db, models, _ = modelled
    path = tmp_path / "demo.duckdb"
    shutil.copy(db, path)
    st = Store(path)
    try:
        assert lists.is_synthetic_round(st, 20243)
        ingest.ingest(st, ROUND, ("h.csv", _csv(_real_ids(sejong.head(200)))), replace=True, sgg=[SEJONG])
        assert not lists.is_synthetic_round(st, 20243) and lists.is_synthetic_round(st, 20242)
        ingest.rescore(st, ROUND, models)
        rows, _, _ = _open_everything(st)
        assert len(rows) == 200 and set(rows["address"]) == {lists.NO_ADDRESS_NOTE}
    finally:
        st.close()


# --- decompression bombs -----------------------------------------------------------------


def _xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    return buf.getvalue()


def _xlsx_bomb(frame: pd.DataFrame, pad_mb: int = 60) -> bytes:
    """A valid workbook whose sheet XML is padded with whitespace: a few hundred KB that
    expand to ``pad_mb`` MB."""
    src = zipfile.ZipFile(io.BytesIO(_xlsx_bytes(frame)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b"</sheetData>", b" " * (pad_mb << 20) + b"</sheetData>")
            z.writestr(info.filename, data)
    return out.getvalue()


def test_xlsx_bomb_is_refused_before_it_is_expanded(sejong, fresh):
    bomb = _xlsx_bomb(_base(sejong))
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    _refused(fresh, ("bomb.xlsx", bomb), "압축 폭탄")
    assert time.monotonic() - started < 5


def test_xlsx_declared_size_over_the_limit(sejong, fresh, monkeypatch):
    data = _xlsx_bytes(_base(sejong))
    monkeypatch.setenv("BLINDSPOT_INGEST_MAX_XLSX_BYTES", "20000")
    _refused(fresh, ("h.xlsx", data), "BLINDSPOT_INGEST_MAX_XLSX_BYTES")


def test_parquet_with_millions_of_rows_in_a_few_kilobytes(fresh, tmp_path):
    n = 3_000_000
    table = pa.table(
        {
            "pseudo_id": pa.array(np.full(n, "H1"), pa.string()),
            "emd_code": pa.array(np.full(n, "3611051000"), pa.string()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    data = buf.getvalue()
    assert len(data) < 200_000
    started = time.monotonic()
    _refused(fresh, ("bomb.parquet", data), "압축 폭탄")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_row_limit_is_checked_before_reading(fmt, sejong, fresh, monkeypatch):
    frame = _base(sejong)
    data = {
        "csv": lambda: _csv(frame),
        "xlsx": lambda: _xlsx_bytes(frame),
        "parquet": lambda: _parquet(sejong.head(40)),
    }[fmt]()
    monkeypatch.setenv("BLINDSPOT_INGEST_MAX_ROWS", "10")
    _, text = _refused(fresh, (f"h.{fmt}", data), "한도 10행")
    assert "BLINDSPOT_INGEST_MAX_ROWS" in text


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


# --- never a traceback ---------------------------------------------------------------------


def _parquet_with(sejong, column: str, array: pa.Array) -> bytes:
    table = pa.Table.from_pandas(sejong.head(3).reset_index(drop=True), preserve_index=False)
    i = table.column_names.index(column)
    table = table.set_column(i, column, array)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _xlsx_with(sejong, column: str, value) -> bytes:
    from openpyxl import Workbook

    frame = sejong.head(3).astype(object)
    wb = Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for rec in frame.where(frame.notna(), None).values.tolist():
        ws.append(rec)
    ws.cell(row=3, column=list(frame.columns).index(column) + 1, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv_with(sejong, column: str, value) -> bytes:
    return _csv(_set(sejong.head(3).astype(object), 1, column, value))


# name → (build(sejong) → (file name, bytes), round, expected message part, row, column)
FUZZ = {
    "round_year_0": (lambda s: ("h.csv", _csv(s.head(3))), "0000-R1", "연도", None, "round"),
    "round_year_9999": (lambda s: ("h.csv", _csv(s.head(3))), "9999-R6", "연도", None, "round"),
    "round_year_1": (lambda s: ("h.csv", _csv(s.head(3))), "0001-R1", "연도", None, "round"),
    "parquet_list_column": (
        lambda s: ("h.parquet", _parquet_with(s, "head_age", pa.array([[1], [2, 3], []]))),
        ROUND,
        "자료형",
        1,
        "head_age",
    ),
    "parquet_struct_column": (
        lambda s: ("h.parquet", _parquet_with(s, "emd_code", pa.array([{"a": 1}, {"a": 2}, {"a": 3}]))),
        ROUND,
        "자료형",
        1,
        "emd_code",
    ),
    "parquet_binary_column": (
        lambda s: ("h.parquet", _parquet_with(s, "pseudo_id", pa.array([b"\x00\xff", b"a", b"b"], pa.binary()))),
        ROUND,
        "자료형",
        1,
        "pseudo_id",
    ),
    "parquet_map_column": (
        lambda s: (
            "h.parquet",
            _parquet_with(s, "head_sex", pa.array([[("k", 1)], [], [("j", 2)]], pa.map_(pa.string(), pa.int64()))),
        ),
        ROUND,
        "자료형",
        1,
        "head_sex",
    ),
    "parquet_float_1e300": (
        lambda s: ("h.parquet", _parquet_with(s, "head_age", pa.array([40.0, 1e300, 50.0]))),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "head_age",
    ),
    "parquet_float_inf": (
        lambda s: ("h.parquet", _parquet_with(s, "head_age", pa.array([40.0, float("inf"), 50.0]))),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "head_age",
    ),
    "parquet_float_nan_required": (
        lambda s: ("h.parquet", _parquet_with(s, "head_age", pa.array([40.0, float("nan"), 50.0]))),
        ROUND,
        "비어 있습니다",
        3,
        "head_age",
    ),
    "parquet_uint64_max": (
        lambda s: ("h.parquet", _parquet_with(s, "household_size", pa.array([1, 2**64 - 1, 2], pa.uint64()))),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "household_size",
    ),
    "parquet_int64_max_amount": (
        lambda s: ("h.parquet", _parquet_with(s, "fin_delinquency", pa.array([0, 2**63 - 1, 0], pa.int64()))),
        ROUND,
        "2,147,483,647",
        3,
        "fin_delinquency",
    ),
    "parquet_date_as_age": (
        lambda s: ("h.parquet", _parquet_with(s, "head_age", pa.array([19000, 19001, 19002], pa.date32()))),
        ROUND,
        "정수(숫자)가 아닙니다",
        2,
        "head_age",
    ),
    "parquet_timestamp_as_age": (
        lambda s: ("h.parquet", _parquet_with(s, "head_age", pa.array([0, 1, 2], pa.timestamp("s")))),
        ROUND,
        "정수(숫자)가 아닙니다",
        2,
        "head_age",
    ),
    "parquet_duration": (
        lambda s: ("h.parquet", _parquet_with(s, "head_age", pa.array([1, 2, 3], pa.duration("s")))),
        ROUND,
        "자료형",
        1,
        "head_age",
    ),
    "csv_huge_int": (
        lambda s: ("h.csv", _csv_with(s, "head_age", "99999999999999999999999")),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "head_age",
    ),
    "csv_1e309": (
        lambda s: ("h.csv", _csv_with(s, "fin_delinquency", "1e309")),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "fin_delinquency",
    ),
    "csv_inf": (
        lambda s: ("h.csv", _csv_with(s, "household_size", "inf")),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "household_size",
    ),
    "csv_nan": (lambda s: ("h.csv", _csv_with(s, "head_age", "NaN")), ROUND, "정수(숫자)가 아닙니다", 3, "head_age"),
    "csv_int64_overflow_long_digits": (
        lambda s: ("h.csv", _csv_with(s, "elec_arrears", "9223372036854775808")),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "elec_arrears",
    ),
    "xlsx_datetime_as_age": (
        lambda s: ("h.xlsx", _xlsx_with(s, "head_age", pd.Timestamp("2024-01-01").to_pydatetime())),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "head_age",
    ),
    "xlsx_huge_float": (
        lambda s: ("h.xlsx", _xlsx_with(s, "head_age", 1e300)),
        ROUND,
        "정수(숫자)가 아닙니다",
        3,
        "head_age",
    ),
    "not_parquet_at_all": (
        lambda s: ("h.parquet", b"PAR1" + os.urandom(200) + b"PAR1"),
        ROUND,
        "Parquet 파일을 읽을 수 없습니다",
        None,
        None,
    ),
    "not_xlsx_at_all": (
        lambda s: ("h.xlsx", b"PK\x03\x04" + os.urandom(300)),
        ROUND,
        "엑셀(.xlsx) 파일을 열 수 없습니다",
        None,
        None,
    ),
}


@pytest.mark.parametrize("case", list(FUZZ))
def test_odd_files_are_refused_with_a_message_not_a_crash(case, sejong, fresh):
    build, round_code, match, row, column = FUZZ[case]
    _refused(fresh, build(sejong), match, row, column, round_code=round_code)


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "blindspot", *args],
        capture_output=True,
        text=True,
        cwd=str(PROJECT),
        env={**os.environ, **(env or {})},
        timeout=300,
    )


CLI_CASES = [
    "round_year_0",
    "round_year_9999",
    "parquet_list_column",
    "parquet_binary_column",
    "parquet_float_1e300",
    "parquet_uint64_max",
    "parquet_date_as_age",
    "parquet_duration",
    "csv_huge_int",
    "xlsx_datetime_as_age",
    "not_parquet_at_all",
]


def test_cli_exits_2_without_a_traceback_on_odd_files(sejong, empty_db, tmp_path):
    db = tmp_path / "cli.duckdb"
    shutil.copy(empty_db, db)
    st = Store(db, read_only=True)
    before = fingerprint(st, ALL_TABLES)
    st.close()
    for case in CLI_CASES:
        build, round_code, match, row, column = FUZZ[case]
        name, data = build(sejong)
        path = tmp_path / f"{case}-{name}"
        path.write_bytes(data)
        out = _cli("ingest", str(path), "--round", round_code, "--sgg", SEJONG, "--db", str(db))
        assert out.returncode == 2, (case, out.stderr)
        assert "Traceback" not in out.stderr and match in out.stderr, (case, out.stderr)
        # A bad --round is the typed value's fault: the message names it, never the file.
        named = "차수 입력값" if column == "round" else path.name
        assert named in out.stderr, (case, out.stderr)
        if row is not None:
            assert f"{row}행" in out.stderr, (case, out.stderr)
    st = Store(db, read_only=True)
    assert fingerprint(st, ALL_TABLES) == before
    st.close()


# --- messages do not leak ------------------------------------------------------------------


def test_resident_and_phone_numbers_are_masked_in_messages_and_report(sejong, fresh):
    frame = _set(
        _set(_set(_base(sejong), 3, "head_age", "900101-1234567"), 4, "housing_type", "010-9876-5432"),
        5,
        "welfare_status",
        "9001011234567",
    )
    report, text = _refused(fresh, ("h.csv", _csv(frame)), "정수(숫자)가 아닙니다", 5, "head_age")
    csv_text = report_csv(report).decode("utf-8-sig")
    for secret in ("1234567", "9876", "5432", "900101"):
        assert secret not in text and secret not in csv_text
        assert not report["value"].dropna().str.contains(secret).any()
    assert "######-#######" in csv_text and "###-####-####" in csv_text


def test_a_huge_value_is_cut_in_the_message(sejong, fresh):
    report, text = _refused(
        fresh, ("h.csv", _csv(_set(_base(sejong), 2, "pseudo_id", "A" * 1_000_000))), "가구 ID는 영문자", 4, "pseudo_id"
    )
    assert report["value"].dropna().str.len().max() <= 80
    assert len(text) < 2000 and "1,000,000자" in text


def test_a_symlink_is_refused_without_reading_it(fresh, tmp_path):
    link = tmp_path / "h.csv"
    link.symlink_to("/etc/passwd")
    before = fingerprint(fresh, ALL_TABLES)
    with pytest.raises(BlindspotError) as info:
        ingest.ingest_paths(fresh, ROUND, link, sgg=[SEJONG])
    assert "심볼릭 링크" in str(info.value) and "root" not in str(info.value)
    assert fingerprint(fresh, ALL_TABLES) == before
    out = _cli("ingest", str(link), "--round", ROUND, "--sgg", SEJONG, "--db", str(fresh_copy(fresh, tmp_path)))
    assert out.returncode == 2 and "심볼릭 링크" in out.stderr and "Traceback" not in out.stderr
    assert "root:x" not in out.stderr and "/bin/" not in out.stderr


def fresh_copy(store, tmp_path) -> Path:
    store.checkpoint()
    path = tmp_path / "cli-copy.duckdb"
    shutil.copy(store.path, path)
    return path


def test_a_fifo_is_refused(fresh, tmp_path):
    fifo = tmp_path / "h.csv"
    os.mkfifo(fifo)
    with pytest.raises(BlindspotError, match="일반 파일이 아닙니다"):
        ingest.ingest_paths(fresh, ROUND, fifo, sgg=[SEJONG])


def test_a_non_data_file_is_refused_in_one_message_without_its_contents(fresh):
    passwd = (
        b"root:x:0:0:root:/root:/bin/bash\nkim:x:1000:1000:Kim Minsu,,,010-1234-5678:/home/kim:/bin/bash\n"
        b"lee:x:1001:1001::/home/lee:/bin/sh\n"
    )
    report, text = _refused(fresh, ("h.csv", passwd), "자료 파일이 아니거나", 1)
    assert len(report) == 1
    for secret in ("root", "kim", "Kim", "/bin/bash", "1234"):
        assert secret not in text and secret not in report_csv(report).decode("utf-8-sig")


def test_a_bad_byte_in_a_cp949_file_is_reported_at_its_row(sejong, fresh):
    from blindspot import vocab

    frame = _base(sejong)
    frame["housing_type"] = frame["housing_type"].map(vocab.HOUSING_TYPES)
    data = _csv(frame, "cp949")
    lines = data.split(b"\n")
    lines[6] = lines[6].replace(",", ",\xff", 1) if isinstance(lines[6], str) else lines[6].replace(b",", b",\xff", 1)
    report, text = _refused(fresh, ("h.csv", b"\n".join(lines)), "CP949", 7)
    assert len(report) == 1 and "Cyrillic" not in text and "1행" not in text


@pytest.mark.parametrize("case", ["utf16_no_bom_le", "utf16_no_bom_be", "semicolons", "mojibake", "pipes"])
def test_wrong_encoding_or_delimiter_gives_one_message(case, sejong, fresh):
    frame = _base(sejong)
    frame = frame.rename(columns={"pseudo_id": "가구ID", "emd_code": "읍면동코드", "head_age": "세대주연령"})
    text = frame.to_csv(index=False)
    data, match = {
        "utf16_no_bom_le": (text.encode("utf-16-le"), "UTF-16"),
        "utf16_no_bom_be": (text.encode("utf-16-be"), "UTF-16"),
        "semicolons": (frame.to_csv(index=False, sep=";").encode("utf-8"), "세미콜론"),
        "mojibake": (text.encode("utf-8").decode("latin-1").encode("utf-8"), "깨져"),
        "pipes": (frame.to_csv(index=False, sep="|").encode("utf-8"), "세로줄"),
    }[case]
    report, _ = _refused(fresh, ("h.csv", data), match)
    assert len(report) == 1, report.to_string()


# --- partial rounds ---------------------------------------------------------------------------


def test_a_partial_file_needs_a_declared_scope(sejong, fresh):
    data = ("h.csv", _csv(_base(sejong)))
    _refused(fresh, data, "--sgg 36110", sgg=None)
    result = ingest.ingest(fresh, ROUND, data, sgg=[SEJONG])
    assert result["scope"] == [SEJONG]
    overview = queries.overview(fresh, Scope.all_areas(), 20243)
    assert overview["coverage"] == {"partial": True, "sgg_count": 1, "sgg_total": 252, "declared": [SEJONG]}
    assert overview["households"] == 40
    assert queries.data_info(fresh)["partial_rounds"] == {ROUND: 1}


def test_rows_outside_the_declared_scope_are_refused(sejong, fresh):
    gwangju_emd = fresh.scalar("SELECT min(code) FROM regions WHERE level = 'emd' AND sgg_code = '29110'")
    frame = _set(_base(sejong), 6, "emd_code", gwangju_emd)
    _refused(fresh, ("h.csv", _csv(frame)), "밝힌 적재 범위(시군구 36110) 밖", 8, "emd_code")
    _refused(fresh, ("h.csv", _csv(_base(sejong))), "행정구역에 없습니다", None, "sgg", sgg=[SEJONG, "99999"])
    _refused(fresh, ("h.csv", _csv(_base(sejong))), "가구가 한 곳도 없습니다", None, "sgg", sgg=[SEJONG, "29110"])


def test_replacing_a_round_with_fewer_areas_needs_the_scope(small_db, sejong, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(small_db, path)
    st = Store(path)
    try:
        assert not queries.overview(st, Scope.all_areas(), 20243)["coverage"]["partial"]
        before = fingerprint(st, ALL_TABLES)
        with pytest.raises(ingest.IngestError, match="기존 자료"):
            ingest.ingest(st, ROUND, ("h.csv", _csv(sejong.head(100))), replace=True)
        assert fingerprint(st, ALL_TABLES) == before
        ingest.ingest(st, ROUND, ("h.csv", _csv(sejong.head(100))), replace=True, sgg=[SEJONG])
        coverage = queries.overview(st, Scope.all_areas(), 20243)["coverage"]
        assert coverage["partial"] and coverage["sgg_count"] == 1
    finally:
        st.close()


def test_cli_partial_scope(sejong, empty_db, tmp_path):
    db = tmp_path / "cli.duckdb"
    shutil.copy(empty_db, db)
    path = tmp_path / "h.csv"
    path.write_bytes(_csv(_base(sejong)))
    out = _cli("ingest", str(path), "--round", ROUND, "--sgg", "29110", "--db", str(db))
    assert out.returncode == 2 and "밖의 읍면동" in out.stderr and "Traceback" not in out.stderr
    out = _cli("ingest", str(path), "--round", ROUND, "--sgg", SEJONG, "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["scope"] == [SEJONG]


def test_overview_page_marks_a_partial_round(sejong, empty_db, env_db, tmp_path):
    from apptest import _app

    path = tmp_path / "real.duckdb"
    shutil.copy(empty_db, path)
    st = Store(path)
    ingest.ingest(st, ROUND, ("h.csv", _csv(_base(sejong))), sgg=[SEJONG])
    st.checkpoint()
    st.close()
    at = _app(env_db, path, user="admin").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "가구 수 · 일부 지역 (1개 시군구)" in labels and "가구 수 (전국)" not in labels
    assert any("전국 수치가 아닙니다" in w.value for w in at.warning)
