"""Concurrent signed-in browser sessions against a running app: page latency and server CPU.

``python -m blindspot.bench.sessions --db PATH [--models DIR] [--processes 1 2] [--counts 10 20 50] --json``
starts the app (one ``python -m blindspot serve`` process, or N behind nginx through
``python -m blindspot.deploy``), signs N district officials in at once from headless Chromium
(Playwright's async API: one browser, one context per session) and walks each through
sign-in → 지역 지도 → 위험 가구 목록 (with a purpose), with a seeded think time between steps.

A page step is timed from the click until the app is idle again: Streamlit's
``stApp[data-test-script-state=notRunning]`` (the script run is over, stale elements are gone)
and the page's own element is present.  The browsers share the machine's cores with the
servers, so latency includes browser rendering under load; the server's own cost is separated
by reading the CPU time of the app server processes only, from ``/proc/<pid>/stat``
(:func:`server_cpu_seconds`), and dividing by the pages served.  The browsers run without
WebGL (the map stays blank; the server does the same work) so that software GL does not take
the servers' CPU, and behind nginx the per-address limits count per browser
(:func:`per_browser_template`): every bench browser comes from 127.0.0.1.

Only the standard library at import: Playwright is imported when sessions run, Streamlit never.

Why over 500 lines: one measurement end to end — starting the servers (one process or the
launcher with nginx) and stopping every child, the accounts, the browser walk with its
idle detection and error kinds, the per-process CPU accounting and the summary — whose
parts only make sense together and are read in this order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from blindspot import config

CHROMIUM = "/usr/bin/chromium"
# No WebGL software renderer flags (docs/browser-testing.md's --use-angle=swiftshader): the map's
# pixels are not what is measured, and software GL in 50 tabs would take the cores from the servers.
LAUNCH_ARGS = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update"]
# Without WebGL the map's canvas is created but stays blank: the server's work for the page is the
# same (it sends the same deck), the browsers' software GL (~1-2 CPU s per map page) is not.
NO_WEBGL_ARGS = ["--disable-3d-apis", "--disable-gpu"]
HEALTH_TIMEOUT = 300.0  # seconds: first start of an app process on the demo database
STEP_TIMEOUT = 60.0  # seconds: a page step slower than this counts as an error
STOP_SECONDS = 30.0  # grace after SIGTERM before SIGKILL
POLL_MS = 50  # how often a waiting page checks whether it is idle (timing resolution)
STEPS = ("login", "map", "list")
MB_PER_SESSION = 250  # a Chromium context with this app open (renderer + its share of the browser)
P95_LIMIT = 2.0  # seconds: the latency target the summary reports against

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


# --- server processes ------------------------------------------------------------------------
class Served(str):
    """The base URL (``http://127.0.0.1:PORT``) of the app :func:`serving` started, a ``str``,
    with ``pids`` (the app server processes, not nginx or the launcher), ``root_pid`` (the
    process this module started: the server itself or the deploy launcher), ``processes`` and
    ``app_urls`` (each app process directly, bypassing nginx: for warming every one)."""

    pids: tuple[int, ...]
    root_pid: int
    processes: int
    app_urls: tuple[str, ...]

    def __new__(cls, url: str, pids: Sequence[int], root_pid: int, app_urls: Sequence[str]) -> Served:
        self = super().__new__(cls, url)
        self.pids, self.root_pid = tuple(pids), root_pid
        self.processes, self.app_urls = len(app_urls), tuple(app_urls)
        return self


def _free_ports(k: int) -> int:
    """First of ``k`` consecutive free ports on 127.0.0.1 (the deploy launcher numbers its
    app processes from one port up)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + k >= 65535:
            continue
        socks = []
        try:
            for p in range(first, first + k):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"{k}개의 연속된 빈 포트를 찾지 못했습니다")


def _health(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3, state, is [0])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(ppid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _proc_stat(int(stat.parent.name))
        if fields and int(fields[1]) == ppid:
            out.append(int(stat.parent.name))
    return out


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (one pass over /proc, then the tree)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _proc_stat(int(stat.parent.name))
        if fields:
            parent[int(stat.parent.name)] = int(fields[1])
    out: set[int] = set()
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in out]
        out.update(kids)
        frontier.extend(kids)
    return out


