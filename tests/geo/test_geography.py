import shutil

import geopandas as gpd
import pytest
import shapely

from blindspot import config
from blindspot.access import Scope
from blindspot.db.store import Store, fingerprint
from blindspot.errors import GeoDataError
from blindspot.geo.regions import (
    age_from,
    children,
    find_regions,
    import_boundary_file,
    load_geo,
    queen_adjacency,
    region,
    region_geometries,
    regions,
)


def test_levels_and_hierarchy(small_store):
    scope = Scope.all_areas()
    assert len(regions(small_store, scope, "sido")) == 17
    assert len(regions(small_store, scope, "sgg")) == 252
    assert len(regions(small_store, scope, "emd")) == 3558
    seoul = children(small_store, scope, "11")
    assert len(seoul) == 25 and set(seoul["level"]) == {"sgg"}
    jongno = children(small_store, scope, "11110")
    assert len(jongno) == 17 and all(c.startswith("11110") for c in jongno["code"])
    assert region(small_store, scope, "1111051500")["name"] == "청운효자동"
    assert region(small_store, scope, "27720")["parent_code"] == "27"  # 군위군 belongs to 대구 since 2023


def test_codes_are_text_with_leading_digits(small_store):
    sido = regions(small_store, Scope.all_areas(), "sido")
    assert sido["code"].str.len().eq(2).all()
    assert "11" in set(sido["code"])


def test_lookup_by_name(small_store):
    found = find_regions(small_store, Scope.all_areas(), "종로구")
    assert found.iloc[0]["code"] == "11110"
    # 일반구 are written with their city
    assert "41111" in set(find_regions(small_store, Scope.all_areas(), "수원시 장안구")["code"])


def test_lookups_respect_scope(small_store):
    scope = Scope.district(["29110"])
    assert set(regions(small_store, scope, "sgg")["code"]) == {"29110"}
    assert set(regions(small_store, scope, "sido")["code"]) == {"29"}
    assert region(small_store, scope, "11110") is None
    assert children(small_store, scope, "11").empty
    assert set(children(small_store, scope, "29")["code"]) == {"29110"}


def test_adjacency_is_symmetric_and_islands_have_none(geo_dir):
    geo = load_geo(geo_dir)
    adj = queen_adjacency(geo.emd)
    pairs = set(zip(adj["emd_code"], adj["neighbor_code"], strict=False))
    assert all((b, a) in pairs for a, b in pairs)
    assert ("1111051500", "1111053000") in pairs  # 청운효자동 – 사직동
    isolated = set(geo.emd["emd_code"]) - set(adj["emd_code"])
    assert 0 < len(isolated) < 100  # islands such as 울릉군's 읍면


@pytest.mark.parametrize("label, years", [("00-04", 0), ("65-69", 65), ("100+", 100)])
def test_age_from(label, years):
    assert age_from(label) == years


def test_missing_geo_dir_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("BLINDSPOT_GEO_DIR", str(tmp_path))
    with pytest.raises(GeoDataError, match="emd.parquet"):
        config.geo_dir()


def test_malformed_boundary_file(tmp_path, geo_dir):
    for f in config.GEO_FILES:
        shutil.copy(geo_dir / f, tmp_path / f)
    (tmp_path / "emd.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(GeoDataError, match="emd.parquet"):
        load_geo(tmp_path)


def test_codes_read_as_numbers_are_caught(tmp_path, geo_dir):
    for f in config.GEO_FILES:
        shutil.copy(geo_dir / f, tmp_path / f)
    sido = gpd.read_parquet(geo_dir / "sido.parquet")
    sido["sido_code"] = sido["sido_code"].astype(int).astype(str).str.lstrip("0") + "0"
    sido.loc[0, "sido_code"] = "1"
    sido.to_parquet(tmp_path / "sido.parquet")
    with pytest.raises(GeoDataError, match="sido_code"):
        load_geo(tmp_path)


def _copy_db(src, tmp_path):
    dst = tmp_path / "copy.duckdb"
    shutil.copy(src, dst)
    return dst


def test_geo_import_replaces_boundaries(small_db, tmp_path, geo_dir):
    db = _copy_db(small_db, tmp_path)
    emd = gpd.read_parquet(geo_dir / "emd.parquet")
    moved = emd[["emd_code", "emd_name", "geometry"]].rename(columns={"emd_code": "ADM_CD", "emd_name": "ADM_NM"})
    moved["geometry"] = moved.geometry.translate(0.001, 0)
    path = tmp_path / "new_emd.geojson"
    moved.to_file(path, driver="GeoJSON")
    st = Store(db)
    try:
        out = import_boundary_file(st, path, "ADM_CD", "ADM_NM", "emd")
        assert out["updated"] == 3558
        g = region_geometries(st, Scope.all_areas(), "emd").set_index("code")
        orig = emd.set_index("emd_code").geometry
        dx = (
            shapely.get_coordinates(g.loc["1111051500", "geometry"])[0, 0]
            - shapely.get_coordinates(orig.loc["1111051500"])[0, 0]
        )
        assert dx == pytest.approx(0.001, abs=1e-6)
        # 시군구 outlines are dissolved anew from the new 읍면동
        sgg = region_geometries(st, Scope.all_areas(), "sgg").set_index("code")
        assert sgg.loc["11110", "geometry"].centroid.x == pytest.approx(
            moved[moved["ADM_CD"].str.startswith("11110")].union_all().centroid.x, abs=1e-6
        )
    finally:
        st.close()


def test_geo_import_code_mismatch_changes_nothing(small_db, tmp_path, geo_dir):
    db = _copy_db(small_db, tmp_path)
    before_st = Store(db, read_only=True)
    before = fingerprint(before_st, ["regions"])
    before_st.close()
    st = Store(db)
    try:
        # The Seoul sample has only 426 of 3,558 읍면동.
        with pytest.raises(GeoDataError, match="빠진 코드 3132개"):
            import_boundary_file(st, geo_dir / "emd_seoul.geojson", "emd_code", "emd_name", "emd")
        with pytest.raises(GeoDataError, match="열이 없습니다: 'ADM_CD'"):
            import_boundary_file(st, geo_dir / "emd_seoul.geojson", "ADM_CD", None, "emd")
        assert fingerprint(st, ["regions"]) == before
    finally:
        st.close()


def test_geo_import_eight_digit_codes_are_explained(tmp_path, geo_dir, small_db):
    emd = gpd.read_file(geo_dir / "emd_seoul.geojson")
    emd["kostat"] = emd["emd_code"].str[:8]
    path = tmp_path / "kostat.shp"
    emd[["kostat", "geometry"]].to_file(path)
    st = Store(_copy_db(small_db, tmp_path))
    try:
        with pytest.raises(GeoDataError, match="8자리 통계청"):
            import_boundary_file(st, path, "kostat", None, "emd")
    finally:
        st.close()
