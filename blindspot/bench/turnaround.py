"""A round's way into a running app, measured: ``publish_seconds`` (a new snapshot version
of the bench database, copy to link move) and ``round_turnaround_seconds`` (a national round
file → validated, loaded, scored, aggregated, published, and on the screen of an app that
served throughout).

The turnaround runs what an operator runs: ``python -m blindspot ingest FILE --round NEXT
--rescore`` in a child process, while ``python -m blindspot serve`` serves the same
database and a headless Chromium (Debian's, through Playwright) stays signed in on 개요.
The clock starts when the command starts and stops when that page, clicked again, names
the new round.  The round file is the bench database's latest round exported for every
area (Parquet), loaded as the next round: the size of a real national extraction.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blindspot import config, glossary, rounds, settings
from blindspot.access import Scope
from blindspot.db import queries, snapshots
from blindspot.db.store import Store

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update"]
VISIBLE_TIMEOUT = 1800  # seconds: a national load on 2 cores must be visible well within this


def publish_timing(db: Path) -> dict:
    """One new version of ``db`` with no change (copy, checkpoint, rename, link): seconds
    until apps would open it, and its size on disk in bytes (each kept version costs that)."""
    t = time.monotonic()
    with snapshots.loader(db, "bench publish") as draft:
        pass
    seconds = time.monotonic() - t
    version = next(v for v in snapshots.versions(db) if v.name == draft.published)
    return {"publish_seconds": round(seconds, 2), "snapshot_bytes": version.bytes, "snapshots_kept": snapshots.KEEP}


def _accounts(folder: Path) -> tuple[Path, str]:
    from blindspot.app import auth

    password = "bench-분석가-" + os.urandom(6).hex()
    path = folder / "auth.yaml"
    auth.write_accounts(path, [("bench", "측정", "analyst", None, password)], rounds=4)
    return path, password


def round_turnaround(db: Path, models: Path | None) -> dict:
    """``round_turnaround_seconds`` for the next round of ``db`` (see the module docstring);
    also the ingest command's own seconds and the file's rows.  Needs a model in service in
    ``models`` for the rescoring; without one (or without Chromium) says why instead."""
    if models is None:
        return {"round_turnaround_skipped": "모델 없음 (--no-model): 점수 계산까지의 시간은 잴 수 없습니다"}
    if not Path(CHROMIUM).exists():
        return {"round_turnaround_skipped": f"{CHROMIUM} 없음: 화면에 보일 때까지를 잴 수 없습니다"}
    from playwright.sync_api import sync_playwright

    from blindspot.bench.sessions import serving

    work = Path(tempfile.mkdtemp(prefix="blindspot-bench-round-", dir=settings.get("bench_dir")))
    try:
        st = Store(db, read_only=True)
        try:
            latest = rounds.from_id(queries.latest_round(st))
            from blindspot.ingest import exchange

            files = exchange.export_round(st, Scope.all_areas(user="bench"), latest.code, work / "files", "parquet")
        finally:
            st.close()
        nxt = latest.next().code
        accounts, password = _accounts(work)
        extra = {
            "BLINDSPOT_AUTH": str(accounts),
            "BLINDSPOT_MODELS": str(models),
            "BLINDSPOT_OPS_URL": f"sqlite:///{work / 'ops.sqlite'}",
        }
        env = {**os.environ, "BLINDSPOT_DB": str(db), **extra}  # the ingest command's, the server's too
        with serving(db, 1, extra) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, wait_until="domcontentloaded")
                page.get_by_label("아이디").wait_for(timeout=300_000)
                page.get_by_label("아이디").fill("bench")
                page.get_by_label("비밀번호").fill(password)
                page.get_by_role("button", name="로그인").click()
                page.get_by_text("합성 데이터 (synthetic)").first.wait_for(timeout=300_000)
                started = time.monotonic()
                # A round without visits has no outcomes file to load (an empty one is refused).
                outcomes = ["--outcomes", str(files["outcomes_file"])] if files["outcomes_rows"] else []
                load = subprocess.Popen(
                    [sys.executable, "-m", "blindspot", "ingest", str(files["households_file"]), "--round", nxt]
                    + [*outcomes, "--rescore", "--user", "bench"],
                    cwd=config.PROJECT_DIR,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                out, err = load.communicate(timeout=VISIBLE_TIMEOUT)
                ingest_seconds = time.monotonic() - started
                if load.returncode != 0:
                    raise RuntimeError(f"bench: ingest failed: {err[-2000:]}")
                loaded = json.loads(out.strip().splitlines()[-1])
                # The app has served all along; its next page run opens the new version.
                shown = glossary.round_label(nxt)  # 개요 names rounds as people read them, "2024년 4차"
                while True:
                    page.get_by_role("link", name="개요").click()
                    with contextlib.suppress(Exception):
                        page.get_by_text(shown).first.wait_for(timeout=5_000)
                        break
                    if time.monotonic() - started > VISIBLE_TIMEOUT:
                        raise RuntimeError(f"bench: {nxt} never showed in the app")
                visible = time.monotonic() - started
            finally:
                browser.close()
        return {
            "round_turnaround_seconds": round(visible, 1),
            "round_ingest_command_seconds": round(ingest_seconds, 1),
            "round_file_households": loaded["households"],
            "round_file_bytes": Path(files["households_file"]).stat().st_size,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
