"""Shared fixtures: small real-geography databases built once per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from blindspot import config
from blindspot.build import build_demo
from blindspot.store import Store
from blindspot.synthetic import SyntheticConfig

# Sejong (36) and Gwangju (29): 120 읍면동 of both 동 and 읍/면, about 41,000 households at 0.05.
SMALL = SyntheticConfig(seed=7, scale=0.05, rounds=4, sido=("29", "36"))
NATIONAL = SyntheticConfig(seed=42, scale=0.01, rounds=6)


@pytest.fixture(scope="session")
def geo_dir() -> Path:
    return config.geo_dir()


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("small") / "small.duckdb"
    build_demo(path, SMALL)
    return path


@pytest.fixture(scope="session")
def national_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("national") / "national.duckdb"
    build_demo(path, NATIONAL)
    return path


@pytest.fixture()
def small_store(small_db):
    st = Store(small_db, read_only=True)
    yield st
    st.close()


@pytest.fixture()
def national_store(national_db):
    st = Store(national_db, read_only=True)
    yield st
    st.close()


@pytest.fixture()
def env_db(monkeypatch):
    """Point BLINDSPOT_DB at a path for the duration of a test."""
    def _set(path):
        monkeypatch.setenv("BLINDSPOT_DB", str(path))
    return _set


def pytest_report_header(config):
    return f"geo data: {os.environ.get('BLINDSPOT_GEO_DIR') or 'default search order'}"


@pytest.fixture(scope="session")
def modelled(small_db, tmp_path_factory):
    """A copy of the small database with a trained model in service and the latest
    round scored: (db path, models dir, metadata)."""
    import shutil

    from blindspot.build import train_and_score

    root = tmp_path_factory.mktemp("modelled")
    path = root / "modelled.duckdb"
    shutil.copy(small_db, path)
    st = Store(path)
    try:
        train_and_score(st, root / "models")
        meta = json.loads(next((root / "models").glob("*/metadata.json")).read_text(encoding="utf-8"))
        st.checkpoint()
    finally:
        st.close()
    return path, root / "models", meta
