"""Who may see what: the :class:`Scope` every query and export function takes.

A scope lists the 시군구 a caller may see (``None`` = the whole country), whether
household-level rows are allowed at all, and the smallest count an aggregate may
show (small-count suppression).  Query functions turn it into SQL with
:func:`scope_sql`, so a page cannot forget to apply it.  The signed-in user's role
gives the scope (:func:`scope_for`).  The small-count rules (threshold, zero rule,
complementary suppression) and the role → action rules live here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

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


# --- roles ------------------------------------------------------------------------------
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


# Role → action rule for changes to shared settings: "any" = every area, "own" = only a
# 시군구 of the user's own scope.  A role or action missing here may not do it.
ACTION_RULES = {
    "set_targets": {"admin": "any", "district": "own"},
}


def can(scope: Scope, action: str, area: str | None = None) -> bool:
    """Whether the scope's role may do ``action`` for ``area`` ('00' the nation, a 2-digit
    시도, a 5-digit 시군구).  Briefing targets are set by an admin, or by a district
    official for a 시군구 of their own; presenters and analysts may not set them.

    >>> can(Scope.all_areas(), "set_targets", "00"), can(Scope.analyst(), "set_targets", "29110")
    (True, False)
    >>> own = Scope.district(["29110"])
    >>> can(own, "set_targets", "29110"), can(own, "set_targets", "29140"), can(own, "set_targets", "29")
    (True, False, False)
    >>> can(Scope.aggregates_only(), "set_targets", "00")
    False
    """
    rule = ACTION_RULES.get(action, {}).get(scope.role)
    if rule == "any":
        return scope.is_national or (area is not None and len(str(area)) == 5 and scope.allows_sgg(str(area)))
    if rule == "own":
        return area is not None and len(str(area)) == 5 and scope.sgg_codes is not None and str(area) in scope.sgg_codes
    return False


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


# --- small counts: threshold, zero rule, primary and complementary suppression -------------
# The one home of the small-count rules (docs/access.md, "작은 수 비공개"):
# * threshold: the smallest count shown is max(k, scope.min_count, 1); 1 hides nothing.
# * zero rule: a true 0 is shown as 0 everywhere (it identifies no one); counts 1..k-1
#   are hidden and shown as SUPPRESSED.
# * complementary suppression (protect): where a total and its parts, or two counts and
#   their difference, are shown together, more cells are hidden until no subtraction the
#   output offers recovers a count 1..k-1 (disclosures is the attacker that checks it).
SUPPRESSED = "비공개"


def threshold(scope: "Scope | None" = None, k: int = 0) -> int:
    """The smallest count an aggregate may show: ``max(k, scope.min_count, 1)``.

    1 means nothing is suppressed (counts 1..0 is empty).

    >>> threshold(Scope.aggregates_only(10), 5), threshold(Scope.analyst(), 5), threshold(Scope.analyst())
    (10, 5, 1)
    """
    return max(int(k), scope.min_count if scope is not None else 0, 1)


def suppress(value, k: int):
    """Primary suppression of one count: 1..k-1 becomes None, a true zero stays 0.

    >>> suppress(3, 5), suppress(0, 5), suppress(12, 5), suppress(None, 5)
    (None, 0, 12, None)
    """
    if value is None or value != value:  # None or NaN
        return None
    value = int(value)
    return value if value >= k or value == 0 else None


def count_text(value) -> str:
    """A count as shown: thousands separators, ``SUPPRESSED`` for a hidden one (never "None").

    >>> count_text(12345), count_text(0), count_text(None), count_text(float("nan"))
    ('12,345', '0', '비공개', '비공개')
    """
    if value is None or value != value:
        return SUPPRESSED
    return f"{int(value):,}"


def subset(whole, part, rest) -> tuple:
    """The equation of a count and a count of a subset of the same households:
    ``whole = part + rest``, where ``rest`` (the difference) is a cell that is never shown.

    >>> subset("flagged", "contacted", "unreachable")
    ('flagged', ('contacted', 'unreachable'))
    """
    return (whole, (part, rest))


def _index(values, equations):
    keys = list(values)
    pos = {key: i for i, key in enumerate(keys)}
    eqs = []
    for total, parts in equations:
        try:
            eqs.append([pos[total], *[pos[c] for c in parts]])  # position 0 is the total
        except KeyError as exc:
            raise KeyError(f"equation names a cell without a value: {exc.args[0]!r}") from None
    member: list[list[int]] = [[] for _ in keys]
    for e, cells in enumerate(eqs):
        for c in cells:
            member[c].append(e)
    # The same equations as flat arrays, for counting unknown cells per equation at once.
    lengths = np.fromiter((len(c) for c in eqs), dtype=np.int64, count=len(eqs))
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(eqs) else np.zeros(0, np.int64)
    flat = np.fromiter((c for cells in eqs for c in cells), dtype=np.int64, count=int(lengths.sum()))
    is_part = np.ones(len(flat), dtype=bool)
    is_part[offsets] = False
    return keys, pos, eqs, member, (flat, offsets, is_part)


def _per_equation(arrays, per_cell: np.ndarray) -> np.ndarray:
    """Sum of ``per_cell[flat]`` over each equation's cells."""
    flat, offsets, _ = arrays
    if not len(offsets):
        return np.zeros(0, dtype=per_cell.dtype)
    return np.add.reduceat(per_cell[flat], offsets)


