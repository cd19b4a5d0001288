"""Several processes, one product: two app processes behind Debian's nginx (``python -m
blindspot.deploy``), sharing a PostgreSQL operational store and one analytical snapshot.

Two browsers (headless Debian Chromium), each routed by its cookie to a different process,
sign in and open the risk list with a purpose (one audit record each).  While both serve,
the command line loads a new round; both sessions then show it without a restart.  Every
audit record is in PostgreSQL exactly once and the hash chain verifies.

Skips (saying why) without nginx, Chromium or the PostgreSQL test server, except under CI,
where it fails.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import TEST_PASSWORDS, _postgres_database
from test_deploy import _get, _nginx_or_skip, _until, _upstreams, launched

from blindspot import config, glossary
from blindspot.db import opstore, snapshots

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = config.PROJECT_DIR / "test-artifacts"
LAUNCH_ARGS = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update"]
pytestmark = pytest.mark.slow


def _browser_or_skip() -> None:
    why = None
    if not Path(CHROMIUM).exists():
        why = f"{CHROMIUM} 이 없습니다: `apt-get install -y chromium`"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "playwright 패키지가 없습니다"
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture()
def cluster(modelled, tmp_path):
    """Two app processes behind nginx on a copy of the scored small demo, with a fresh
    PostgreSQL database as the operational store: (proxy URL, app ports, run folder, PG URL)."""
    _nginx_or_skip()
    _browser_or_skip()
    with _postgres_database() as pg:
        db = tmp_path / "shared.duckdb"
        shutil.copy(modelled[0], db)
        extra = {"BLINDSPOT_OPS_URL": pg, "BLINDSPOT_MODELS": str(modelled[1])}
        env = {**os.environ, "BLINDSPOT_DB": str(db), **extra}
        try:
            with launched(db, tmp_path, extra) as (url, app_ports, run_dir, _, _):
                yield url, app_ports, run_dir, pg, env, db
        finally:
            opstore.close_all()


def _route_per_process(url: str, access_log: Path, upstreams: set[str]) -> dict[str, str]:
    """{upstream: a route cookie nginx sends there}, found by asking (fixed candidates)."""
    found: dict[str, str] = {}
    for k in range(200):
        route = hashlib.md5(f"route-{k}".encode()).hexdigest()
        assert _get(url + "/_stcore/health", route)[0] == 200
        found.setdefault(_upstreams(access_log, route, at_least=1)[-1], route)
        if set(found) == upstreams:
            return found
    raise AssertionError(f"no cookie reached every process: {found}")


def _sign_in(page, user: str) -> None:
    page.get_by_label("아이디").wait_for(timeout=120_000)
    page.get_by_label("아이디").fill(user)
    page.get_by_label("비밀번호").fill(TEST_PASSWORDS[user])
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("합성 데이터 (synthetic)").first.wait_for(timeout=120_000)


def _open_risk_list(page) -> None:
    page.get_by_role("link", name="위험 가구 목록").click()
    # The select box (its placeholder is an attribute, not text): by its label.
    box = page.locator("[data-testid=stSelectbox]").filter(has_text="열람 목적").first
    box.locator("input").click(timeout=120_000)
    page.keyboard.type("방문 계획")
    page.keyboard.press("Enter")


def _ingest_new_round(env: dict, db: Path, tmp_path: Path) -> dict:
    """While both processes serve: export 광주 동구's last round and load it as the next
    round (a partial round, rescored) from the command line."""
    run = {"cwd": config.PROJECT_DIR, "env": env, "capture_output": True, "text": True, "timeout": 600}
    out = subprocess.run(
        [sys.executable, "-m", "blindspot", "export-round", "--round", "2024-R3", "--sgg", "29110"]
        + ["--out", str(tmp_path / "files"), "--purpose", "다음 차수 적재 시험", "--user", "loader"],
        **run,
    )
    assert out.returncode == 0, out.stderr
    files = sorted((tmp_path / "files").iterdir())
    households = next(f for f in files if f.name.startswith("households_"))
    outcomes = next(f for f in files if f.name.startswith("outcomes_"))
    out = subprocess.run(
        [sys.executable, "-m", "blindspot", "ingest", str(households), "--round", "2024-R4"]
        + ["--outcomes", str(outcomes), "--sgg", "29110", "--user", "loader", "--rescore"],
        **run,
    )
    assert out.returncode == 0, out.stderr
    assert "새 판" in out.stderr
    return {"info": subprocess.run([sys.executable, "-m", "blindspot", "info", "--json"], **run)}


def test_two_processes_behind_nginx_share_postgresql_and_see_a_new_round(cluster, tmp_path):
    from playwright.sync_api import sync_playwright

    url, app_ports, run_dir, pg, env, db = cluster
    upstreams = {f"127.0.0.1:{p}" for p in app_ports}
    access_log = run_dir / "nginx-access.log"
    routes = _route_per_process(url, access_log, upstreams)
    users = dict(zip(sorted(routes), ["dong", "analyst"], strict=True))
    host = urlparse(url).hostname
    before = snapshots.active_version(db)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        pages = {}
        try:
            for upstream, route in routes.items():
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_cookies([{"name": "blindspot_route", "value": route, "domain": host, "path": "/"}])
                page = pages[upstream] = context.new_page()
                page.goto(url, wait_until="domcontentloaded")
                _sign_in(page, users[upstream])
                _open_risk_list(page)
            # Each session's WebSocket stays on its own process.  ("-": Streamlit's frontend
            # files, which nginx serves itself from disk.)
            for upstream, route in routes.items():
                proxied = [u for u in _upstreams(access_log, route) if u != "-"]
                assert set(proxied[-3:]) == {upstream}
            ops = opstore.open_ops(pg)
            _until(lambda: Counter(ops.audit_frame()["action"])["view_list"] == 2, 120, "two list views audited")

            ingested = _ingest_new_round(env, db, tmp_path)
            assert ingested["info"].returncode == 0 and '"2024-R4"' in ingested["info"].stdout
            assert snapshots.active_version(db) != before
            # Both signed-in sessions show the new round on their next page run, no restart.
            for page in pages.values():
                page.get_by_role("link", name="개요").click()
                # 개요 names rounds as people read them (the glossary's round label).
                page.get_by_text(glossary.round_label("2024-R4")).first.wait_for(timeout=120_000)
        except Exception:
            # What each browser showed, for whoever reads the CI log.
            ARTIFACTS.mkdir(exist_ok=True)
            for n, page in enumerate(pages.values()):
                page.screenshot(path=str(ARTIFACTS / f"cluster-{n}.png"), full_page=True)
            raise
        finally:
            browser.close()

    log = opstore.open_ops(pg).audit_frame()
    views = log[log["action"] == "view_list"]
    assert sorted(views["user_name"]) == ["analyst", "dong"]  # each exactly once, from its own process
    assert Counter(log["action"])["export_round"] == 1
    assert log["event_id"].is_unique
    result = opstore.open_ops(pg).verify_audit()
    assert result["ok"] and result["records"] == len(log)
