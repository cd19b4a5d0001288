"""Server and sign-in controls without a browser: the server gate as an ASGI app, the
shared login-failure store across processes, lockout arithmetic, the password policy,
production mode, configuration values and file modes."""

import asyncio
import os
import stat
import subprocess
import sys
import tomllib

import pytest
import yaml

from blindspot import config
from blindspot.app import auth, webguard
from blindspot.db import opstore
from blindspot.db.store import Store

SETTINGS = dict(auth.DEFAULT_SETTINGS)


# --- the gate (webguard.Guard) on a stand-in app ------------------------------------------------


class Downstream:
    """A stand-in for Streamlit: records what reached it and answers like its routes."""

    def __init__(self, body=b"ok", attachment=False):
        self.calls, self.body, self.attachment = [], body, attachment

    async def __call__(self, scope, receive, send):
        self.calls.append(scope)
        headers = [(b"content-type", b"text/csv")]
        if self.attachment:
            headers.append((b"content-disposition", b'attachment; filename="x.csv"'))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _call(app, path, method="GET", cookie=None, headers=(), client=("203.0.113.5", 5000)):
    hdrs = [(k.lower().encode(), v.encode()) for k, v in headers]
    if cookie:
        hdrs.append((b"cookie", f"{webguard.COOKIE}={cookie}".encode()))
    scope = {"type": "http", "path": path, "method": method, "headers": hdrs, "client": client}
    out = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        out.append(message)

    asyncio.run(app(scope, receive, send))
    start = out[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in out[1:])


@pytest.fixture()
def gate():
    registry = webguard.Registry()
    registry.sign_in("s-analyst", "kim", "analyst", webguard.digest("cookie-a"), ttl=600)
    registry.sign_in("s-official", "lee", "district", webguard.digest("cookie-d"), ttl=600)
    registry.sign_in("s-admin", "park", "admin", webguard.digest("cookie-m"), ttl=600)
    held = {"s-analyst": 0}
    settings = webguard.GuardSettings(
        max_upload_bytes=1000,
        max_uploads_per_session=2,
        held_uploads=lambda sid: held.get(sid, 0),
        trusted_proxies=("127.0.0.1",),
    )
    return registry, settings, held


def test_gate_uploads_need_the_sessions_cookie_and_an_upload_role(gate):
    registry, settings, held = gate
    down = Downstream()
    app = webguard.Guard(down, settings, registry)
    url = "/_stcore/upload_file/{}/f1"
    size = [("content-length", "10")]
    assert _call(app, url.format("s-unknown"), "PUT", "cookie-a", size)[0] == 403  # not signed in
    assert _call(app, url.format("s-analyst"), "PUT", None, size)[0] == 403  # id without the cookie
    assert _call(app, url.format("s-analyst"), "PUT", "cookie-d", size)[0] == 403  # someone else's cookie
    assert _call(app, url.format("s-official"), "PUT", "cookie-d", size)[0] == 403  # a role that may not upload
    assert _call(app, url.format("s-analyst"), "DELETE", None)[0] == 403
    assert not down.calls  # none of these reached Streamlit
    assert _call(app, url.format("s-analyst"), "PUT", "cookie-a", [("content-length", "1001")])[0] == 413
    assert _call(app, url.format("s-analyst"), "PUT", "cookie-a", [("content-length", "x")])[0] == 413
    assert _call(app, url.format("s-analyst"), "PUT", "cookie-a", size)[0] == 200  # reaches Streamlit
    held["s-analyst"] = 2
    assert _call(app, url.format("s-analyst"), "PUT", "cookie-a", size)[0] == 429  # holds enough files
    assert len(down.calls) == 1
    registry.sign_out("s-analyst")
    assert _call(app, url.format("s-analyst"), "PUT", "cookie-a", size)[0] == 403  # signed out: refused again


