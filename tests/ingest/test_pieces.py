"""A households file checked in pieces gives exactly the whole-file result: the same report
(including ids repeated across pieces) and the same households and signals."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from blindspot.indicators.catalogue import load_catalogue
from blindspot.ingest.pieces import check_households_file, pieces
from blindspot.ingest.readers import read_table
from blindspot.ingest.validation import check_households

CATALOGUE = load_catalogue()


def _bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, row_group_size=7)
    return buf.getvalue()


@pytest.fixture()
def frame(sejong) -> pd.DataFrame:
    return sejong[0].head(30).copy()


def _codes(frame) -> frozenset[str]:
    return frozenset(frame["emd_code"].astype(str))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_pieces_cover_every_row_once_with_file_row_numbers(frame, fmt):
    got = list(pieces(_bytes(frame, fmt), f"h.{fmt}", 4))
    assert [len(p) for p in got] == [4] * 7 + [2]
    rows = [r for p in got for r in p.row_numbers.tolist()]
    assert rows == list(range(2, 32))  # header = row 1
    assert [v for p in got for v in p.table.column("pseudo_id").to_pylist()] == frame["pseudo_id"].tolist()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_clean_file_checked_in_pieces_equals_the_whole_file(frame, fmt):
    data = _bytes(frame, fmt)
    whole = check_households(read_table(data, f"h.{fmt}"), _codes(frame), CATALOGUE)
    parts = check_households_file(data, f"h.{fmt}", _codes(frame), CATALOGUE, rows=4)
    assert whole.ok and parts.ok and parts.rows == 30
    pd.testing.assert_frame_equal(parts.households, whole.households)
    key = ["pseudo_id", "indicator_code"]
    a = whole.observations.astype({"pseudo_id": str, "indicator_code": str}).sort_values(key).reset_index(drop=True)
    b = parts.observations.astype({"pseudo_id": str, "indicator_code": str}).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert len(b) == int(frame[list(CATALOGUE.codes)].fillna(0).ne(0).sum().sum())
    assert parts.household_rows.tolist() == list(range(2, 32))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_problems_in_several_pieces_and_an_id_repeated_across_pieces(frame, fmt):
    bad = frame.astype(object)
    bad.iloc[1, bad.columns.get_loc("head_age")] = "abc"  # file row 3, piece 1
    bad.iloc[21, bad.columns.get_loc("pseudo_id")] = bad.iloc[2]["pseudo_id"]  # row 23 repeats row 4
    bad.iloc[26, bad.columns.get_loc("head_age")] = 999  # row 28, last piece
    if fmt == "parquet":
        bad["head_age"] = bad["head_age"].astype(str)
    data = _bytes(bad, fmt)
    whole = check_households(read_table(data, f"h.{fmt}"), _codes(frame), CATALOGUE)
    parts = check_households_file(data, f"h.{fmt}", _codes(frame), CATALOGUE, rows=4)
    assert parts.households is None and parts.observations is None
    pd.testing.assert_frame_equal(parts.report, whole.report)
    got = parts.report[["row", "column"]].astype(str).values.tolist()
    assert got == [["3", "head_age"], ["23", "pseudo_id"], ["28", "head_age"]]
    assert "처음 나온 행: 4" in parts.report.loc[1, "message"]


def test_a_header_problem_is_reported_once(frame):
    data = _bytes(frame.drop(columns=["head_age"]), "csv")
    parts = check_households_file(data, "h.csv", _codes(frame), CATALOGUE, rows=4)
    assert parts.report["message"].str.contains("필수 열이 없습니다: head_age").sum() == 1
    assert parts.report["row"].tolist() == [1]


def test_a_long_file_is_checked_whole(frame):
    long = frame.melt(
        id_vars=[c for c in frame.columns if c not in CATALOGUE.codes], var_name="indicator_code", value_name="value"
    ).dropna(subset=["value"])
    data = _bytes(long, "csv")
    whole = check_households(read_table(data, "h.csv"), _codes(frame), CATALOGUE)
    parts = check_households_file(data, "h.csv", _codes(frame), CATALOGUE, rows=3)
    assert parts.ok and parts.layout == "long"
    pd.testing.assert_frame_equal(parts.households, whole.households)
    assert len(parts.households) == long["pseudo_id"].nunique() > 3  # more than one piece
