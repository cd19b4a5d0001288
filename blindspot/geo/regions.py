"""Korea's administrative geography: 17 시도, 252 시군구, 3,558 읍면동 (June 2024).

Reads the GeoParquet boundaries and ``population_by_age.csv`` described in
``shared/geo/README.md`` (codes always as text), writes them to the store, and
answers look-ups by code and name and along the 시도 → 시군구 → 읍면동 hierarchy.
:func:`import_boundary_file` swaps in newer official boundaries from GeoParquet,
GeoJSON or Shapefile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from blindspot.access import Scope, scope_sql
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.errors import GeoDataError
from blindspot.geo import sql

LEVEL_CODE_LEN = {"sido": 2, "sgg": 5, "emd": 10}
_COMMON = [
    "sido_code",
    "sido_name",
    "area_km2",
    "population",
    "population_male",
    "population_female",
    "households",
    "branch_office_population",
    "population_age_0_14",
    "population_age_65_plus",
    "ref_month",
    "geometry",
]
REQUIRED_COLUMNS = {
    "sido": _COMMON + ["sido_name_en"],
    "sgg": _COMMON + ["sgg_code", "sgg_name", "lg_code", "lg_name"],
    "emd": _COMMON + ["sgg_code", "sgg_name", "lg_code", "lg_name", "emd_code", "emd_name", "emd_type"],
}
AGE_COLUMNS = ["level", "code", "sido_code", "sgg_code", "age_group", "sex", "population"]


@dataclass
class GeoData:
    """The three boundary levels and the age table, validated."""

    sido: gpd.GeoDataFrame
    sgg: gpd.GeoDataFrame
    emd: gpd.GeoDataFrame
    ages: pd.DataFrame
    source: Path

    @property
    def ref_month(self) -> str:
        return str(self.emd["ref_month"].iloc[0])


def _read_parquet(path: Path, level: str) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_parquet(path)
    except Exception as exc:  # pyarrow/geopandas raise many types for a bad file
        raise GeoDataError(f"GeoParquet 으로 읽을 수 없는 파일입니다: {path} ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS[level] if c not in gdf.columns]
    if missing:
        raise GeoDataError(f"{path}: 필수 열이 없습니다: {', '.join(missing)} (shared/geo/README.md 참조)")
    code_col = {"sido": "sido_code", "sgg": "sgg_code", "emd": "emd_code"}[level]
    codes = gdf[code_col].astype(str)
    bad = codes[~codes.str.fullmatch(rf"\d{{{LEVEL_CODE_LEN[level]}}}")]
    if len(bad):
        row = int(bad.index[0])
        raise GeoDataError(
            f"{path} {row + 1}행 '{code_col}' 값 {bad.iloc[0]!r}: {LEVEL_CODE_LEN[level]}자리 숫자 문자열이어야 합니다 "
            "(코드를 숫자로 읽어 앞자리 0이 빠졌는지 확인하세요)."
        )
    if codes.duplicated().any():
        dup = codes[codes.duplicated()].iloc[0]
        raise GeoDataError(f"{path}: '{code_col}' 값이 중복됩니다: {dup}.")
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326) if gdf.crs is not None else gdf
        if gdf.crs is None:
            raise GeoDataError(f"{path}: 좌표계(CRS)가 없습니다. EPSG:4326 이어야 합니다.")
    empty = gdf.geometry.is_empty | gdf.geometry.isna()
    if empty.any():
        raise GeoDataError(f"{path} {int(np.flatnonzero(empty)[0]) + 1}행: 경계(geometry)가 비어 있습니다.")
    gdf[code_col] = codes
    return gdf


def load_geo(geo_dir: Path) -> GeoData:
    """Read and check the boundary folder (see :func:`blindspot.config.geo_dir`).

    Checks the codes nest (every 읍면동 code starts with its 시군구 code, which starts
    with its 시도 code), and that the age table adds up to the 읍면동 population.
    """
    geo_dir = Path(geo_dir)
    sido = _read_parquet(geo_dir / "sido.parquet", "sido")
    sgg = _read_parquet(geo_dir / "sgg.parquet", "sgg")
    emd = _read_parquet(geo_dir / "emd.parquet", "emd")
    for gdf, level in ((sgg, "sgg"), (emd, "emd")):
        col = f"{level}_code"
        wrong = gdf[gdf[col].str[:2] != gdf["sido_code"].astype(str)]
        if len(wrong):
            raise GeoDataError(
                f"{geo_dir / (level + '.parquet')}: sido_code 로 시작하지 않는 {col} 값이 있습니다: "
                f"{wrong[col].iloc[0]}."
            )
    orphan = set(emd["sgg_code"]) - set(sgg["sgg_code"])
    if orphan:
        raise GeoDataError(f"{geo_dir / 'emd.parquet'}: sgg.parquet 에 없는 시군구 코드 {sorted(orphan)[:5]}")
    bad_prefix = emd[emd["emd_code"].str[:5] != emd["sgg_code"].astype(str)]
    if len(bad_prefix):
        raise GeoDataError(
            f"{geo_dir / 'emd.parquet'}: sgg_code 로 시작하지 않는 emd_code 값이 있습니다: "
            f"{bad_prefix['emd_code'].iloc[0]}."
        )
    ages_path = geo_dir / "population_by_age.csv"
    try:
        ages = pd.read_csv(
            ages_path,
            dtype={"code": str, "sido_code": str, "sgg_code": str, "level": str, "age_group": str, "sex": str},
        )
    except Exception as exc:
        raise GeoDataError(f"읽을 수 없는 파일입니다: {ages_path} ({exc})") from None
    missing = [c for c in AGE_COLUMNS if c not in ages.columns]
    if missing:
        raise GeoDataError(f"{ages_path}: 필수 열이 없습니다: {', '.join(missing)}")
    emd_ages = ages[ages["level"] == "emd"].groupby("code")["population"].sum()
    joined = emd.set_index("emd_code")["population"].to_frame("geo").join(emd_ages.rename("ages"), how="left")
    off = joined[joined["geo"] != joined["ages"].fillna(-1)]
    if len(off):
        code = off.index[0]
        raise GeoDataError(
            f"{ages_path}: 읍면동 {code} 의 연령별 인구 합계({off['ages'].iloc[0]})가 "
            f"emd.parquet 인구({off['geo'].iloc[0]})와 다릅니다."
        )
    return GeoData(sido, sgg, emd, ages, geo_dir)


def age_from(age_group: str) -> int:
    """Lower bound in years of an age group label.

    >>> age_from("65-69"), age_from("100+")
    (65, 100)
    """
    m = re.match(r"^(\d+)", age_group)
    if not m:
        raise GeoDataError(f"해석할 수 없는 연령 구간입니다: {age_group!r} (예: '65-69', '100+').")
    return int(m.group(1))


def region_rows(geo: GeoData) -> pd.DataFrame:
    """One row per region of every level, in the store's ``regions`` layout."""
    sido_names = geo.sido.set_index("sido_code")["sido_name"]
    counts = [
        "area_km2",
        "population",
        "population_male",
        "population_female",
        "households",
        "branch_office_population",
        "population_age_0_14",
        "population_age_65_plus",
        "ref_month",
    ]
    s = geo.sido
    sido = pd.DataFrame(
        {
            "level": "sido",
            "code": s["sido_code"],
            "name": s["sido_name"],
            "full_name": s["sido_name"],
            "name_en": s["sido_name_en"],
            "parent_code": None,
            "sido_code": s["sido_code"],
            "sgg_code": None,
            "lg_code": None,
            "lg_name": None,
            "emd_type": None,
            **{c: s[c] for c in counts},
            "geometry": shapely.to_wkb(s.geometry.values),
        }
    )
    g = geo.sgg
    sgg = pd.DataFrame(
        {
            "level": "sgg",
            "code": g["sgg_code"],
            "name": g["sgg_name"],
            "full_name": g["sido_code"].map(sido_names) + " " + g["sgg_name"],
            "name_en": None,
            "parent_code": g["sido_code"],
            "sido_code": g["sido_code"],
            "sgg_code": g["sgg_code"],
            "lg_code": g["lg_code"],
            "lg_name": g["lg_name"],
            "emd_type": None,
            **{c: g[c] for c in counts},
            "geometry": shapely.to_wkb(g.geometry.values),
        }
    )
    e = geo.emd
    emd = pd.DataFrame(
        {
            "level": "emd",
            "code": e["emd_code"],
            "name": e["emd_name"],
            "full_name": e["sido_name"] + " " + e["sgg_name"] + " " + e["emd_name"],
            "name_en": None,
            "parent_code": e["sgg_code"],
            "sido_code": e["sido_code"],
            "sgg_code": e["sgg_code"],
            "lg_code": e["lg_code"],
            "lg_name": e["lg_name"],
            "emd_type": e["emd_type"],
            **{c: e[c] for c in counts},
            "geometry": shapely.to_wkb(e.geometry.values),
        }
    )
    return pd.concat([sido, sgg, emd], ignore_index=True)


