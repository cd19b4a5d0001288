"""Account file, demo users, login backoff and session timeout (pure functions and CLI)."""

import subprocess
import sys

import bcrypt
import pytest
import yaml

from blindspot import config
from blindspot.access import pages_for, scope_for
from blindspot.app import auth


def test_init_demo_creates_hashed_accounts_once(tmp_path):
    path = tmp_path / "auth.yaml"
    out = subprocess.run(
        [sys.executable, "-m", "blindspot", "users", "init-demo", "--auth", str(path)],
        capture_output=True,
        text=True,
        cwd=config.PROJECT_DIR,
    )
    assert out.returncode == 0, out.stderr
    data = auth.load(path)
    users = data["credentials"]["usernames"]
    assert set(users) == {"admin", "analyst", "jongno", "gwangju", "presenter"}
    # The passwords go to a file only the owner can read, never to the terminal (scrollback, CI logs).
    secrets_file = tmp_path / "demo-passwords.txt"
    assert (secrets_file.stat().st_mode & 0o777) == 0o600 and str(secrets_file) in out.stdout
    for username, entry in users.items():
        line = next(ln for ln in secrets_file.read_text(encoding="utf-8").splitlines() if ln.split()[:1] == [username])
        password = line.split()[1]
        assert password not in out.stdout + out.stderr
        assert password not in path.read_text(encoding="utf-8")  # only the hash is stored
        assert bcrypt.checkpw(password.encode(), entry["password"].encode())
    assert auth.scope_of(data, "jongno").sgg_codes == frozenset({"11110"})
    assert auth.scope_of(data, "gwangju").sgg_codes == frozenset({"29110", "29140"})
    assert auth.scope_of(data, "presenter").min_count == 5 and not auth.scope_of(data, "presenter").household_level
    assert (path.stat().st_mode & 0o777) == 0o600
    again = subprocess.run(
        [sys.executable, "-m", "blindspot", "users", "init-demo", "--auth", str(path)],
        capture_output=True,
        text=True,
        cwd=config.PROJECT_DIR,
    )
    assert again.returncode == 0 and "이미 있습니다" in again.stdout
    assert auth.load(path)["credentials"]["usernames"]["admin"]["password"] == users["admin"]["password"]


def _write(path, users, settings=None):
    path.write_text(
        yaml.safe_dump({"credentials": {"usernames": users}, "settings": settings or {}}, allow_unicode=True),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": "a", "password": "plain-text", "roles": ["admin"]}, "bcrypt 해시가 아닙니다"),
        ({"name": "a", "password": auth.hash_password("x", 4), "roles": ["boss"]}, "roles 는"),
        ({"name": "a", "password": auth.hash_password("x", 4), "roles": ["district"]}, "sgg_codes"),
        (
            {"name": "a", "password": auth.hash_password("x", 4), "roles": ["district"], "sgg_codes": [11110]},
            "sgg_codes",
        ),
    ],
)
def test_bad_account_files_are_refused(tmp_path, entry, message):
    with pytest.raises(auth.AuthConfigError, match=message):
        auth.load(_write(tmp_path / "a.yaml", {"someone": entry}))


def test_missing_account_file_says_what_to_do(tmp_path):
    with pytest.raises(auth.AuthConfigError, match="users init-demo"):
        auth.load(tmp_path / "none.yaml")


def test_settings_default_and_override(tmp_path):
    path = _write(
        tmp_path / "a.yaml",
        {"p": {"name": "p", "password": auth.hash_password("x", 4), "roles": ["presenter"]}},
        {"min_count": 11, "session_timeout_minutes": 5},
    )
    data = auth.load(path)
    assert data["settings"]["session_timeout_minutes"] == 5 and data["settings"]["capacity_share"] == 0.008
    assert auth.scope_of(data, "p").min_count == 11
    assert data["cookie"]["expiry_days"] == 0  # no re-login cookie: the idle timeout decides


def test_oidc_email_maps_to_account(tmp_path):
    path = _write(
        tmp_path / "a.yaml",
        {
            "kim": {
                "name": "김",
                "email": "Kim@Gov.example",
                "roles": ["analyst"],
                "password": auth.hash_password("x", 4),
            }
        },
    )
    data = auth.load(path)
    assert auth.account_by_email(data, "kim@gov.example") == "kim"
    assert auth.account_by_email(data, "other@gov.example") is None and auth.account_by_email(data, None) is None


def test_backoff_grows_and_caps():
    waits = [auth.login_wait_seconds(n, 0.0, 0.0) for n in range(14)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:9] == [30.0, 60.0, 120.0, 240.0] and waits[-1] == 3600.0
    assert auth.login_wait_seconds(5, 0.0, 30.5) == 0.0  # the wait is over


def test_roles_to_pages_and_scopes():
    assert pages_for("presenter") == (
        "overview",
        "briefing",
        "region_map",
        "hotspots",
        "reach_gap",
        "lonely",
        "zones",
    )  # aggregates only: no list, model, follow-up or audit page
    assert "audit" in pages_for("admin") and "audit" not in pages_for("district")
    assert pages_for("intruder") == ()
    with pytest.raises(ValueError):
        scope_for("district", "x", None)
    with pytest.raises(ValueError):
        scope_for("root", "x")


def test_account_file_parsed_once_per_version(tmp_path, monkeypatch):
    """Every script run asks for the account file: it is parsed once per version of the file and
    of the BLINDSPOT_* environment, and a changed file or variable is seen at the next call."""
    path = tmp_path / "auth.yaml"
    auth.write_accounts(path, [("kim", "김", "district", ["11110"], "pw-kim-1234567")], rounds=4)
    reads = []
    real = auth._read
    monkeypatch.setattr(auth, "_read", lambda p: reads.append(p) or real(p))
    first = auth.load(path)
    assert auth.load(path) is first and len(reads) == 1
    monkeypatch.setenv("BLINDSPOT_SESSION_TIMEOUT_MINUTES", "7")
    changed = auth.load(path)
    assert changed is not first and changed["settings"]["session_timeout_minutes"] == 7 and len(reads) == 2
    auth.write_accounts(path, [("lee", "이", "analyst", None, "pw-lee-1234567")], rounds=4)
    assert set(auth.load(path)["credentials"]["usernames"]) == {"lee"} and len(reads) == 3
    path.unlink()
    with pytest.raises(auth.AuthConfigError, match="계정 파일이 없습니다"):
        auth.load(path)
