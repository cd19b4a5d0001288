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

Here: starting the servers and stopping every child, the accounts, and the bench end to end.
The browser walk with its idle detection, error kinds and summary is :mod:`blindspot.bench.walk`,
reading /proc is :mod:`blindspot.bench.procs`.  Only the standard library at import: Playwright
is imported when sessions run, Streamlit never.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
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
from blindspot.bench.procs import _children, _proc_stat
from blindspot.bench.procs import server_cpu_seconds as server_cpu_seconds  # callers read it here
from blindspot.bench.walk import CHROMIUM as CHROMIUM  # callers read it here
from blindspot.bench.walk import STEPS as STEPS  # callers read it here
from blindspot.bench.walk import _run

HEALTH_TIMEOUT = 300.0  # seconds: first start of an app process on the demo database
STEP_TIMEOUT = 60.0  # seconds: a page step slower than this counts as an error
STOP_SECONDS = 30.0  # grace after SIGTERM before SIGKILL
MB_PER_SESSION = 250  # a Chromium context with this app open (renderer + its share of the browser)
P95_LIMIT = 2.0  # seconds: the latency target the summary reports against
BROWSER_NICE = 19  # the bench's browsers yield the CPU to the servers (METHOD)


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


# --- browser sessions ------------------------------------------------------------------------
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
    run_log: Path | None = None,
    browser_nice: int = 0,
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
    failed steps.  ``run_log``: the servers' run-log folder (their setting ``run_log``), read
    into "server", the time each step took in the server (:func:`blindspot.bench.walk.server_side`).
    ``browser_nice``: the browsers' niceness (19: they get only the CPU the servers leave)."""
    server_pids = list(pids if pids is not None else getattr(url, "pids", ()))
    if not server_pids:
        raise ValueError("pids: the app server processes (or a Served url from serving())")
    if not accounts:
        raise ValueError("accounts: at least one (username, password)")
    ramp = think[1] if ramp is None else ramp
    return asyncio.run(
        _run(url, n, list(accounts), think, ramp, seed, server_pids, step_timeout, webgl, shots, run_log, browser_nice)
    )


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
    "Browsers and servers share the machine's cores. Two separations: (1) the browsers run at "
    f"niceness {BROWSER_NICE} (Playwright, Chromium and every renderer, and Chromium's scheduler "
    "autogroup, without which Linux shares the CPU evenly between the browsers' session and the "
    "servers'), so the servers get the CPU they ask for and the browsers what is left, as when "
    "browsers run on users' own computers; (2) each step's server time is measured in the server: "
    "every script run writes its wall and thread-CPU seconds to a run log (setting run_log, "
    "blindspot/app/runlog.py), and a step's server time is the sum over the runs of that user's "
    "session that started within the step ('server'). p50_s/p95_s are as the browsers saw them, "
    "rendering included; server_cpu_s_per_page is utime+stime (/proc/<pid>/stat) of the app server "
    "processes only (not nginx, Chromium or Playwright) over each run, divided by the pages served."
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
            run_log = Path(tmp) / f"runs-{procs}"
            env["BLINDSPOT_RUN_LOG"] = str(run_log)
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
                            runs[f"n_{n}"] = run_sessions(
                                url,
                                n,
                                mine,
                                think=think,
                                seed=seed,
                                ramp=ramp,
                                run_log=run_log,
                                browser_nice=BROWSER_NICE,
                            )
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
    # The same in the server's own time (a failed step still counts as slow).
    result["server_p95_over_2s_at"] = {
        str(procs): next(
            (n for n in counts if _p95_over(_server_view(result[f"processes_{procs}"][f"n_{n}"]), P95_LIMIT)),
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


def _server_view(run: dict) -> dict:
    """A run's server-side figures in the shape :func:`_p95_over` reads (its errors kept); a
    skipped count (no "server") stays skipped."""
    server = run.get("server")
    if not server:
        return {"skipped": True} if "skipped" in run else {"p95_s": None, "pages": 0, "errors": run.get("errors")}
    return {"p95_s": server.get("p95_s"), "pages": server.get("pages"), "errors": run.get("errors")}


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
        p.error(f"데이터베이스 파일이 없습니다: {args.db}")
    result = sessions_bench(
        args.db, args.models, tuple(args.processes), tuple(args.counts), ramp=args.ramp, seed=args.seed
    )
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
