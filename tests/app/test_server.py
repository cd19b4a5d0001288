"""The real server behind its gate (``python -m blindspot serve`` in a subprocess), probed as an
outsider would: plain HTTP (urllib), a bare WebSocket client, and a signed-in Chromium.

- exposure: security headers, no metrics without an admin, localhost only;
- uploads: refused for a session that is not signed in, or without its browser's cookie;
  bounded in size and count; released from memory when the check ends;
- exports: the ``/media`` URL of a download is fetched once by the browser that made it, and
  by nobody else;
- sessions: a client presenting a signed-in session id without that browser's cookie gets
  the login form.

Skips (with the reason) when /usr/bin/chromium or playwright is missing, like test_browser.
"""

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlparse

import pytest
from conftest import TEST_PASSWORDS, TEST_USERS
from test_app_ingest import _sejong_csv
from test_browser import CHROMIUM, LAUNCH_ARGS, _free_port, _requirements, _wait_for

from blindspot import config
from blindspot.app import auth

pytestmark = pytest.mark.slow


def _start_gate(db, tmp_path, name="server", settings=None):
    """``python -m blindspot serve`` on ``db`` with the test accounts (written once per
    folder), its stderr in ``<name>.log``; returns the process and its base URL."""
    port = _free_port()
    accounts = tmp_path / "auth.yaml"
    if not accounts.exists():
        users = [(u, n, r, c, TEST_PASSWORDS[u]) for u, (n, r, c) in TEST_USERS.items()]
        auth.write_accounts(accounts, users, rounds=4, settings=settings)
    env = {
        **os.environ,
        "BLINDSPOT_DB": str(db),
        "BLINDSPOT_AUTH": str(accounts),
        "BLINDSPOT_OPS_URL": f"sqlite:///{tmp_path / 'ops.sqlite'}",
    }
    env.pop("BLINDSPOT_ADDRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "blindspot", "serve", "--port", str(port)],
        cwd=config.PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / f"{name}.log", "wb"),
    )
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture()
def gate_server(small_db, tmp_path):
    db = tmp_path / "server.duckdb"
    shutil.copy(small_db, db)
    proc, url = _start_gate(db, tmp_path, settings={"max_upload_mb": 1})
    try:
        _wait_for(f"{url}/_stcore/health")
        # The port answers through the gate of *this* process, not another test's plain
        # Streamlit that happened to get the same port: otherwise a refusal test would test
        # the wrong server (a CI run once saw an upload answered 204 here).
        status, headers, _ = _get(url + "/")
        assert proc.poll() is None and headers.get("Content-Security-Policy"), (
            f"{url} answered without the gate (status {status}); serve log: "
            + (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")[-1500:]
        )
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _get(url, cookies=None, headers=None, method="GET", data=None):
    """(status, headers, body) of one plain HTTP request; errors are answers too."""
    h = dict(headers or {})
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    req = urllib.request.Request(url, headers=h, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _multipart(name: str, payload: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _put_upload(base, session_id, payload, cookies, xsrf):
    body, ctype = _multipart("f.csv", payload)
    return _get(
        f"{base}/_stcore/upload_file/{session_id}/{uuid.uuid4()}",
        cookies=cookies,
        method="PUT",
        data=body,
        headers={"Content-Type": ctype, "X-Xsrftoken": xsrf or ""},
    )[0]


def _declared_upload(base, session_id, size, cookies, xsrf) -> int:
    """Status of a PUT that only announces ``size`` bytes: the gate must answer before any body."""
    import http.client

    u = urlparse(base)
    con = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    con.putrequest("PUT", f"/_stcore/upload_file/{session_id}/{uuid.uuid4()}")
    for k, v in {
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(size),
        "X-Xsrftoken": xsrf,
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    }.items():
        con.putheader(k, v)
    con.endheaders()
    status = con.getresponse().status
    con.close()
    return status


def _xsrf_cookie(base) -> str:
    _, headers, _ = _get(base + "/_stcore/health")
    raw = [v for v in headers.get_all("Set-Cookie") if v.startswith("_streamlit_xsrf=")][0]
    return raw.split(";")[0].split("=", 1)[1]


def _ws_run(base, session_id=None, cookies=None, seconds=25.0, during=None):
    """Connect a bare WebSocket client (optionally presenting ``session_id``), ask for a run,
    and return (session id given, all text the server sent); with ``during``, return what
    ``during(session id)`` returns, called while the connection is still open."""
    import websockets
    from google.protobuf import text_format
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async def run():
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        protocols = ["streamlit", "nothing", session_id] if session_id else ["streamlit"]
        texts, sid = [], None
        async with websockets.connect(
            base.replace("http", "ws") + "/_stcore/stream",
            subprotocols=protocols,
            additional_headers=headers,
            origin=base,
            max_size=None,
        ) as ws:
            back = BackMsg()
            back.rerun_script.query_string = ""
            back.rerun_script.page_script_hash = ""
            await ws.send(back.SerializeToString())
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                if msg.HasField("new_session"):
                    sid = msg.new_session.initialize.session_id
                texts.append(text_format.MessageToString(msg, as_utf8=True))
                if msg.HasField("script_finished") and any("비밀번호" in t or "로그아웃" in t for t in texts):
                    break
            if during is not None:
                return await asyncio.get_running_loop().run_in_executor(None, during, sid)
        return sid, "\n".join(texts)

    # Its own thread: Playwright's sync API keeps an event loop running in the test's thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _upload_bytes(base, cookies) -> int:
    """Bytes the server holds in uploaded files, from its metrics (an admin's cookie)."""
    status, _, body = _get(base + "/_stcore/metrics", cookies=cookies)
    assert status == 200
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in body.decode().splitlines()
        if line.startswith("cache_memory_bytes") and "UploadedFileManager" in line
    )


def test_exposure_headers_metrics_and_address(gate_server):
    status, headers, _ = _get(gate_server + "/")
    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    cookie = [v for v in headers.get_all("Set-Cookie") if v.startswith("blindspot_sid=")][0]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert _get(gate_server + "/_stcore/metrics")[0] == 403  # Streamlit 1.67 serves it to anyone
    assert _get(gate_server + "/_stcore/agent/openapi.json")[0] == 404
    # Bound to 127.0.0.1 only: another loopback address of the same machine is not served.
    port = urlparse(gate_server).port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", port), timeout=3).close()


def test_upload_refused_without_a_signed_in_session(gate_server):
    xsrf = _xsrf_cookie(gate_server)

    def upload(sid):  # while the outsider's fresh session (the login form) is connected
        return _put_upload(gate_server, sid, b"a,b\n1,2\n", {"_streamlit_xsrf": xsrf}, xsrf)

    assert _ws_run(gate_server, seconds=20, during=upload) == 403  # Streamlit alone: 204


def test_signed_in_uploads_downloads_and_session_binding(gate_server, small_db):
    _requirements()
    from playwright.sync_api import sync_playwright

    base = gate_server
    bad = _sejong_csv(small_db).decode("cp949").replace("apartment", "궁궐", 1).encode("utf-8")
    frames_sid, media = [], []

    def on_ws(ws):
        def got(payload):
            from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

            if isinstance(payload, bytes):
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                if msg.HasField("new_session"):
                    frames_sid.append(msg.new_session.initialize.session_id)

        ws.on("framereceived", got)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost")
                    else route.abort()
                ),
            )
            page.on("websocket", on_ws)
            page.on("request", lambda r: media.append(r.url) if "/media/" in r.url else None)
            csp_errors = []
            page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(base, wait_until="domcontentloaded")
            page.get_by_label("아이디").wait_for(timeout=90_000)
            page.get_by_label("아이디").fill("admin")
            page.get_by_label("비밀번호").fill(TEST_PASSWORDS["admin"])
            page.get_by_role("button", name="로그인").click()
            page.get_by_role("link", name="데이터 관리").click()
            page.get_by_label("차수 (YYYY-Rn)").wait_for(timeout=60_000)
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            session_id = frames_sid[-1]
            assert "blindspot_sid" in cookies
            xsrf = cookies["_streamlit_xsrf"]

            # Uploads: the signed-in admin's own session and cookie (positive control) …
            assert _put_upload(base, session_id, b"a,b\n1,2\n", cookies, xsrf) == 204
            # … but not the same session without the browser's cookie, and nothing over the size limit.
            assert _put_upload(base, session_id, b"a,b\n1,2\n", {"_streamlit_xsrf": xsrf}, xsrf) == 403
            assert _declared_upload(base, session_id, 1024 * 1024 + 10, cookies, xsrf) == 413  # max_upload_mb: 1
            statuses = [_put_upload(base, session_id, b"a\n1\n", cookies, xsrf) for _ in range(4)]
            assert statuses == [204, 204, 204, 429]  # at most 4 files held per session

            # A real upload through the page, then the check: the memory is released afterwards.
            page.get_by_label("차수 (YYYY-Rn)").fill("2024-R3")
            page.get_by_label("차수 (YYYY-Rn)").press("Enter")
            page.reload()  # a new session: the files PUT above are dropped with the old one
            page.get_by_label("아이디").wait_for(timeout=90_000)
            page.get_by_label("아이디").fill("admin")
            page.get_by_label("비밀번호").fill(TEST_PASSWORDS["admin"])
            page.get_by_role("button", name="로그인").click()
            page.get_by_role("link", name="데이터 관리").click()
            page.get_by_label("차수 (YYYY-Rn)").wait_for(timeout=60_000)
            page.get_by_label("차수 (YYYY-Rn)").fill("2024-R3")
            page.get_by_label("차수 (YYYY-Rn)").press("Enter")
            # Choose the file once the rerun the round started is over: a file chosen while the
            # page is redrawn can land in an uploader that is being replaced (a CI run lost it).
            page.wait_for_function(
                "() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'",
                timeout=60_000,
            )
            page.locator("input[type=file]").first.set_input_files(
                files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}]
            )
            page.get_by_text("bad.csv").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1_500)
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            assert _upload_bytes(base, cookies) >= len(bad)
            page.get_by_role("button", name="검사하기").click()
            page.get_by_text("문제 1건").first.wait_for(timeout=60_000)
            deadline = time.monotonic() + 20  # Streamlit caches this metric for 5 s
            while _upload_bytes(base, cookies) and time.monotonic() < deadline:
                time.sleep(1)
            assert _upload_bytes(base, cookies) == 0

            # The report download: the browser gets it once …
            with page.expect_download(timeout=60_000) as got:
                page.get_by_role("button", name="문제 목록 CSV 내려받기").click()
            path = got.value.path()
            assert "궁궐" in open(path, encoding="utf-8-sig").read()
            url = [u for u in media if "/media/" in u][-1]
            # … and its URL gives nothing to a client without the session, nor to the same
            # browser once the click's fetches (the page's check and the save) are spent.
            assert _get(url)[0] == 404
            assert _get(url, cookies=cookies)[0] == 404
            session_id = frames_sid[-1]
            assert not csp_errors, csp_errors[:3]
            # The download left an audit record (the admin's 감사 기록 page lists it).
            page.get_by_role("link", name="감사 기록").click()
            page.get_by_text("파일 내려받기").first.wait_for(state="attached", timeout=60_000)  # a grid cell

            # Sessions: the same browser (cookie) may reconnect; closing the tab, then
            # presenting the id without the cookie, gives the login form.
            page.close()
            resumed, same = _ws_run(base, session_id, cookies=cookies)
            assert resumed == session_id and "로그아웃" in same and "권한 범위" in same
            resumed, taken = _ws_run(base, session_id)
            # Streamlit does resume that very session (the id is honoured) …
            assert resumed == session_id
            # … but the sign-in is gone: the login form, no sidebar, no page content.
            assert "비밀번호" in taken and "로그아웃" not in taken and "권한 범위" not in taken
            assert "문제 1건" not in taken
        finally:
            browser.close()