def test_gate_media_only_to_signed_in_browsers_and_downloads_once(gate):
    import hashlib

    registry, settings, _ = gate
    app = webguard.Guard(Downstream(b"image"), settings, registry)
    assert _call(app, "/media/abc.png")[0] == 404
    assert _call(app, "/media/abc.png", cookie="cookie-forged")[0] == 404
    assert _call(app, "/media/abc.png", cookie="cookie-d")[:1] == (200,)
    data = b"pseudo_id\nH00ff\n"
    app = webguard.Guard(Downstream(data, attachment=True), settings, registry)
    assert _call(app, "/media/f.csv", cookie="cookie-a")[0] == 404  # not handed over (no click)
    registry.expect_download("s-analyst", hashlib.sha256(data).hexdigest())
    assert _call(app, "/media/f.csv", cookie="cookie-d")[0] == 404  # another session's browser
    status, headers, body = _call(app, "/media/f.csv", cookie="cookie-a")
    assert (status, body, headers[b"cache-control"]) == (200, data, b"no-store")
    assert _call(app, "/media/f.csv", cookie="cookie-a")[0] == 200  # the page's check + the save
    assert _call(app, "/media/f.csv", cookie="cookie-a")[0] == 404  # then the URL is dead


def test_gate_headers_cookie_metrics_and_client_address(gate):
    registry, settings, _ = gate
    down = Downstream(b"<html>")
    app = webguard.Guard(down, settings, registry)
    status, headers, _ = _call(app, "/", headers=[("x-blindspot-client", "10.9.9.9")])
    assert status == 200 and headers[b"x-frame-options"] == b"DENY"
    assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]
    assert headers[b"set-cookie"].startswith(webguard.COOKIE.encode() + b"=") and b"HttpOnly" in headers[b"set-cookie"]
    seen = dict(down.calls[-1]["headers"])
    assert seen[b"x-blindspot-client"] == b"203.0.113.5"  # a client's own claim is replaced
    _call(app, "/", headers=[("x-forwarded-for", "198.51.100.7")])
    assert dict(down.calls[-1]["headers"])[b"x-blindspot-client"] == b"203.0.113.5"  # not a trusted proxy
    _call(app, "/", headers=[("x-forwarded-for", "6.6.6.6, 198.51.100.7")], client=("127.0.0.1", 1))
    assert dict(down.calls[-1]["headers"])[b"x-blindspot-client"] == b"198.51.100.7"
    assert b"set-cookie" not in _call(app, "/", cookie="cookie-a")[1]  # a browser keeps its secret
    assert _call(app, "/_stcore/metrics")[0] == 403
    assert _call(app, "/_stcore/metrics", cookie="cookie-a")[0] == 403  # analyst: not an admin
    assert _call(app, "/_stcore/metrics", cookie="cookie-m")[0] == 200
    assert _call(app, "/_stcore/agent/interact", cookie="cookie-m")[0] == 404


# --- failed logins in the shared store -------------------------------------------------------------


def test_failures_count_per_account_and_address_and_back_off(ops_url):
    ops = opstore.open_ops()
    now = 1_000_000.0
    for _ in range(5):
        assert auth.account_wait(ops, SETTINGS, "kim", now) == 0.0
        auth.record_failure(ops, SETTINGS, "kim", "198.51.100.7", now)
    assert auth.account_wait(ops, SETTINGS, "KIM ", now) == 30.0  # the 6th attempt waits 30 s
    auth.record_failure(ops, SETTINGS, "kim", "198.51.100.7", now + 30)
    assert auth.account_wait(ops, SETTINGS, "kim", now + 30) == 60.0  # doubles
    assert auth.account_wait(ops, SETTINGS, "lee", now) == 0.0  # other accounts are not affected
    assert auth.address_wait(ops, SETTINGS, "198.51.100.7", now) == 0.0  # 6 < 20 per address
    for k in range(14):  # one address guessing many accounts
        auth.record_failure(ops, SETTINGS, f"user{k}", "198.51.100.7", now + 30)
    assert ops.failures("address", "198.51.100.7")[0] == 20
    assert auth.address_wait(ops, SETTINGS, "198.51.100.7", now + 30) == 30.0
    assert auth.address_wait(ops, SETTINGS, "203.0.113.1", now + 30) == 0.0
    # The cap, and a count left alone for a day starts again.
    for _ in range(30):
        auth.record_failure(ops, SETTINGS, "kim", None, now + 40)
    assert auth.account_wait(ops, SETTINGS, "kim", now + 40) == 3600.0
    assert auth.account_wait(ops, SETTINGS, "kim", now + 40 + 86401) == 0.0
    auth.record_failure(ops, SETTINGS, "kim", None, now + 40 + 86401)
    assert ops.failures("account", "kim")[0] == 1
    auth.record_success(ops, "kim")
    assert ops.failures("account", "kim") == (0, None)
    assert ops.failures("address", "198.51.100.7")[0] == 20  # success does not clear the address


