"""The audit trail: one ``audit_log`` row per look at or export of household-level data,
per recorded visit outcome, per refusal, and per change of the model in service
(:mod:`blindspot.model.registry`) — who, when, role, scope, filters, rows, purpose and, for
exports, the SHA-256 of the file.

The log lives in the operational store (:mod:`blindspot.db.opstore`), apart from the
analytical snapshots, so no rebuild, load or snapshot switch touches it.  It is
append-only (database triggers refuse UPDATE and DELETE) and each record carries the hash
of the one before (``python -m blindspot audit verify``).  When the store cannot be
reached, :func:`record` raises :class:`~blindspot.db.opstore.OpsUnavailable` and the
caller shows no rows: household-level data fails closed.

Household-level functions (:mod:`blindspot.casework.lists`, :func:`blindspot.maps.data.top_households`,
:mod:`blindspot.casework.exports`, :mod:`blindspot.casework.outcomes`) call :func:`record` themselves, so no
page can show such rows without leaving a record.  Only an admin may read the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata

import pandas as pd

from blindspot import glossary
from blindspot.access import DENIED, Scope, can, scope_text
from blindspot.db import opstore
from blindspot.errors import AccessDenied, BlindspotError

PURPOSES = ("방문 계획", "사례관리", "점검", "기타")
ACTIONS = glossary.AUDIT_ACTIONS


class PurposeRequired(BlindspotError):
    """Household-level rows were asked for without a purpose."""


PURPOSE_MIN, PURPOSE_MAX = 4, 200
_OTHER = "기타"


def _letters(text: str) -> list[str]:
    """Hangul syllables and Latin letters of ``text`` (jamo alone, digits and signs are not words)."""
    return [c for c in text if "가" <= c <= "힣" or ("a" <= c.lower() <= "z")]


def _check_typed(text: str) -> str:
    """A typed purpose, trimmed, or :class:`PurposeRequired` with what is wrong (the text
    itself is never echoed: it may hold personal data)."""
    text = text.strip()
    if not text:
        raise PurposeRequired("열람 목적을 고르거나 적어야 가구 단위 자료를 볼 수 있습니다.")
    if not PURPOSE_MIN <= len(text) <= PURPOSE_MAX:
        raise PurposeRequired(
            f"열람 목적은 {PURPOSE_MIN}자 이상 {PURPOSE_MAX}자 이하로 적으세요 (지금 {len(text):,}자)."
        )
    if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in text):
        raise PurposeRequired("열람 목적에는 줄바꿈·탭·제어 문자를 쓸 수 없습니다. 한 줄의 글로 적으세요.")
    letters = _letters(text)
    if len(letters) < 2:
        raise PurposeRequired(
            "열람 목적에는 한글이나 영문 글자가 2자 이상 있어야 합니다 (숫자·기호만으로는 목적을 알 수 없습니다)."
        )
    if len(set(c.lower() for c in letters)) < 2 or len(set(text.replace(" ", ""))) < 3:
        raise PurposeRequired("같은 글자를 되풀이한 것은 열람 목적으로 받을 수 없습니다. 왜 보는지 적으세요.")
    return text


def check_purpose(choice: str | None, typed: str | None = None) -> str:
    """The purpose to record: a listed choice (:data:`PURPOSES`), or "기타: <text>" for 기타
    with typed text; a purpose that is neither (an API or command-line caller's own text,
    or an already checked "기타: …") is checked as typed text and kept as it is.

    Typed text, trimmed, must be 4 to 200 characters, without control characters (line
    breaks, tabs, NUL, bidi controls), with at least 2 Hangul or Latin letters, and not one
    character repeated.  Raises :class:`PurposeRequired` with a Korean message otherwise.
    ``check_purpose(check_purpose(x)) == check_purpose(x)``.

    >>> check_purpose("방문 계획"), check_purpose("기타", "  민원 확인 "), check_purpose("기타: 민원 확인")
    ('방문 계획', '기타: 민원 확인', '기타: 민원 확인')
    >>> check_purpose("기타", "   ")
    Traceback (most recent call last):
    ...
    blindspot.casework.audit.PurposeRequired: 열람 목적을 고르거나 적어야 가구 단위 자료를 볼 수 있습니다.
    >>> check_purpose(".")
    Traceback (most recent call last):
    ...
    blindspot.casework.audit.PurposeRequired: 열람 목적은 4자 이상 200자 이하로 적으세요 (지금 1자).
    """
    choice = (choice or "").strip()
    typed = typed or ""
    if choice in PURPOSES and choice != _OTHER:
        return choice
    if choice == _OTHER or not choice:
        return f"{_OTHER}: {_check_typed(typed)}"
    if choice.startswith(_OTHER + ":"):
        return f"{_OTHER}: {_check_typed(choice[len(_OTHER) + 1 :])}"
    return _check_typed(choice)


def filters_text(filters: dict) -> str:
    """Filters as canonical JSON (sorted keys, Korean kept).

    >>> filters_text({"round": 20243, "area": "29110"})
    '{"area": "29110", "round": 20243}'
    """
    return json.dumps(filters, ensure_ascii=False, sort_keys=True, default=str)


def view_key(scope: Scope, action: str, filters: dict, purpose: str | None) -> str:
    """Identity of one view: the same user, action, filters and purpose give the same key,
    so a page rerun can tell that it already recorded this view.

    >>> from blindspot.access import Scope
    >>> a = view_key(Scope.analyst("kim"), "view_list", {"round": 20243}, "점검")
    >>> a == view_key(Scope.analyst("kim"), "view_list", {"round": 20243}, "점검"), len(a)
    (True, 64)
    """
    text = "|".join([scope.user, scope.role, scope_text(scope), action, filters_text(filters), purpose or ""])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(
    scope: Scope,
    action: str,
    filters: dict,
    row_count: int | None,
    purpose: str | None,
    file_hash: str | None = None,
    detail: str | None = None,
    *,
    con=None,
) -> int:
    """Write one audit record and return its event id; ``con``: a transaction of the
    operational store to write it in (an outcome and its record commit together).

    Example: ``record(Scope.analyst("kim"), "view_list", {"round": 20243}, 12, "점검")`` → 1.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action}")
    entry = {
        "happened_at": dt.datetime.now().replace(microsecond=0),
        "user_name": scope.user,
        "role": scope.role,
        "action": action,
        "scope": scope_text(scope),
        "filters": filters_text(filters),
        "row_count": row_count,
        "purpose": purpose,
        "file_hash": file_hash,
        "detail": detail,
    }
    return int(opstore.open_ops().append_audit(entry, con=con))


def audit_log(
    scope: Scope,
    *,
    user: str | None = None,
    action: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 10_000,
) -> pd.DataFrame:
    """Audit records, newest first, filtered by user, action and date range (inclusive days).
    Admin only (raises :class:`AccessDenied` for other roles).

    Example: ``audit_log(Scope.all_areas(), action="export_list")`` lists every export.
    """
    if not can(scope, "read_audit"):
        raise AccessDenied(DENIED["read_audit"])
    start = dt.datetime.combine(since or dt.date(1970, 1, 1), dt.time())
    end = dt.datetime.combine((until or dt.date(9999, 12, 30)) + dt.timedelta(days=1), dt.time())
    return opstore.open_ops().audit_frame(
        user=user or None, action=action or None, since=start, until=end, limit=int(limit)
    )


def audit_users(scope: Scope) -> list[str]:
    """Users that appear in the log (admin only)."""
    if not can(scope, "read_audit"):
        raise AccessDenied(DENIED["read_audit"])
    return opstore.open_ops().audit_users()


def sha256(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes.

    >>> sha256(b"abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(data).hexdigest()
