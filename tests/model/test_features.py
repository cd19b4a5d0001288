import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from blindspot.access import Scope
from blindspot.db.store import Store
from blindspot.indicators.catalogue import load_catalogue
from blindspot.model.features import build_features, feature_set, labels, previous_rounds


def test_feature_columns_follow_the_catalogue(small_store):
    fs = feature_set()
    assert len(fs.flags) + len(fs.months) + len(fs.amounts) == len(load_catalogue())
    df = build_features(small_store, 20243, Scope.district(["36110"]))
    assert sorted(df.columns[3:]) == sorted(fs.all)
    assert len(df) == small_store.scalar("SELECT count(*) FROM households WHERE sgg_code = '36110'")
    assert df["household_id"].is_monotonic_increasing


def test_features_match_the_observations(small_store):
    df = build_features(small_store, 20243, Scope.district(["29110"])).set_index("household_id")
    obs = small_store.df(
        "SELECT household_id, indicator_code, value FROM observations WHERE round_id = 20243 AND sgg_code = '29110'"
    )
    sample = obs.sample(200, random_state=0)
    for row in sample.itertuples():
        assert df.loc[row.household_id, f"ind_{row.indicator_code}"] == row.value
    counts = obs.groupby("household_id").size()
    assert (df.loc[counts.index, "n_signals"] == counts.values).all()
    assert (df.drop(counts.index)["n_signals"] == 0).all()
    # 읍면동 rate: share of households with at least one signal
    emd = df.groupby("emd_code").agg(rate=("emd_signal_rate", "first"), share=("n_signals", lambda s: (s > 0).mean()))
    np.testing.assert_allclose(emd["rate"], emd["share"])


def test_no_leakage_from_later_rounds(small_db, tmp_path):
    """Features of round t are the same whether or not later rounds exist."""
    copy = tmp_path / "cut.duckdb"
    shutil.copy(small_db, copy)
    con = duckdb.connect(str(copy))
    con.execute("DELETE FROM observations WHERE round_id > 20242")
    con.execute("DELETE FROM visits WHERE round_id > 20242")
    con.close()
    full, cut = Store(small_db, read_only=True), Store(copy, read_only=True)
    try:
        a = build_features(full, 20242, Scope.district(["29140"]))
        b = build_features(cut, 20242, Scope.district(["29140"]))
        pd.testing.assert_frame_equal(a, b)
    finally:
        full.close()
        cut.close()


def test_history_features_on_a_known_household(small_store):
    # A household signalled in 2024-R2 and 2024-R3 (and not in 2024-R1) has streak 2.
    hid = small_store.scalar("""
        SELECT household_id FROM observations WHERE sgg_code = '29170'
        GROUP BY household_id
        HAVING bool_or(round_id = 20243) AND bool_or(round_id = 20242) AND NOT bool_or(round_id = 20241)
        ORDER BY household_id LIMIT 1""")
    df = build_features(small_store, 20243, Scope.district(["29170"])).set_index("household_id")
    assert df.loc[hid, "streak"] == 2
    assert df.loc[hid, "prev_rounds_signalled"] == 1 + (
        small_store.scalar("SELECT count(*) FROM observations WHERE household_id = ? AND round_id = 20236", [hid]) > 0
    )


def test_labels_exclude_unreachable(small_store):
    lab = labels(small_store, 20243)
    n = small_store.scalar("SELECT count(*) FROM visits WHERE round_id = 20243 AND outcome <> 'unreachable'")
    assert len(lab) == n and set(lab["label"]) == {0, 1}


@pytest.mark.parametrize("round_id, expected", [(20243, [20242, 20241, 20236]), (20241, [20236, 20235, 20234])])
def test_previous_rounds(round_id, expected):
    assert previous_rounds(round_id) == expected
