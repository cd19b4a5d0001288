"""Small counts: the threshold, the zero rule, primary and complementary suppression.

The one home of the small-count rules (docs/access.md, "작은 수 비공개"):

* threshold: the smallest count shown is ``max(k, scope.min_count, 1)`` (:func:`threshold`);
  1 hides nothing.
* zero rule: a true 0 is shown as 0 everywhere (it identifies no one); counts 1..k-1
  are hidden and shown as :data:`SUPPRESSED` (:func:`suppress`, :func:`count_text`).
* complementary suppression (:func:`protect`): where a total and its parts, or two counts
  and their difference, are shown together, more cells are hidden until no subtraction
  the output offers recovers a count 1..k-1 (:func:`disclosures` is the attacker that
  checks it).
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from blindspot import glossary

if TYPE_CHECKING:
    from blindspot.access.scope import Scope

SUPPRESSED = glossary.SUPPRESSED


def threshold(scope: Scope | None = None, k: int = 0) -> int:
    """The smallest count an aggregate may show: ``max(k, scope.min_count, 1)``.

    1 means nothing is suppressed (counts 1..0 is empty).

    >>> from blindspot.access.scope import Scope
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


class _Equations:
    """Equations as flat arrays, for an attacker working through tens of thousands of them:
    the cells of equation ``e`` (total first) are ``flat[offsets[e]:offsets[e] + lengths[e]]``,
    and the equations a cell is in are ``member(cell)``, in equation order.  Indexing
    (``eqs[e]``) and iteration give each equation's cells as a list, like a list of lists."""

    def __init__(self, totals: list[int], parts: np.ndarray, lengths: np.ndarray, n_cells: int):
        self.lengths = lengths
        self.offsets = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=self.offsets[1:])
        self.is_part = np.ones(int(lengths.sum()), dtype=bool)
        self.is_part[self.offsets] = False
        self.flat = np.empty(len(self.is_part), dtype=np.int64)
        self.flat[self.offsets] = totals
        self.flat[self.is_part] = parts
        self.eq_of = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        # A stable sort by cell keeps each cell's equations in equation order.
        members = self.eq_of[np.argsort(self.flat, kind="stable")]
        ptr = np.zeros(n_cells + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.flat, minlength=n_cells), out=ptr[1:])
        self.degree = np.diff(ptr)
        self._flat, self._ptr, self._members = self.flat.tolist(), ptr.tolist(), members.tolist()
        self._start = self.offsets.tolist()
        self._end = (self.offsets + lengths).tolist()

    def __len__(self) -> int:
        return len(self._start)

    def __getitem__(self, e: int) -> list[int]:
        return self._flat[self._start[e] : self._end[e]]

    def __iter__(self):
        return (self._flat[s:t] for s, t in zip(self._start, self._end, strict=True))

    def member(self, cell: int) -> list[int]:
        return self._members[self._ptr[cell] : self._ptr[cell + 1]]

    def per_equation_of_flat(self, per_place: np.ndarray) -> np.ndarray:
        """Sum over each equation of a value per place in ``flat`` (one per cell of each equation)."""
        if not len(self):
            return np.zeros(0, dtype=per_place.dtype)
        return np.add.reduceat(per_place, self.offsets)


def _index(keys: list, equations) -> tuple[dict, _Equations]:
    """Position of each cell key, and the equations over positions (:class:`_Equations`)."""
    pos = dict(zip(keys, range(len(keys)), strict=True))
    get = pos.__getitem__
    parts = [p if isinstance(p, tuple | list) else tuple(p) for _, p in equations]
    try:
        totals = list(map(get, [total for total, _ in equations]))
        flat_parts = np.fromiter(map(get, chain.from_iterable(parts)), dtype=np.int64)
    except KeyError as exc:
        raise KeyError(f"equation names a cell without a value: {exc.args[0]!r}") from None
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)) + 1
    return pos, _Equations(totals, flat_parts, lengths, len(keys))


