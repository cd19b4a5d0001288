"""Accounts and login safety, without streamlit: the account file, demo users, the
failed-login limiter and the session timeout.

The account file (``config/auth.yaml``, git-ignored; ``BLINDSPOT_AUTH`` moves it) has
the layout of streamlit-authenticator's config — ``credentials.usernames.<id>`` with
``name``, a bcrypt ``password`` hash and ``roles`` — plus ``sgg_codes`` for district
officials and a ``settings`` block (timeout, small-count k, capacity, limiter).  Plain
passwords are never stored: a file with a non-bcrypt password is refused.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from blindspot import config
from blindspot.access import ROLES, Scope, scope_for
from blindspot.errors import BlindspotError

FAILED_LOGIN = "아이디 또는 비밀번호가 올바르지 않습니다"
DEFAULT_SETTINGS = {
    "session_timeout_minutes": 30,   # idle minutes before the session ends
    "min_count": 5,                  # presenter's small-count threshold k
    "capacity_share": 0.008,         # visit capacity of a 읍면동: share of its households (domain.md: ≈0.8 %)
    "free_failures": 5,              # failed logins allowed before a wait
    "backoff_seconds": 30,           # first wait; doubles with every further failure
    "max_backoff_seconds": 3600,
}

# The demo accounts `users init-demo` creates: one of each role, an official of one
# 시군구 (종로구) and one of two (광주 동구·서구, which the test databases also hold).
DEMO_USERS = (
    ("admin", "관리자", "admin", None),
    ("analyst", "분석가", "analyst", None),
    ("jongno", "종로구 담당", "district", ["11110"]),
    ("gwangju", "광주 동구·서구 담당", "district", ["29110", "29140"]),
    ("presenter", "발표자", "presenter", None),
)


class AuthConfigError(BlindspotError):
    """The account file is missing or malformed."""


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    sgg_codes: tuple[str, ...] | None


def auth_path(explicit: str | os.PathLike | None = None) -> Path:
    """Account file: explicit, else ``BLINDSPOT_AUTH``, else ``config/auth.yaml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("BLINDSPOT_AUTH")
    return Path(env) if env else config.PROJECT_DIR / "config" / "auth.yaml"


def _is_bcrypt(value) -> bool:
    return isinstance(value, str) and value.startswith(("$2a$", "$2b$", "$2y$")) and len(value) == 60


