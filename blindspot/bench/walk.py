"""The browser walk of the sessions bench: concurrent signed-in sessions in one headless
Chromium, each timed step by step, and the summary of one run (:func:`_run`).

One context per session walks sign-in → 지역 지도 → 위험 가구 목록 (:data:`STEPS`); a step is
timed from its first action until the app is idle again (:data:`_IDLE_JS`), and a failed step
is recorded by its kind (:func:`_error_kind`).  The CPU of the servers and of the browsers over
the run comes from /proc (:mod:`blindspot.bench.procs`).  Apart from
:mod:`blindspot.bench.sessions`, which starts the servers, writes the accounts and runs the
whole bench through :func:`blindspot.bench.sessions.run_sessions`: the walk is the part that
drives the browser, and both in one module were too long to read.

Only the standard library at import: Playwright is imported when a walk runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import re
import time
from pathlib import Path

from blindspot.app import runlog
from blindspot.bench.procs import _descendants, _proc_stat, server_cpu_seconds

CHROMIUM = "/usr/bin/chromium"
# No WebGL software renderer flags (docs/browser-testing.md's --use-angle=swiftshader): the map's
# pixels are not what is measured, and software GL in 50 tabs would take the cores from the servers.
LAUNCH_ARGS = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update"]
# Without WebGL the map's canvas is created but stays blank: the server's work for the page is the
# same (it sends the same deck), the browsers' software GL (~1-2 CPU s per map page) is not.
NO_WEBGL_ARGS = ["--disable-3d-apis", "--disable-gpu"]
POLL_MS = 50  # how often a waiting page checks whether it is idle (timing resolution)
STEPS = ("login", "map", "list")

# 'ok' when the app finished its script run (no stale elements left) and shows what the step
# waits for, 'error' when it shows an exception or st.error box instead, else false (keep waiting).
_IDLE_JS = """([need, text]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]')) return 'error';
  if (need && !document.querySelector(need)) return false;
  if (text && !(app.textContent || '').includes(text)) return false;
  return 'ok';
}"""


class _StepError(Exception):
    pass


async def _wait_idle(page, need: str | None, text: str | None, deadline: float) -> None:
    """Until the app is idle showing ``need`` (a CSS selector) and ``text``; _StepError when
    it shows an error box instead or ``deadline`` (monotonic) passes."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        handle = await page.wait_for_function(_IDLE_JS, arg=[need, text], polling=POLL_MS, timeout=_ms_left(deadline))
    except PlaywrightTimeout as e:
        raise _StepError("timeout") from e
    if await handle.json_value() == "error":
        raise _StepError("error box")


def _ms_left(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


async def _step(name: str, page, url: str, user: str, password: str, deadline: float) -> None:
    """One page step, from its first action to the page being idle."""
    if name == "login":
        await page.goto(url, wait_until="domcontentloaded", timeout=_ms_left(deadline))
        await page.get_by_label("아이디").fill(user, timeout=_ms_left(deadline))
        await page.get_by_label("비밀번호").fill(password, timeout=_ms_left(deadline))
        await page.get_by_role("button", name="로그인").click(timeout=_ms_left(deadline))
        await _wait_idle(page, None, "합성 데이터 (synthetic)", deadline)
    elif name == "map":
        await page.get_by_role("link", name="지역 지도").click(timeout=_ms_left(deadline))
        await _wait_idle(page, '[data-testid="stDeckGlJsonChart"] canvas', "구간 나누기", deadline)
    else:
        await page.get_by_role("link", name="위험 가구 목록").click(timeout=_ms_left(deadline))
        await _wait_idle(page, '[data-testid="stSelectbox"]', "열람 목적", deadline)
        # The select box's placeholder is an attribute, not text: found by its label.
        box = page.locator("[data-testid=stSelectbox]").filter(has_text="열람 목적").first
        await box.locator("input").click(timeout=_ms_left(deadline))
        await page.keyboard.type("방문 계획")
        # Enter before the filtered option list is drawn selects nothing (seen under load):
        # wait for the option, then choose it.
        await page.get_by_role("option", name="방문 계획", exact=True).wait_for(timeout=_ms_left(deadline))
        await page.keyboard.press("Enter")
        await _wait_idle(page, '[data-testid="stDataFrame"] canvas', None, deadline)


async def _session(
    browser,
    url: str,
    user: str,
    password: str,
    rng: random.Random,
    think,
    ramp: float,
    timeout: float,
    shots: Path | None,
):
    """One user's walk: ([(step, seconds, error or None, start in epoch seconds)], its context); a step that timed out
    or failed to act ends the walk (the next page is not reachable), an error box does not.
    With ``shots``, a screenshot of each failed step goes there."""
    from playwright.async_api import Error as PlaywrightError

    out: list[tuple[str, float | None, str | None]] = []
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    try:
        page = await context.new_page()
        await asyncio.sleep(rng.uniform(0, ramp))  # arrivals spread like people's, not one burst
        for i, name in enumerate(STEPS):
            if i:
                await asyncio.sleep(rng.uniform(*think))
            start, epoch = time.monotonic(), time.time()
            try:
                await _step(name, page, url, user, password, start + timeout)
                out.append((name, time.monotonic() - start, None, epoch))
            except _StepError as e:
                out.append((name, time.monotonic() - start, str(e), epoch))
                await _shoot(page, shots, f"{user}-{name}")
                if str(e) == "timeout":
                    break
            except (TimeoutError, PlaywrightError) as e:
                out.append((name, time.monotonic() - start, _error_kind(e), epoch))
                await _shoot(page, shots, f"{user}-{name}")
                break
        return out, context
    except BaseException:
        await context.close()
        raise


def _error_kind(e: BaseException) -> str:
    """A failed action in few words, without its numbers (so that error_kinds counts alike ones).

    >>> _error_kind(TimeoutError("Page.goto: Timeout 59999.99ms exceeded.\\nCall log: …"))
    'timeout (Page.goto)'
    """
    first = str(e).splitlines()[0] if str(e) else ""
    where = first.split(":", 1)[0] if ":" in first else ""
    what = "timeout" if "Timeout" in type(e).__name__ else type(e).__name__
    detail = where if "Timeout" in type(e).__name__ else re.sub(r"[0-9.]+", "N", first)[:100]
    return f"{what} ({detail})" if detail else what


def _rng(seed: int, i: int) -> random.Random:
    """Session i's own generator: its think times do not depend on how the others ran."""
    return random.Random(seed * 100_003 + i)


async def _shoot(page, shots: Path | None, name: str) -> None:
    if shots is None:
        return
    from playwright.async_api import Error as PlaywrightError

    shots.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PlaywrightError, TimeoutError):
        await page.screenshot(path=str(shots / f"sessions-{name}.png"), timeout=10_000)


