"""``python -m blindspot.deploy`` (``make serve``): the nginx.conf it renders from
deploy/nginx/blindspot.conf, and, with Debian's nginx, two real app processes behind it:
each browser cookie sticks to one process, different cookies reach both, a killed process
is started again while nginx sends its users to the other, and SIGTERM stops everything.

The integration test skips (saying why) without nginx, except under CI, where it fails.
"""

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from blindspot import config, deploy

APP_PORTS = [8601, 8602, 8603]


def _rendered(run_dir: Path) -> str:
    return deploy.render_nginx_conf(deploy.TEMPLATE.read_text(encoding="utf-8"), APP_PORTS, 9090, run_dir)


def _locations(conf: str) -> dict[str, str]:
    """{location: its directives, nested blocks such as ``types {}`` included, comments
    dropped} of the rendered server."""
    conf = re.sub(r"#[^\n]*", "", conf)
    out = {}
    for m in re.finditer(r"^\s*location ([^{]+)\{", conf, re.M):
        depth, end = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[end], 0)
            end += 1
        out[m.group(1).strip()] = conf[m.end() : end - 1]
    return out


def test_render_nginx_conf_rewrites_upstream_listen_and_paths(tmp_path):
    conf = _rendered(tmp_path)
    upstream = re.search(r"upstream blindspot_app \{(.*?)\n\s*\}", conf, re.S).group(1)
    servers = [line.strip() for line in upstream.splitlines() if re.match(r"\s*#?\s*server ", line)]
    assert servers == ["server 127.0.0.1:8601;", "server 127.0.0.1:8602;", "server 127.0.0.1:8603;"]
    assert [line.strip() for line in conf.splitlines() if re.match(r"\s*listen ", line)] == ["listen 127.0.0.1:9090;"]
    # Sticky by nginx's own cookie, not by client address (one NAT address per office).
    assert "hash $blindspot_route consistent;" in upstream and "$remote_addr" not in upstream
    assert "map $cookie_blindspot_route $blindspot_route {" in conf
    assert 'add_header Set-Cookie "blindspot_route=$blindspot_route; Path=/; HttpOnly; SameSite=Strict" always;' in conf
    for header in ('X-Frame-Options "DENY"', 'X-Content-Type-Options "nosniff"', 'Referrer-Policy "no-referrer"'):
        assert f"add_header {header} always;" in conf
    # A location with its own add_header would lose the server's (security headers, cookie);
    # one with its own proxy_set_header loses the server's X-Forwarded-For overwrite.
    locations = _locations(conf)
    assert "= /_stcore/stream" in locations and "/" in locations
    for name, block in locations.items():
        assert "add_header" not in block, name
        if "proxy_set_header" in block:
            assert "proxy_set_header X-Forwarded-For $remote_addr;" in block, name
    # The wrapper: foreground, everything under the run folder, which upstream served a request.
    for line in ("daemon off;", f"pid {tmp_path}/nginx.pid;", f"proxy_temp_path {tmp_path}/tmp/proxy;"):
        assert line in conf
    assert "upstream=$upstream_addr" in conf and f"access_log {tmp_path}/nginx-access.log blindspot_upstream;" in conf
    assert len(re.findall(r"^http \{$", conf, re.M)) == 1 and not re.search(r"^user ", conf, re.M)
    assert "user root;" in deploy.render_nginx_conf(deploy.TEMPLATE.read_text(), [1], 2, tmp_path, user="root")
    # Streamlit's frontend from the installed package's folder, never through an app process.
    assert locations["^~ /static/"].split(";")[0].strip() == f"alias {deploy.streamlit_static()}/"
    assert "proxy_pass" not in locations["^~ /static/"]
    assert (deploy.streamlit_static() / "js").is_dir()


def test_render_nginx_conf_refuses_a_template_it_cannot_rewrite(tmp_path):
    with pytest.raises(ValueError, match="upstream"):
        deploy.render_nginx_conf("server { listen 80; }", [8601], 8080, tmp_path)
    with pytest.raises(ValueError, match="listen"):
        deploy.render_nginx_conf("upstream blindspot_app {\n    server a:1;\n}", [8601], 8080, tmp_path)
    with pytest.raises(ValueError, match="alias"):
        deploy.render_nginx_conf("upstream blindspot_app {\n    server a:1;\n}\nlisten 80;", [8601], 8080, tmp_path)


def _nginx_or_skip() -> str:
    nginx = deploy.nginx_binary()
    if nginx is None:
        message = "nginx 가 없습니다: `apt-get install -y nginx-light` (root) 로 설치하면 이 시험을 합니다."
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must test the real launcher, never skip it
        pytest.skip(message)
    return nginx