def _closure(known, eqs: _Equations) -> tuple[np.ndarray, dict[int, int]]:
    """Cells an attacker derives from the known ones by repeated subtraction: any
    equation with exactly one unknown cell gives it.  Returns (known, derived_from), where
    ``derived_from`` maps each derived cell to the equation that gave it, in the order found.

    The attacker works through a stack: first the equations with one unknown cell, the last
    first; an equation whose solving leaves another with one unknown pushes that one.  Most
    equations solved at the start give a cell that is in no other equation (a difference of a
    count and its subset): those are taken in bulk, in the same order, so a national tree of
    a hundred thousand cells is solved in a fraction of a second.

    >>> pos, eqs = _index(["T", "a", "b", "c"], [("T", ("a", "b", "c"))])
    >>> known, derived = _closure([True, False, True, True], eqs)
    >>> known.tolist(), derived
    ([True, True, True, True], {1: 0})
    """
    known = np.array(known, dtype=bool)
    if not len(eqs):
        return known, {}
    unknown_flat = ~known[eqs.flat]
    unknown = eqs.per_equation_of_flat(unknown_flat.astype(np.int64))
    queue = np.flatnonzero(unknown == 1)
    # The one unknown cell of each queued equation (both in equation order).
    cell_of = eqs.flat[np.flatnonzero(unknown_flat & (unknown[eqs.eq_of] == 1))]
    # Solving an equation for a cell in no other equation changes no other equation's count.
    terminal = eqs.degree[cell_of] == 1
    unknown_l = unknown.tolist()
    known_l = known.tolist()
    cells: list[np.ndarray] = []
    froms: list[np.ndarray] = []
    top = len(queue)
    for p in np.flatnonzero(~terminal)[::-1].tolist():
        cells.append(cell_of[p + 1 : top][::-1])
        froms.append(queue[p + 1 : top][::-1])
        top = p
        stack = [int(queue[p])]
        found: list[int] = []
        by: list[int] = []
        while stack:
            e = stack.pop()
            if unknown_l[e] != 1:
                continue
            cell = next(c for c in eqs[e] if not known_l[c])
            known_l[cell] = True
            found.append(cell)
            by.append(e)
            for f in eqs.member(cell):
                unknown_l[f] -= 1
                if unknown_l[f] == 1:
                    stack.append(f)
        cells.append(np.asarray(found, dtype=np.int64))
        froms.append(np.asarray(by, dtype=np.int64))
    cells.append(cell_of[:top][::-1])
    froms.append(queue[:top][::-1])
    order, by_eq = np.concatenate(cells), np.concatenate(froms)
    known = np.asarray(known_l, dtype=bool)
    known[order] = True
    return known, dict(zip(order.tolist(), by_eq.tolist(), strict=True))


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
    keys = list(values)
    pos, eqs = _index(keys, equations)
    thr = [int((thresholds or {}).get(key, k)) for key in keys]
    known, derived = _closure([values[key] is not None for key in keys], eqs)
    # None for a hidden cell until derived: in the order found, each equation's other cells
    # are known by the time it is evaluated.
    value: list = [values[key] for key in keys]
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


def protect(values, equations=(), k: int = 1, *, implicit=(), fixed=(), hidden=(), thresholds=None, keep=()) -> set:
    """Cells to hide so that no count 1..k-1 is shown or recovered by subtraction.

    ``values`` maps each cell to its true count (0 or more).  ``equations`` are
    ``(total, parts)`` with total = sum of parts; a count and a subset of it are
    :func:`subset` equations whose difference cell is in ``implicit`` (never shown, but
    an attacker can compute it).  ``fixed`` cells are published elsewhere: they count
    as known (unless 1..k-1, which that place hides too) and are hidden only as a last
    resort.  ``keep`` cells are published elsewhere and stay shown whatever happens here
    (another output shows them): known, never chosen; a derivation through them is broken
    elsewhere.  ``hidden`` cells are hidden already (elsewhere).  ``thresholds`` gives a
    per-cell k.

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
    keys = list(values)
    value = [int(v) for v in values.values()]
    pos, eqs = _index(keys, equations)
    value_np = np.asarray(value, dtype=np.int64)
    thr = [int(thresholds.get(key, k)) for key in keys] if thresholds else [int(k)] * len(keys)
    thr_np = np.asarray(thr, dtype=np.int64)
    thr_total = thr_np[eqs.flat[eqs.offsets]]
    shown = [True] * len(keys)
    for c in (*implicit, *hidden):
        if c in pos:
            shown[pos[c]] = False
    for i in np.flatnonzero((value_np >= 1) & (value_np < thr_np)).tolist():
        shown[i] = False
    # A cell published elsewhere went through primary suppression there too.
    fixed_i = {pos[c] for c in fixed if c in pos and shown[pos[c]]}
    keep_i = {pos[c] for c in keep if c in pos and shown[pos[c]]}

    def pick(cells, exclude, parts_first=True):
        """The cell to hide next in an equation: shown, not fixed, non-zero, smallest."""
        total = cells[0]
        for pool in (cells[1:], [total]) if parts_first else (cells,):
            for allow_fixed in (False, True):
                choice = [
                    c
                    for c in pool
                    if shown[c]
                    and value[c] > 0
                    and c not in exclude
                    and c not in keep_i
                    and (allow_fixed or c not in fixed_i)
                ]
                if choice:
                    return min(choice, key=lambda c: (value[c], c))
        return None

    for _ in range(10 * len(keys) + 10):
        known, derived = _closure(shown, eqs)
        # One fix per equation per pass: two fixes of one equation in the same pass would
        # hide more than needed; what is left is fixed in the next pass.
        touched: set[int] = set()
        changed = False
        # (a) derived counts 1..k-1, in the order the attacker found them.
        order = np.fromiter(derived, dtype=np.int64, count=len(derived))
        for cell in order[(value_np[order] >= 1) & (value_np[order] < thr_np[order])].tolist():
            c = _break(derived[cell], cell, eqs, derived, shown, value, pick, set(), touched)
            if c is not None and c is not _DEFER:
                shown[c] = False
                changed = True
        # (b) equations with a known total whose unknown parts add up to 1..k-1.
        unknown_part = ~known[eqs.flat] & eqs.is_part
        n_unknown = eqs.per_equation_of_flat(unknown_part.astype(np.int64))
        rest = eqs.per_equation_of_flat(value_np[eqs.flat] * unknown_part)
        total_known = known[eqs.flat[eqs.offsets]]
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


def mask_statistic(values, counts, k: int):
    """A statistic of a group (a mean, a rate) only where the group holds ``k`` or more
    households: a mean of 1..k-1 households describes those few.  ``values`` and
    ``counts`` are aligned pandas Series; the rest become NaN.

    >>> import pandas as pd
    >>> mask_statistic(pd.Series([0.2, 0.5, 0.1]), pd.Series([10, 3, 0]), 5).tolist()
    [0.2, nan, nan]
    """
    return values.where(counts >= k)
