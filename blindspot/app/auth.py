"""Accounts and login safety, without streamlit: the account file, demo users and demo
mode, the password policy, the failed-login limiter (counted per account and per client
address in the shared operational store, :mod:`blindspot.db.opstore`) and the session timeout.

The account file (``config/auth.yaml``, git-ignored; ``BLINDSPOT_AUTH`` moves it) has
the layout of streamlit-authenticator's config file (kept so existing files still load) —
``credentials.usernames.<id>`` with
``name``, a bcrypt ``password`` hash and ``roles`` — plus ``sgg_codes`` for district
officials and a ``settings`` block (timeout, small-count k, capacity, limiter: the settings
marked ``account`` in :mod:`blindspot.settings`, whose environment variables win over the
file).  Plain passwords are never stored: a file with a non-bcrypt password is refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from blindspot import config, settings
from blindspot.access import ROLES, Scope, scope_for
from blindspot.errors import BlindspotError

FAILED_LOGIN = "아이디 또는 비밀번호가 올바르지 않습니다"
# The account file's settings block with the table's defaults (what a new file is written with).
DEFAULT_SETTINGS = settings.account_defaults()
MIN_PASSWORD_LENGTH = 12
WEAK_PASSWORDS_FILE = config.PACKAGE_DATA_DIR / "weak_passwords.txt"

# The demo accounts `users init-demo` creates: one of each role, an official of one
# 시군구 (종로구) and one of two (광주 동구·서구, which the test databases also hold).
DEMO_USERS = (
    ("admin", "관리자", "admin", None),
    ("analyst", "분석가", "analyst", None),
    ("jongno", "종로구 담당", "district", ["11110"]),
    ("gwangju", "광주 동구·서구 담당", "district", ["29110", "29140"]),
    ("presenter", "발표자", "presenter", None),
)


# libyaml's loader where PyYAML was built with it (the wheels are): the same safe subset, faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AuthConfigError(BlindspotError):
    """The account file is missing or malformed."""


class PasswordPolicyError(BlindspotError):
    """A new password does not meet the policy."""


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    sgg_codes: tuple[str, ...] | None


def auth_path(explicit: str | os.PathLike | None = None) -> Path:
    """Account file: explicit, else ``BLINDSPOT_AUTH``, else ``config/auth.yaml``."""
    return Path(explicit) if explicit else settings.get("auth")


def _is_bcrypt(value) -> bool:
    return isinstance(value, str) and value.startswith(("$2a$", "$2b$", "$2y$")) and len(value) == 60


# Parsed account files by (file identity and version, BLINDSPOT_* environment): every script run
# of every session asks for the file (sign-in check, hand-over lists), and parsing and checking
# a national file of thousands of officials on each run would cost more than the page.
_LOADED: dict[tuple, dict] = {}


def load(path: str | os.PathLike | None = None) -> dict:
    """Read and check the account file; returns it with ``settings`` resolved (environment,
    then the file's block, then the defaults of :mod:`blindspot.settings`).

    The result is shared by every caller until the file (its inode, size or modification time)
    or a ``BLINDSPOT_*`` environment variable changes: read it, never change it.

    Example: after ``python -m blindspot users init-demo``, ``load()["credentials"]["usernames"]``
    holds the five demo accounts with bcrypt hashes.
    """
    path = auth_path(path)
    try:
        st = path.stat()
    except OSError:
        st = None
    if st is not None:
        env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("BLINDSPOT_")))
        key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, env)
        data = _LOADED.get(key)
        if data is None:
            data = _read(path)
            if len(_LOADED) >= 8:  # tests write many files; a server sees one or two versions
                _LOADED.clear()
            _LOADED[key] = data
        return data
    return _read(path)


def _read(path: Path) -> dict:
    """:func:`load` without the cache."""
    if not path.is_file():
        raise AuthConfigError(
            f"계정 파일이 없습니다: {path}. `python -m blindspot users init-demo` 로 데모 계정을 만들거나 "
            "config/auth.example.yaml 을 복사해 고치세요."
        )
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader) or {}
    except yaml.YAMLError as exc:
        raise AuthConfigError(f"계정 파일을 YAML 로 읽을 수 없습니다 ({path}): {exc}") from None
    users = (data.get("credentials") or {}).get("usernames") or {}
    if not users:
        raise AuthConfigError(f"계정 파일 {path} 에 credentials.usernames 가 없습니다.")
    for username, entry in users.items():
        account(data, username)  # raises on a bad entry
        if not _is_bcrypt(entry.get("password")):
            raise AuthConfigError(
                f"계정 파일 {path}: 사용자 {username} 의 password 가 bcrypt 해시가 아닙니다. "
                "평문 비밀번호는 쓸 수 없습니다 (`python -m blindspot users init-demo` 참조)."
            )
    block = data.get("settings") or {}
    if not isinstance(block, dict):
        raise AuthConfigError(f"계정 파일 {path}: settings 는 이름: 값 목록이어야 합니다.")
    try:
        data["settings"] = {**block, **settings.account_settings(block)}
    except settings.SettingError as exc:
        raise AuthConfigError(str(exc)) from None  # names the variable or the file's key
    mode = deployment_mode(data)
    demo = sorted(u for u, e in users.items() if e.get("demo"))
    if mode == "production" and demo:
        raise AuthConfigError(
            f"계정 파일 {path}: 운영 모드(production)에서는 데모 계정을 쓸 수 없습니다 ({', '.join(demo)}). "
            "`python -m blindspot users add` 로 실제 계정을 만들고 데모 계정을 지우거나, 시연이면 "
            "settings.mode: demo 로 두고 BLINDSPOT_MODE 를 지우세요."
        )
    data["settings"]["mode"] = mode
    cookie = data.get("cookie") or {}
    data["cookie"] = {
        "name": cookie.get("name", "blindspot_auth"),
        "key": cookie.get("key") or secrets.token_hex(32),
        "expiry_days": 0,
    }
    return data


def account(data: dict, username: str) -> Account:
    """The account ``username`` of a loaded file, checked (role known, official has 시군구)."""
    entry = (data.get("credentials") or {}).get("usernames", {}).get(username)
    if entry is None:
        raise AuthConfigError(f"없는 계정입니다: {username}.")
    roles = entry.get("roles") or []
    if len(roles) != 1 or roles[0] not in ROLES:
        raise AuthConfigError(f"계정 {username}: roles 는 {', '.join(ROLES)} 중 정확히 하나여야 합니다 (지금 {roles}).")
    codes = entry.get("sgg_codes")
    if roles[0] == "district":
        if not codes or not all(isinstance(c, str) and len(c) == 5 and c.isdigit() for c in codes):
            raise AuthConfigError(f"계정 {username}: 시군구 담당 공무원은 sgg_codes 에 5자리 문자열 코드가 필요합니다.")
    return Account(
        username,
        str(entry.get("name") or username),
        roles[0],
        tuple(str(c) for c in codes) if codes and roles[0] == "district" else None,
    )


def scope_of(data: dict, username: str) -> Scope:
    """The scope of a signed-in account."""
    acc = account(data, username)
    label = f"{acc.name} ({', '.join(acc.sgg_codes)})" if acc.sgg_codes else None
    return scope_for(acc.role, acc.username, acc.sgg_codes, min_count=int(data["settings"]["min_count"]), label=label)


def account_by_email(data: dict, email: str | None) -> str | None:
    """Username whose ``email`` matches an OIDC identity (case-insensitive), or None."""
    if not email:
        return None
    for username, entry in data["credentials"]["usernames"].items():
        if str(entry.get("email", "")).lower() == email.lower():
            return username
    return None


def hash_password(password: str, rounds: int = 12) -> str:
    """bcrypt hash of a password (what the account file stores and the login checks).

    >>> h = hash_password("비밀번호-예시", rounds=4)
    >>> h.startswith("$2b$04$"), bcrypt.checkpw("비밀번호-예시".encode(), h.encode())
    (True, True)
    """
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600), atomically: the file
    is created 0600, never world-readable for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _write_file(path: Path, data: dict) -> None:
    write_private(
        path,
        "# 복지사각지대 지도 계정 파일 (git 에 넣지 마세요). docs/access.md 참조.\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
    )


def write_accounts(
    path: Path, users, *, rounds: int = 12, settings: dict | None = None, demo: bool = False
) -> dict[str, str]:
    """Write an account file for ``users`` = [(username, name, role, sgg_codes, password or None)];
    missing passwords are drawn at random.  Returns {username: password} (shown once).
    ``demo`` marks every account as a demo account and the file as demo mode."""
    passwords, entries = {}, {}
    for username, name, role, codes, password in users:
        password = password or secrets.token_urlsafe(12)
        passwords[username] = password
        entries[username] = {
            "name": name,
            "email": f"{username}@example.invalid",
            "password": hash_password(password, rounds),
            "roles": [role],
            **({"sgg_codes": list(codes)} if codes else {}),
            **({"demo": True} if demo else {}),
        }
    data = {
        "credentials": {"usernames": entries},
        "cookie": {"name": "blindspot_auth", "key": secrets.token_hex(32), "expiry_days": 0},
        "settings": {**DEFAULT_SETTINGS, **(settings or {}), **({"mode": "demo"} if demo else {})},
    }
    _write_file(path, data)
    return passwords


def init_demo(path: str | os.PathLike | None = None, *, force: bool = False) -> dict[str, str] | None:
    """Create the demo accounts with random passwords (demo mode); None if the file exists and not ``force``."""
    path = auth_path(path)
    if path.exists() and not force:
        return None
    return write_accounts(path, [(*u, None) for u in DEMO_USERS], demo=True)


def demo_passwords_text(path: Path, passwords: dict[str, str]) -> str:
    lines = [f"# 데모 계정 비밀번호 ({path}). 이 파일은 소유자만 읽을 수 있습니다 (0600). 확인 후 지우세요."]
    for username, name, role, codes in DEMO_USERS:
        area = f"  시군구 {', '.join(codes)}" if codes else ""
        lines.append(f"{username:10s} {passwords[username]:18s} {role:9s} {name}{area}")
    return "\n".join(lines) + "\n"


def deployment_mode(data: dict | None = None) -> str:
    """``BLINDSPOT_MODE`` if set, else the account file's ``settings.mode``, else production.

    >>> deployment_mode({"settings": {"mode": "demo"}}) if "BLINDSPOT_MODE" not in os.environ else "demo"
    'demo'
    """
    try:
        return settings.get("mode", (data or {}).get("settings"))
    except settings.SettingError as exc:
        raise AuthConfigError(str(exc)) from None


# --- password policy (accounts the product creates) ------------------------------------------


def _weak_passwords() -> frozenset[str]:
    lines = WEAK_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(username: str, password: str) -> list[str]:
    """What is wrong with a new password (empty: acceptable).  At least
    :data:`MIN_PASSWORD_LENGTH` characters, not containing the username, not a known weak
    password (``blindspot/data/weak_passwords.txt``), also not with digits or symbols
    merely appended to one.

    >>> password_problems("kim", "kim-2024-winter-blue")
    ['아이디(kim)가 들어 있습니다']
    >>> password_problems("kim", "password1234!")
    ['잘 알려진 약한 비밀번호입니다']
    >>> password_problems("kim", "short"), password_problems("kim", "강물-연필-41-나무-바다")
    (['12자 이상이어야 합니다 (지금 5자)'], [])
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"{MIN_PASSWORD_LENGTH}자 이상이어야 합니다 (지금 {len(password)}자)")
    if username and username.lower() in password.lower():
        problems.append(f"아이디({username})가 들어 있습니다")
    weak = _weak_passwords()
    lowered = password.lower()
    if lowered in weak or lowered.rstrip("0123456789!@#$%^&*.?-_ ") in weak:
        problems.append("잘 알려진 약한 비밀번호입니다")
    return problems


