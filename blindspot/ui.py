"""The one module of ``blindspot`` that imports streamlit: cached wrappers and shared
page furniture (synthetic-data banner, attribution footer).

``cache_resource`` holds only the thread-safe store (one connection; each session
thread gets its own cursor).  ``cache_data`` results are keyed by plain values (the
database path and its build stamp, the scope's fields, the round) and expire after
ten minutes; :func:`clear_caches` drops them when data changes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from blindspot import artifacts, config, geography, hexgrid, hotspots, mapdata, maps, queries
from blindspot.access import Scope
from blindspot.store import Store, open_store

TTL = 600


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return open_store(path)


def store() -> Store:
    return _store(str(config.db_path()))


def current_scope() -> Scope:
    """The signed-in user's scope.  Until login arrives (issue [4/6]): all areas."""
    return st.session_state.get("scope") or Scope.all_areas(user="local", role="admin")


def _scope_key(scope: Scope) -> tuple:
    return (tuple(sorted(scope.sgg_codes)) if scope.sgg_codes else None, scope.household_level, scope.min_count)


def _scope_from_key(key: tuple) -> Scope:
    codes, household_level, min_count = key
    return Scope(frozenset(codes) if codes else None, household_level, min_count)


@st.cache_data(ttl=TTL, show_spinner=False)
def _data_info(path: str) -> dict:
    return queries.data_info(_store(path))


def data_info() -> dict:
    return _data_info(str(config.db_path()))


@st.cache_data(ttl=TTL, show_spinner=False)
def _rounds(path: str, built_at: str) -> pd.DataFrame:
    return queries.rounds(_store(path))


def rounds() -> pd.DataFrame:
    return _rounds(str(config.db_path()), data_info().get("built_at", ""))


@st.cache_data(ttl=TTL, show_spinner="집계 중…")
def _overview(path: str, built_at: str, scope_key: tuple, round_id: int) -> dict:
    return queries.overview(_store(path), _scope_from_key(scope_key), round_id)


def overview(scope: Scope, round_id: int) -> dict:
    return _overview(str(config.db_path()), data_info().get("built_at", ""), _scope_key(scope), int(round_id))


@st.cache_data(ttl=TTL, show_spinner=False)
def _band_counts(path: str, built_at: str, scope_key: tuple, round_id: int, version: str | None):
    return queries.band_counts(_store(path), _scope_from_key(scope_key), round_id)


def band_counts(scope: Scope, round_id: int) -> dict | None:
    """Households per risk band; keyed by the model in service so rescoring shows at once."""
    return _band_counts(str(config.db_path()), data_info().get("built_at", ""), _scope_key(scope),
                        int(round_id), artifacts.in_service(store()))


def models_dir() -> str:
    return str(config.models_dir())


@st.cache_data(ttl=TTL, show_spinner=False)
def _model_metadata(path: str, built_at: str, models: str, version: str | None) -> dict | None:
    if not version:
        return None
    return artifacts.read_metadata(Path(models), version)


def model_metadata() -> dict | None:
    """Metadata of the model in service, or None when no model is in service."""
    version = artifacts.in_service(store())
    return _model_metadata(str(config.db_path()), data_info().get("built_at", ""), models_dir(), version)


@st.cache_data(ttl=TTL, show_spinner=False)
def _model_card(models: str, version: str) -> str:
    return (Path(models) / version / artifacts.CARD_FILE).read_text(encoding="utf-8")


def model_card(version: str) -> str:
    return _model_card(models_dir(), version)


def clear_caches() -> None:
    st.cache_data.clear()


def synthetic_banner() -> None:
    if data_info().get("synthetic"):
        st.warning(
            "**합성 데이터 (synthetic)** — 화면의 가구와 위기정보는 실제 행정구역·인구 통계에 맞춰 "
            "생성한 가상의 자료입니다. 실제 가구가 아닙니다.", icon="⚠️")


def footer() -> None:
    st.divider()
    info = data_info()
    lines = list(config.ATTRIBUTION)
    if info.get("synthetic"):
        lines.append(f"가구·위기정보: 합성 데이터 (seed {info.get('seed')}, 규모 {info.get('scale')})")
    st.caption("  \n".join(lines))