def test_rendered_conf_passes_nginx_t(tmp_path):
    nginx = _nginx_or_skip()
    for name in deploy.TEMP_DIRS:
        (tmp_path / "tmp" / name).mkdir(parents=True)
    (tmp_path / "nginx.conf").write_text(_rendered(tmp_path), encoding="utf-8")
    check = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_launcher_without_nginx_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr(deploy, "nginx_binary", lambda: None)
    assert deploy.serve_many(2, 8080) == 2
    assert "apt-get install -y nginx-light" in capsys.readouterr().err


def test_launcher_refuses_a_taken_port(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(deploy, "nginx_binary", lambda: "/bin/false")  # refused before nginx runs
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert deploy.serve_many(2, _free_ports(1), first_app_port=port - 1, run_dir=tmp_path) == 2
    # The taken port is named (port - 1 may happen to be taken by something else too).
    err = capsys.readouterr().err
    assert re.search(rf"이미 다른 프로그램이 쓰고 있는 포트입니다: (\d+, )*{port}(, \d+)*\.", err), err


def test_launcher_names_the_port_that_never_gets_ready(monkeypatch, capsys, tmp_path):
    """No database: each app answers 503 on /_stcore/health, so the launcher gives up after
    its timeout, says which ports, starts no nginx and leaves no process behind (no port
    answers)."""
    _nginx_or_skip()
    monkeypatch.setenv("BLINDSPOT_DB", str(tmp_path / "missing.duckdb"))
    first = _free_ports(3)
    code = deploy.serve_many(2, first + 2, first_app_port=first, run_dir=tmp_path / "run", ready_timeout=8)
    err = capsys.readouterr().err
    assert code == 1
    assert f"포트 {first}, {first + 1} 의 앱 프로세스가 8초 안에 준비되지 않았습니다" in err and "503" in err
    for port in (first, first + 1, first + 2):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=3).close()


# --- two app processes behind nginx ----------------------------------------------------------


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1 (the launcher numbers its
    app processes from one port)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count < 65536 and all(deploy._port_free("127.0.0.1", base + i) for i in range(count)):
            return base
    raise RuntimeError("no consecutive free ports")


def _get(url: str, cookie: str | None = None):
    req = urllib.request.Request(url, headers={"Cookie": f"blindspot_route={cookie}"} if cookie else {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers


def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = check()
            if got:
                return got
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _upstreams(access_log: Path, route: str, at_least: int = 0) -> list[str]:
    """The upstream of every logged request with ``route`` (a failed try then the next one
    is logged as "a, b": the last one answered).  nginx writes a request's line after its
    response has gone out, so a caller that just got a response waits for ``at_least`` lines."""

    def read() -> list[str]:
        out = []
        for line in access_log.read_text(encoding="utf-8").splitlines():
            m = re.search(r"upstream=(.*) route=([0-9a-f]+)$", line)
            if m and m.group(2) == route:
                out.append(m.group(1).split(", ")[-1])
        return out

    deadline = time.monotonic() + 10
    while len(got := read()) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


def _dead(pid: int) -> bool:
    """The process has exited (zombie or reaped): its files, sockets included, are closed."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _app_pid(launcher: int, port: int) -> int | None:
    """The launcher's child serving ``port`` (from /proc: no psutil here)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == launcher and b"serve" in argv and str(port).encode() in argv:
            return int(stat.parent.name)
    return None


@contextlib.contextmanager
def launched(db, tmp_path, env_extra=None):
    """``python -m blindspot.deploy --processes 2`` on ``db`` with this environment (the
    session's accounts, this test's operational store) plus ``env_extra``, until nginx
    answers: (proxy URL, app ports, run folder, launcher process, its stderr file)."""
    first = _free_ports(3)
    app_ports, proxy = [first, first + 1], first + 2
    run_dir = tmp_path / "run"
    env = {**os.environ, "BLINDSPOT_DB": str(db), **(env_extra or {})}
    err = tmp_path / "deploy.log"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "blindspot.deploy", "--processes", "2", "--port", str(proxy)]
        + ["--first-app-port", str(first), "--run-dir", str(run_dir), "--ready-timeout", "150"],
        cwd=config.PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(err, "wb"),
    )
    url = f"http://127.0.0.1:{proxy}"
    try:
        _until(lambda: launcher.poll() is not None or _get(url + "/_stcore/health")[0] == 200, 200, "nginx in front")
        assert launcher.poll() is None, err.read_text(encoding="utf-8")
        yield url, app_ports, run_dir, launcher, err
    finally:
        if launcher.poll() is None:
            launcher.terminate()
            try:
                launcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                launcher.kill()


@pytest.fixture()
def behind_nginx(small_db, tmp_path):
    """:func:`launched` on a copy of the small database."""
    _nginx_or_skip()
    if not Path("/proc/self/stat").exists():
        pytest.skip("/proc 가 없습니다: 앱 프로세스를 찾을 수 없어 이 시험을 건너뜁니다.")
    db = tmp_path / "shared.duckdb"
    shutil.copy(small_db, db)
    with launched(db, tmp_path) as running:
        yield running