def _closure(known: list[bool], eqs, member, arrays=None):
    """Cells an attacker derives from the known ones by repeated subtraction: any
    equation with exactly one unknown cell gives it.  Returns (known, derived_from)."""
    known = list(known)
    derived: dict[int, int] = {}
    if arrays is not None:
        unknown = _per_equation(arrays, ~np.asarray(known, dtype=bool)).astype(np.int64).tolist()
    else:
        unknown = [sum(1 for c in cells if not known[c]) for cells in eqs]
    queue = [e for e, n in enumerate(unknown) if n == 1]
    while queue:
        e = queue.pop()
        if unknown[e] != 1:
            continue
        cell = next(c for c in eqs[e] if not known[c])
        known[cell] = True
        derived[cell] = e
        for f in member[cell]:
            unknown[f] -= 1
            if unknown[f] == 1:
                queue.append(f)
    return known, derived


def disclosures(shown, equations, k: int, thresholds=None) -> list[tuple]:
    """What an attacker learns from the shown numbers alone: every count 1..k-1 that
    subtraction recovers.

    ``shown`` maps every cell of the ``equations`` (``(total, parts)``, meaning total =
    sum of parts) to its shown value, or None when it is not shown.  Cells derived by
    subtraction (total - shown parts, a part = total - the other parts, repeated to a
    fixed point) are reported when they are 1..k-1, and so is the combined count of the
    unknown parts of an equation whose total is known (households in the hidden cells
    together).  ``thresholds`` gives a per-cell k.  Returns ``(what, cell(s), value)``.

    >>> eq = [("T", ("a", "b", "c"))]
    >>> disclosures({"T": 20, "a": None, "b": 10, "c": 7}, eq, 5)
    [('derived', 'a', 3)]
    >>> disclosures({"T": 20, "a": None, "b": None, "c": 17}, eq, 5)
    [('group', ('a', 'b'), 3)]
    >>> disclosures({"T": 20, "a": None, "b": None, "c": 10}, eq, 5)
    []
    """
    values = {key: (None if v is None or v != v else int(round(float(v)))) for key, v in shown.items()}
    keys, pos, eqs, member, _ = _index(values, equations)
    thr = [int((thresholds or {}).get(key, k)) for key in keys]
    known, derived = _closure([values[key] is not None for key in keys], eqs, member)
    value = [values[key] for key in keys]
    # Derived values in the order they were found: evaluate each from its equation.
    order = list(derived)
    for cell in order:
        cells = eqs[derived[cell]]
        total, parts = cells[0], cells[1:]
        if cell == total:
            value[cell] = sum(value[c] for c in parts)
        else:
            value[cell] = value[total] - sum(value[c] for c in parts if c != cell)
    out = []
    for cell in order:
        if 1 <= value[cell] < thr[cell]:
            out.append(("derived", keys[cell], value[cell]))
    for cells in eqs:
        total, parts = cells[0], cells[1:]
        hidden = [c for c in parts if not known[c]]
        if known[total] and len(hidden) >= 2:
            rest = value[total] - sum(value[c] for c in parts if known[c])
            if 1 <= rest < thr[total]:
                out.append(("group", tuple(keys[c] for c in hidden), rest))
    return out


