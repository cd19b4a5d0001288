"""Sign-in: the password form (bcrypt, throttled in the operational store), optional OIDC,
the browser binding of a session, idle timeout and sign-out.

The signed-in user's :class:`~blindspot.access.Scope` lives in ``st.session_state["scope"]``;
every page call takes it from :func:`current_scope`.
"""

from __future__ import annotations

import math
import time

import streamlit as st

from blindspot.access import DENIED, ROLES, Scope, may
from blindspot.app import auth, webguard

# --- sign-in ------------------------------------------------------------------------------
# Password login is a form here, checked against the bcrypt hashes of the account file
# (:func:`blindspot.app.auth.check_password`).  Failed attempts are counted per account (the
# name typed) and per client address in the operational store that every server process
# shares (:mod:`blindspot.db.opstore`), so a reload or a second browser does not reset them:
# after ``free_failures`` (per address ``free_failures_address``) the next attempt waits
# with exponential backoff, and while it waits even the right password is not accepted.
#
# A sign-in belongs to one browser: it is recorded with a digest of that browser's secret
# cookie (``webguard.COOKIE``, HttpOnly, set by the server gate; without the gate, the
# token of Streamlit's XSRF cookie) and checked on every run.  A client that presents the
# session id without the cookie (a taken-over session) finds it signed out.  The server
# gate reads the same record (``webguard.REGISTRY``) to decide on uploads and downloads.
#
# When ``.streamlit/secrets.toml`` has an ``[auth]`` section, an OIDC button (``st.login``)
# is offered as well; the identity's e-mail must belong to an account of the file.
#
# Tests sign in the same way as people: they write an account file with known
# passwords, point ``BLINDSPOT_AUTH`` at it and fill in the form (see ``tests/app/test_app_access.py``).


def current_scope() -> Scope:
    """The signed-in user's scope (set at sign-in, :func:`require_login`); a page reached without
    one shows nothing."""
    scope = st.session_state.get("scope")
    if not isinstance(scope, Scope):
        st.error("로그인이 필요합니다.")
        st.stop()
    return scope


def require(action: str) -> Scope:
    """The signed-in scope, or the page stops with the refusal of ``action`` when the role
    may not do it (:data:`blindspot.access.ACTION_RULES`; the navigation hides such pages
    already, this guards a page reached some other way)."""
    scope = current_scope()
    if not may(scope.role, action):
        st.error(DENIED[action])
        st.stop()
    return scope


def settings() -> dict:
    """Settings of the account file (timeout, k, capacity) loaded at login."""
    from blindspot.app.auth import DEFAULT_SETTINGS

    return {**DEFAULT_SETTINGS, **st.session_state.get("settings", {})}


LOGIN_KEYS = ("login_username", "login_password")


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _browser_secret() -> str | None:
    """Digest of what only this browser holds: the gate's cookie, else Streamlit's XSRF token."""
    cookies = st.context.cookies
    own, xsrf = (_text(cookies.get(name)) for name in (webguard.COOKIE, webguard.XSRF_COOKIE))
    return webguard.digest(own or webguard.xsrf_token(xsrf))


def _text(value) -> str | None:
    # Outside a real server (AppTest) the client context is a stand-in: only text counts.
    return value if isinstance(value, str) and value else None


def client_address(settings: dict) -> str | None:
    """The client's address for the login counter: as the server gate saw it, else the
    WebSocket peer (None for localhost and in tests)."""
    headers = st.context.headers
    seen = _text(headers.get(webguard.CLIENT_HEADER))
    if seen:
        return seen
    return webguard.client_address(
        _text(st.context.ip_address), _text(headers.get("X-Forwarded-For")), settings.get("trusted_proxies") or ()
    )


def _clear_session() -> None:
    sid = session_id()
    if sid:
        webguard.REGISTRY.sign_out(sid)
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def _sign_in(data: dict, username: str, now: float) -> None:
    scope = auth.scope_of(data, username)
    st.session_state["scope"] = scope
    st.session_state["settings"] = dict(data["settings"])
    st.session_state["display_name"] = auth.account(data, username).name
    st.session_state["last_seen"] = now
    st.session_state["browser"] = _browser_secret()
    sid = session_id()
    if sid:
        webguard.REGISTRY.sign_in(
            sid,
            scope.user,
            scope.role,
            st.session_state["browser"],
            ttl=float(data["settings"]["session_timeout_minutes"]) * 60 or 86400.0,
            now=now,
        )