def test_map_page_draws_under_the_content_security_policy(gate_server):
    """The CSP must not break the app: the deck.gl map draws, and the only violations the
    browser reports are attempts to reach another origin (pydeck's default basemap style),
    which the policy is there to stop."""
    _requirements()
    from playwright.sync_api import sync_playwright

    violations = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost")
                    else route.abort()
                ),
            )
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(gate_server, wait_until="domcontentloaded")
            page.get_by_label("아이디").wait_for(timeout=90_000)
            page.get_by_label("아이디").fill("analyst")
            page.get_by_label("비밀번호").fill(TEST_PASSWORDS["analyst"])
            page.get_by_role("button", name="로그인").click()
            page.get_by_role("link", name="지역 지도").click()
            page.wait_for_selector("canvas", state="attached", timeout=90_000)
            page.get_by_text("구간 나누기").first.wait_for(timeout=60_000)
            page.wait_for_timeout(3_000)
        finally:
            browser.close()
    own = [v for v in violations if "127.0.0.1" in v or not ("https://" in v or "http://" in v)]
    assert not own, own[:3]  # inline script, eval, workers, fonts, images, the WebSocket: all allowed


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture()
def nginx_front(gate_server, tmp_path):
    """deploy/nginx/blindspot.conf, unchanged but for the two ports and a 1 MB body limit,
    in front of the gate server."""
    if not os.path.exists(NGINX):
        pytest.skip("nginx 가 없습니다: `make browser-deps` (root) 또는 `apt-get install -y nginx-light`")
    port = _free_port()
    conf = (config.PROJECT_DIR / "deploy" / "nginx" / "blindspot.conf").read_text(encoding="utf-8")
    conf = (
        conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
        .replace("server 127.0.0.1:8501;", f"server 127.0.0.1:{urlparse(gate_server).port};")
        .replace("client_max_body_size 100m;", "client_max_body_size 1m;")
    )
    (tmp_path / "blindspot.conf").write_text(conf, encoding="utf-8")
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for d in temp.values():
        d.mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"worker_processes 1; daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + "events {}\nhttp {\n access_log off;\n"
        + "".join(
            f" {n}_temp_path {d};\n"
            for n, d in (
                ("client_body", temp["body"]),
                ("proxy", temp["proxy"]),
                ("fastcgi", temp["fastcgi"]),
                ("uwsgi", temp["uwsgi"]),
                ("scgi", temp["scgi"]),
            )
        )
        + f" include {tmp_path}/blindspot.conf;\n}}\n",
        encoding="utf-8",
    )
    test = subprocess.run(
        [NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert test.returncode == 0, test.stderr
    proc = subprocess.Popen(
        [NGINX, "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/_stcore/health", timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_nginx_front_end_configuration(nginx_front):
    status, headers, _ = _get(nginx_front + "/")
    assert status == 200
    assert headers.get_all("X-Frame-Options") == ["DENY"]  # once, not twice
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "nginx/" not in (headers.get("Server") or "")  # no version
    assert _get(nginx_front + "/_stcore/metrics")[0] == 404
    # The WebSocket is proxied: an outsider's session gets the login form through nginx …
    xsrf = _xsrf_cookie(nginx_front)

    def upload(sid):
        return (
            _put_upload(nginx_front, sid, b"a\n1\n", {"_streamlit_xsrf": xsrf}, xsrf),
            _declared_upload(nginx_front, sid, 2 * 1024 * 1024, {"_streamlit_xsrf": xsrf}, xsrf),
        )

    small, big = _ws_run(nginx_front, seconds=20, during=upload)
    assert small == 403  # … the gate still refuses its upload …
    assert big == 413  # … and nginx refuses a body over client_max_body_size
    status, headers, _ = _get(nginx_front + "/_stcore/upload_file/x/y", method="PUT", data=b"x" * (2 * 1024 * 1024))
    assert status == 413 and headers.get_all("X-Frame-Options") == ["DENY"]


# --- health: a process that cannot open its data takes no users --------------------------------


def _health(base):
    try:
        with urllib.request.urlopen(base + "/_stcore/health", timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def _until(base, status, timeout=60):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        try:
            got = _health(base)
            if got[0] == status:
                return got
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base}: health never {status} (last {got})")


def test_two_processes_serve_one_snapshot_and_health_fails_while_data_cannot_be_opened(small_db, tmp_path):
    """Two processes on one database both serve (each opens the active version read-only).
    When the version the link names cannot be opened (here: the link points at a missing
    file), the health check says 503 (a load balancer sends nobody there) instead of
    Streamlit's "ok", and names no path or process; once the link is right, 200 again."""
    from blindspot.db import snapshots

    db = tmp_path / "shared.duckdb"
    shutil.copy(small_db, db)
    with snapshots.loader(db, "stats"):
        pass  # a versioned database: db is now a link to its active version
    first, first_url = _start_gate(db, tmp_path, "first")
    second = None
    try:
        assert _until(first_url, 200) == (200, "ok")
        second, second_url = _start_gate(db, tmp_path, "second")
        assert _until(second_url, 200) == (200, "ok")  # a second process on the same data serves
        good = os.readlink(db)
        snapshots._point(db, snapshots.folder(db) / "v9999-20260101T000000.duckdb")
        for url, name in ((first_url, "first"), (second_url, "second")):
            status, text = _until(url, 503)
            assert "자료를 열 수 없어" in text and str(db) not in text and "PID" not in text
            assert b"health: not ready" in (tmp_path / f"{name}.log").read_bytes()  # details for the operator
        os.replace(db, tmp_path / "broken-link")
        os.symlink(good, db)
        assert _until(second_url, 200, timeout=30) == (200, "ok")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
