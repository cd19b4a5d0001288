"""Hotspots from the store (blindspot.maps.hotspots) on the session database's real adjacency."""

from blindspot.access import Scope
from blindspot.maps import hotspots, spatial


def test_hotspots_on_real_adjacency(small_store):
    res = hotspots.hotspots(small_store, Scope.all_areas(), 20243, "one_person_share", area="29", permutations=99)
    assert len(res) == 96 and res["code"].str.startswith("29").all()
    assert set(res["cls"]) <= set(spatial.GI_CLASSES)
    district = hotspots.hotspots(small_store, Scope.district(["29110"]), 20243, "one_person_share", permutations=99)
    assert district["code"].str.startswith("29110").all()
    pairs = hotspots.adjacency(small_store, Scope.district(["29110"]))
    assert pairs and all(a.startswith("29110") and b.startswith("29110") for a, b in pairs)


def test_emerging_hotspots_from_store(small_store):
    res = hotspots.emerging_hotspots(small_store, Scope.all_areas(), 20243, "signal_any", area="36")
    assert len(res) == 24
    assert [c for c in res.columns if c.startswith("z_2")] == ["z_20236", "z_20241", "z_20242", "z_20243"]
    assert res["emerging"].dtype == bool