def queen_adjacency(emd: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs of 읍면동 that share at least a boundary point (queen contiguity).

    Islands have no row.  Uses libpysal's contiguity builder on the shared edges of
    the generalised, topology-preserving boundaries.
    """
    from libpysal import graph

    g = graph.Graph.build_contiguity(emd[["emd_code", "geometry"]].set_index("emd_code"), rook=False)
    adj = g.adjacency.reset_index()
    adj = adj[(adj["weight"] > 0) & (adj["focal"] != adj["neighbor"])]
    return pd.DataFrame(
        {"emd_code": adj["focal"].astype(str).values, "neighbor_code": adj["neighbor"].astype(str).values}
    )


def import_geo(store: Store, geo: GeoData) -> pd.DataFrame:
    """Write regions, the age table and 읍면동 adjacency into an empty store.

    Returns the adjacency pairs, which the generator reuses.
    """
    store.append("regions", region_rows(geo))
    ages = geo.ages[["level", "code", "sex", "age_group", "population"]].copy()
    ages["age_from"] = ages["age_group"].map(age_from).astype("int16")
    store.append("population_by_age", ages)
    adjacency = queen_adjacency(geo.emd)
    store.append("region_adjacency", adjacency)
    store.set_meta("geo_source", str(geo.source))
    store.set_meta("geo_ref_month", geo.ref_month)
    return adjacency


# --- look-ups -------------------------------------------------------------------------


def _region_scope(scope: Scope, level: str, alias: str = "") -> tuple[str, list]:
    prefix = f"{alias}." if alias else ""
    if level == "sido":
        return scope_sql(scope, f"{prefix}sido_code", sido=True)
    return scope_sql(scope, f"{prefix}sgg_code")


def regions(store: Store, scope: Scope, level: str) -> pd.DataFrame:
    """All regions of a level that the scope may see.

    Example: ``regions(store, Scope.all_areas(), "sido")`` has 17 rows;
    ``regions(store, Scope.district(["11110"]), "emd")`` the 17 읍면동 of 종로구.
    """
    if level not in LEVEL_CODE_LEN:
        raise ValueError(f"level must be sido, sgg or emd, not {level!r}")
    cond, params = _region_scope(scope, level)
    return store.df(sql.REGIONS.format(scope=cond), [level, *params])


def _scoped_any_level(scope: Scope) -> tuple[str, list]:
    # A 시도 row is visible when the scope touches that 시도; lower levels need their 시군구.
    if scope.is_national:
        return "TRUE", []
    sgg_cond, sgg_params = scope_sql(scope, "sgg_code")
    sido_cond, sido_params = scope_sql(scope, "sido_code", sido=True)
    return (f"((level = 'sido' AND {sido_cond}) OR (level <> 'sido' AND {sgg_cond}))", [*sido_params, *sgg_params])


def region(store: Store, scope: Scope, code: str) -> dict | None:
    """One region by code (any level), or ``None`` if unknown or out of scope."""
    cond, params = _scoped_any_level(scope)
    df = store.df(sql.REGION_BY_CODE.format(scope=cond), [str(code), *params])
    return None if df.empty else df.iloc[0].to_dict()


def find_regions(store: Store, scope: Scope, name: str) -> pd.DataFrame:
    """Regions whose name or full name matches (exact first, then containing)."""
    cond, params = _scoped_any_level(scope)
    return store.df(sql.REGIONS_BY_NAME.format(scope=cond), [name, name, name, *params])


def children(store: Store, scope: Scope, code: str) -> pd.DataFrame:
    """The 시군구 of a 시도, or the 읍면동 of a 시군구, that the scope may see."""
    cond, params = _scoped_any_level(scope)
    return store.df(sql.REGION_CHILDREN.format(scope=cond), [str(code), *params])


def region_geometries(store: Store, scope: Scope, level: str) -> gpd.GeoDataFrame:
    cond, params = _region_scope(scope, level)
    df = store.df(sql.REGION_GEOMETRIES.format(scope=cond), [level, *params])
    return gpd.GeoDataFrame(
        df.drop(columns="geometry"), geometry=shapely.from_wkb(df["geometry"].map(bytes).values), crs=4326
    )


# --- newer boundaries ---------------------------------------------------------------


def read_boundary_file(path: Path, code_column: str, name_column: str | None, level: str) -> gpd.GeoDataFrame:
    """Read a boundary file (GeoParquet, GeoJSON, Shapefile) into (code, name, geometry) in EPSG:4326."""
    path = Path(path)
    if level not in LEVEL_CODE_LEN:
        raise GeoDataError(f"--level 은 sido, sgg, emd 중 하나여야 합니다 (받은 값: {level!r}).")
    if not path.exists():
        raise GeoDataError(f"경계 파일이 없습니다: {path}.")
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path)
    except Exception as exc:
        raise GeoDataError(
            f"경계 파일을 읽을 수 없습니다 (GeoParquet, GeoJSON, Shapefile 만 지원): {path}: {exc}"
        ) from None
    for col in (code_column, name_column):
        if col and col not in gdf.columns:
            raise GeoDataError(f"{path}: 열이 없습니다: '{col}'. 있는 열: {', '.join(map(str, gdf.columns))}")
    if gdf.crs is None:
        raise GeoDataError(f"{path}: 좌표계(CRS)가 지정되어 있지 않습니다. .prj 파일이나 CRS 정보가 필요합니다.")
    gdf = gdf.to_crs(4326)
    codes = gdf[code_column].astype(str).str.strip()
    width = LEVEL_CODE_LEN[level]
    bad = codes[~codes.str.fullmatch(rf"\d{{{width}}}")]
    if len(bad):
        row = int(np.flatnonzero(~codes.str.fullmatch(rf"\d{{{width}}}"))[0]) + 1
        hint = (
            " 8자리 통계청(KOSTAT) 코드는 행정기관코드(10자리)가 아니므로 변환표가 필요합니다."
            if level == "emd" and len(bad.iloc[0]) in (7, 8)
            else ""
        )
        raise GeoDataError(
            f"{path} {row}행 '{code_column}' 값 {bad.iloc[0]!r}: {level} 코드는 "
            f"{width}자리 행정기관코드여야 합니다.{hint}"
        )
    if codes.duplicated().any():
        raise GeoDataError(f"{path}: '{code_column}' 값이 중복됩니다: {codes[codes.duplicated()].iloc[0]}.")
    geom = gdf.geometry
    if geom.isna().any() or geom.is_empty.any():
        row = int(np.flatnonzero(geom.isna() | geom.is_empty)[0]) + 1
        raise GeoDataError(f"{path} {row}행: 경계(geometry)가 비어 있습니다.")
    kinds = set(geom.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise GeoDataError(f"{path}: 면(Polygon/MultiPolygon) 경계가 아닌 도형이 있습니다: {sorted(kinds)}")
    # A boundary file from another tool may carry self-intersections (the shared data had one).
    geom = geom.make_valid()
    out = gpd.GeoDataFrame(
        {"code": codes.values, "name": gdf[name_column].astype(str).str.strip().values if name_column else None},
        geometry=geom.values,
        crs=4326,
    )
    return out


def import_boundary_file(store: Store, path: Path, code_column: str, name_column: str | None, level: str) -> dict:
    """Replace the geometries (and names) of one level from a newer boundary file.

    Every code in the file must exist in the store and every region of the level
    must be in the file; otherwise nothing is changed.  When 읍면동 boundaries are
    replaced, the 시군구 and 시도 outlines are dissolved anew from them so the three
    levels keep nesting exactly.  Runs in one transaction.
    """
    new = read_boundary_file(path, code_column, name_column, level)
    known = {r[0] for r in store.rows(db_sql.REGION_CODES_AT_LEVEL, [level])}
    unknown = sorted(set(new["code"]) - known)
    absent = sorted(known - set(new["code"]))
    if unknown or absent:
        parts = []
        if unknown:
            parts.append(f"데이터베이스에 없는 코드 {len(unknown)}개 (예: {', '.join(unknown[:5])})")
        if absent:
            parts.append(f"파일에 빠진 코드 {len(absent)}개 (예: {', '.join(absent[:5])})")
        raise GeoDataError(
            f"{path}: '{code_column}' 열의 코드가 현재 {level} 목록과 맞지 않습니다: {'; '.join(parts)}. "
            "코드 열이 맞는지(--code-column), 같은 시점의 행정구역인지 확인하세요. 아무것도 바꾸지 않았습니다."
        )
    updates = [
        pd.DataFrame({"code": new["code"], "name": new["name"], "geometry": shapely.to_wkb(new.geometry.values)})
    ]
    if level == "emd":
        new["sgg_code"] = new["code"].str[:5]
        new["sido_code"] = new["code"].str[:2]
        for parent in ("sgg_code", "sido_code"):
            dissolved = new.dissolve(by=parent)
            updates.append(
                pd.DataFrame(
                    {
                        "code": dissolved.index.astype(str),
                        "name": None,
                        "geometry": shapely.to_wkb(dissolved.geometry.values),
                    }
                )
            )
    frame = pd.concat(updates, ignore_index=True)
    with store.transaction():
        store.run_with(sql.UPDATE_REGION_GEOMETRY, frame)
        if level == "emd":
            store.run(sql.DELETE_ADJACENCY)
            emd_now = region_geometries(store, Scope.all_areas(), "emd").rename(columns={"code": "emd_code"})
            store.append("region_adjacency", queen_adjacency(emd_now))
        store.set_meta(f"geo_{level}_source", str(path))
    return {"level": level, "updated": int(len(new)), "file": str(path)}