def round_picker(label: str = "차수", key: str = "round") -> int:
    """A select box of loaded rounds, latest first; returns the round id."""
    df = rounds()
    options = df["round_id"].tolist()[::-1]
    labels = dict(zip(df["round_id"], df["label"]))
    return st.selectbox(label, options, format_func=lambda r: labels[r], key=key)


# --- maps and hotspots (issue 3/6) ---------------------------------------------------------
# Layers are not cached here: blindspot.maps keeps the simplified geometry in memory, and
# cache_data would copy (pickle) megabytes of GeoJSON on every rerun.

def _stamp() -> tuple[str, str]:
    return str(config.db_path()), data_info().get("built_at", "")


@st.cache_data(ttl=TTL, show_spinner=False)
def _measure_catalogue(path: str, built_at: str, bands: tuple) -> list:
    return mapdata.measure_catalogue(_store(path), bands)


def measure_catalogue(bands: tuple = mapdata.DEFAULT_BANDS) -> list:
    return _measure_catalogue(*_stamp(), tuple(bands))


@st.cache_data(ttl=TTL, show_spinner=False)
def _has_scores(path: str, built_at: str, round_id: int) -> bool:
    return mapdata.has_scores(_store(path), round_id)


def has_scores(round_id: int) -> bool:
    return _has_scores(*_stamp(), int(round_id))


@st.cache_data(ttl=TTL, show_spinner=False)
def _regions(path: str, built_at: str, scope_key: tuple, level: str) -> pd.DataFrame:
    return geography.regions(_store(path), _scope_from_key(scope_key), level)


def regions(scope: Scope, level: str) -> pd.DataFrame:
    return _regions(*_stamp(), _scope_key(scope), level)


@st.cache_data(ttl=TTL, show_spinner="지도 집계 중…")
def _map_view(path: str, built_at: str, scope_key: tuple, round_id: int, level: str, area: str | None,
              measure: str, change: bool, bands: tuple) -> pd.DataFrame:
    return mapdata.map_view(_store(path), _scope_from_key(scope_key), level, round_id, measure, area, change, bands)


def map_view(scope: Scope, level: str, area: str | None, round_id: int, measure: str, change: bool = False,
             bands: tuple = mapdata.DEFAULT_BANDS) -> pd.DataFrame:
    return _map_view(*_stamp(), _scope_key(scope), int(round_id), level, area, measure, bool(change), tuple(bands))


def region_layer(scope: Scope, level: str, area: str | None) -> dict:
    """Simplified layer geometry of the view (memory-cached in :mod:`blindspot.maps`)."""
    st_ = store()
    return maps.layer_geometries(st_, mapdata.narrow(st_, scope, area), level)


@st.cache_data(ttl=TTL, show_spinner="지역 상세 집계 중…")
def _region_profile(path: str, built_at: str, scope_key: tuple, code: str, round_id: int, bands: tuple) -> dict:
    return mapdata.region_profile(_store(path), _scope_from_key(scope_key), code, round_id, bands)


def region_profile(scope: Scope, code: str, round_id: int, bands: tuple = mapdata.DEFAULT_BANDS) -> dict:
    return _region_profile(*_stamp(), _scope_key(scope), str(code), int(round_id), tuple(bands))


@st.cache_data(ttl=TTL, show_spinner=False)
def _top_households(path: str, built_at: str, scope_key: tuple, code: str, round_id: int) -> pd.DataFrame:
    return mapdata.top_households(_store(path), _scope_from_key(scope_key), code, round_id)


def top_households(scope: Scope, code: str, round_id: int) -> pd.DataFrame:
    scope.require_household_level()
    return _top_households(*_stamp(), _scope_key(scope), str(code), int(round_id))


@st.cache_data(ttl=TTL, show_spinner="핫스팟 분석 중 (순열 999회)…")
def _hotspots(path: str, built_at: str, scope_key: tuple, round_id: int, measure: str, area: str | None,
              method: str) -> pd.DataFrame:
    return hotspots.hotspots(_store(path), _scope_from_key(scope_key), round_id, measure, area, method)


def hotspot_table(scope: Scope, round_id: int, measure: str, area: str | None, method: str = "gi") -> pd.DataFrame:
    return _hotspots(*_stamp(), _scope_key(scope), int(round_id), measure, area, method)


