"""Who may receive a follow-up case handed over (:func:`blindspot.followup.entries.hand_over`):
the accounts of the account file whose role may enter outcomes for the case's 시군구 (the rule
``enter_outcome`` of :mod:`blindspot.access.roles`, asked through ``can`` with the account's own
scope) — the district officials of that 시군구, never another 시군구's nor a national role.

The account file is read with :mod:`blindspot.app.auth` (its account functions import no
Streamlit); ``accounts`` takes a file already read with :func:`blindspot.app.auth.load`.
"""

from __future__ import annotations

from blindspot.access import Scope, can
from blindspot.app import auth


def _accounts(accounts: dict | None) -> dict:
    return auth.load() if accounts is None else accounts


def has_account(username: str, accounts: dict | None = None) -> bool:
    """Whether ``username`` is an account of the account file.

    Example: ``has_account("dong")`` → True when the file holds the official ``dong``.
    """
    return str(username) in (_accounts(accounts).get("credentials") or {}).get("usernames", {})


def receives(username: str, sgg_code: str, accounts: dict | None = None) -> bool:
    """Whether the account ``username`` may receive a case of ``sgg_code``: it exists and its
    role may enter outcomes there (an official of that 시군구).

    Example: ``receives("gwangju", "29110")`` → True for the official of 29110 and 29140;
    ``receives("analyst", "29110")`` → False.
    """
    data = _accounts(accounts)
    if not has_account(username, data):
        return False
    return can(auth.scope_of(data, str(username)), "enter_outcome", str(sgg_code))


def _officials(sgg_code: str, accounts: dict | None = None) -> dict[str, str]:
    """The accounts that may receive a case of ``sgg_code``, ordered by display name:
    username → "이름 (아이디)".

    Example: ``_officials("29110")`` →
    ``{"dong": "광주 동구 담당 (dong)", "gwangju": "광주 동구·서구 담당 (gwangju)"}``.
    """
    data = _accounts(accounts)
    found = []
    for username in (data.get("credentials") or {}).get("usernames", {}):
        if receives(username, sgg_code, data):
            found.append((auth.account(data, username).name, str(username)))
    return {username: f"{name} ({username})" for name, username in sorted(found)}


def colleagues(scope: Scope, sgg_code: str, accounts: dict | None = None) -> dict[str, str]:
    """The colleagues ``scope``'s user may hand a case of ``sgg_code`` to, as the officials of the
    시군구 without the user themselves; none when the user may not enter outcomes there (a national
    role, another 시군구), so a list never names another 시군구's officials.

    Example: ``colleagues(Scope.district(["29110"], user="dong"), "29110")`` →
    ``{"gwangju": "광주 동구·서구 담당 (gwangju)"}``.
    """
    if not can(scope, "enter_outcome", str(sgg_code)):
        return {}
    return {u: label for u, label in _officials(sgg_code, accounts).items() if u != scope.user}
