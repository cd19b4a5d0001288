"""A browser tour: every page of every role in headless Debian Chromium, on a database with a
model in service, with every request that leaves localhost blocked.  Each page's screenshot is
saved under ``test-artifacts/tour/`` (CI keeps the folder), and what the browser shows is
scanned for what a reader must never see: Python's missing values and booleans, raw class
codes, emoji, a Streamlit error or exception box.
"""

import re
import shutil
from urllib.parse import urlparse

import pytest
from conftest import TEST_PASSWORDS
from test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, _requirements, serving_app

from blindspot.access import pages_for
from blindspot.app.pages import PAGE_TITLES

pytestmark = pytest.mark.slow

USERS = {"admin": "admin", "analyst": "analyst", "district": "dong", "presenter": "presenter"}
BAD = re.compile(r"(?<![A-Za-z])(None|nan|NaN|NaT|True|False)(?![A-Za-z])|\b(hot|cold)_(90|95|99)\b")
EMOJI = re.compile("[\U0001f000-\U0001ffff\u2600-\u27bf\ufe0f]")


@pytest.fixture()
def tour_server(modelled, tmp_path):
    _requirements()
    db = tmp_path / "tour.duckdb"
    shutil.copy(modelled[0], db)
    # The tour's audit records stay in its own operational store.
    with serving_app(db, BLINDSPOT_MODELS=modelled[1], BLINDSPOT_OPS_URL=f"sqlite:///{tmp_path / 'ops.sqlite'}") as url:
        yield url


def _idle(page) -> None:
    """Until the script run is over (Streamlit's app state) and the page has settled."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'",
        timeout=120_000,
    )
    page.wait_for_timeout(800)


@pytest.mark.parametrize("role", list(USERS))
def test_every_page_of_the_role_reads_clean_in_the_browser(tour_server, role):
    from playwright.sync_api import sync_playwright

    folder = ARTIFACTS / "tour"
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    blocked: list[str] = []
    where = {"page": "sign-in"}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})

            def only_localhost(route):
                if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
                    route.continue_()
                else:
                    blocked.append(f"{where['page']}: {route.request.url}")
                    route.abort()

            page.route("**/*", only_localhost)
            page.goto(tour_server, wait_until="domcontentloaded")
            page.get_by_label("아이디").wait_for(timeout=90_000)
            page.get_by_label("아이디").fill(USERS[role])
            page.get_by_label("비밀번호").fill(TEST_PASSWORDS[USERS[role]])
            page.get_by_role("button", name="로그인").click()
            page.get_by_text("합성 데이터 (synthetic)").first.wait_for(timeout=90_000)
            for name in pages_for(role):
                where["page"] = name
                page.get_by_role("link", name=PAGE_TITLES[name]).click()
                page.get_by_role("heading", name=PAGE_TITLES[name]).first.wait_for(timeout=90_000)
                _idle(page)
                page.screenshot(path=str(folder / f"{role}-{name}.png"), full_page=True)
                text = page.evaluate("() => document.body.innerText")
                problems = [m.group(0) for m in BAD.finditer(text)] + EMOJI.findall(text)
                problems += [f"box: {t[:60]}" for t in page.locator("[data-testid=stException]").all_inner_texts()]
                if problems:
                    found[name] = problems[:5]
        finally:
            browser.close()
    assert found == {}
    assert blocked == []  # nothing is fetched from outside
    assert len(list(folder.glob(f"{role}-*.png"))) == len(pages_for(role))
