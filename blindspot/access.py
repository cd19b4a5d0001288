"""Who may see what: the :class:`Scope` every query and export function takes.

A scope lists the 시군구 a caller may see (``None`` = the whole country), whether
household-level rows are allowed at all, and the smallest count an aggregate may
show (small-count suppression).  Query functions turn it into SQL with
:func:`scope_sql`, so a page cannot forget to apply it.  Login and roles arrive in
issue [4/6]; until then the app runs with :meth:`Scope.all_areas`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
    def all_areas(cls, user: str = "system", role: str = "admin") -> "Scope":
        return cls(None, True, 0, "전국", user, role)

    @classmethod
    def district(cls, sgg_codes, user: str = "system", label: str | None = None) -> "Scope":
        codes = frozenset(str(c) for c in sgg_codes)
        return cls(codes, True, 0, label or ", ".join(sorted(codes)), user, "district")

    @classmethod
    def aggregates_only(cls, min_count: int = 5, user: str = "system") -> "Scope":
        return cls(None, False, min_count, "전국(집계만)", user, "presenter")

    @property
    def is_national(self) -> bool:
        return self.sgg_codes is None

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