def _ops():
    from blindspot.db import opstore

    return opstore.open_ops()


def require_login() -> Scope:
    """The signed-in user's scope; otherwise draws the login form and stops the run."""
    data = auth.load()
    settings = data["settings"]
    now = time.time()
    ss = st.session_state
    if isinstance(ss.get("scope"), Scope):
        if ss.get("browser") != _browser_secret():
            # The session id came back from a client without this sign-in's browser secret.
            _clear_session()
        elif not auth.session_expired(ss.get("last_seen"), now, float(settings["session_timeout_minutes"])):
            ss["last_seen"] = now
            sid = session_id()
            if sid:
                webguard.REGISTRY.touch(sid, now)
            return ss["scope"]
        else:
            oidc = ss.get("via_oidc")
            _clear_session()
            ss["expired"] = True
            if oidc:
                st.logout()
    st.title("복지사각지대 지도")
    if ss.pop("expired", False):
        st.info("세션이 만료되었습니다. 다시 로그인하세요.")
    if _oidc_configured():
        _oidc(data, now)
    ops = _ops()
    address = client_address(settings)
    wait = auth.address_wait(ops, settings, address, now)
    if wait > 0:
        _locked(wait)
    with st.form("login"):
        st.subheader("로그인")
        username = st.text_input("아이디", key=LOGIN_KEYS[0], autocomplete="username")
        password = st.text_input("비밀번호", type="password", key=LOGIN_KEYS[1], autocomplete="current-password")
        submitted = st.form_submit_button("로그인")
    if not submitted:
        st.stop()
    wait = auth.account_wait(ops, settings, username, now)
    if wait > 0:
        _locked(wait)  # the password is not even checked while the account waits
    if auth.check_password(data, username, password):
        auth.record_success(ops, username)
        _sign_in(data, username, now)
        st.rerun()
    auth.record_failure(ops, settings, username, address, now)
    st.error(auth.FAILED_LOGIN)
    wait = max(auth.account_wait(ops, settings, username, now), auth.address_wait(ops, settings, address, now))
    if wait > 0:
        st.warning(f"로그인 실패가 많아 {math.ceil(wait)}초 뒤에 다시 시도할 수 있습니다.")
    st.stop()


def _locked(wait: float) -> None:
    st.error(auth.FAILED_LOGIN)
    st.warning(f"로그인 실패가 많아 {math.ceil(wait)}초 뒤에 다시 시도할 수 있습니다.")
    st.stop()


def _oidc(data: dict, now: float) -> None:
    if not st.user.is_logged_in:
        st.button("기관 계정으로 로그인 (OIDC)", on_click=st.login)
        st.caption("또는 아이디·비밀번호로 로그인")
        return
    username = auth.account_by_email(data, st.user.get("email"))
    if username is None:
        st.error("이 기관 계정에는 이 앱의 권한이 없습니다. 관리자에게 계정 등록을 요청하세요.")
        st.button("로그아웃", on_click=st.logout)
        st.stop()
    _sign_in(data, username, now)
    st.session_state["via_oidc"] = True
    st.rerun()


def sidebar(scope: Scope) -> None:
    """Who is signed in, with what scope, and a logout button."""
    with st.sidebar:
        name, role = st.session_state.get("display_name", scope.user), ROLES.get(scope.role, scope.role)
        # A demo account is named after its role: "발표자 (발표자)" would say the same thing twice.
        st.markdown(f"**{name}**" + ("" if name == role else f" ({role})"))
        st.caption(f"권한 범위: {scope.label}" + ("" if scope.household_level else f" · {scope.min_count} 미만 비공개"))
        if st.button("로그아웃", key="logout"):
            oidc = st.session_state.get("via_oidc")
            _clear_session()
            if oidc:
                st.logout()
            st.rerun()