@st.cache_data(ttl=TTL, show_spinner="차수별 추세 분석 중…")
def _emerging(path: str, built_at: str, scope_key: tuple, round_id: int, measure: str, area: str | None) -> pd.DataFrame:
    return hotspots.emerging_hotspots(_store(path), _scope_from_key(scope_key), round_id, measure, area)


def emerging_hotspots(scope: Scope, round_id: int, measure: str, area: str | None) -> pd.DataFrame:
    return _emerging(*_stamp(), _scope_key(scope), int(round_id), measure, area)


@st.cache_data(ttl=TTL, show_spinner=False)
def _hex_cells(path: str, built_at: str, scope_key: tuple, sgg_code: str, round_id: int, resolution: int,
               k: int) -> pd.DataFrame:
    return hexgrid.hex_cells(_store(path), _scope_from_key(scope_key), sgg_code, round_id, resolution, k)


def hex_cells(scope: Scope, sgg_code: str, round_id: int, resolution: int, k: int) -> pd.DataFrame:
    return _hex_cells(*_stamp(), _scope_key(scope), str(sgg_code), int(round_id), int(resolution), int(k))


def sgg_names(scope: Scope, sido: str | None = None) -> dict:
    """{시군구 code: full name} the scope may see, within one 시도 if given."""
    df = regions(scope, "sgg")
    if sido:
        df = df[df["sido_code"] == sido]
    return dict(zip(df["code"], df["full_name"]))


def area_picker(scope: Scope, level: str, key: str) -> str | None:
    """The area a map shows: 전국, one 시도, or (읍면동 maps) one 시군구; returns its code or None."""
    if level == "sido":
        return None
    sido = regions(scope, "sido")
    sido_codes = [None] + sido["code"].tolist()
    sido_names = dict(zip(sido["code"], sido["name"]))
    chosen = st.selectbox("시도", sido_codes, format_func=lambda c: "전국" if c is None else sido_names[c],
                          key=f"{key}_sido")
    if level != "emd" or chosen is None:
        return chosen
    sgg = regions(scope, "sgg")
    sgg = sgg[sgg["sido_code"] == chosen]
    sgg_names = dict(zip(sgg["code"], sgg["name"]))
    return st.selectbox("시군구", [None] + sgg["code"].tolist(),
                        format_func=lambda c: "시도 전체" if c is None else sgg_names[c], key=f"{key}_sgg") or chosen


def legend(rows: pd.DataFrame, title: str | None = None) -> None:
    """A legend as coloured squares and ranges (markdown, no images)."""
    lines = [f"<span style='display:inline-block;width:14px;height:14px;background:{c};"
             f"border:1px solid #999;margin-right:6px;vertical-align:middle'></span>{r}"
             for c, r in zip(rows["colour"], rows["range"])]
    st.markdown((f"**{title}**<br/>" if title else "") + "<br/>".join(lines), unsafe_allow_html=True)


# --- data management: ingest of extraction files (issue 6/6) -----------------------------------
# Nothing here is cached: the page changes the data, and history must show a load at once.

def progress_bar(text: str):
    """A ``progress(fraction, message)`` callback drawing one st.progress bar."""
    bar = st.progress(0.0, text=text)

    def update(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return update


def prepare_ingest(round_code: str, households, outcomes=None, progress=None):
    """Validate uploaded files (Streamlit UploadedFile objects) for one round."""
    from blindspot import ingest

    files = [(f.name, f.getvalue()) if f is not None else None for f in (households, outcomes)]
    return ingest.prepare(store(), round_code, files[0], files[1], progress=progress or (lambda f, m: None))


def load_ingest(prepared, replace: bool, progress=None) -> dict:
    from blindspot import ingest

    result = ingest.load(store(), prepared, replace=replace, loaded_by=current_scope().user,
                         progress=progress or (lambda f, m: None))
    clear_caches()
    return result


def rescore_round(round_code: str, progress=None) -> dict:
    from blindspot import ingest

    result = ingest.rescore(store(), round_code, Path(models_dir()), progress=progress or (lambda f, m: None))
    clear_caches()
    return result


def ingest_history() -> pd.DataFrame:
    from blindspot import ingest

    return ingest.history(store())