_COUNT_IN_CHILD = """
import sys, time
from blindspot.app import auth
from blindspot.db import opstore
ops = opstore.open_ops(sys.argv[1])
for _ in range(int(sys.argv[2])):
    auth.record_failure(ops, dict(auth.DEFAULT_SETTINGS), "admin", "198.51.100.9", time.time())
"""


def test_two_server_processes_share_the_counts(ops_url):
    """Two processes hammering the same account lose no failure (atomic updates; WAL on SQLite)."""
    children = [
        subprocess.Popen([sys.executable, "-c", _COUNT_IN_CHILD, ops_url, "40"], cwd=config.PROJECT_DIR)
        for _ in range(2)
    ]
    assert [c.wait(timeout=120) for c in children] == [0, 0]
    ops = opstore.open_ops(ops_url)
    assert ops.failures("account", "admin")[0] == 80 and ops.failures("address", "198.51.100.9")[0] == 80
    assert auth.account_wait(ops, SETTINGS, "admin", ops.failures("account", "admin")[1]) == 3600.0
    path = opstore._sqlite_file(ops_url)
    if ops_url.startswith("sqlite"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with ops.engine.connect() as con:
            assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    else:
        assert path is None and ops.engine.dialect.name == "postgresql"


# --- password policy, accounts made by the product, demo mode -------------------------------------


@pytest.mark.parametrize(
    "password, problem",
    [
        ("kurz-11char", "12자 이상"),
        ("kim-is-my-name-2024", "아이디(kim)"),
        ("Password123!", "약한 비밀번호"),
        ("1q2w3e4r5t6y", "약한 비밀번호"),
        ("saranghae2024", "약한 비밀번호"),
    ],
)
def test_password_policy_refuses(password, problem):
    assert any(problem in p for p in auth.password_problems("kim", password))
    with pytest.raises(auth.PasswordPolicyError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        auth.check_password_policy("kim", password)


def test_users_add_and_passwd_apply_the_policy(tmp_path):
    path = tmp_path / "auth.yaml"
    cmd = [
        sys.executable,
        "-m",
        "blindspot",
        "users",
        "add",
        "kim",
        "--role",
        "district",
        "--sgg",
        "29110",
        "--auth",
        str(path),
        "--password-stdin",
    ]
    weak = subprocess.run(cmd, input="password1234\n", capture_output=True, text=True, cwd=config.PROJECT_DIR)
    assert weak.returncode == 2 and "약한 비밀번호" in weak.stderr and not path.exists()
    ok = subprocess.run(cmd, input="강물-연필-41-나무-바다\n", capture_output=True, text=True, cwd=config.PROJECT_DIR)
    assert ok.returncode == 0, ok.stderr
    data = auth.load(path)  # production mode: a real account is fine
    assert data["settings"]["mode"] == "production" and auth.check_password(data, "kim", "강물-연필-41-나무-바다")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwd = [sys.executable, "-m", "blindspot", "users", "passwd", "kim", "--auth", str(path), "--password-stdin"]
    same_name = subprocess.run(
        passwd, input="kim-kim-kim-kim-1\n", capture_output=True, text=True, cwd=config.PROJECT_DIR
    )
    assert same_name.returncode == 2 and "아이디(kim)" in same_name.stderr


def test_production_refuses_demo_accounts(tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    auth.init_demo(path)
    monkeypatch.delenv("BLINDSPOT_MODE", raising=False)
    assert auth.load(path)["settings"]["mode"] == "demo"
    monkeypatch.setenv("BLINDSPOT_MODE", "production")
    with pytest.raises(auth.AuthConfigError, match="데모 계정을 쓸 수 없습니다"):
        auth.load(path)
    monkeypatch.delenv("BLINDSPOT_MODE")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["settings"]["mode"] = "production"  # or the file itself says production
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(auth.AuthConfigError, match="admin, analyst, gwangju, jongno, presenter"):
        auth.load(path)
    # The server does not start at all: exit 2 with the message, before listening.
    out = subprocess.run(
        [sys.executable, "-m", "blindspot", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        cwd=config.PROJECT_DIR,
        env={**os.environ, "BLINDSPOT_AUTH": str(path)},
        timeout=120,
    )
    assert out.returncode == 2 and "데모 계정을 쓸 수 없습니다" in out.stderr


# --- configuration and file modes --------------------------------------------------------------


def test_streamlit_configuration_hides_errors_and_listens_locally():
    cfg = tomllib.loads((config.PROJECT_DIR / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["client"]["showErrorDetails"] == "none"
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["server"]["disconnectedSessionTTL"] <= 30
    assert cfg["server"]["enableXsrfProtection"] is True and cfg["server"]["enableAgentApi"] is False
    assert "blindspot serve" in (config.PROJECT_DIR / "Makefile").read_text(encoding="utf-8")


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_databases_and_wal_are_not_world_readable(tmp_path):
    old = os.umask(0o022)  # a permissive umask: the store itself must restrict the files
    try:
        path = tmp_path / "x.duckdb"
        st = Store(path, create=True, check_schema=False)
        st.run("CREATE TABLE t AS SELECT 1 AS a")
        st.run("INSERT INTO t VALUES (2)")
        wal = tmp_path / "x.duckdb.wal"
        st.checkpoint()
        assert _mode(path) == 0o600
        if wal.exists():
            assert _mode(wal) & 0o077 == 0
        st.close()
    finally:
        os.umask(old)


def test_cli_umask_and_exports_are_private(small_db, tmp_path):
    import shutil

    db = tmp_path / "c.duckdb"
    shutil.copy(small_db, db)
    os.chmod(db, 0o644)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "blindspot",
            "export-round",
            "--round",
            "2024-R3",
            "--out",
            str(tmp_path / "out"),
            "--purpose",
            "견본 파일 만들기",
            "--sgg",
            "36110",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        cwd=config.PROJECT_DIR,
    )
    assert out.returncode == 0, out.stderr
    files = list((tmp_path / "out").iterdir())
    assert files and all(_mode(f) == 0o600 for f in files)
    assert _mode(tmp_path / "out") & 0o007 == 0  # the folder made under the CLI's umask
    # A loader (here `stats`) makes the file a snapshot version: every version and its
    # folder are restricted, the file that was 0644 too.
    out = subprocess.run(
        [sys.executable, "-m", "blindspot", "stats", "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=config.PROJECT_DIR,
    )
    assert out.returncode == 0, out.stderr
    from blindspot.db import snapshots

    versions = snapshots.versions(db)
    assert len(versions) == 2 and all(_mode(v.file) == 0o600 for v in versions)
    assert all(_mode(v.file.with_suffix(".json")) == 0o600 for v in versions)
    assert _mode(snapshots.folder(db)) == 0o700


def test_model_files_are_not_world_readable(modelled):
    models = modelled[1]
    files = [f for f in models.rglob("*") if f.is_file() and not f.name.startswith(".")]
    assert files and all(_mode(f) & 0o007 == 0 for f in files)