def protect(values, equations=(), k: int = 1, *, implicit=(), fixed=(), hidden=(), thresholds=None) -> set:
    """Cells to hide so that no count 1..k-1 is shown or recovered by subtraction.

    ``values`` maps each cell to its true count (0 or more).  ``equations`` are
    ``(total, parts)`` with total = sum of parts; a count and a subset of it are
    :func:`subset` equations whose difference cell is in ``implicit`` (never shown, but
    an attacker can compute it).  ``fixed`` cells are published elsewhere: they count
    as known (unless 1..k-1, which that place hides too) and are hidden only as a last resort.  ``hidden`` cells are hidden already
    (elsewhere).  ``thresholds`` gives a per-cell k.

    Method (docs/access.md): primary suppression hides 1..k-1; then, to a fixed point,
    (a) a hidden count 1..k-1 that one equation recovers (it is that equation's only
    unknown cell) makes the smallest non-zero shown cell of that equation hidden too,
    parts before the total; (b) an equation with a known total whose unknown parts add
    up to 1..k-1 hides its next-smallest non-zero shown part.  Zeros are never hidden
    (a true zero is shown as 0).  Returns the hidden cells, ``implicit`` included.

    >>> sorted(protect({"T": 20, "a": 3, "b": 10, "c": 7}, [("T", ("a", "b", "c"))], 5))
    ['a', 'c']
    >>> v = {"flagged": 20, "contacted": 17, "unreachable": 3}
    >>> sorted(protect(v, [subset("flagged", "contacted", "unreachable")], 5, implicit={"unreachable"}))
    ['contacted', 'unreachable']
    >>> sorted(protect({"T": 9, "a": 4, "b": 5, "c": 0}, [("T", ("a", "b", "c"))], 5))
    ['a', 'b']
    """
    values = {key: int(v) for key, v in values.items()}
    keys, pos, eqs, member, arrays = _index(values, equations)
    value = [values[key] for key in keys]
    value_np = np.asarray(value, dtype=np.int64)
    thr_total = np.asarray([int((thresholds or {}).get(keys[cells[0]], k)) for cells in eqs], dtype=np.int64)
    thr = [int((thresholds or {}).get(key, k)) for key in keys]
    shown = [True] * len(keys)
    for c in (*implicit, *hidden):
        if c in pos:
            shown[pos[c]] = False
    for i in range(len(keys)):
        if 1 <= value[i] < thr[i]:
            shown[i] = False
    # A cell published elsewhere went through primary suppression there too.
    fixed_i = {pos[c] for c in fixed if c in pos and shown[pos[c]]}

    def pick(cells, exclude, parts_first=True):
        """The cell to hide next in an equation: shown, not fixed, non-zero, smallest."""
        total = cells[0]
        for pool in ((cells[1:], [total]) if parts_first else (cells,)):
            for allow_fixed in (False, True):
                choice = [c for c in pool if shown[c] and value[c] > 0 and c not in exclude
                          and (allow_fixed or c not in fixed_i)]
                if choice:
                    return min(choice, key=lambda c: (value[c], c))
        return None

    for _ in range(10 * len(keys) + 10):
        known, derived = _closure(shown, eqs, member, arrays)
        # One fix per equation per pass: two fixes of one equation in the same pass would
        # hide more than needed; what is left is fixed in the next pass.
        touched: set[int] = set()
        changed = False
        for cell, e in derived.items():
            if 1 <= value[cell] < thr[cell]:
                c = _break(e, cell, eqs, derived, shown, value, pick, set(), touched)
                if c is not None and c is not _DEFER:
                    shown[c] = False
                    changed = True
        # (b) equations with a known total whose unknown parts add up to 1..k-1.
        known_np = np.asarray(known, dtype=bool)
        flat, offsets, is_part = arrays
        unknown_part = ~known_np[flat] & is_part
        n_unknown = np.add.reduceat(unknown_part.astype(np.int64), offsets) if len(offsets) else np.zeros(0)
        rest = np.add.reduceat(value_np[flat] * unknown_part, offsets) if len(offsets) else np.zeros(0)
        total_known = known_np[flat[offsets]] if len(offsets) else np.zeros(0, dtype=bool)
        suspects = np.flatnonzero(total_known & (n_unknown >= 2) & (rest >= 1) & (rest < thr_total))
        for e in suspects.tolist():
            if e in touched:
                continue
            total, parts = eqs[e][0], eqs[e][1:]
            c = pick([total, *[p for p in parts if known[p]]], set(), parts_first=True)
            if c is not None and c != total:
                touched.add(e)
            else:
                c = _break(e, None, eqs, derived, shown, value, pick, set(), touched)
            if c is not None and c is not _DEFER:
                shown[c] = False
                changed = True
        if not changed:
            break
    return {keys[i] for i in range(len(keys)) if not shown[i]}


_DEFER = object()


def _break(e, cell, eqs, derived, shown, value, pick, seen, touched):
    """The cell whose hiding stops equation ``e`` from giving ``cell``: a shown cell of
    ``e``; failing that, break the derivation of one of its derived cells.  An equation
    already fixed in this pass defers the fix to the next pass."""
    if e in touched:
        return _DEFER
    if e in seen:
        return None
    seen.add(e)
    c = pick(eqs[e], {cell} if cell is not None else set())
    if c is not None:
        touched.add(e)
        return c
    for d in sorted((c for c in eqs[e] if c != cell and c in derived and value[c] > 0), key=lambda c: value[c]):
        c = _break(derived[d], d, eqs, derived, shown, value, pick, seen, touched)
        if c is not None:
            return c
    return None


def apply(values, hide) -> dict:
    """The values with the hidden cells as None.

    >>> apply({"a": 3, "b": 0}, {"a"})
    {'a': None, 'b': 0}
    """
    return {key: (None if key in hide else v) for key, v in values.items()}
# --- server actions by role: checked by the server gate (blindspot.app.webguard) ------
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
