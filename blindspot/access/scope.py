"""The :class:`Scope` every function that reads household data takes, and its SQL.

A scope lists the 시군구 a caller may see (``None`` = the whole country), whether
household-level rows are allowed at all, and the smallest count an aggregate may
show (small-count suppression).  Query functions turn it into SQL with
:func:`scope_sql`, so a page cannot forget to apply it; a view of one area narrows it
with :func:`narrow`, which never widens it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from blindspot import settings
from blindspot.access import sql
from blindspot.db.store import Store
from blindspot.errors import AccessDenied

_SGG_RE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class Scope:
    """What a caller may see.

    >>> Scope.district(["11110"]).allows_sgg("11140")
    False
    """

    sgg_codes: frozenset[str] | None = None
    household_level: bool = True
    min_count: int = 0
    label: str = "전국"
    user: str = "system"
    role: str = "admin"
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.sgg_codes is not None:
            bad = [c for c in self.sgg_codes if not _SGG_RE.match(str(c))]
            if bad:
                raise ValueError(f"시군구 코드는 5자리 숫자 문자열이어야 합니다: {bad[:5]}")
            if not self.sgg_codes:
                raise ValueError("빈 시군구 목록으로는 범위를 만들 수 없습니다 (아무것도 볼 수 없는 범위).")
        if self.min_count < 0:
            raise ValueError("min_count must be ≥ 0")

    @classmethod
    def all_areas(cls, user: str = "system", role: str = "admin") -> Scope:
        return cls(None, True, 0, "전국", user, role)

    @classmethod
    def analyst(cls, user: str = "system") -> Scope:
        return cls(None, True, 0, "전국", user, "analyst")

    @classmethod
    def district(cls, sgg_codes, user: str = "system", label: str | None = None) -> Scope:
        codes = frozenset(str(c) for c in sgg_codes)
        return cls(codes, True, 0, label or ", ".join(sorted(codes)), user, "district")

    @classmethod
    def aggregates_only(cls, min_count: int | None = None, user: str = "system") -> Scope:
        """A presenter's scope: aggregates only, counts under ``min_count`` (default: the
        ``min_count`` setting) hidden."""
        if min_count is None:
            min_count = int(settings.get("min_count"))
        return cls(None, False, min_count, "전국(집계만)", user, "presenter")

    @property
    def is_national(self) -> bool:
        return self.sgg_codes is None

    @property
    def home_level(self) -> str:
        """The level a user of this scope works at, where pages open: 읍면동 (``"emd"``) for one
        시군구, 시군구 (``"sgg"``) for several in one 시도, 시도 (``"sido"``) otherwise.  A page
        never shows a scoped figure under a wider area's name.

        >>> Scope.district(["11110"]).home_level, Scope.district(["11110", "11140"]).home_level
        ('emd', 'sgg')
        >>> Scope.district(["11110", "26110"]).home_level, Scope.all_areas().home_level
        ('sido', 'sido')
        """
        if self.sgg_codes is None or len({c[:2] for c in self.sgg_codes}) > 1:
            return "sido"
        return "emd" if len(self.sgg_codes) == 1 else "sgg"

    @property
    def sido_codes(self) -> frozenset[str] | None:
        return None if self.sgg_codes is None else frozenset(c[:2] for c in self.sgg_codes)

    def allows_sgg(self, sgg_code: str) -> bool:
        return self.sgg_codes is None or sgg_code in self.sgg_codes

    def require_household_level(self) -> None:
        if not self.household_level:
            raise AccessDenied("이 계정은 집계 자료만 볼 수 있습니다 (가구 단위 자료 열람 권한 없음).")


def scope_sql(scope: Scope, column: str, *, sido: bool = False) -> tuple[str, list]:
    """SQL condition and parameters restricting ``column`` to the scope.

    ``column`` is always a literal of this package's SQL, never user input; the
    codes themselves go in as parameters.  With ``sido=True`` the column holds
    시도 codes and the scope's 시도 are used.

    >>> scope_sql(Scope.district(["11110", "11140"]), "h.sgg_code")
    ('h.sgg_code IN (?, ?)', ['11110', '11140'])
    >>> scope_sql(Scope.all_areas(), "sgg_code")
    ('TRUE', [])
    """
    codes = scope.sido_codes if sido else scope.sgg_codes
    if codes is None:
        return "TRUE", []
    values = sorted(codes)
    # One placeholder per code: DuckDB prunes row groups on an IN-list of constants,
    # which a single list parameter (= ANY(?)) does not get.
    return f"{column} IN ({', '.join('?' for _ in values)})", values


def named_scope(condition: str, prefix: str = "p") -> tuple[str, list[str]]:
    """A :func:`scope_sql` condition with its positional ``?`` as ``$p0, $p1, ...``, for
    statements that repeat the condition (one set of values binds every copy).

    >>> named_scope("sgg_code IN (?, ?)")
    ('sgg_code IN ($p0, $p1)', ['p0', 'p1'])
    """
    parts = condition.split("?")
    names = [f"{prefix}{k}" for k in range(len(parts) - 1)]
    out = [parts[0]]
    for name, part in zip(names, parts[1:], strict=False):
        out += [f"${name}", part]
    return "".join(out), names


def scope_sql_named(scope: Scope, column: str, prefix: str = "p") -> tuple[str, dict[str, Any]]:
    """:func:`scope_sql` with named parameters, for statements that apply the scope to several
    columns: each column's condition binds the same names, so one dict serves every copy.

    >>> scope_sql_named(Scope.district(["11110", "11140"]), "o.sgg_code")
    ('o.sgg_code IN ($p0, $p1)', {'p0': '11110', 'p1': '11140'})
    >>> scope_sql_named(Scope.all_areas(), "sgg_code")
    ('TRUE', {})
    """
    cond, values = scope_sql(scope, column)
    cond, names = named_scope(cond, prefix)
    return cond, dict(zip(names, values, strict=True))


NATION_CODE = "00"


def narrow(store: Store, scope: Scope, area: str | None) -> Scope:
    """The scope restricted to one 시도 (2 digits), 시군구 (5) or 읍면동 (10, its 시군구);
    ``None`` or the nation ``"00"`` keeps it.  It never widens the scope.

    Raises :class:`AccessDenied` when the area lies wholly outside the scope.
    Example: ``narrow(store, Scope.all_areas(), "36")`` is a scope of 세종시's one 시군구.
    """
    if area is None or area == NATION_CODE:
        return scope
    area = str(area)
    if len(area) == 2:
        codes = {c for (c,) in store.rows(sql.SGG_OF_SIDO, [area]) if scope.allows_sgg(c)}
    elif len(area) in (5, 10):
        codes = {area[:5]} if scope.allows_sgg(area[:5]) else set()
    else:
        raise ValueError(f"지역 코드는 2, 5 또는 10자리여야 합니다: {area!r}")
    if not codes:
        raise AccessDenied(f"{area} 지역을 볼 권한이 없습니다 (권한 범위: {scope.label}).")
    # The narrowed view remembers the caller's whole scope: suppression is decided once
    # over that whole tree, so every view of it hides the same cells (views of one scope
    # cannot be combined to undo each other's suppression).
    outer = scope.extra.get("outer_sgg", scope.sgg_codes)
    return dataclasses.replace(scope, sgg_codes=frozenset(codes), extra={**scope.extra, "outer_sgg": outer})


def outer_scope(scope: Scope) -> Scope:
    """The caller's whole scope behind a :func:`narrow` view (the scope itself if not narrowed).

    >>> whole = Scope.district(["29110", "29140"])
    >>> view = dataclasses.replace(whole, sgg_codes=frozenset({"29110"}), extra={"outer_sgg": whole.sgg_codes})
    >>> sorted(outer_scope(view).sgg_codes)
    ['29110', '29140']
    """
    if "outer_sgg" not in scope.extra:
        return scope
    return dataclasses.replace(
        scope, sgg_codes=scope.extra["outer_sgg"], extra={k: v for k, v in scope.extra.items() if k != "outer_sgg"}
    )


def scope_text(scope: Scope) -> str:
    """The scope as one line for the audit log.

    >>> scope_text(Scope.district(["29140", "29110"]))
    'district:29110,29140'
    >>> scope_text(Scope.aggregates_only(5))
    'presenter:전국,k=5'
    """
    areas = "전국" if scope.sgg_codes is None else ",".join(sorted(scope.sgg_codes))
    return f"{scope.role}:{areas}" + (f",k={scope.min_count}" if scope.min_count else "")
