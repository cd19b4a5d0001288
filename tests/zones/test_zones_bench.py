"""``zones_seconds`` and ``zones_presenter_seconds`` of ``bench --json``, and the reach gap's
timing beside it: the keys, what was ranked, and nothing when no round has scores."""

from __future__ import annotations

import pytest

from blindspot.bench.reach import reach_timing
from blindspot.db.store import Store
from blindspot.maps import counts as mapcounts
from blindspot.zones.bench import PRESENTER_K, zones_timing


@pytest.fixture(scope="module")
def db(modelled_store):
    return modelled_store


def test_zones_timing_ranks_every_sgg_of_the_latest_scored_round(db):
    out = zones_timing(db)
    assert set(out) == {"zones_seconds", "zones_presenter_seconds", "zones_round", "zones_rounds_used", "zones_areas"}
    assert out["zones_round"] == 20243 and out["zones_rounds_used"] == 3  # 2024-R1…R3 are scored
    assert out["zones_areas"] == 6  # 광주's five 자치구 and 세종
    assert out["zones_seconds"] > 0 and out["zones_presenter_seconds"] > 0
    # The presenter's figure was cold: its threshold is one no other timing remembers a tree for.
    assert any(key[2] == PRESENTER_K for key in mapcounts._MEMO)


def test_zones_timing_is_empty_without_scores(small_db):
    store = Store(small_db, read_only=True)
    try:
        assert zones_timing(store) == {}
        assert reach_timing(store) == {}
    finally:
        store.close()


def test_reach_timing_keys(db):
    out = reach_timing(db)
    assert set(out) == {"reach_gap_seconds", "reach_gap_presenter_seconds", "reach_gap_round", "reach_gap_areas"}
    assert out["reach_gap_round"] == 20243 and out["reach_gap_areas"] > 100  # 읍면동 of 광주 and 세종
