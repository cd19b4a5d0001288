"""``python -m blindspot.deploy``: several app processes on one machine behind nginx.

``python -m blindspot.deploy --processes N --port 8080`` (``make serve``) renders
``data/run/nginx.conf`` from ``deploy/nginx/blindspot.conf`` (:func:`render_nginx_conf`),
starts N ``python -m blindspot serve`` processes on 127.0.0.1 (ports 8601, 8602, …, all with
this environment, so the same ``BLINDSPOT_DB`` and ``BLINDSPOT_OPS_URL``), waits until each
answers ``/_stcore/health`` with 200, then runs nginx in the foreground.  nginx routes each
browser by its ``blindspot_route`` cookie, so a session stays in the process that holds it.

This is process supervision on one machine, not a cluster: an app process that dies is
started again (after a pause that grows while it keeps dying, logged to stderr); nginx
dying, SIGINT or SIGTERM stop everything.  docs/deploy.md describes the layouts.

Only the standard library (and :mod:`blindspot.config`): no Streamlit in this process.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from blindspot import config

TEMPLATE = config.PROJECT_DIR / "deploy" / "nginx" / "blindspot.conf"
RUN_DIR = config.PROJECT_DIR / "data" / "run"
NGINX_MISSING = "nginx 가 없습니다: `apt-get install -y nginx-light` (root 권한) 으로 설치한 뒤 다시 실행하세요."
READY_TIMEOUT = 120.0  # first start of one app process: imports, opening the data
HEALTH_EVERY = 5.0  # seconds between health probes of a running process
RESTART_DELAY = (1.0, 30.0)  # first and longest pause before starting a dead process again
STABLE_SECONDS = 60.0  # a process that lived this long starts again after the first pause
STOP_SECONDS = 10.0  # grace after SIGTERM before SIGKILL
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

_UPSTREAM = re.compile(r"(upstream\s+blindspot_app\s*\{)(.*?)(\n\})", re.S)
_SERVER_LINE = re.compile(r"^\s*#?\s*server\s+[^;]+;.*$")
_LISTEN_LINE = re.compile(r"^(\s*)listen\s+[^;]+;.*$", re.M)
_STATIC_ALIAS = re.compile(r"^(\s*)alias\s+\S*streamlit/static/static/;", re.M)


def streamlit_static() -> Path:
    """The installed Streamlit's frontend folder (what it serves under ``/static/``), found
    without importing Streamlit.

    >>> streamlit_static().name, (streamlit_static() / "js").is_dir()
    ('static', True)
    """
    spec = importlib.util.find_spec("streamlit")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("streamlit 패키지를 찾을 수 없습니다 (가상환경에서 실행하세요).")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "static"


def render_nginx_conf(
    template: str,
    app_ports: list[int],
    listen: int,
    run_dir: Path,
    *,
    address: str = "127.0.0.1",
    user: str | None = None,
    static_dir: Path | None = None,
) -> str:
    """A whole nginx.conf: ``template`` (deploy/nginx/blindspot.conf, written for nginx's
    ``http {}`` block) inside an ``http {}`` with the pid, logs and temporary folders under
    ``run_dir``, its upstream's ``server`` lines (the commented example too) replaced by one
    line per port of ``app_ports``, its ``listen`` by ``address:listen`` and the alias of
    ``/static/`` by ``static_dir`` (default: the installed Streamlit's, :func:`streamlit_static`).  ``user`` is
    nginx's worker user (only when started as root: the temporary folders are private).
    Raises ValueError when the template no longer has the lines this rewrites."""
    if not app_ports:
        raise ValueError("app_ports: at least one app process")
    found = _UPSTREAM.search(template)
    if not found:
        raise ValueError("template: no `upstream blindspot_app { … }` block")
    lines = found.group(2).split("\n")
    at = [i for i, line in enumerate(lines) if _SERVER_LINE.match(line)]
    if not any(not lines[i].lstrip().startswith("#") for i in at):
        raise ValueError("template: the upstream block has no `server` line")
    first = lines[at[0]]
    indent = first[: len(first) - len(first.lstrip())]
    servers = [f"{indent}server 127.0.0.1:{p};" for p in app_ports]
    body = [line for i, line in enumerate(lines) if i not in at]
    body[at[0] : at[0]] = servers
    conf = template[: found.start(2)] + "\n".join(body) + template[found.end(2) :]
    conf, listens = _LISTEN_LINE.subn(lambda m: f"{m.group(1)}listen {address}:{listen};", conf)
    if listens != 1:
        raise ValueError(f"template: expected one `listen` line, found {listens}")
    static = static_dir or streamlit_static()
    conf, aliases = _STATIC_ALIAS.subn(lambda m: f"{m.group(1)}alias {static}/;", conf)
    if aliases != 1:
        raise ValueError(f"template: expected one `alias …/streamlit/static/static/;` line, found {aliases}")

    run = Path(run_dir).resolve()
    body_lines = "\n".join("    " + line if line.strip() else "" for line in conf.strip("\n").split("\n"))
    temps = "".join(f"    {name}_temp_path {run / 'tmp' / name};\n" for name in TEMP_DIRS)
    return (
        "# Written by `python -m blindspot.deploy` from deploy/nginx/blindspot.conf at every start:\n"
        "# edit that file, not this one.\n" + (f"user {user};\n" if user else "") + "worker_processes auto;\n"
        "daemon off;  # in the foreground: the launcher supervises it\n"
        f"pid {run / 'nginx.pid'};\n"
        f"error_log {run / 'nginx-error.log'} warn;\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n"
        "    # Which app process served each request (upstream=): where a browser's cookie\n"
        "    # took it, for the operator and tests/test_deploy.py.\n"
        "    log_format blindspot_upstream '$time_iso8601 $remote_addr \"$request_method $uri\" $status '\n"
        "                                  'upstream=$upstream_addr route=$blindspot_route';\n"
        f"    access_log {run / 'nginx-access.log'} blindspot_upstream;\n" + temps + "\n" + body_lines + "\n}\n"
    )


def nginx_binary() -> str | None:
    """nginx on PATH, else Debian's /usr/sbin/nginx (not on a normal user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def child_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The app processes' environment: this one (same database, operational store, account
    file), with nginx on 127.0.0.1 as the one proxy whose X-Forwarded-For the gate believes.

    >>> child_env({"BLINDSPOT_DB": "x.duckdb"})["BLINDSPOT_TRUSTED_PROXIES"]
    '127.0.0.1'
    """
    env = dict(os.environ if environ is None else environ)
    # The apps listen on 127.0.0.1 behind this nginx only, so their one peer is nginx; a wider
    # value from the account file would let another local program claim any client address.
    env["BLINDSPOT_TRUSTED_PROXIES"] = "127.0.0.1"
    return env


def health(port: int, timeout: float = 2.0) -> tuple[int | None, str]:
    """(status, text) of the app's /_stcore/health; (None, why) when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return r.status, r.read(200).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(200).decode("utf-8", "replace")
    except (OSError, ValueError) as e:
        return None, f"응답 없음 ({type(e).__name__})"


def _log(message: str) -> None:
    print(f"deploy: {message}", file=sys.stderr, flush=True)


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def _parent_death_signal():
    """A function for the child, between fork and exec: on Linux it asks for SIGTERM when the
    launcher dies (even by SIGKILL), so no app process is left holding its port.  libc is
    looked up here, before the fork (no imports in a forked child); elsewhere None."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Stop:
    """Set by the signal handlers, polled by the loops.  Not a threading.Event: its set()
    takes a lock that the interrupted main thread may be holding inside wait()."""

    def __init__(self) -> None:
        self.flag = False

    def set(self) -> None:
        self.flag = True

    def is_set(self) -> bool:
        return self.flag

    def wait(self, seconds: float) -> bool:
        if not self.flag:
            time.sleep(seconds)
        return self.flag


@dataclass
class _App:
    port: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = RESTART_DELAY[0]
    restart_at: float | None = None
    ready: bool = False
    probed: float = 0.0


def _spawn(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    # Its own session: a Ctrl-C in the terminal reaches the launcher only, which then stops
    # the children in order (nginx first) instead of all of them racing each other.
    return subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_parent_death_signal()
    )


def _start_app(app: _App, env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "blindspot", "serve", "--address", "127.0.0.1", "--port", str(app.port)]
    app.proc = _spawn(argv, env)
    app.started, app.restart_at, app.ready, app.probed = time.monotonic(), None, False, 0.0


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _wait_ready(apps: list[_App], stop: _Stop, timeout: float) -> str | None:
    """None once every app answers 200, else why not (Korean, naming the port)."""
    deadline = time.monotonic() + timeout
    last: dict[int, str] = {}
    while not stop.is_set():
        for app in apps:
            if app.ready:
                continue
            code = app.proc.poll() if app.proc else None
            if code is not None:
                return (
                    f"포트 {app.port} 의 앱 프로세스가 준비되기 전에 끝났습니다 (종료 코드 {code}). "
                    "위에 나온 오류 메시지를 보세요."
                )
            status, text = health(app.port)
            app.ready = status == 200
            last[app.port] = f"{status} {text.strip()}" if status else text
        if all(a.ready for a in apps):
            return None
        if time.monotonic() > deadline:
            late = [a.port for a in apps if not a.ready]
            return (
                f"포트 {', '.join(map(str, late))} 의 앱 프로세스가 {timeout:.0f}초 안에 준비되지 않았습니다 "
                f"(/_stcore/health: {last.get(late[0], '응답 없음')}). 분석 데이터(BLINDSPOT_DB)와 운영 "
                "저장소(BLINDSPOT_OPS_URL)를 이 프로세스들이 열 수 있는지, 위 오류 메시지를 확인하세요."
            )
        stop.wait(0.5)
    return None


def _supervise(apps: list[_App], nginx: subprocess.Popen, env: dict[str, str], stop: _Stop) -> int:
    """Until a signal (0) or nginx's end (1): start dead apps again, log health changes."""
    while not stop.wait(0.5):
        code = nginx.poll()
        if code is not None:
            _log(f"nginx 가 끝났습니다 (종료 코드 {code}). 앱 프로세스도 모두 멈춥니다.")
            return 1
        now = time.monotonic()
        for app in apps:
            if app.restart_at is not None:
                if now >= app.restart_at:
                    _log(f"포트 {app.port} 의 앱 프로세스를 다시 시작합니다.")
                    _start_app(app, env)
                continue
            code = app.proc.poll() if app.proc else 0
            if code is not None:
                lived = now - app.started
                app.delay = RESTART_DELAY[0] if lived >= STABLE_SECONDS else min(app.delay * 2, RESTART_DELAY[1])
                app.restart_at = now + app.delay
                _log(
                    f"포트 {app.port} 의 앱 프로세스가 끝났습니다 (종료 코드 {code}, {lived:.0f}초 동안 실행). "
                    f"{app.delay:.0f}초 뒤 다시 시작합니다; 그 사이 nginx 는 다른 프로세스로 보냅니다."
                )
            elif now - app.probed >= HEALTH_EVERY:
                # nginx (open source) only notices refused connections; a process that runs but
                # cannot read its data keeps its users, so say so to the operator.
                app.probed = now
                status, text = health(app.port)
                if (status == 200) != app.ready:
                    app.ready = status == 200
                    why = f"{status or ''} {text.strip()}".strip()
                    state = "다시 준비되었습니다" if app.ready else f"준비되지 않았습니다 ({why})"
                    _log(f"포트 {app.port} 의 앱 프로세스가 {state}.")
    return 0


def serve_many(
    processes: int,
    port: int,
    *,
    first_app_port: int = 8601,
    address: str = "127.0.0.1",
    run_dir: str | os.PathLike | None = None,
    ready_timeout: float = READY_TIMEOUT,
    template: Path = TEMPLATE,
) -> int:
    """Run ``processes`` app processes (ports ``first_app_port``…) behind nginx on
    ``address:port`` until SIGINT/SIGTERM (returns 0) or nginx's end (1); 2 when it cannot
    start (nginx missing, a port taken, a bad configuration), 1 when an app never got ready.
    Messages go to stderr in Korean."""
    nginx = nginx_binary()
    if nginx is None:
        _log(NGINX_MISSING)
        return 2
    if processes < 1:
        _log("--processes 는 1 이상이어야 합니다.")
        return 2
    app_ports = list(range(first_app_port, first_app_port + processes))
    if port in app_ports or not all(0 < p < 65536 for p in [port, *app_ports]):
        _log(f"포트가 겹치거나 범위를 벗어납니다: nginx {port}, 앱 {app_ports[0]}–{app_ports[-1]}.")
        return 2
    taken = [p for p in app_ports if not _port_free("127.0.0.1", p)]
    taken += [port] if not _port_free(address, port) else []
    if taken:
        _log(f"이미 다른 프로그램이 쓰고 있는 포트입니다: {', '.join(map(str, taken))}. 다른 포트를 고르세요.")
        return 2

    run = Path(run_dir or RUN_DIR).resolve()
    for name in TEMP_DIRS:
        (run / "tmp" / name).mkdir(parents=True, exist_ok=True)
    conf_path, error_log = run / "nginx.conf", run / "nginx-error.log"
    user = "root" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    conf_path.write_text(
        render_nginx_conf(template.read_text(encoding="utf-8"), app_ports, port, run, address=address, user=user),
        encoding="utf-8",
    )
    check = subprocess.run(
        [nginx, "-t", "-q", "-c", str(conf_path), "-e", str(error_log)], capture_output=True, text=True
    )
    if check.returncode != 0:
        _log(f"nginx 가 설정 파일을 받아들이지 않습니다 ({conf_path}):\n{check.stderr.strip()}")
        return 2

    stop = _Stop()
    # Handlers only in the main thread (Python's rule); the caller's come back at the end.
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    env = child_env()
    apps = [_App(p) for p in app_ports]
    front: subprocess.Popen | None = None
    try:
        for app in apps:
            _start_app(app, env)
        _log(f"앱 프로세스 {processes}개를 시작했습니다 (포트 {app_ports[0]}–{app_ports[-1]}); 준비를 기다립니다.")
        problem = _wait_ready(apps, stop, ready_timeout)
        if problem:
            _log(problem)
            return 1
        if stop.is_set():
            return 0
        front = _spawn([nginx, "-c", str(conf_path), "-e", str(error_log)])
        _log(f"준비되었습니다: http://{address}:{port}/ (nginx 설정 {conf_path}, 기록 {run}). 멈추려면 Ctrl-C.")
        return _supervise(apps, front, env, stop)
    finally:
        _stop([front] if front else [])  # no new requests first, then the apps
        _stop([a.proc for a in apps if a.proc])
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _log("모두 멈췄습니다.")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m blindspot.deploy",
        description="한 컴퓨터에서 앱 프로세스 여러 개를 nginx 뒤에서 실행 (쿠키로 세션 고정, 죽은 프로세스 재시작)",
    )
    p.add_argument("--processes", type=int, default=2, help="앱 프로세스 수 (기본 2)")
    p.add_argument("--port", type=int, default=8080, help="nginx 가 받을 포트 (기본 8080)")
    p.add_argument("--first-app-port", type=int, default=8601, help="첫 앱 프로세스의 포트; 다음은 1씩 (기본 8601)")
    p.add_argument("--address", default="127.0.0.1", help="nginx 가 받을 주소 (0.0.0.0 이면 밖에서도; 기본 127.0.0.1)")
    p.add_argument("--run-dir", type=Path, default=RUN_DIR, help="nginx 설정·pid·기록 폴더 (기본 data/run)")
    p.add_argument("--ready-timeout", type=float, default=READY_TIMEOUT, help="앱 프로세스 준비를 기다릴 초")
    args = p.parse_args(argv)
    config.private_umask()  # nginx's logs and the rendered configuration: not world-readable
    return serve_many(
        args.processes,
        args.port,
        first_app_port=args.first_app_port,
        address=args.address,
        run_dir=args.run_dir,
        ready_timeout=args.ready_timeout,
    )


if __name__ == "__main__":
    sys.exit(main())
