"""Ingest of extraction files: every bad input is refused with a clear message and writes
nothing; good files load atomically and idempotently; a demo round survives a round trip."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from blindspot.access import Scope
from blindspot.db import schema
from blindspot.db import sql as db_sql
from blindspot.db.sql import valid_in_round
from blindspot.db.store import Store, fingerprint
from blindspot.errors import BlindspotError
from blindspot.ingest import exchange
from blindspot.ingest import load as ingest

ROUND = "2024-R3"
SEJONG = "36110"
# The 시군구 of the small demo (Gwangju's five and Sejong): a whole-round export covers them all.
SMALL_SGG = ["29110", "29140", "29155", "29170", "29200", "36110"]


def _csv(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def _base(sejong, n: int = 40) -> pd.DataFrame:
    return sejong[0].head(n).copy().astype(object)


def _xlsx(rows: list[list], merge: str | None = None, formula_at: str | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    if formula_at:
        ws[formula_at] = "=1+1"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _frame_rows(frame: pd.DataFrame) -> list[list]:
    return [list(frame.columns)] + frame.astype(object).where(frame.notna(), None).values.tolist()


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


ALL_TABLES = list(schema.TABLES)


def _refused(store, files, match: str, row=None, column=None, round_code: str = ROUND, sgg=(SEJONG,)):
    before = fingerprint(store, ALL_TABLES)
    households, outcomes = files if isinstance(files, tuple) and isinstance(files[0], tuple) else (files, None)
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
    # The message counts every problem, names the first five and says how many more there are.
    text = str(info.value)
    assert text.startswith(f"문제 {len(report):,}건"), text
    for message in report["message"].head(5):
        assert message in text, (message, text)
    assert (f"… 외 {len(report) - 5:,}건" in text) == (len(report) > 5), text
    return report


# --- bad input: each refused with a clear message, nothing written ---------------------------------


def _set(frame, i, column, value):
    frame = frame.copy()
    frame.iloc[i, frame.columns.get_loc(column)] = value
    return frame


def _cut_last_line(data: bytes) -> bytes:
    """A transfer cut off in the middle of the last line."""
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
    return data[: len(data) - len(last) // 2]


def _flag_col():
    return "elec_cutoff"  # flag


def _months_col():
    return "elec_arrears"  # months


def _amount_col():
    return "fin_delinquency"  # amount


CASES = {
    "latin1_encoding": (lambda b: ("h.csv", _csv(b).replace(b"H", b"\xff\xfeH", 1)), "문자 인코딩", None, None),
    "utf16": (lambda b: ("h.csv", b.to_csv(index=False).encode("utf-16")), "UTF-16", None, None),
    "missing_column": (
        lambda b: ("h.csv", _csv(b.drop(columns=["head_age"]))),
        "필수 열이 없습니다: head_age",
        1,
        None,
    ),
    "missing_indicator_column": (
        lambda b: ("h.csv", _csv(b.drop(columns=["tax_arrears"]))),
        "필수 열이 없습니다: tax_arrears",
        1,
        None,
    ),
    "extra_column": (lambda b: ("h.csv", _csv(b.assign(비고="x"))), "형식에 없는 열", 1, "비고"),
    "unknown_indicator_column": (lambda b: ("h.csv", _csv(b.assign(elec_cut=1))), "카탈로그", 1, "elec_cut"),
    "duplicate_header": (
        lambda b: ("h.csv", _csv(b).replace(b"head_sex", b"head_age", 1)),
        "두 번 나옵니다",
        1,
        "head_age",
    ),
    "alias_and_name_twice": (lambda b: ("h.csv", _csv(b.assign(세대주연령=b["head_age"]))), "같은 항목", 1, None),
    "unknown_emd_code": (
        lambda b: ("h.csv", _csv(_set(b, 1, "emd_code", "3611099999"))),
        "행정구역에 없습니다",
        3,
        "emd_code",
    ),
    "kostat_8_digit_code": (
        lambda b: ("h.csv", _csv(_set(b, 2, "emd_code", "29010530"))),
        "통계청(KOSTAT",
        4,
        "emd_code",
    ),
    "malformed_emd_code": (lambda b: ("h.csv", _csv(_set(b, 0, "emd_code", "36110A1000"))), "10자리", 2, "emd_code"),
    "negative_amount": (lambda b: ("h.csv", _csv(_set(b, 5, _amount_col(), -5000))), "음수 불가", 7, _amount_col()),
    "negative_months": (lambda b: ("h.csv", _csv(_set(b, 6, _months_col(), -2))), "음수 불가", 8, _months_col()),
    "amount_too_big": (lambda b: ("h.csv", _csv(_set(b, 6, _amount_col(), 3_000_000_000))), "2,147,483,647", 8, None),
    "flag_not_0_1": (lambda b: ("h.csv", _csv(_set(b, 7, _flag_col(), 2))), "1(있음) 또는 0", 9, _flag_col()),
    "text_in_numeric": (
        lambda b: ("h.csv", _csv(_set(b, 3, "head_age", "사십"))),
        "정수(숫자)가 아닙니다",
        5,
        "head_age",
    ),
    "decimal_months": (
        lambda b: ("h.csv", _csv(_set(b, 3, _months_col(), "1.5"))),
        "정수(숫자)가 아닙니다",
        5,
        _months_col(),
    ),
    "duplicate_ids": (
        lambda b: ("h.csv", _csv(_set(b, 9, "pseudo_id", b.iloc[0]["pseudo_id"]))),
        "처음 나온 행: 2",
        11,
        "pseudo_id",
    ),
    "empty_file": (lambda b: ("h.csv", b""), "비어 있습니다", None, None),
    "header_only": (lambda b: ("h.csv", _csv(b.head(0))), "자료 행이 없습니다", None, None),
    "blank_row_inside": (lambda b: ("h.csv", _csv(b).replace(b"\n", b"\n\n", 3)), "빈 행", None, None),
    "ragged_last_line": (lambda b: ("h.csv", _cut_last_line(_csv(b))), "열 개수가 머리글과 다릅니다", 41, None),
    "truncated_parquet": (
        lambda b: ("h.parquet", _parquet(b.astype({"pseudo_id": str}))[:900]),
        "Parquet 파일을 읽을 수 없습니다",
        None,
        None,
    ),
    "truncated_xlsx": (
        lambda b: ("h.xlsx", _xlsx(_frame_rows(b))[:3000]),
        "엑셀(.xlsx) 파일을 열 수 없습니다",
        None,
        None,
    ),
    "xlsx_merged_header": (
        lambda b: ("h.xlsx", _xlsx([["2024년 3차 추출"] + [None] * 5] + _frame_rows(b), merge="A1:F1")),
        "병합된 셀이 있습니다: A1:F1",
        1,
        None,
    ),
    "xlsx_formula": (lambda b: ("h.xlsx", _xlsx(_frame_rows(b), formula_at="C5")), "수식", 5, "C5"),
    "xlsx_title_row_not_merged": (
        lambda b: ("h.xlsx", _xlsx([["2024년 3차 추출"]] + _frame_rows(b))),
        "필수 열이 없습니다",
        1,
        None,
    ),
    "unknown_housing_label": (
        lambda b: ("h.csv", _csv(_set(b, 4, "housing_type", "궁전"))),
        "주거 형태는",
        6,
        "housing_type",
    ),
    "unknown_sex": (lambda b: ("h.csv", _csv(_set(b, 4, "head_sex", "X"))), "세대주 성별", 6, "head_sex"),
    "one_person_vs_size": (
        lambda b: ("h.csv", _csv(_set(_set(b, 0, "household_size", 3), 0, "one_person", 1))),
        "맞지 않습니다",
        2,
        "one_person",
    ),
    "age_out_of_range": (lambda b: ("h.csv", _csv(_set(b, 8, "head_age", 200))), "세대주 연령", 10, "head_age"),
    "size_zero": (lambda b: ("h.csv", _csv(_set(b, 8, "household_size", 0))), "가구원 수는", 10, "household_size"),
    "empty_id": (lambda b: ("h.csv", _csv(_set(b, 8, "pseudo_id", None))), "비어 있습니다", 10, "pseudo_id"),
    "resident_number_as_id": (
        lambda b: ("h.csv", _csv(_set(b, 8, "pseudo_id", "900101-1234567"))),
        "주민등록번호",
        10,
        "pseudo_id",
    ),
    "xls_extension": (lambda b: ("h.xls", b"\xd0\xcf\x11\xe0"), "지원하지 않는 파일 형식", None, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_households_file_is_refused_and_writes_nothing(case, sejong, fresh):
    build, match, row, column = CASES[case]
    _refused(fresh, build(_base(sejong)), match, row, column)


def _long(sejong) -> pd.DataFrame:
    wide = _base(sejong)
    ids = wide["pseudo_id"].tolist()
    st_rows = []
    for rec in wide.to_dict("records"):
        attrs = {
            k: rec[k]
            for k in (
                "pseudo_id",
                "emd_code",
                "head_age",
                "head_sex",
                "household_size",
                "one_person",
                "housing_type",
                "welfare_status",
            )
        }
        st_rows.append({**attrs, "indicator_code": None, "value": None})
    frame = pd.DataFrame(st_rows)
    extra = frame.iloc[[0, 1]].assign(indicator_code=["elec_cutoff", "fin_delinquency"], value=[1, 300000])
    assert ids
    return pd.concat([frame, extra], ignore_index=True)


LONG_CASES = {
    "long_unknown_indicator": (
        lambda f: _set(f, 40, "indicator_code", "no_such_code"),
        "카탈로그",
        42,
        "indicator_code",
    ),
    "long_duplicate_signal": (lambda f: pd.concat([f, f.iloc[[40]]], ignore_index=True), "두 번 나옵니다", 44, None),
    "long_inconsistent_attributes": (lambda f: _set(f, 41, "head_age", 19), "앞 행과 값이 다릅니다", 43, "head_age"),
    "long_flag_value_5": (lambda f: _set(f, 40, "value", 5), "종류에 맞지 않습니다", 42, "value"),
    "long_value_without_code": (lambda f: _set(f, 3, "value", 7), "지표 코드가 있어야", 5, "indicator_code"),
}


@pytest.mark.parametrize("case", list(LONG_CASES))
def test_bad_long_file_is_refused(case, sejong, fresh):
    change, match, row, column = LONG_CASES[case]
    _refused(fresh, ("long.csv", _csv(change(_long(sejong)))), match, row, column)


def test_bad_outcomes_are_refused(sejong, fresh):
    base = _base(sejong)
    visits = pd.DataFrame(
        {
            "pseudo_id": [base["pseudo_id"][0], "NOPE0001"],
            "channel": ["system", "이웃 신고"],
            "outcome": ["supported", "모름"],
            "support_type": ["긴급지원", None],
        }
    )
    files = (("h.csv", _csv(base)), ("o.csv", _csv(visits)))
    report = _refused(fresh, files, "가구 파일에 없는 가구 ID", 3, "pseudo_id")
    assert "방문 결과는" in " ".join(report["message"])
    missing = (("h.csv", _csv(base)), ("o.csv", _csv(visits.drop(columns=["outcome"]))))
    _refused(fresh, missing, "필수 열이 없습니다: outcome", 1)


@pytest.mark.parametrize("round_code", ["2024-7", "2024-R7", "24-R1", ""])
def test_wrong_round_format(round_code, sejong, fresh):
    report = _refused(fresh, ("h.csv", _csv(_base(sejong))), "차수 형식", round_code=round_code)
    # The typed round is at fault, not the file: the report names the input, not h.csv.
    assert report["file"].tolist() == [ingest.ROUND_INPUT] and "아직 읽지 않았습니다" in report["message"][0]


def test_report_has_every_problem_and_downloads_as_csv(sejong, fresh):
    from blindspot.ingest.report import report_csv

    bad = _set(_set(_base(sejong), 0, "head_age", "abc"), 2, _amount_col(), -1)
    report = _refused(fresh, ("h.csv", _csv(bad)), "정수(숫자)가 아닙니다", 2, "head_age")
    assert report[["row", "column", "value"]].astype(str).values.tolist()[:2] == [
        ["2", "head_age", "abc"],
        ["4", _amount_col(), "-1"],
    ]
    text = report_csv(report).decode("utf-8-sig")
    assert text.splitlines()[0] == "파일,행,열,값,문제" and "h.csv,2,head_age,abc," in text


# --- good input --------------------------------------------------------------------------------------


def _round_households(store, round_id=20243) -> int:
    return int(exchange.round_aggregates(store, Scope.all_areas(), round_id)["households"]["households"].sum())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_korean_labels_in_every_csv_encoding(encoding, sejong, fresh):
    from blindspot import vocab

    base = _base(sejong)
    base["housing_type"] = base["housing_type"].map(vocab.HOUSING_TYPES)
    base["welfare_status"] = base["welfare_status"].map(vocab.WELFARE_STATUS)
    base["head_sex"] = base["head_sex"].map(vocab.HEAD_SEX)
    base = base.rename(columns={"pseudo_id": "가구ID", "emd_code": "읍면동코드", "head_age": "세대주연령"})
    data = _csv(base, "utf-8") if encoding == "utf-8-sig" else _csv(base, encoding)
    if encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    result = ingest.ingest(fresh, ROUND, ("가구.csv", data), sgg=[SEJONG])
    assert result["status"] == "loaded" and result["households"] == 40
    got = dict(fresh.rows("SELECT housing_type, count(*) FROM households GROUP BY 1"))
    assert got == _base(sejong)["housing_type"].value_counts().to_dict()


@pytest.mark.parametrize("fmt", ["xlsx", "parquet", "csv"])
def test_formats_and_long_layout_load_the_same(fmt, sejong, fresh, tmp_path):
    frame = _base(sejong, 200)
    if fmt == "xlsx":
        data = _xlsx(_frame_rows(frame))
    elif fmt == "parquet":
        data = _parquet(sejong[0].head(200))
    else:
        data = _csv(frame)
    result = ingest.ingest(fresh, ROUND, (f"h.{fmt}", data), sgg=[SEJONG])
    expected = int(sejong[0].head(200)[list(ingest.load_catalogue().codes)].notna().sum().sum())
    assert result["households"] == 200 and result["observations"] == expected


def test_round_trip_of_a_demo_round(small_db, fresh, tmp_path):
    """Export a whole demo round, load it into a database with no synthetic data:
    households, one-person households, signals per indicator and visits per 읍면동 agree."""
    src = Store(small_db, read_only=True)
    try:
        files = exchange.export_round(src, Scope.all_areas(), ROUND, tmp_path, "csv")
        before = exchange.round_aggregates(src, Scope.all_areas(), 20243)
    finally:
        src.close()
    result = ingest.ingest_paths(
        fresh, ROUND, Path(files["households_file"]), Path(files["outcomes_file"]), sgg=SMALL_SGG
    )
    assert result["households"] == files["households_rows"] > 40_000
    after = exchange.round_aggregates(fresh, Scope.all_areas(), 20243)
    for key in ("households", "signals", "visits"):
        pd.testing.assert_frame_equal(after[key], before[key], check_dtype=False)
    assert fresh.scalar("SELECT count(*) FROM rounds") == 1
    assert fresh.rows("SELECT source FROM rounds") == [("ingest",)]
    assert fresh.meta()["data_kind"] == "real"
    # Every household lies inside its 읍면동's polygon-derived bounding area (a point was placed there).
    assert (
        fresh.scalar("""SELECT count(*) FROM households h JOIN regions r ON r.code = h.emd_code
                           WHERE h.lon IS NULL OR h.lat IS NULL""")
        == 0
    )


def test_long_parquet_round_trip(small_db, fresh, tmp_path):
    src = Store(small_db, read_only=True)
    try:
        files = exchange.export_round(src, Scope.district([SEJONG]), ROUND, tmp_path, "parquet", long=True)
        hh, _ = exchange.round_frames(src, Scope.district([SEJONG]), ROUND)
    finally:
        src.close()
    result = ingest.ingest_paths(
        fresh, ROUND, Path(files["households_file"]), Path(files["outcomes_file"]), sgg=[SEJONG]
    )
    assert result["layout"] == "long" and result["households"] == len(hh)
    assert result["observations"] == int(hh[list(ingest.load_catalogue().codes)].notna().sum().sum())


def test_same_file_again_changes_nothing(sejong, fresh):
    files = ("h.csv", _csv(sejong[0])), ("o.csv", _csv(sejong[1]))
    first = ingest.ingest(fresh, ROUND, *files, loaded_by="담당자", sgg=[SEJONG])
    ingest.record_loads(first, None)  # what the CLI and the page do once the version is published
    before = fingerprint(fresh, ALL_TABLES)
    again = ingest.ingest(fresh, ROUND, *files, sgg=[SEJONG])
    assert again["status"] == "already_loaded" and again["message"] == "이미 적재됨"
    assert fingerprint(fresh, ALL_TABLES) == before
    history = ingest.history(fresh)
    assert sorted(history[["kind", "file_name", "rows", "loaded_by"]].values.tolist()) == [
        ["households", "h.csv", len(sejong[0]), "담당자"],
        ["outcomes", "o.csv", len(sejong[1]), "담당자"],
    ]
    assert set(history["file_sha256"]) == {ingest.sha256(files[0][1]), ingest.sha256(files[1][1])}
    assert first["visits"] == len(sejong[1])


def test_different_file_needs_replace(sejong, fresh):
    ingest.record_loads(ingest.ingest(fresh, ROUND, ("h.csv", _csv(sejong[0])), sgg=[SEJONG]), None)
    before = fingerprint(fresh, ALL_TABLES)
    smaller = ("h2.csv", _csv(sejong[0].head(100)))
    with pytest.raises(BlindspotError, match="--replace"):
        ingest.ingest(fresh, ROUND, smaller, sgg=[SEJONG])
    assert fingerprint(fresh, ALL_TABLES) == before
    result = ingest.ingest(fresh, ROUND, smaller, replace=True, sgg=[SEJONG])
    ingest.record_loads(result, None)
    assert result["replaced"] and _round_households(fresh) == 100
    assert ingest.history(fresh)["replaced"].tolist() == [True, False]


def test_replacing_a_demo_round_leaves_other_rounds(small_db, sejong, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(small_db, path)
    st = Store(path)
    try:
        before_r2 = _round_households(st, 20242)
        with pytest.raises(BlindspotError, match="--replace"):
            ingest.ingest(st, ROUND, ("h.csv", _csv(sejong[0].head(500))), sgg=[SEJONG])
        ingest.ingest(st, ROUND, ("h.csv", _csv(sejong[0].head(500))), replace=True, sgg=[SEJONG])
        assert _round_households(st, 20243) == 500
        assert _round_households(st, 20242) == before_r2
        assert st.scalar("SELECT count(*) FROM synthetic_crisis WHERE round_id = 20243") == 0
        # A household of the file keeps its demo id (same pseudonymous id).
        pid = sejong[0]["pseudo_id"].iloc[0]
        assert st.scalar("SELECT count(DISTINCT household_id) FROM households WHERE pseudo_id = ?", [pid]) == 1
    finally:
        st.close()


def test_ids_are_stable_and_unchanged_households_continue(sejong, fresh):
    frame = sejong[0].head(300)
    ingest.ingest(fresh, "2024-R3", ("r3.csv", _csv(frame)), sgg=[SEJONG])
    ids_r3 = dict(fresh.rows("SELECT pseudo_id, household_id FROM households"))
    moved = _set(frame.astype(object), 0, "head_age", int(frame["head_age"].iloc[0]) + 1)
    ingest.ingest(fresh, "2024-R4", ("r4.csv", _csv(moved)), sgg=[SEJONG])
    ids_r4 = dict(fresh.rows(f"SELECT pseudo_id, household_id FROM households WHERE {valid_in_round('20244')}"))
    assert ids_r4 == ids_r3
    # 299 unchanged households are one version spanning both rounds, left as they were (still
    # current: no later round); the changed one has two, the first ending at 2024-R3.
    assert fresh.scalar("SELECT count(*) FROM households") == 301
    assert fresh.scalar("SELECT count(*) FROM households WHERE valid_to_round IS NULL") == 300
    changed = frame["pseudo_id"].iloc[0]
    versions = fresh.rows(
        "SELECT valid_from_round, valid_to_round FROM households WHERE pseudo_id = ? ORDER BY 1", [changed]
    )
    assert versions == [(20243, 20243), (20244, None)]
    assert _round_households(fresh, 20243) == _round_households(fresh, 20244) == 300


def test_kill_during_load_leaves_earlier_state(sejong, empty_db, tmp_path):
    path = tmp_path / "kill.duckdb"
    shutil.copy(empty_db, path)
    first = tmp_path / "first.csv"
    first.write_bytes(_csv(sejong[0].head(100)))
    second = tmp_path / "second.csv"
    second.write_bytes(_csv(sejong[0]))
    st = Store(path)
    ingest.ingest_paths(st, ROUND, first, sgg=[SEJONG])
    st.checkpoint()
    before = fingerprint(st, ALL_TABLES)
    st.close()
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from blindspot.ingest import load as ingest
        from blindspot.db.store import Store

        def progress(fraction, message):
            if "트랜잭션 안" in message:
                print("IN_TRANSACTION", flush=True)
                time.sleep(60)

        st = Store({str(path)!r})
        ingest.ingest_paths(st, {ROUND!r}, Path({str(second)!r}), replace=True, progress=progress, sgg=[{SEJONG!r}])
        print("COMMITTED", flush=True)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).resolve().parents[2])
    )
    try:
        assert proc.stdout.readline().strip() == "IN_TRANSACTION"
        proc.kill()
    finally:
        proc.wait()
    st = Store(path)
    try:
        assert fingerprint(st, ALL_TABLES) == before
        assert _round_households(st) == 100
    finally:
        st.close()


def test_rescore_with_the_model_in_service(modelled, tmp_path):
    db, models, meta = modelled
    path = tmp_path / "m.duckdb"
    shutil.copy(db, path)
    st = Store(path)
    try:
        hh, visits = exchange.round_frames(st, Scope.all_areas(), ROUND)
        ingest.ingest(st, ROUND, ("h.parquet", _parquet(hh)), ("o.csv", _csv(visits)), replace=True)
        assert st.scalar("SELECT count(*) FROM scores WHERE round_id = 20243") == 0  # stale scores went
        result = ingest.rescore(st, ROUND, models)
        assert result["model_version"] == meta["version"] and result["households"] == len(hh)
    finally:
        st.close()


def test_rescore_without_a_model_says_how_to_train(sejong, fresh, tmp_path):
    from blindspot.model.pipeline import ModelError

    ingest.ingest(fresh, ROUND, ("h.csv", _csv(_base(sejong))), sgg=[SEJONG])
    with pytest.raises(ModelError, match="python -m blindspot train"):
        ingest.rescore(fresh, ROUND, tmp_path / "models")


@pytest.mark.slow
def test_one_million_rows_load_within_budget(fresh):
    codes = [c for (c,) in fresh.rows(db_sql.REGION_CODES_AT_LEVEL, ["emd"])]
    data = exchange.bench_file(1_000_000, codes)
    t = time.monotonic()
    result = ingest.ingest(fresh, ROUND, ("million.csv", data))
    seconds = time.monotonic() - t
    assert result["households"] == 1_000_000
    assert seconds <= 60, seconds


def _enter_outcome(st, pid: str, user: str = "kim") -> None:
    """An outcome as the app records it: one operational-store entry and its record_outcome
    audit record."""
    import datetime as dt

    from blindspot.access import Scope
    from blindspot.casework import audit
    from blindspot.db import opstore
    from blindspot.db.store import entered_changed

    opstore.open_ops().add_outcome(20243, pid, "supported", "긴급지원", dt.datetime.now(), user)
    entered_changed()
    audit.record(
        Scope.district([SEJONG], user=user),
        "record_outcome",
        {"round": 20243, "pseudo_id": pid, "outcome": "supported"},
        1,
        "방문 결과 입력",
    )


def test_replace_keeps_outcomes_entered_in_the_app(sejong, fresh):
    households = sejong[0]
    ingest.ingest(fresh, ROUND, ("h.csv", _csv(households)), sgg=[SEJONG])
    kept_pid, lost_pid = households["pseudo_id"].iloc[3], households["pseudo_id"].iloc[0]
    _enter_outcome(fresh, kept_pid)
    # A file without the household whose outcome an official entered: refused, nothing changes.
    before = fingerprint(fresh, ALL_TABLES)
    without = households[households["pseudo_id"] != kept_pid]
    with pytest.raises(BlindspotError, match="방문 결과 1건이 사라집니다"):
        ingest.ingest(fresh, ROUND, ("h2.csv", _csv(without)), replace=True, sgg=[SEJONG])
    assert fingerprint(fresh, ALL_TABLES) == before
    # A file that still has it: the replace goes through and the entered outcome stays.
    smaller = households[households["pseudo_id"] != lost_pid]
    result = ingest.ingest(fresh, ROUND, ("h3.csv", _csv(smaller)), replace=True, sgg=[SEJONG])
    assert result["replaced"] and result["entered_outcomes_kept"] == 1
    row = fresh.rows(
        "SELECT v.outcome, v.support_type, v.recorded_by FROM visits_now v JOIN households h "
        "USING (household_id) WHERE v.round_id = 20243 AND h.pseudo_id = ?",
        [kept_pid],
    )
    assert row == [("supported", "긴급지원", "kim")]


def _round_rows(store, round_id: int) -> set[tuple]:
    attrs = "pseudo_id, emd_code, head_age, head_sex, household_size, one_person, housing_type, welfare_status"
    rows = store.rows(f"SELECT {attrs} FROM households WHERE {valid_in_round(str(round_id))}")
    assert len(rows) == len({r[0] for r in rows}), f"a household has two versions in {round_id}"
    return {tuple(str(v) for v in r) for r in rows}


def _file_rows(frame: pd.DataFrame) -> set[tuple]:
    cols = ["pseudo_id", "emd_code", "head_age", "head_sex", "household_size", "one_person"]
    cols += ["housing_type", "welfare_status"]
    f = frame[cols].astype(object)
    f["one_person"] = f["one_person"].map(lambda v: str(bool(int(v))))
    return {tuple(str(v) for v in r) for r in f.itertuples(index=False, name=None)}


def test_every_round_holds_exactly_its_file_through_out_of_order_loads(sejong, fresh):
    """Household versions after loads in any order (next round, a round in between, a
    replacement): each loaded round's households are exactly its last file, and no household
    has two versions in one round."""
    base = sejong[0].head(120).astype(object)
    r1 = base.iloc[:100]
    r3 = _set(_set(base.iloc[10:120], 0, "head_age", 99), 5, "housing_type", "other")  # 10 gone, 20 new, 2 changed
    r2 = _set(base.iloc[:110].drop(index=base.index[50]), 60, "household_size", 1)  # a middle round
    r2 = _set(r2, 60, "one_person", 1)
    r3b = _set(r3.drop(index=r3.index[30]), 40, "welfare_status", "near_poor")  # replacing the latest round
    files = {}
    for code, frame, replace in (
        ("2024-R1", r1, False),
        ("2024-R3", r3, False),
        ("2024-R2", r2, False),
        ("2024-R3", r3b, True),
    ):
        ingest.ingest(fresh, code, (f"{code}.csv", _csv(frame)), sgg=[SEJONG], replace=replace)
        files[code] = frame
        for done, expected in files.items():
            rid = int(done[:4]) * 10 + int(done[-1])
            assert _round_rows(fresh, rid) == _file_rows(expected), (code, done)
    # The ids of households present throughout never changed.
    ids = fresh.rows("SELECT pseudo_id, count(DISTINCT household_id) FROM households GROUP BY 1")
    assert {n for _, n in ids} == {1}