def _app_pids(launcher: int) -> list[int]:
    """The deploy launcher's ``blindspot serve`` children (nginx is its child too: left out)."""
    pids = []
    for pid in _children(launcher):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and b"blindspot" in argv:
            pids.append(pid)
    return sorted(pids)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(proc: subprocess.Popen, also: Sequence[int] = ()) -> None:
    """SIGTERM, then SIGKILL after STOP_SECONDS; ``also``: app processes the launcher started,
    killed if they outlived it (they should not: it stops them, and they die with it)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pid in also:
        fields = _proc_stat(pid)
        if fields and fields[0] != "Z":
            with contextlib.suppress(OSError):
                os.kill(pid, 9)


_ADDRESS_KEY = re.compile(r"(limit_(?:req|conn)_zone\s+)\$binary_remote_addr(\s+zone=blindspot_(?:req|conn):)")


def per_browser_template(template: str) -> str:
    r"""deploy/nginx/blindspot.conf with its general request and connection limits counted per
    browser (nginx's route cookie) instead of per client address: every bench browser comes
    from 127.0.0.1, so per address 20 r/s (burst 60) and 30 connections are shared by all of
    them, and a second browser loading the app's ~60 scripts at once already gets 429s.  The
    upload limit stays per address.  ValueError when the template no longer has both lines.

    >>> t = "limit_req_zone  $binary_remote_addr zone=blindspot_req:10m rate=20r/s;\n"
    >>> print(per_browser_template(t + "limit_conn_zone $binary_remote_addr zone=blindspot_conn:10m;"))
    limit_req_zone  $blindspot_route zone=blindspot_req:10m rate=20r/s;
    limit_conn_zone $blindspot_route zone=blindspot_conn:10m;
    """
    if "$blindspot_route    zone=blindspot_req:" in template:
        return template  # the shipped configuration already counts per browser
    out, found = _ADDRESS_KEY.subn(r"\1$blindspot_route\2", template)
    if found != 2:
        raise ValueError("template: expected the blindspot_req and blindspot_conn zones keyed by $binary_remote_addr")
    return out


@contextlib.contextmanager
def serving(
    db: Path,
    processes: int,
    env_extra: dict[str, str] | None = None,
    *,
    timeout: float = HEALTH_TIMEOUT,
    limits_per_browser: bool = True,
) -> Iterator[Served]:
    """Run the app on ``db`` (opened read-only by the servers) for the ``with`` block: one
    ``python -m blindspot serve`` process when ``processes`` is 1, else the deploy launcher
    (``python -m blindspot.deploy --processes N``, or its ``serve_many`` with the per-browser
    template below: N app processes behind nginx, sticky by cookie).  The
    environment is this one plus ``BLINDSPOT_DB`` and ``env_extra`` (BLINDSPOT_AUTH,
    BLINDSPOT_OPS_URL, BLINDSPOT_MODELS…).  Yields a :class:`Served` (the base URL) once
    ``/_stcore/health`` answers 200, within ``timeout`` seconds, else RuntimeError with the
    end of the server's log.  Everything it started is stopped at the end.

    ``limits_per_browser`` (processes >= 2): nginx's request and connection limits count per
    browser (:func:`per_browser_template`), as for users at different addresses; False keeps
    deploy/nginx/blindspot.conf as it is (all bench browsers then share one address's limits)."""
    if processes < 1:
        raise ValueError("processes: at least 1")
    env = {**os.environ, "BLINDSPOT_DB": str(db), **(env_extra or {})}
    with tempfile.TemporaryDirectory(prefix="blindspot-serving-") as tmp:
        log = Path(tmp) / "server.log"
        if processes == 1:
            port = _free_ports(1)
            argv = [sys.executable, "-m", "blindspot", "serve", "--address", "127.0.0.1", "--port", str(port)]
        else:
            first = _free_ports(processes + 1)
            port = first + processes
            run_dir = Path(tmp) / "run"
            argv = [sys.executable, "-m", "blindspot.deploy", "--processes", str(processes), "--port", str(port)]
            argv += ["--first-app-port", str(first), "--run-dir", str(run_dir), "--ready-timeout", str(int(timeout))]
            if limits_per_browser:
                from blindspot import deploy  # standard library only, like this module

                template = Path(tmp) / "blindspot.conf"
                template.write_text(per_browser_template(deploy.TEMPLATE.read_text(encoding="utf-8")), encoding="utf-8")
                # The launcher's command line has no --template: call it as its main() would.
                argv = [
                    sys.executable,
                    "-c",
                    "import sys; from pathlib import Path; from blindspot import config, deploy; "
                    "config.private_umask(); "
                    f"sys.exit(deploy.serve_many({processes}, {port}, first_app_port={first}, "
                    f"run_dir={str(run_dir)!r}, ready_timeout={float(timeout)}, template=Path({str(template)!r})))",
                ]
        url = f"http://127.0.0.1:{port}"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv, cwd=config.PROJECT_DIR, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        pids: list[int] = []
        try:
            deadline = time.monotonic() + timeout + 10  # the launcher's own timeout comes first
            while _health(url) != 200:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"앱 서버가 준비되기 전에 끝났습니다 (종료 코드 {proc.returncode}):\n{_tail(log)}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"앱 서버가 {timeout:.0f}초 안에 /_stcore/health 200 을 주지 않았습니다:\n{_tail(log)}"
                    )
                time.sleep(0.5)
            pids = [proc.pid] if processes == 1 else _app_pids(proc.pid)
            if len(pids) != processes:
                raise RuntimeError(f"앱 프로세스 {processes}개 중 {len(pids)}개만 찾았습니다 (/proc)")
            apps = [url] if processes == 1 else [f"http://127.0.0.1:{p}" for p in range(first, first + processes)]
            yield Served(url, pids, proc.pid, apps)
        finally:
            _stop(proc, pids if processes > 1 else ())


def server_cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by the processes ``pids`` themselves (their threads
    included, not their children), from /proc/<pid>/stat; a process that is gone counts 0."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = _proc_stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime: stat fields 14 and 15
    return total / tick


# --- browser sessions ------------------------------------------------------------------------
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
    """One user's walk: ([(step, seconds, error or None)], its context); a step that timed out
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
            start = time.monotonic()
            try:
                await _step(name, page, url, user, password, start + timeout)
                out.append((name, time.monotonic() - start, None))
            except _StepError as e:
                out.append((name, time.monotonic() - start, str(e)))
                await _shoot(page, shots, f"{user}-{name}")
                if str(e) == "timeout":
                    break
            except (TimeoutError, PlaywrightError) as e:
                out.append((name, time.monotonic() - start, _error_kind(e)))
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
) -> dict:
    from playwright.async_api import async_playwright

    root = getattr(url, "root_pid", None)
    server_tree = ({root} | _descendants(root)) if root else set(server_pids)
    async with async_playwright() as pw:
        args = LAUNCH_ARGS + ([] if webgl else NO_WEBGL_ARGS)
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            cpu0, wall0 = server_cpu_seconds(server_pids), time.monotonic()
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
    for w in walks:
        if isinstance(w, BaseException):
            errors.append(f"session: {type(w).__name__}: {str(w).splitlines()[0][:120] if str(w) else ''}")
            continue
        for name, seconds, error in w[0]:
            if error:
                errors.append(f"{name}: {error}")
            else:
                done[name].append(seconds)
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
        **({"error_kinds": kinds} if kinds else {}),
        # A process the deploy launcher started again mid-run: its CPU time is not all counted.
        **({"server_pids_gone": gone} if gone else {}),
    }


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def run_sessions(
    url: str,
    n: int,
    accounts: Sequence[tuple[str, str]],
    think: tuple[float, float] = (2.0, 5.0),
    seed: int = 0,
    *,
    pids: Sequence[int] | None = None,
    step_timeout: float = STEP_TIMEOUT,
    ramp: float | None = None,
    webgl: bool = False,
    shots: Path | None = None,
) -> dict:
    """Run ``n`` concurrent sessions against ``url`` from one headless Chromium (one context
    each) and time their pages.  Session i signs in as ``accounts[i % len(accounts)]``
    (username, password), waits a seeded random 0…``ramp`` s (default think[1]), then walks sign-in → 지역 지도 →
    위험 가구 목록 (purpose 방문 계획), thinking ``think`` seconds (uniform) between steps.
    Every context stays open (signed in, its WebSocket connected) until all sessions are done.

    Returns {"sessions", "pages" (steps finished without error), "p50_s", "p95_s", "max_s"
    (seconds over those pages, nearest rank), "errors" (steps that timed out after
    ``step_timeout`` s, showed an exception or st.error box, or failed to act),
    "server_cpu_s_per_page" (CPU seconds of the server processes over the run ÷ pages),
    "server_cpu_s", "client_cpu_s" (this process, Playwright and Chromium), "wall_s",
    "cpu_share" {"server", "client"} (their CPU ÷ the machine's cores × wall time),
    "not_run" (steps after a session's timeout), "by_step" {step: pages, p50_s, p95_s, max_s},
    "error_kinds" when any}.  ``pids`` are the server processes; default ``url.pids`` of a
    :class:`Served`.  ``webgl``: let the browsers draw the map (software GL on these machines,
    CPU taken from the servers; off by default).  ``shots``: a folder for screenshots of
    failed steps."""
    server_pids = list(pids if pids is not None else getattr(url, "pids", ()))
    if not server_pids:
        raise ValueError("pids: the app server processes (or a Served url from serving())")
    if not accounts:
        raise ValueError("accounts: at least one (username, password)")
    ramp = think[1] if ramp is None else ramp
    return asyncio.run(_run(url, n, list(accounts), think, ramp, seed, server_pids, step_timeout, webgl, shots))


# --- the whole bench -----------------------------------------------------------------------
def _district_codes(db: Path) -> list[str]:
    """시군구 codes of ``db`` that have households, in code order."""
    import duckdb

    from blindspot.db.snapshots import active_file

    con = duckdb.connect(str(active_file(Path(db))), read_only=True)
    try:
        rows = con.execute(
            "SELECT code FROM regions WHERE level = 'sgg' AND code IN (SELECT DISTINCT sgg_code FROM households) "
            "ORDER BY code"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def _accounts(path: Path, codes: list[str], count: int) -> list[tuple[str, str]]:
    """``count`` district officials bench01… (one 시군구 each, round-robin over ``codes``)
    written to the account file ``path``; [(username, password)]."""
    from blindspot.app import auth  # no Streamlit: the account file's functions only

    users = [(f"bench{i + 1:02d}", f"부하 시험 {i + 1}", "district", [codes[i % len(codes)]]) for i in range(count)]
    passwords = {u[0]: f"bench-pw-{u[0]}-시험" for u in users}
    auth.write_accounts(path, [(*u, passwords[u[0]]) for u in users], rounds=4)
    return [(u[0], passwords[u[0]]) for u in users]


def _memory_available_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _log(message: str) -> None:
    print(f"sessions: {message}", file=sys.stderr, flush=True)


METHOD = (
    "Browser and server share the 2 cores, so page times include browser rendering under load; server cost is "
    "separated by summing utime+stime (/proc/<pid>/stat) of the app server processes only (not nginx, "
    "Chromium or Playwright) over each run and dividing by the pages served."
)


def sessions_bench(
    db: Path,
    models: Path | None,
    processes: Sequence[int] = (1, 2),
    counts: Sequence[int] = (10, 20, 50),
    *,
    think: tuple[float, float] = (2.0, 5.0),
    ramp: float | None = None,
    seed: int = 0,
) -> dict:
    """For each number of app processes, start the app on ``db`` (read-only; a temporary
    operational store and account file), warm it with one session, then run each of
    ``counts`` concurrent sessions (:func:`run_sessions`).  Each count signs in officials of
    other 시군구 than the counts before it (their district's cached queries start cold, as
    on a first visit), the same ones for every process count.  A count that cannot run
    (memory, a browser or server failure) is recorded as {"skipped": reason}.

    Returns {"processes_1": {"n_10": {...}, ...}, ..., "p95_over_2s_at": {"1": first N whose
    p95 exceeds 2 s or None, ...} (failed steps count as slow: :func:`_p95_over`), "method":
    how browser and server time were separated, "setup": the load's parameters}."""
    codes = _district_codes(db)
    if not codes:
        raise ValueError(f"{db}: 가구가 있는 시군구가 없습니다")
    need = 1 + sum(counts)
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="blindspot-sessions-") as tmp:
        accounts = _accounts(Path(tmp) / "auth.yaml", codes, need)
        env = {"BLINDSPOT_AUTH": str(Path(tmp) / "auth.yaml")}
        if models:
            env["BLINDSPOT_MODELS"] = str(models)
        for procs in processes:
            # A fresh operational store per server set: audit records and sign-ins of one run only.
            env["BLINDSPOT_OPS_URL"] = f"sqlite:///{Path(tmp) / f'ops-{procs}.sqlite'}"
            runs: dict[str, dict] = {}
            try:
                with serving(Path(db), procs, env) as url:
                    # One walk on each app process directly (cookies cannot choose one): imports, page
                    # modules, the catalogue and the DuckDB connection are then warm everywhere.
                    _log(f"{procs} process(es) ready at {url}; warm-up walk on each")
                    for app in url.app_urls:
                        run_sessions(app, 1, accounts[:1], think=(0.5, 1.0), seed=seed, pids=url.pids)
                    offset = 1
                    for n in counts:
                        mine, offset = accounts[offset : offset + n], offset + n
                        free = _memory_available_mb()
                        if free is not None and free < n * MB_PER_SESSION + 1024:
                            runs[f"n_{n}"] = {
                                "skipped": f"memory: {free:.0f} MB available, ~{n * MB_PER_SESSION + 1024} MB needed"
                            }
                            continue
                        _log(f"{procs} process(es), {n} sessions …")
                        try:
                            runs[f"n_{n}"] = run_sessions(url, n, mine, think=think, seed=seed, ramp=ramp)
                        except Exception as e:  # a browser that could not hold them: record, go on
                            runs[f"n_{n}"] = {"skipped": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}
                        _log(f"  {json.dumps(runs[f'n_{n}'], ensure_ascii=False)}")
            except Exception as e:  # the servers did not start: every count of this set
                why = f"{type(e).__name__}: {str(e)[:300]}"
                runs = {f"n_{n}": runs.get(f"n_{n}") or {"skipped": why} for n in counts}
            result[f"processes_{procs}"] = runs
    result["p95_over_2s_at"] = {
        str(procs): next(
            (n for n in counts if _p95_over(result[f"processes_{procs}"][f"n_{n}"], P95_LIMIT)),
            None,
        )
        for procs in processes
    }
    result["method"] = METHOD
    arrive = think[1] if ramp is None else ramp
    result["setup"] = (
        f"sessions arrive within 0-{arrive:g} s and think {think[0]:g}-{think[1]:g} s between pages; "
        f"a step over {STEP_TIMEOUT:g} s is an error; browsers without WebGL (map canvas blank, same server work); "
        "each count signs in officials of 시군구 not used before (district caches cold), after one warm-up walk "
        "per app process; processes>=2: nginx limits per browser (route cookie), as from separate addresses"
    )
    return result


def _p95_over(run: dict, limit: float) -> bool:
    """Whether the 95th percentile over every attempted step exceeds ``limit`` seconds, a
    failed step (timed out, or an error box) counting as slower than any: over more than 5 %
    failed steps, or the percentile of the finished pages above it.  A skipped count: False.

    >>> cases = [(1.5, 30, 0), (2.5, 30, 0), (None, 0, 20), (1.5, 95, 5), (1.5, 94, 6)]
    >>> [_p95_over({"p95_s": p, "pages": n, "errors": e}, 2.0) for p, n, e in cases]
    [False, True, True, False, True]
    """
    errors, pages = run.get("errors") or 0, run.get("pages") or 0
    if errors and errors > 0.05 * (pages + errors):
        return True
    return (run.get("p95_s") or 0) > limit


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m blindspot.bench.sessions",
        description="동시 로그인 세션 N개 (헤드리스 Chromium) 의 페이지 응답 시간과 서버 CPU",
    )
    p.add_argument("--db", type=Path, required=True, help="분석 DuckDB 파일 (서버가 읽기 전용으로 엶)")
    p.add_argument("--models", type=Path, help="모델 폴더 (BLINDSPOT_MODELS)")
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="앱 프로세스 수들 (기본 1 2)")
    p.add_argument("--counts", type=int, nargs="+", default=[10, 20, 50], help="동시 세션 수들 (기본 10 20 50)")
    p.add_argument("--seed", type=int, default=0, help="생각 시간 난수 씨앗")
    p.add_argument("--ramp", type=float, help="세션이 도착하는 구간 (초; 기본 생각 시간의 최댓값 5초)")
    p.add_argument("--json", action="store_true", help="결과를 JSON 한 줄로")
    args = p.parse_args(argv)
    if not args.db.exists():
        p.error(f"{args.db} 이 없습니다")
    result = sessions_bench(
        args.db, args.models, tuple(args.processes), tuple(args.counts), ramp=args.ramp, seed=args.seed
    )
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
