"""The map page in a real browser: headless Debian Chromium driven by Playwright, with
every request that leaves localhost blocked, must draw a map canvas that is not blank.

Skips (with the reason) when /usr/bin/chromium or the playwright package is missing.
See /work/shared/docs/browser-testing.md for the launch arguments.
"""

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import TEST_PASSWORDS

from blindspot import config

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = config.PROJECT_DIR / "test-artifacts"
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]

pytestmark = pytest.mark.slow


def _requirements():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} 이 없습니다: `apt-get install -y chromium` 으로 설치하면 브라우저 시험을 합니다.")
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        pytest.skip("playwright 패키지가 없습니다: `pip install playwright` 후 브라우저 시험을 합니다.")
    from PIL import Image  # noqa: F401  (streamlit depends on pillow)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def serving_app(db, **env_extra):
    """``streamlit run app.py`` on ``db`` (with ``env_extra`` in its environment) on a free
    port; yields its base URL once it answers, and stops it afterwards."""
    port = _free_port()
    env = {**os.environ, "BLINDSPOT_DB": str(db), **{k: str(v) for k, v in env_extra.items()}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port)]
        + ["--browser.gatherUsageStats", "false"],
        cwd=config.PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/_stcore/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture()
def app_server(small_db, tmp_path):
    _requirements()
    # Its own copy: AppTests in this process may hold the fixture database open, and
    # DuckDB lets only one process open a file that another has open for writing.
    db = tmp_path / "browser.duckdb"
    shutil.copy(small_db, db)
    with serving_app(db) as url:
        yield url


def localhost_only(page) -> list[str]:
    """Let ``page`` reach localhost only; the list of every other address it asked for (filled
    as the page runs): a basemap style, tile or font would land there."""
    blocked: list[str] = []

    def route(request_route):
        if urlparse(request_route.request.url).hostname in ("127.0.0.1", "localhost"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return blocked


def sign_in(page, user: str) -> None:
    """Sign in on the login form shown (accounts: tests/conftest.py) and wait for the app."""
    page.get_by_label("아이디").fill(user)
    page.get_by_label("비밀번호").fill(TEST_PASSWORDS[user])
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("합성 데이터 (synthetic)").first.wait_for(timeout=90_000)


def test_map_page_draws_offline(app_server):
    from PIL import Image
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            blocked = localhost_only(page)
            # A deep link on a fresh server must still go through the router (login,
            # banner, navigation): pages live in views/, not in Streamlit's
            # auto-discovered pages/ folder, which would run a page without app.py.
            page.goto(app_server.rstrip("/") + "/region_map", wait_until="domcontentloaded")
            # Nothing but the login form before signing in (accounts: tests/conftest.py).
            page.get_by_label("아이디").wait_for(timeout=90_000)
            assert page.locator("canvas").count() == 0
            sign_in(page, "analyst")
            # After signing in the app opens its default page; go to the map from the navigation.
            page.get_by_role("link", name="지역 지도").click()
            page.wait_for_selector("canvas", state="attached", timeout=60_000)
            page.get_by_text("구간 나누기").first.wait_for(timeout=60_000)
            page.wait_for_timeout(5_000)  # first WebGL frame (software rendering)
            page.screenshot(path=str(ARTIFACTS / "region_map.png"), full_page=True)
            canvases = page.locator("canvas")
            assert canvases.count() >= 1
            assert page.get_by_text("핫스팟").count() >= 1  # the navigation lists the new pages
            box_png = canvases.first.screenshot()
        finally:
            browser.close()

    assert blocked == []  # no basemap style, tile or font is asked of the internet
    image = Image.open(io.BytesIO(box_png)).convert("RGB")
    Image.open(io.BytesIO(box_png)).save(ARTIFACTS / "region_map_canvas.png")
    pixels = list(image.get_flattened_data()) if hasattr(image, "get_flattened_data") else list(image.getdata())
    background = max(set(pixels), key=pixels.count)  # the page colour around the polygons
    drawn = [p for p in pixels if sum(abs(a - b) for a, b in zip(p, background, strict=False)) > 30]
    assert len(drawn) > 0.05 * len(pixels), f"map canvas looks blank ({len(drawn)} of {len(pixels)} pixels drawn)"
    assert len(set(drawn)) > 3  # several fill colours, not one flat patch
    # YlOrRd fills of the two generated 시도 are drawn (a red component well above blue).
    assert any(r > 200 and b < 150 for r, g, b in drawn)


# The font size of the text a person sees: the innermost element holding it.
TEXT_SIZE = """(sel) => {
  let el = document.querySelector(sel);
  if (!el) return 0;
  while (el.firstElementChild && el.firstElementChild.textContent.trim() === el.textContent.trim()) {
    el = el.firstElementChild;
  }
  return parseFloat(getComputedStyle(el).fontSize);
}"""


@pytest.mark.parametrize("width, height", [(1920, 1080), (1280, 720)])
def test_briefing_presentation_mode_screenshot(app_server, width, height):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost")
                    else route.abort()
                ),
            )
            page.goto(app_server, wait_until="domcontentloaded")
            page.get_by_label("아이디").wait_for(timeout=90_000)
            page.get_by_label("아이디").fill("presenter")  # the role briefings are for
            page.get_by_label("비밀번호").fill(TEST_PASSWORDS["presenter"])
            page.get_by_role("button", name="로그인").click()
            page.get_by_role("link", name="브리핑").click()
            page.get_by_text("성과 지표").first.wait_for(timeout=90_000)
            assert page.locator("[data-testid=stSidebar]").first.is_visible()
            page.get_by_text("발표 모드").first.click()
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=stSidebar]') || "
                "getComputedStyle(document.querySelector('[data-testid=stSidebar]')).display === 'none'",
                timeout=60_000,
            )
            page.wait_for_timeout(1_500)
            page.screenshot(path=str(ARTIFACTS / f"briefing_presentation_{width}x{height}.png"), full_page=True)
            value = page.evaluate(TEXT_SIZE, "[data-testid=stMetricValue]")
            label = page.evaluate(TEXT_SIZE, "[data-testid=stMetricLabel]")
            # The area's map is on the presentation screen, loaded from the app (no tiles, no network).
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-testid=stImage] img, [data-testid=stImageContainer] img')]"
                ".some(i => i.complete && i.naturalWidth > 600)",
                timeout=90_000,
            )
            # The first row of tiles is on screen without scrolling.
            tile_bottom = page.evaluate(
                "() => document.querySelector('[data-testid=stMetricValue]').getBoundingClientRect().bottom"
            )
        finally:
            browser.close()
    assert value >= 48 and value >= 2 * label, (value, label)  # read from the back of the room
    assert 0 < tile_bottom <= height
