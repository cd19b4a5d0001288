"""``bench --json`` → ``pages``: the server-side run time of every page, cold and warm, for a
district official and an analyst, against the targets in :data:`TARGET_MS` (every page warm
≤ 1,000 ms, 핫스팟 ≤ 1,500 ms).

How it is measured: Streamlit's AppTest runs ``app.py`` in this process exactly as the server
would for one session (the same script, caches and database), without a browser, so the
figure is the script run alone: no network, no rendering.  *Cold* is a page's first run after
the process started with empty caches (what the first official of the morning waits for);
*warm* is the same page run again in the same session (what every later view costs).  The
risk list is timed with a purpose chosen, so it shows its rows.

It runs in a child process of ``bench`` (``python -m blindspot.app.pagebench``), because it
imports Streamlit, which only the app layer may; the child gets its own account file and
operational store, so timing never writes audit records into the product's store.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from blindspot import config
from blindspot.access import pages_for
from blindspot.app.pages import PAGE_FILES

TARGET_MS = {"default": 1000, "hotspots": 1500}
PASSWORD = "page-bench-시험-암호"
METHOD = (
    "AppTest in one process per bench (the app's script, caches and database, no browser): cold = a page's first run "
    "after the process started with empty caches, warm = the same page again in the same session"
)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def time_pages(role: str, user: str, timeout: float = 600.0) -> dict:
    """{page: {"cold_ms", "warm_ms", "ok"}} for one signed-in user of ``role``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(config.PROJECT_DIR / "app.py"), default_timeout=timeout)
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORD)
    t = time.perf_counter()
    at.button[0].click().run()  # signing in lands on the role's first page: its cold run
    landing = _ms(t)
    out = {}
    for i, page in enumerate(pages_for(role)):
        t = time.perf_counter()
        if i:
            at.switch_page(PAGE_FILES[page]).run()
        if page == "risk_list" and any(b.key == "rl_purpose_choice" for b in at.selectbox):
            at.selectbox(key="rl_purpose_choice").select("방문 계획" if role == "district" else "점검")
            t = time.perf_counter()  # the list with its rows is what an official waits for
            at.run()
        cold = _ms(t) if i else landing
        t = time.perf_counter()
        at.run()
        # ok: the page ran to its end and showed no error box (a refusal would be fast and wrong).
        out[page] = {"cold_ms": cold, "warm_ms": _ms(t), "ok": not at.exception and not at.error}
    return out


def summary(pages: dict) -> dict:
    """The slowest warm page per role and whether every page meets its target.

    >>> summary({"district": {"overview": {"cold_ms": 900, "warm_ms": 120, "ok": True},
    ...                       "hotspots": {"cold_ms": 3000, "warm_ms": 1600, "ok": True}}})
    {'slowest_warm_ms': 1600, 'over_target': ['district/hotspots'], 'all_meet_target': False}
    """
    over = [
        f"{role}/{page}"
        for role, by_page in pages.items()
        for page, t in by_page.items()
        if not t["ok"] or t["warm_ms"] > TARGET_MS.get(page, TARGET_MS["default"])
    ]
    slowest = max((t["warm_ms"] for by_page in pages.values() for t in by_page.values()), default=None)
    return {"slowest_warm_ms": slowest, "over_target": over, "all_meet_target": not over}


def main(db: str, models: str | None, sgg: str, role: str) -> dict:
    """The page times of one ``role`` (``district``: an official of ``sgg``; ``analyst``), in a
    process of its own so that each role's *cold* is really cold."""
    from blindspot.app import auth

    with tempfile.TemporaryDirectory(prefix="blindspot-pages-") as tmp:
        accounts = Path(tmp) / "auth.yaml"
        codes = [sgg] if role == "district" else []
        auth.write_accounts(accounts, [("bench_user", "화면 측정", role, codes, PASSWORD)], rounds=4)
        os.environ.update(
            {
                "BLINDSPOT_DB": db,
                "BLINDSPOT_AUTH": str(accounts),
                "BLINDSPOT_OPS_URL": f"sqlite:///{Path(tmp) / 'ops.sqlite'}",
                **({"BLINDSPOT_MODELS": models} if models else {}),
            }
        )
        return time_pages(role, "bench_user")


def page_timings(db: str, models: str | None, sgg: str) -> dict:
    """``bench --json`` → ``pages``: a child process per role (district official of ``sgg``,
    analyst), their page times, and the summary against the targets."""
    import subprocess

    pages = {}
    for role in ("district", "analyst"):
        args = [sys.executable, "-m", "blindspot.app.pagebench", db, models or "", sgg, role]
        out = subprocess.run(args, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"화면 측정 실패 ({role}): " + "\n".join(out.stderr.strip().splitlines()[-5:]))
        pages[role] = json.loads(out.stdout.strip().splitlines()[-1])
    return {"method": METHOD, "district_sgg": sgg, "target_ms": TARGET_MS, **summary(pages), "pages": pages}


if __name__ == "__main__":
    db_arg, models_arg, sgg_arg, role_arg = sys.argv[1:5]
    print(json.dumps(main(db_arg, models_arg or None, sgg_arg, role_arg), ensure_ascii=False))
