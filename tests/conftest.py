"""Shared fixtures: small real-geography databases built once per test session."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from blindspot import config
from blindspot.access import Scope
from blindspot.db.store import Store
from blindspot.demo.build import build_demo, build_empty
from blindspot.demo.synthetic import SyntheticConfig
from blindspot.ingest import exchange

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

    from blindspot.db import opstore
    from blindspot.demo.build import train_and_score

    root = tmp_path_factory.mktemp("modelled")
    path = root / "modelled.duckdb"
    shutil.copy(small_db, path)
    st = Store(path)
    # The first model's promotion is audited: into an operational store of the fixture's
    # own, not that of whichever test happens to build the fixture first.
    old_url = os.environ.get("BLINDSPOT_OPS_URL")
    os.environ["BLINDSPOT_OPS_URL"] = f"sqlite:///{root / 'ops.sqlite'}"
    try:
        train_and_score(st, root / "models", user="fixture")
        meta = json.loads(next((root / "models").glob("*/metadata.json")).read_text(encoding="utf-8"))
        st.checkpoint()
    finally:
        st.close()
        opstore.close_all()
        if old_url is None:
            os.environ.pop("BLINDSPOT_OPS_URL", None)
        else:
            os.environ["BLINDSPOT_OPS_URL"] = old_url
    return path, root / "models", meta


# --- accounts for app tests ---------------------------------------------------------------
# App tests sign in like people do: an account file with known passwords (cheap bcrypt
# cost), named by BLINDSPOT_AUTH, and the login form filled in (tests/app/test_app.py::login).
TEST_USERS = {
    "admin": ("관리자", "admin", None),
    "analyst": ("분석가", "analyst", None),
    "dong": ("광주 동구 담당", "district", ["29110"]),
    "gwangju": ("광주 동구·서구 담당", "district", ["29110", "29140"]),
    "presenter": ("발표자", "presenter", None),
}
TEST_PASSWORDS = {u: f"pw-{u}-시험" for u in TEST_USERS}


@pytest.fixture(scope="module")
def modelled_copy(modelled, tmp_path_factory) -> Path:
    """A test module's own copy of the modelled database, for pages its AppTests open (the
    modelled fixture's file stays untouched)."""
    import shutil

    path = tmp_path_factory.mktemp("modelled-copy") / "app.duckdb"
    shutil.copy(modelled[0], path)
    yield path
    from blindspot.db import store as store_mod

    store_mod.close_all()


@pytest.fixture(scope="module")
def modelled_store(modelled_copy):
    """A read-only store over the test module's own copy of the modelled database."""
    from blindspot.db.store import Store

    store = Store(modelled_copy, read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="session", autouse=True)
def test_accounts(tmp_path_factory):
    from blindspot.app import auth

    path = tmp_path_factory.mktemp("auth") / "auth.yaml"
    auth.write_accounts(path, [(u, n, r, c, TEST_PASSWORDS[u]) for u, (n, r, c) in TEST_USERS.items()], rounds=4)
    old = os.environ.get("BLINDSPOT_AUTH")
    os.environ["BLINDSPOT_AUTH"] = str(path)
    yield path
    if old is None:
        os.environ.pop("BLINDSPOT_AUTH", None)
    else:
        os.environ["BLINDSPOT_AUTH"] = old


@pytest.fixture(autouse=True)
def ops_store(tmp_path, monkeypatch):
    """Each test its own operational store (failed-login counts), never data/ops.sqlite."""
    from blindspot.db import opstore

    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    monkeypatch.setenv("BLINDSPOT_OPS_URL", url)
    yield url
    opstore.close_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def ops_url(request, ops_store, monkeypatch):
    """The operational store on both of its backends: the SQLite file (the embedded default)
    and a fresh database on the PostgreSQL test server that ``.ci/postgres`` starts
    (``BLINDSPOT_TEST_PG_URL``, or the URL ``make test`` saved in ``data/test-postgres.url``)."""
    from blindspot.db import opstore

    if request.param == "sqlite":
        yield ops_store
        return
    with _postgres_database() as url:
        monkeypatch.setenv("BLINDSPOT_OPS_URL", url)
        yield url
        opstore.close_all()


def _postgres_server_url() -> str:
    url = os.environ.get("BLINDSPOT_TEST_PG_URL")
    saved = config.PROJECT_DIR / "data" / "test-postgres.url"
    if not url and saved.is_file():
        url = saved.read_text(encoding="utf-8").strip()
    if not url:
        message = "PostgreSQL 시험 서버가 없습니다: `bash .ci/postgres` 가 시작하고 주소를 알려 줍니다."
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must test the real server, never skip it
        pytest.skip(message)
    return url


@contextlib.contextmanager
def _postgres_database():
    """A new, empty database on the test server for one test, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    server = make_url(_postgres_server_url())
    name = f"blindspot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- ingest: an empty database (geography and catalogue) and Sejong's last demo round ---------
@pytest.fixture(scope="session")
def empty_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    build_empty(path)
    return path


@pytest.fixture(scope="session")
def sejong(small_db) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households and outcomes of Sejong in the small demo's last round (ingest format)."""
    st = Store(small_db, read_only=True)
    try:
        return exchange.round_frames(st, Scope.district(["36110"]), "2024-R3")
    finally:
        st.close()


@pytest.fixture()
def fresh(empty_db, tmp_path):
    path = tmp_path / "fresh.duckdb"
    shutil.copy(empty_db, path)
    st = Store(path)
    yield st
    st.close()
