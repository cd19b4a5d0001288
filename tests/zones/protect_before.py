"""The complementary suppression as it was before the attacker's closure was taken in bulk:
``blindspot/access/suppression.py`` of commit d04418b, its functions verbatim (the doctest
examples left out).  The oracle that :mod:`blindspot.access.suppression` must match cell for
cell (tests/zones/test_fast_suppression.py); not used by the product.
"""

from __future__ import annotations

import numpy as np


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
