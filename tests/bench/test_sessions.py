"""``blindspot.bench.sessions``: concurrent signed-in browser sessions against the app.

Two sessions (headless Debian Chromium) sign in to one app process on the scored small demo
and walk 로그인 → 지역 지도 → 위험 가구 목록: every page is timed, none fails, and the server's
CPU per page (read from /proc for the app process only) is positive.  Skips (saying why)
without /usr/bin/chromium or the playwright package, except under CI, where it fails.
"""

import os
import time
from pathlib import Path

import pytest
from conftest import TEST_PASSWORDS

from blindspot import config
from blindspot.bench import sessions


def _browser_or_skip() -> None:
    why = None
    if not Path(sessions.CHROMIUM).exists():
        why = f"{sessions.CHROMIUM} 이 없습니다: `apt-get install -y chromium` 으로 설치하면 세션 부하 시험을 합니다."
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            why = "playwright 패키지가 없습니다: `pip install playwright` 후 세션 부하 시험을 합니다."
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)  # CI must run the browsers, never skip them
        pytest.skip(why)


def _proc_or_skip() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("/proc 가 없습니다: 프로세스의 CPU 시간을 읽을 수 없어 이 시험을 건너뜁니다.")


def test_server_cpu_seconds_counts_this_process():
    _proc_or_skip()
    before = sessions.server_cpu_seconds([os.getpid()])
    assert before > 0  # the interpreter's start-up and imports
    end = time.process_time() + 0.3
    x = 0
    while time.process_time() < end:  # 0.3 s of CPU, more than a few clock ticks
        x += 1
    after = sessions.server_cpu_seconds([os.getpid()])
    assert after - before >= 0.2
    # A process that is gone (or never was) counts nothing instead of failing the bench.
    assert sessions.server_cpu_seconds([os.getpid(), 2**22 + 1]) == pytest.approx(after, abs=0.1)


@pytest.mark.slow
def test_two_sessions_walk_three_pages_each(modelled):
    _browser_or_skip()
    _proc_or_skip()
    db, models, _ = modelled
    # conftest puts the test accounts (BLINDSPOT_AUTH) and this test's operational store in the
    # environment, which serving() passes on; the models make the list show rows.
    with sessions.serving(db, 1, {"BLINDSPOT_MODELS": str(models)}) as url:
        assert len(url.pids) == 1 and url.pids[0] == url.root_pid
        result = sessions.run_sessions(
            url,
            2,
            [(u, TEST_PASSWORDS[u]) for u in ("dong", "gwangju")],
            think=(0.2, 0.5),
            seed=1,
            shots=config.PROJECT_DIR / "test-artifacts",
        )
    assert result["errors"] == 0, result
    assert result["pages"] == 6 and result["sessions"] == 2  # 3 steps × 2 sessions
    assert [result["by_step"][s]["pages"] for s in sessions.STEPS] == [2, 2, 2]
    assert result["p50_s"] > 0 and result["p95_s"] >= result["p50_s"]
    assert result["server_cpu_s_per_page"] > 0
    # Stopped at the end: nothing answers on the port any more.
    assert sessions._health(url) is None