def _cpu_of(pids) -> float:
    return server_cpu_seconds(sorted(pids))


def _quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile (no interpolation between two pages' times).

    >>> _quantile([1.0, 2.0, 3.0, 4.0], 0.5), _quantile([1.0, 2.0, 3.0, 4.0], 0.95), _quantile([], 0.5)
    (2.0, 4.0, None)
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(round(q * len(ordered), 9))  # round: 0.95 × 20 must be 19, not 19.000000000000004
    return ordered[min(len(ordered), max(1, rank)) - 1]


def _stats(times: list[float]) -> dict:
    r = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return {
        "pages": len(times),
        "p50_s": r(_quantile(times, 0.5)),
        "p95_s": r(_quantile(times, 0.95)),
        "max_s": r(max(times) if times else None),
    }


async def _run(
    url: str,
    n: int,
    accounts,
    think,
    ramp: float,
    seed: int,
    server_pids,
    timeout: float,
    webgl: bool,
    shots: Path | None,
    run_log: Path | None = None,
    browser_nice: int = 0,
) -> dict:
    from playwright.async_api import async_playwright

    root = getattr(url, "root_pid", None)
    server_tree = ({root} | _descendants(root)) if root else set(server_pids)
    async with async_playwright() as pw:
        args = LAUNCH_ARGS + ([] if webgl else NO_WEBGL_ARGS)
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        if browser_nice:
            # Before any tab opens: renderers fork from the browser's zygote and inherit its niceness.
            _renice(_descendants(os.getpid()) - server_tree, browser_nice)
        try:
            cpu0, wall0, epoch0 = server_cpu_seconds(server_pids), time.monotonic(), time.time()
            client0 = _cpu_of(_descendants(os.getpid()) - server_tree) + _own_cpu()
            who = [accounts[i % len(accounts)] for i in range(n)]
            walks = await asyncio.gather(
                *(
                    _session(browser, url, user, password, _rng(seed, i), think, ramp, timeout, shots)
                    for i, (user, password) in enumerate(who)
                ),
                return_exceptions=True,
            )
            cpu1, wall1 = server_cpu_seconds(server_pids), time.monotonic()
            # The browsers' CPU before their tabs close (a closed renderer's time is gone).
            client1 = _cpu_of(_descendants(os.getpid()) - server_tree) + _own_cpu()
            for w in walks:
                if not isinstance(w, BaseException):
                    await w[1].close()
        finally:
            await browser.close()
    done: dict[str, list[float]] = {s: [] for s in STEPS}
    errors: list[str] = []
    finished: list[tuple[str, str, float, float]] = []  # (user, step, start, end) in epoch seconds
    for (user, _), w in zip(who, walks, strict=True):
        if isinstance(w, BaseException):
            errors.append(f"session: {type(w).__name__}: {str(w).splitlines()[0][:120] if str(w) else ''}")
            continue
        for name, seconds, error, epoch in w[0]:
            if error:
                errors.append(f"{name}: {error}")
            else:
                done[name].append(seconds)
                finished.append((user, name, epoch, epoch + seconds))
    cores = os.cpu_count() or 1
    gone = [p for p in server_pids if (_proc_stat(p) or ["Z"])[0] in "ZX"]
    times = [t for s in STEPS for t in done[s]]
    pages = len(times)
    kinds: dict[str, int] = {}
    for e in errors:
        kinds[e] = kinds.get(e, 0) + 1
    return {
        "sessions": n,
        **_stats(times),
        "errors": len(errors),
        "server_cpu_s_per_page": round((cpu1 - cpu0) / pages, 4) if pages else None,
        "server_cpu_s": round(cpu1 - cpu0, 2),
        "client_cpu_s": round(client1 - client0, 2),
        "wall_s": round(wall1 - wall0, 1),
        # Who used the machine over the run: CPU seconds ÷ (wall seconds × cores).
        "cpu_share": {
            "server": round((cpu1 - cpu0) / ((wall1 - wall0) * cores), 2),
            "client": round((client1 - client0) / ((wall1 - wall0) * cores), 2),
        },
        "not_run": len(STEPS) * n - pages - len(errors),
        "by_step": {s: _stats(done[s]) for s in STEPS},
        **(
            {"server": server_side(finished, [r for r in runlog.read(run_log) if r["start"] >= epoch0])}
            if run_log
            else {}
        ),
        **({"error_kinds": kinds} if kinds else {}),
        # A process the deploy launcher started again mid-run: its CPU time is not all counted.
        **({"server_pids_gone": gone} if gone else {}),
    }


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _renice(pids, nice: int) -> None:
    """Lower the CPU priority of ``pids`` (the browsers): a process that is gone is skipped.

    Playwright starts Chromium in a session of its own, and Linux with autogroup scheduling
    (``/proc/sys/kernel/sched_autogroup_enabled``, on by default) shares the CPU fairly between
    sessions before niceness counts: all browsers together still got half of a busy machine
    while each of their processes was at niceness 19.  So the browsers' autogroup is lowered too
    (its niceness is the group's weight against the servers' group).  Never the group of this
    process, which the servers share (Playwright's driver is in it)."""
    own = _autogroup(os.getpid())
    for pid in pids:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, nice)
        group = _autogroup(pid)
        if group is not None and group != own:
            with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as f:
                f.write(str(nice))