def check_password_policy(username: str, password: str) -> None:
    problems = password_problems(username, password)
    if problems:
        raise PasswordPolicyError(f"계정 {username} 의 비밀번호를 쓸 수 없습니다: " + "; ".join(problems) + ".")


def add_account(
    path: str | os.PathLike | None,
    username: str,
    name: str,
    role: str,
    sgg_codes,
    password: str,
    *,
    email: str | None = None,
    rounds: int = 12,
    replace: bool = False,
) -> None:
    """Add (or with ``replace`` overwrite) one account in the account file, after the policy
    check; the file is created in production mode if it does not exist."""
    path = auth_path(path)
    check_password_policy(username, password)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    data = data or {
        "credentials": {"usernames": {}},
        "cookie": {"name": "blindspot_auth", "key": secrets.token_hex(32), "expiry_days": 0},
        "settings": dict(DEFAULT_SETTINGS),
    }
    users = data.setdefault("credentials", {}).setdefault("usernames", {}) or {}
    data["credentials"]["usernames"] = users
    if username in users and not replace:
        raise AuthConfigError(f"이미 있는 계정입니다: {username}. 비밀번호를 바꾸려면 `users passwd {username}`.")
    users[username] = {
        "name": name,
        "email": email or f"{username}@example.invalid",
        "password": hash_password(password, rounds),
        "roles": [role],
        **({"sgg_codes": list(sgg_codes)} if sgg_codes else {}),
    }
    account(data, username)  # role and 시군구 checked before anything is written
    _write_file(path, data)


