"""The one module of ``blindspot`` that imports streamlit: cached wrappers and shared
page furniture (synthetic-data banner, attribution footer).

``cache_resource`` holds only the thread-safe store (one connection; each session
thread gets its own cursor).  ``cache_data`` results are keyed by plain values (the
database path and its build stamp, the scope's fields, the round) and expire after
ten minutes; :func:`clear_caches` drops them when data changes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pathlib import Path

from blindspot import artifacts, config, queries
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
