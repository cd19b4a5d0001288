"""Per-읍면동 aggregates: the maps read the same numbers from them as from the live tables,
and every writer of a round (build, scoring, ingest) keeps them current."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from blindspot.access import Scope
from blindspot.db import aggregates as stats
from blindspot.db.store import Store
from blindspot.demo.build import build_empty
from blindspot.ingest import exchange
from blindspot.ingest import load as ingest
from blindspot.maps import counts as mapcounts


@pytest.fixture(scope="module")
def pair(modelled, tmp_path_factory):
    """The modelled database twice: with its aggregates, and with them emptied (live path)."""
    root = tmp_path_factory.mktemp("stats")
    with_stats, live = root / "with.duckdb", root / "live.duckdb"
    shutil.copy(modelled[0], with_stats)
    shutil.copy(modelled[0], live)
    st = Store(live)
    for table in ("stats_ages", "stats_masks", "stats_risk"):
        st.run(f"DELETE FROM {table}")
    st.close()
    a, b = Store(with_stats, read_only=True), Store(live, read_only=True)
    yield a, b
    a.close()
    b.close()


def test_build_and_scoring_fill_the_aggregates(pair):
    agg, _ = pair
    assert all(stats.ready(agg, r) for r in (20236, 20241, 20242, 20243))
    assert stats.risk_ready(agg, 20243) and not stats.risk_ready(agg, 20236)
    n = agg.scalar("SELECT count(*) FROM households")
    assert agg.scalar("SELECT sum(n) FROM stats_ages WHERE round_id = 20243") == n
    assert agg.scalar("SELECT sum(scored) FROM stats_risk WHERE round_id = 20243") == n


@pytest.mark.parametrize("level", ["nation", "sido", "sgg", "emd"])
@pytest.mark.parametrize(
    "scope",
    [Scope.all_areas(), Scope.district(["29110", "36110"]), Scope.aggregates_only(min_count=7)],
    ids=["all", "district", "presenter"],
)
@pytest.mark.parametrize("round_id", [20242, 20243])
def test_aggregates_give_the_live_numbers(pair, level, scope, round_id):
    agg, live = pair
    assert not stats.ready(live, round_id)
    pd.testing.assert_frame_equal(
        mapcounts.region_counts(agg, scope, level, round_id),
        mapcounts.region_counts(live, scope, level, round_id),
        check_exact=False,
    )


def test_ingest_refreshes_the_aggregates(small_db, tmp_path):
    src = Store(small_db, read_only=True)
    try:
        files = exchange.export_round(src, Scope.district(["36110"]), "2024-R3", tmp_path, "csv")
    finally:
        src.close()
    db = tmp_path / "real.duckdb"
    build_empty(db)
    st = Store(db)
    try:
        ingest.ingest_paths(st, "2024-R3", files["households_file"], files["outcomes_file"], sgg=["36110"])
        assert stats.ready(st, 20243)
        got = mapcounts.region_counts(st, Scope.all_areas(), "emd", 20243)
        for table in ("stats_ages", "stats_masks", "stats_risk"):
            st.run(f"DELETE FROM {table}")
        pd.testing.assert_frame_equal(got, mapcounts.region_counts(st, Scope.all_areas(), "emd", 20243))
        assert got["households"].sum() == files["households_rows"]
    finally:
        st.close()
