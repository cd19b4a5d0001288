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
    def analyst(cls, user: str = "system") -> "Scope":
        return cls(None, True, 0, "전국", user, "analyst")

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


# --- roles (issue 4/6) ------------------------------------------------------------------
ROLES = {"admin": "관리자", "analyst": "분석가", "district": "시군구 담당 공무원", "presenter": "발표자 (집계만)"}

# Pages each role may open, in navigation order.  The presenter gets no model page: its
# subgroup table counts households per group, and such counts may be small.
PAGES = {
    "admin": ("overview", "region_map", "hotspots", "briefing", "model", "risk_list", "audit", "data_admin"),
    "analyst": ("overview", "region_map", "hotspots", "briefing", "model", "risk_list", "data_admin"),
    "district": ("overview", "region_map", "hotspots", "briefing", "model", "risk_list"),
    "presenter": ("overview", "briefing", "region_map", "hotspots"),
}
DEFAULT_MIN_COUNT = 5


def scope_for(role: str, user: str, sgg_codes=None, *, min_count: int = DEFAULT_MIN_COUNT,
              label: str | None = None) -> Scope:
    """The scope of a signed-in user of ``role``.

    admin and analyst see every area at household level; a district official sees
    only its 시군구 (household level there); a presenter sees aggregates only, with
    counts under ``min_count`` suppressed.

    >>> s = scope_for("district", "kim", ["29110"], label="광주 동구")
    >>> (s.role, sorted(s.sgg_codes), s.household_level, s.label)
    ('district', ['29110'], True, '광주 동구')
    >>> scope_for("presenter", "lee", min_count=10).min_count
    10
    """
    if role == "admin":
        return Scope.all_areas(user=user, role="admin")
    if role == "analyst":
        return Scope.analyst(user=user)
    if role == "district":
        if not sgg_codes:
            raise ValueError("시군구 담당 공무원 계정에는 시군구 코드(sgg_codes)가 하나 이상 있어야 합니다.")
        return Scope.district(sgg_codes, user=user, label=label)
    if role == "presenter":
        return Scope.aggregates_only(max(int(min_count), 1), user=user)
    raise ValueError(f"알 수 없는 역할입니다: {role!r} (admin, analyst, district, presenter 중 하나)")


def pages_for(role: str) -> tuple[str, ...]:
    """Page keys the role may open (an unknown role gets none).

    >>> "risk_list" in pages_for("presenter"), "audit" in pages_for("analyst")
    (False, False)
    """
    return PAGES.get(role, ())


def can_see_address(scope: Scope, sgg_code: str) -> bool:
    """Addresses go only to the district official of that area, never to a national role.

    >>> can_see_address(Scope.district(["29110"]), "29110"), can_see_address(Scope.analyst(), "29110")
    (True, False)
    """
    return scope.role == "district" and scope.household_level and scope.allows_sgg(str(sgg_code))


def scope_text(scope: Scope) -> str:
    """The scope as one line for the audit log.

    >>> scope_text(Scope.district(["29140", "29110"]))
    'district:29110,29140'
    >>> scope_text(Scope.aggregates_only(5))
    'presenter:전국,k=5'
    """
    areas = "전국" if scope.sgg_codes is None else ",".join(sorted(scope.sgg_codes))
    return f"{scope.role}:{areas}" + (f",k={scope.min_count}" if scope.min_count else "")


def named_scope(condition: str, prefix: str = "p") -> tuple[str, list[str]]:
    """A :func:`scope_sql` condition with its positional ``?`` as ``$p0, $p1, ...``, for
    statements that repeat the condition (one set of values binds every copy).

    >>> named_scope("sgg_code IN (?, ?)")
    ('sgg_code IN ($p0, $p1)', ['p0', 'p1'])
    """
    parts = condition.split("?")
    names = [f"{prefix}{k}" for k in range(len(parts) - 1)]
    out = [parts[0]]
    for name, part in zip(names, parts[1:]):
        out += [f"${name}", part]
    return "".join(out), names


def suppress(value, k: int):
    """A count below ``k`` becomes None (zero stays zero: "none" is not identifying).

    >>> suppress(3, 5), suppress(0, 5), suppress(12, 5), suppress(None, 5)
    (None, 0, 12, None)
    """
    if value is None or value != value:  # None or NaN
        return None
    value = int(value)
    return value if value >= k or value == 0 else None


# --- server actions by role (issue 1/6): checked by the server gate (blindspot.webguard) ------
UPLOAD_ROLES = frozenset({"admin", "analyst"})   # the roles that load extraction files (데이터 관리)
METRICS_ROLES = frozenset({"admin"})


def may_upload(role: str | None) -> bool:
    """Whether a signed-in session of ``role`` may send files to the server.

    >>> may_upload("analyst"), may_upload("district"), may_upload(None)
    (True, False, False)
    """
    return role in UPLOAD_ROLES


def may_read_metrics(role: str | None) -> bool:
    """Whether ``role`` may read the server's own metrics (``/_stcore/metrics``).

    >>> may_read_metrics("admin"), may_read_metrics("presenter")
    (True, False)
    """
    return role in METRICS_ROLES
