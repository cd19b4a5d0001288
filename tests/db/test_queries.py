import pandas as pd
import pytest
from conftest import SMALL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blindspot.access import Scope
from blindspot.db import queries

SGG_POOL = ["29110", "29140", "29155", "29170", "29200", "36110", "11110", "26110", "41111"]


def _latest(store):
    return queries.latest_round(store)


def test_counts_match_the_table(small_store):
    df = queries.households_by_region(small_store, Scope.all_areas(), "sido", _latest(small_store))
    assert len(df) == 17
    assert df["households"].sum() == small_store.scalar("SELECT count(*) FROM households")
    gwangju = df.set_index("code").loc["29"]
    assert gwangju["one_person"] == small_store.scalar(
        "SELECT count(*) FROM households WHERE sido_code = '29' AND one_person"
    )
    assert 0.3 < gwangju["one_person_share"] < 0.5
    assert pd.isna(df.set_index("code").loc["11", "households"])  # Seoul was not generated


def test_small_counts_are_suppressed(small_store):
    df = queries.households_by_region(small_store, Scope(None, False, 400), "emd", _latest(small_store))
    has = df[df["code"].str[:2].isin(SMALL.sido)]
    counts = small_store.df("SELECT emd_code AS code, count(*) AS n FROM households GROUP BY 1").set_index("code")["n"]
    small = has[has["code"].map(counts).fillna(0).between(1, 399)]
    assert len(small) > 0
    assert small["households"].isna().all() and small["one_person_share"].isna().all() and small["suppressed"].all()
    big = has[has["code"].map(counts).fillna(0) >= 400]
    assert big["households"].notna().all() and not big["suppressed"].any()
    assert (big["one_person"].dropna() >= 400).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codes=st.sets(st.sampled_from(SGG_POOL), min_size=1, max_size=4), level=st.sampled_from(["sido", "sgg", "emd"]))
def test_no_row_outside_scope(small_store, codes, level):
    scope = Scope.district(codes)
    df = queries.households_by_region(small_store, scope, level, _latest(small_store))
    if level == "sido":
        assert set(df["code"]) == {c[:2] for c in codes}
    else:
        prefix = df["code"].str[:5]
        assert prefix.isin(codes).all()
        assert set(prefix) == set(codes)
    expected = small_store.scalar(
        f"SELECT count(*) FROM households WHERE sgg_code IN ({', '.join('?' * len(codes))})", sorted(codes)
    )
    assert int(df["households"].fillna(0).sum()) == expected


def test_overview_totals(small_store):
    out = queries.overview(small_store, Scope.all_areas(), _latest(small_store))
    assert out["households"] == small_store.scalar("SELECT count(*) FROM households")
    assert out["one_person_share"] == pytest.approx(small_store.scalar("SELECT avg(one_person::INT) FROM households"))


def test_rounds_have_korean_labels(small_store):
    r = queries.rounds(small_store)
    assert r["round_code"].tolist() == ["2023-R6", "2024-R1", "2024-R2", "2024-R3"]
    assert r["label"].iloc[-1] == "2024년 3차 (5–6월)"


def test_band_counts_scope_and_suppression(modelled):
    from blindspot.access import Scope
    from blindspot.db.queries import band_counts
    from blindspot.db.store import open_store

    path, _, _ = modelled
    st = open_store(path)  # the process-wide store: AppTests may have opened this file already
    everything = band_counts(st, Scope.all_areas(), 20243)
    one = band_counts(st, Scope.district(["36110"]), 20243)
    total = st.scalar("SELECT count(*) FROM scores WHERE round_id = 20243")
    sejong = st.scalar("SELECT count(*) FROM scores WHERE round_id = 20243 AND sgg_code = '36110'")
    assert sum(everything.values()) == total
    assert sum(v for v in one.values() if v) == sejong
    high = st.scalar("SELECT count(*) FROM scores WHERE round_id = 20243 AND band = 'high' AND sgg_code = '36110'")
    hidden = band_counts(st, Scope.aggregates_only(min_count=high + 1), 20243)
    shown = band_counts(st, Scope(frozenset({"36110"}), False, high + 1), 20243)
    assert shown["high"] is None and hidden["none"] == everything["none"]
    assert band_counts(st, Scope.all_areas(), 20236) is None


def test_coverage_of_a_read_only_version_is_read_once(small_store, monkeypatch):
    # A published version never changes under its file: the 시군구 a round covers (a scan of
    # every household) are read once per round, and the answer stays the same.
    round_id = int(queries.rounds(small_store)["round_id"].iloc[-1])
    queries._COVERED.clear()
    first = queries.round_coverage(small_store, round_id)
    scans = []
    real = type(small_store).rows

    def counting(self, statement, params=None):
        scans.append(statement)
        return real(self, statement, params)

    monkeypatch.setattr(type(small_store), "rows", counting)
    again = queries.round_coverage(small_store, round_id)
    assert again == first and first["sgg_count"] == len(first["sgg"]) > 0
    assert not any("DISTINCT sgg_code" in s for s in scans)
    again["sgg"].append("99999")  # a caller's change does not reach the remembered codes
    assert queries.round_coverage(small_store, round_id)["sgg"] == first["sgg"]