def test_sticky_cookie_restart_and_stop(behind_nginx):
    url, app_ports, run_dir, launcher, err = behind_nginx
    upstreams = {f"127.0.0.1:{p}" for p in app_ports}
    access_log = run_dir / "nginx-access.log"

    # A browser without the cookie gets one from nginx (with the gate's security headers, once).
    status, headers = _get(url + "/")
    assert status == 200 and headers.get_all("X-Frame-Options") == ["DENY"]
    cookie = [v for v in headers.get_all("Set-Cookie") if v.startswith("blindspot_route=")]
    assert len(cookie) == 1 and "HttpOnly" in cookie[0] and "SameSite=Strict" in cookie[0]
    given = re.match(r"blindspot_route=([0-9a-f]{32});", cookie[0]).group(1)
    again = [v for v in _get(url + "/", given)[1].get_all("Set-Cookie") if v.startswith("blindspot_route=")]
    assert again == cookie  # the same value: kept, not renewed

    # Streamlit's frontend comes from disk through nginx, not from an app process (no upstream
    # in the log), with the security headers, a cache lifetime and gzip for browsers that ask.
    script = sorted(deploy.streamlit_static().glob("js/*.js"))[0].name
    route_s = hashlib.md5(b"static").hexdigest()
    status, headers = _get(f"{url}/static/js/{script}", route_s)
    assert status == 200 and headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert headers.get("Cache-Control") == "max-age=2592000"
    assert headers.get("Content-Type") == "application/javascript"  # nosniff: a script must say so
    font = sorted(deploy.streamlit_static().glob("media/*.woff2"))[0].name
    assert _get(f"{url}/static/media/{font}")[1].get("Content-Type") == "font/woff2"
    assert _upstreams(access_log, route_s, at_least=1) == ["-"]
    zipped = urllib.request.Request(f"{url}/static/js/{script}", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(zipped, timeout=20) as r:
        assert r.headers.get("Content-Encoding") == "gzip"
    assert _get(f"{url}/static/js/../../../../etc/passwd")[0] in (400, 404)

    # One cookie, one process: 20 requests all on the same upstream …
    route_a = hashlib.md5(b"A").hexdigest()
    assert all(_get(url + "/_stcore/health", route_a)[0] == 200 for _ in range(20))
    # … and 26 different cookies over both processes (fixed values: the spread is deterministic).
    routes = [hashlib.md5(letter.encode()).hexdigest() for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    assert all(_get(url + "/_stcore/health", r)[0] == 200 for r in routes)
    seen_a = _upstreams(access_log, route_a, at_least=21)
    assert len(seen_a) == 21 and len(set(seen_a)) == 1 and set(seen_a) <= upstreams
    assert {_upstreams(access_log, r, at_least=1)[-1] for r in routes} == upstreams

    # Kill the process that holds cookie A: nginx sends A to the other one meanwhile, and the
    # launcher starts it again on the same port.
    port_a = int(seen_a[0].rsplit(":", 1)[1])
    pid = _app_pid(launcher.pid, port_a)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # Gone means dead (a zombie or reaped): its sockets are closed only then.  Its command line
    # empties earlier, while it may still hold the listening socket for a moment.
    _until(lambda: _dead(pid), 30, "the killed process gone")
    logged = len(_upstreams(access_log, route_a))
    assert _get(url + "/_stcore/health", route_a)[0] == 200  # cookie A's users are still served:
    answered = _upstreams(access_log, route_a, at_least=logged + 1)[-1]
    # by the other process, or (on a busy machine) already by the restarted one on A's port.
    restarted = _app_pid(launcher.pid, port_a) not in (None, pid)
    assert answered in upstreams - {seen_a[0]} or (answered == seen_a[0] and restarted)
    _until(lambda: deploy.health(port_a)[0] == 200, 150, f"port {port_a} healthy again")
    new_pid = _app_pid(launcher.pid, port_a)
    assert new_pid not in (None, pid)
    # Back on its own process once nginx tries that one again (it skips a failed server for
    # fail_timeout, 10 s by default).
    _until(
        lambda: _get(url + "/_stcore/health", route_a)[0] == 200 and _upstreams(access_log, route_a)[-1] == seen_a[0],
        30,
        "cookie A back on its own process",
    )
    log = err.read_text(encoding="utf-8")
    assert f"포트 {port_a} 의 앱 프로세스가 끝났습니다" in log and "다시 시작합니다" in log

    # SIGTERM stops nginx and both app processes.
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=40) == 0
    for port in [*app_ports, int(url.rsplit(":", 1)[1])]:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=3).close()