def set_password(path: str | os.PathLike | None, username: str, password: str, *, rounds: int = 12) -> None:
    """Change one account's password (policy checked); a demo account stops being one."""
    path = auth_path(path)
    if not path.is_file():
        raise AuthConfigError(f"계정 파일이 없습니다: {path}.")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entry = ((data.get("credentials") or {}).get("usernames") or {}).get(username)
    if entry is None:
        raise AuthConfigError(f"없는 계정입니다: {username}.")
    check_password_policy(username, password)
    entry["password"] = hash_password(password, rounds)
    entry.pop("demo", None)
    _write_file(path, data)


# A valid hash to check unknown usernames against, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = "$2b$12$GvSs3xDuonKnzVPdZPd8peAoF94inptxzWnQvhYxclesQgKV3Utk6"


def check_password(data: dict, username: str, password: str) -> bool:
    """Whether ``password`` is the account's (bcrypt); an unknown account is False after
    the same amount of work."""
    entry = (data.get("credentials") or {}).get("usernames", {}).get(username or "")
    hashed = entry.get("password") if entry else None
    try:
        ok = bcrypt.checkpw((password or "").encode("utf-8"), (hashed or _DUMMY_HASH).encode("ascii"))
    except ValueError:
        ok = False
    return bool(ok and hashed)


