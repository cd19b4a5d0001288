"""The map pages added beside 지역 지도 in a real browser (headless Debian Chromium, every request
that leaves localhost blocked): signed in as an analyst, each page's maps draw canvases that are
not blank, with no basemap fetched.  Skips, saying why, without Chromium or playwright."""

import io
import shutil

import pytest
from test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, _requirements, localhost_only, serving_app, sign_in

pytestmark = pytest.mark.slow

# (page link, texts the drawn page shows, canvases to check, a text that must be on the page)
PAGES = {
    "reach_gap": ("발굴 격차", ("차수별 추세", "분류 (FDR 보정 후, 순열 999회)"), 2, "예상 위기 가구"),
    "lonely": ("고독사 위험", ("지역별 중장년 1인 남성",), 1, "고독사 위험 등급"),
    "zones": ("특별지원구역", ("성분과 가중치",), 1, "필요 지수"),
}


@pytest.fixture(scope="module")
def map_server(modelled, tmp_path_factory):
    _requirements()
    db = tmp_path_factory.mktemp("browser-maps") / "maps.duckdb"  # its own copy: another process opens it
    shutil.copy(modelled[0], db)
    with serving_app(db) as url:
        yield url


@pytest.mark.parametrize("name", list(PAGES))
def test_map_draws_offline(map_server, name):
    from PIL import Image
    from playwright.sync_api import sync_playwright

    link, waits, n_canvases, text = PAGES[name]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            blocked = localhost_only(page)
            page.goto(map_server, wait_until="domcontentloaded")
            page.get_by_label("아이디").wait_for(timeout=90_000)
            sign_in(page, "analyst")
            page.get_by_role("link", name=link).click()
            for wait in waits:
                page.get_by_text(wait).first.wait_for(timeout=90_000)
            page.wait_for_selector("canvas", state="attached", timeout=60_000)
            page.wait_for_timeout(5_000)  # first WebGL frames (software rendering)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            canvases = page.locator("canvas")
            assert canvases.count() >= n_canvases
            shots = [canvases.nth(i).screenshot() for i in range(n_canvases)]
            assert page.get_by_text(text).count() >= 1
        finally:
            browser.close()

    assert blocked == []  # no basemap style, tile or font is asked of the internet
    for n, png in enumerate(shots):
        Image.open(io.BytesIO(png)).save(ARTIFACTS / f"{name}_canvas_{n}.png")
        image = Image.open(io.BytesIO(png)).convert("RGB")
        pixels = list(image.get_flattened_data()) if hasattr(image, "get_flattened_data") else list(image.getdata())
        background = max(set(pixels), key=pixels.count)
        drawn = [p for p in pixels if sum(abs(a - b) for a, b in zip(p, background, strict=False)) > 30]
        assert len(drawn) > 0.02 * len(pixels), f"{name} canvas {n} looks blank ({len(drawn)} of {len(pixels)} drawn)"
