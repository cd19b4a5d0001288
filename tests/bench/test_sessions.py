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


def test_browsers_are_reniced():
    _proc_or_skip()
    import subprocess

    from blindspot.bench import walk

    child = subprocess.Popen(["sleep", "30"])
    try:
        walk._renice([child.pid, 2**22 + 1], sessions.BROWSER_NICE)  # a pid that is gone is skipped
        nice = int(Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])  # field 19
        assert nice == sessions.BROWSER_NICE == 19
    finally:
        child.kill()
        child.wait()


def test_browsers_autogroup_is_lowered_but_never_ours():
    """Chromium runs in a session of its own: with autogroup scheduling its group, not only its
    processes, must yield, or the browsers keep half of a busy machine.  Our own group holds the
    servers and must keep its weight."""
    _proc_or_skip()
    import subprocess

    from blindspot.bench import walk

    if walk._autogroup(os.getpid()) is None:
        pytest.skip("no autogroup scheduling on this kernel")
    ours = Path(f"/proc/{os.getpid()}/autogroup").read_text()
    apart = subprocess.Popen(["sleep", "30"], start_new_session=True)  # as Playwright starts Chromium
    beside = subprocess.Popen(["sleep", "30"])  # as Playwright's driver: in our session
    try:
        walk._renice([apart.pid, beside.pid], sessions.BROWSER_NICE)
        assert Path(f"/proc/{apart.pid}/autogroup").read_text().split()[-1] == "19"
        assert walk._autogroup(apart.pid) != walk._autogroup(os.getpid())
        assert Path(f"/proc/{os.getpid()}/autogroup").read_text() == ours  # untouched, nice as before
    finally:
        for child in (apart, beside):
            child.kill()
            child.wait()


@pytest.mark.slow
def test_two_sessions_walk_three_pages_each(modelled, tmp_path):
    _browser_or_skip()
    _proc_or_skip()
    db, models, _ = modelled
    # conftest puts the test accounts (BLINDSPOT_AUTH) and this test's operational store in the
    # environment, which serving() passes on; the models make the list show rows.
    run_log = tmp_path / "runs"
    env = {"BLINDSPOT_MODELS": str(models), "BLINDSPOT_RUN_LOG": str(run_log)}
    with sessions.serving(db, 1, env) as url:
        assert len(url.pids) == 1 and url.pids[0] == url.root_pid
        result = sessions.run_sessions(
            url,
            2,
            [(u, TEST_PASSWORDS[u]) for u in ("dong", "gwangju")],
            think=(0.2, 0.5),
            seed=1,
            shots=config.PROJECT_DIR / "test-artifacts",
            run_log=run_log,
        )
    assert result["errors"] == 0, result
    assert result["pages"] == 6 and result["sessions"] == 2  # 3 steps × 2 sessions
    assert [result["by_step"][s]["pages"] for s in sessions.STEPS] == [2, 2, 2]
    assert result["p50_s"] > 0 and result["p95_s"] >= result["p50_s"]
    assert result["server_cpu_s_per_page"] > 0
    # The server's own time per step, from the runs the app wrote: every step found its runs
    # (sign-in included: the form's run has no user yet and is joined by its session), each
    # step took some server time and no more than the browser waited for it.
    server = result["server"]
    assert server["pages"] == 6 and server["unmatched_runs"] == 0, server
    assert server["runs"] >= 6  # at least one script run per step
    for step in sessions.STEPS:
        assert 0 < server["by_step"][step]["max_s"] <= result["by_step"][step]["max_s"], (step, result)
    assert 0 < server["cpu_s_per_page"] <= server["max_s"]  # a run's thread CPU is within its wall time
    # Stopped at the end: nothing answers on the port any more.
    assert sessions._health(url) is None