# --- login safety -------------------------------------------------------------------------


def login_wait_seconds(
    failures: int,
    last_failure_at: float | None,
    now: float,
    *,
    free: int = settings.default("free_failures"),
    base: float = settings.default("backoff_seconds"),
    cap: float = settings.default("max_backoff_seconds"),
) -> float:
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
    wait = min(float(base) * 2 ** min(failures - free, 40), float(cap))
    return max(0.0, round(last_failure_at + wait - now, 3))


def _wait(ops, settings: dict, kind: str, subject: str | None, now: float, free_key: str) -> float:
    if not subject:
        return 0.0
    failures, last = ops.failures(kind, subject)
    if last is not None and now - last > float(settings["failure_reset_seconds"]):
        return 0.0
    return login_wait_seconds(
        failures,
        last,
        now,
        free=int(settings[free_key]),
        base=float(settings["backoff_seconds"]),
        cap=float(settings["max_backoff_seconds"]),
    )


def account_key(username: str | None) -> str:
    """The failure counter's key for a typed username (case and spaces do not make a new count).

    >>> account_key("  Admin ")
    'admin'
    """
    return (username or "").strip().lower()[:256]


def address_wait(ops, settings: dict, address: str | None, now: float) -> float:
    """Seconds before the next login attempt from this client address may be checked."""
    return _wait(ops, settings, "address", address, now, "free_failures_address")


def account_wait(ops, settings: dict, username: str | None, now: float) -> float:
    """Seconds before the next login attempt for this account may be checked (unknown names too)."""
    return _wait(ops, settings, "account", account_key(username), now, "free_failures")


def record_failure(ops, settings: dict, username: str | None, address: str | None, now: float) -> None:
    """Count a failed login against the typed account and the client address."""
    reset = float(settings["failure_reset_seconds"])
    if account_key(username):
        ops.add_failure("account", account_key(username), now, reset_after=reset)
    if address:
        ops.add_failure("address", address, now, reset_after=reset)


def record_success(ops, username: str) -> None:
    """A correct password clears the account's count (not the address's: one valid account
    must not reset the counter of an address that is guessing others)."""
    ops.clear("account", account_key(username))


def session_expired(last_seen: float | None, now: float, timeout_minutes: float) -> bool:
    """Whether an idle session has run out (``timeout_minutes`` ≤ 0 never expires).

    >>> session_expired(0.0, 1799.0, 30), session_expired(0.0, 1801.0, 30), session_expired(None, 5.0, 30)
    (False, True, False)
    """
    if last_seen is None or timeout_minutes <= 0:
        return False
    return now - last_seen > timeout_minutes * 60