def load(path: str | os.PathLike | None = None) -> dict:
    """Read and check the account file; returns it with defaults filled into ``settings``.

    Example: after ``python -m blindspot users init-demo``, ``load()["credentials"]["usernames"]``
    holds the five demo accounts with bcrypt hashes.
    """
    path = auth_path(path)
    if not path.is_file():
        raise AuthConfigError(
            f"계정 파일 {path} 가 없습니다. `python -m blindspot users init-demo` 로 데모 계정을 만들거나 "
            "config/auth.example.yaml 을 복사해 고치세요.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AuthConfigError(f"계정 파일 {path} 를 YAML 로 읽을 수 없습니다: {exc}") from None
    users = (data.get("credentials") or {}).get("usernames") or {}
    if not users:
        raise AuthConfigError(f"계정 파일 {path} 에 credentials.usernames 가 없습니다.")
    for username, entry in users.items():
        account(data, username)  # raises on a bad entry
        if not _is_bcrypt(entry.get("password")):
            raise AuthConfigError(
                f"계정 파일 {path}: 사용자 {username} 의 password 가 bcrypt 해시가 아닙니다. "
                "평문 비밀번호는 쓸 수 없습니다 (`python -m blindspot users init-demo` 참조).")
    data["settings"] = {**DEFAULT_SETTINGS, **(data.get("settings") or {})}
    cookie = data.get("cookie") or {}
    data["cookie"] = {"name": cookie.get("name", "blindspot_auth"), "key": cookie.get("key") or secrets.token_hex(32),
                      "expiry_days": 0}
    return data


def account(data: dict, username: str) -> Account:
    """The account ``username`` of a loaded file, checked (role known, official has 시군구)."""
    entry = (data.get("credentials") or {}).get("usernames", {}).get(username)
    if entry is None:
        raise AuthConfigError(f"계정 {username} 이 없습니다.")
    roles = entry.get("roles") or []
    if len(roles) != 1 or roles[0] not in ROLES:
        raise AuthConfigError(f"계정 {username}: roles 는 {', '.join(ROLES)} 중 정확히 하나여야 합니다 (지금 {roles}).")
    codes = entry.get("sgg_codes")
    if roles[0] == "district":
        if not codes or not all(isinstance(c, str) and len(c) == 5 and c.isdigit() for c in codes):
            raise AuthConfigError(f"계정 {username}: 시군구 담당 공무원은 sgg_codes 에 5자리 문자열 코드가 필요합니다.")
    return Account(username, str(entry.get("name") or username), roles[0],
                   tuple(str(c) for c in codes) if codes and roles[0] == "district" else None)


def scope_of(data: dict, username: str) -> Scope:
    """The scope of a signed-in account."""
    acc = account(data, username)
    label = f"{acc.name} ({', '.join(acc.sgg_codes)})" if acc.sgg_codes else None
    return scope_for(acc.role, acc.username, acc.sgg_codes, min_count=int(data["settings"]["min_count"]),
                     label=label)


def account_by_email(data: dict, email: str | None) -> str | None:
    """Username whose ``email`` matches an OIDC identity (case-insensitive), or None."""
    if not email:
        return None
    for username, entry in data["credentials"]["usernames"].items():
        if str(entry.get("email", "")).lower() == email.lower():
            return username
    return None


def hash_password(password: str, rounds: int = 12) -> str:
    """bcrypt hash of a password (the format streamlit-authenticator checks).

    >>> h = hash_password("비밀번호-예시", rounds=4)
    >>> h.startswith("$2b$04$"), bcrypt.checkpw("비밀번호-예시".encode(), h.encode())
    (True, True)
    """
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def write_accounts(path: Path, users, *, rounds: int = 12, settings: dict | None = None) -> dict[str, str]:
    """Write an account file for ``users`` = [(username, name, role, sgg_codes, password or None)];
    missing passwords are drawn at random.  Returns {username: password} (shown once)."""
    passwords, entries = {}, {}
    for username, name, role, codes, password in users:
        password = password or secrets.token_urlsafe(12)
        passwords[username] = password
        entries[username] = {"name": name, "email": f"{username}@example.invalid",
                             "password": hash_password(password, rounds), "roles": [role],
                             **({"sgg_codes": list(codes)} if codes else {})}
    data = {"credentials": {"usernames": entries},
            "cookie": {"name": "blindspot_auth", "key": secrets.token_hex(32), "expiry_days": 0},
            "settings": {**DEFAULT_SETTINGS, **(settings or {})}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("# 복지사각지대 지도 계정 파일 (git 에 넣지 마세요). docs/access.md 참조.\n"
                   + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return passwords


def init_demo(path: str | os.PathLike | None = None, *, force: bool = False) -> dict[str, str] | None:
    """Create the demo accounts with random passwords; None if the file exists and not ``force``."""
    path = auth_path(path)
    if path.exists() and not force:
        return None
    return write_accounts(path, [(*u, None) for u in DEMO_USERS])


# --- login safety -------------------------------------------------------------------------

def login_wait_seconds(failures: int, last_failure_at: float | None, now: float, *, free: int = 5,
                       base: float = 30.0, cap: float = 3600.0) -> float:
    """Seconds to wait before the next login attempt may be checked.

    The first ``free`` consecutive failures cost nothing; failure ``free + n`` (n ≥ 0)
    makes the next attempt wait ``base · 2ⁿ`` seconds (at most ``cap``) after it.

    >>> [login_wait_seconds(n, 100.0, 100.0) for n in (4, 5, 6, 7)]
    [0.0, 30.0, 60.0, 120.0]
    >>> login_wait_seconds(6, 100.0, 150.0), login_wait_seconds(30, 0.0, 10.0)
    (10.0, 3590.0)
    """
    if failures < free or last_failure_at is None:
        return 0.0
    wait = min(base * 2 ** min(failures - free, 40), cap)
    return max(0.0, round(last_failure_at + wait - now, 3))


def session_expired(last_seen: float | None, now: float, timeout_minutes: float) -> bool:
    """Whether an idle session has run out (``timeout_minutes`` ≤ 0 never expires).

    >>> session_expired(0.0, 1799.0, 30), session_expired(0.0, 1801.0, 30), session_expired(None, 5.0, 30)
    (False, True, False)
    """
    if last_seen is None or timeout_minutes <= 0:
        return False
    return now - last_seen > timeout_minutes * 60