def _autogroup(pid: int) -> str | None:
    """``/autogroup-N`` of ``pid``, None without autogroup scheduling or when the process is gone."""
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return None


SLACK_S = 0.05  # a run may start this much before the browser's step clock (clocks read apart)


def server_side(steps: list[tuple[str, str, float, float]], runs: list[dict]) -> dict:
    """Each finished step's time in the server: the wall and CPU seconds of the script runs of
    its user's sessions that started within the step (``steps``: (user, step, start, end) in
    epoch seconds; ``runs``: :func:`blindspot.app.runlog.read`).  A session's runs before sign-in
    carry no user; they are the user's that signed in on that session.  Returns {"pages",
    "p50_s", "p95_s", "max_s" (seconds of server wall time per step), "cpu_s_per_page" (mean
    thread CPU per step), "runs", "run_p95_s" (per script run), "by_step" {step: p50/p95/max},
    "unmatched_runs" (runs of no finished step)}.

    >>> runs = [{"session": "a", "user": None, "start": 10.0, "wall_s": 0.2, "cpu_s": 0.1},
    ...         {"session": "a", "user": "kim", "start": 10.5, "wall_s": 0.4, "cpu_s": 0.3},
    ...         {"session": "a", "user": "kim", "start": 20.1, "wall_s": 1.0, "cpu_s": 0.5}]
    >>> out = server_side([("kim", "login", 10.0, 11.0), ("kim", "map", 20.0, 22.0)], runs)
    >>> out["by_step"]["login"]["p50_s"], out["by_step"]["map"]["p50_s"], out["cpu_s_per_page"]
    (0.6, 1.0, 0.45)
    """
    owner = {r.get("session"): r["user"] for r in runs if r.get("user")}
    by_user: dict[str, list[dict]] = {}
    for r in runs:
        user = r.get("user") or owner.get(r.get("session"))
        if user:
            by_user.setdefault(user, []).append(r)
    walls: dict[str, list[float]] = {s: [] for s in STEPS}
    cpu, used = 0.0, set()
    for user, step, start, end in steps:
        mine = [r for r in by_user.get(user, ()) if start - SLACK_S <= r["start"] <= end]
        used.update(id(r) for r in mine)
        walls[step].append(sum(r["wall_s"] for r in mine))
        cpu += sum(r.get("cpu_s", 0.0) for r in mine)
    every = [t for s in STEPS for t in walls[s]]
    return {
        **_stats(every),
        "cpu_s_per_page": round(cpu / len(every), 4) if every else None,
        "runs": len(runs),
        "run_p95_s": _stats([r["wall_s"] for r in runs])["p95_s"],
        "by_step": {s: _stats(walls[s]) for s in STEPS},
        "unmatched_runs": sum(1 for r in runs if id(r) not in used),
    }
