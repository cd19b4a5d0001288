"""Sign-in for the app (the second module of ``blindspot`` that imports streamlit).

Password login is streamlit-authenticator's form checked against the bcrypt hashes of
the account file (:mod:`blindspot.auth`).  Its re-login cookie is switched off
(``expiry_days: 0``) so that the idle timeout here decides how long a session lives.
Failed attempts are counted per session and, after ``free_failures``, make the next
attempt wait with exponential backoff (:func:`blindspot.auth.login_wait_seconds`).  When
``.streamlit/secrets.toml`` has an ``[auth]`` section, an OIDC button (``st.login``)
is offered as well; the identity's e-mail must belong to an account of the file, which
gives its role.

Tests sign in the same way as people: they write an account file with known
passwords, point ``BLINDSPOT_AUTH`` at it and fill in the form (see ``tests/test_login.py``).
"""

from __future__ import annotations

import copy
import math
import time

import streamlit as st
import streamlit_authenticator as stauth

from blindspot import auth
from blindspot.access import ROLES, Scope

FIELDS = {"Form name": "로그인", "Username": "아이디", "Password": "비밀번호", "Login": "로그인"}
# Session keys that survive signing out: the failed-login counter must not be reset by it.
_KEEP = ("login_failures", "login_last_failure")


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _clear_session() -> None:
    for key in list(st.session_state.keys()):
        if key not in _KEEP:
            del st.session_state[key]


def _sign_in(data: dict, username: str, now: float) -> None:
    st.session_state["scope"] = auth.scope_of(data, username)
    st.session_state["settings"] = dict(data["settings"])
    st.session_state["display_name"] = auth.account(data, username).name
    st.session_state["last_seen"] = now
    st.session_state["login_failures"] = 0


def require_login() -> Scope:
    """The signed-in user's scope; otherwise draws the login form and stops the run."""
    data = auth.load()
    settings = data["settings"]
    now = time.time()
    ss = st.session_state
    if isinstance(ss.get("scope"), Scope):
        if not auth.session_expired(ss.get("last_seen"), now, float(settings["session_timeout_minutes"])):
            ss["last_seen"] = now
            return ss["scope"]
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
    wait = auth.login_wait_seconds(int(ss.get("login_failures", 0)), ss.get("login_last_failure"), now,
                                   free=int(settings["free_failures"]), base=float(settings["backoff_seconds"]),
                                   cap=float(settings["max_backoff_seconds"]))
    if wait > 0:
        st.error(auth.FAILED_LOGIN)
        st.warning(f"로그인 실패가 많아 {math.ceil(wait)}초 뒤에 다시 시도할 수 있습니다.")
        st.stop()
    # A fresh copy each run: the library writes counters into the dict it is given.
    authenticator = stauth.Authenticate(copy.deepcopy(data["credentials"]), data["cookie"]["name"],
                                        data["cookie"]["key"], 0)
    authenticator.login(location="main", fields=FIELDS, key="login")
    status = ss.get("authentication_status")
    if status:
        _sign_in(data, ss["username"], now)
        st.rerun()
    if status is False:
        ss["login_failures"] = int(ss.get("login_failures", 0)) + 1
        ss["login_last_failure"] = now
        ss["authentication_status"] = None  # count this submission once, not on every rerun
        st.error(auth.FAILED_LOGIN)
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
        st.markdown(f"**{st.session_state.get('display_name', scope.user)}** ({ROLES.get(scope.role, scope.role)})")
        st.caption(f"권한 범위: {scope.label}" + ("" if scope.household_level else f" · {scope.min_count} 미만 비공개"))
        if st.button("로그아웃", key="logout"):
            oidc = st.session_state.get("via_oidc")
            _clear_session()
            if oidc:
                st.logout()
            st.rerun()
