"""Per-region counts of one round at every level, protected against small counts.

:func:`region_counts` gives a level's counts in the caller's scope.  With a small-count
threshold (a presenter, a briefing) every count goes through
:func:`blindspot.access.protect` over the whole tree of the scope — nation, 시도, 시군구,
읍면동, each count with its parts and subsets (:func:`count_equations`) — once
(:func:`protected_counts`, remembered per scope and round), so counts 1..k-1 are missing,
and so is every count whose showing would let one be recovered by subtraction.  A true
zero is 0.  Described in docs/maps.md and docs/access.md.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from blindspot.access import Scope, mask_statistic, outer_scope, protect, scope_sql_named, subset, threshold
from blindspot.db import aggregates as stats
from blindspot.db.store import Store
from blindspot.maps import sql
from blindspot.maps.measures import (
    DEFAULT_BANDS,
    LEVEL_COLUMN,
    NATION,
    OBS_LEVEL_COLUMN,
    VISIT_LEVEL_COLUMN,
    AgeBands,
    band_key,
    check_bands,
    domain_list,
    has_scores,
)


def count_columns(store: Store, round_id: int, bands: AgeBands = DEFAULT_BANDS) -> list[str]:
    """The count columns of :func:`region_counts` (risk only when the round is scored)."""
    cols = [
        "households",
        "one_person",
        *[f"one_person_{band_key(b)}" for b in bands],
        *[f"domain_{d}" for d, _ in domain_list(store)],
        "signal_any",
        "visited",
        "confirmed",
        "supported",
    ]
    return cols + (["at_risk"] if has_scores(store, round_id) else [])


def _raw_counts(store: Store, scope: Scope, level: str, round_id: int, bands: AgeBands) -> pd.DataFrame:
    """Exact counts per region of ``level`` (absent = 0), plus ``scored`` and
    ``mean_probability`` when the round has scores."""
    cond_h, params = scope_sql_named(scope, "sgg_code")
    cond_o, _ = scope_sql_named(scope, "o.sgg_code")
    cond_v = cond_h  # visits name the column sgg_code too
    params.update(
        t=int(round_id),
        band_keys=[band_key(b) for b in bands],
        band_lo=[b[0] for b in bands],
        band_hi=[200 if b[1] is None else b[1] for b in bands],
    )
    # The per-읍면동 aggregates when the round has them (blindspot/db/aggregates.py); else live.
    template = sql.MAP_COUNTS_STATS if stats.ready(store, round_id) else sql.MAP_COUNTS
    statement = template.format(
        level_col=LEVEL_COLUMN[level],
        obs_level_col=OBS_LEVEL_COLUMN[level],
        visit_level_col=VISIT_LEVEL_COLUMN[level],
        scope=cond_h,
        obs_scope=cond_o,
        visit_scope=cond_v,
    )
    long = store.df(statement, params)
    wide = (
        long.pivot(index="code", columns="measure", values="n")
        if len(long)
        else pd.DataFrame(index=pd.Index([], name="code"))
    )
    wide.columns.name = None
    scored = has_scores(store, round_id)
    cols = [c for c in count_columns(store, round_id, bands) if c != "at_risk"]
    # A missing row means none: a region with households but no visits has 0 visits.
    wide = wide.reindex(columns=cols).fillna(0)
    if scored:
        cond_s, _ = scope_sql_named(scope, "s.sgg_code")
        template = sql.MAP_RISK_STATS if stats.risk_ready(store, round_id) else sql.MAP_RISK
        risk = store.df(
            template.format(level_col=LEVEL_COLUMN[level], scope=cond_h, score_scope=cond_s),
            {k: v for k, v in params.items() if not k.startswith("band")},
        ).set_index("code")
        wide = wide.join(risk, how="left")
        # A region none of whose households was scored has no risk figure (not 0).
        wide["scored"] = wide["scored"].fillna(0)
    return wide.astype("float64")


def _disjoint(bands: AgeBands) -> bool:
    """Whether no age falls in two bands.

    >>> _disjoint(DEFAULT_BANDS), _disjoint(((19, 34), (20, 39)))
    (True, False)
    """
    ordered = sorted(bands)
    return all(a[1] is not None and a[1] < b[0] for a, b in zip(ordered, ordered[1:], strict=False))


def count_equations(codes, cols: list[str], bands: AgeBands, parent_of) -> tuple[list, set]:
    """The relations an attacker can subtract along, for :func:`blindspot.access.protect`:
    per count, each parent region = the sum of its child regions (``parent_of(code)``
    gives a code's parent, or None); within a region, each count of a subset of another
    (one-person ⊂ households, each age band ⊂ one-person, the bands together ⊂
    one-person when disjoint, signals ⊂ households, each domain ⊂ signals, visited ⊂
    households, confirmed ⊂ visited, supported ⊂ confirmed, at risk ⊂ households) with its
    difference as a cell that is never shown.  Cells are ``(code, column)``.

    >>> eqs, rest = count_equations(["29", "29110", "29140"], ["households", "one_person"], (),
    ...                             lambda c: c[:2] if len(c) == 5 else None)
    >>> eqs[0]
    (('29', 'households'), (('29110', 'households'), ('29140', 'households')))
    >>> eqs[2], len(eqs), len(rest)
    ((('29', 'households'), (('29', 'one_person'), ('29', 'households-one_person'))), 5, 3)
    """
    codes = list(codes)
    present = set(codes)
    children: dict[str, list[str]] = {}
    for code in codes:
        parent = parent_of(code)
        if parent is not None and parent in present:
            children.setdefault(parent, []).append(code)
    equations, rest = [], set()
    for parent, kids in children.items():
        for col in cols:
            equations.append(((parent, col), tuple((kid, col) for kid in kids)))
    band_cols = [f"one_person_{band_key(b)}" for b in bands]
    pairs = [("households", "one_person")] + [("one_person", b) for b in band_cols]
    pairs += [("households", "signal_any")] + [("signal_any", c) for c in cols if c.startswith("domain_")]
    pairs += [
        ("households", "visited"),
        ("visited", "confirmed"),
        ("confirmed", "supported"),
        ("households", "at_risk"),
    ]
    pairs = [(a, b) for a, b in pairs if a in cols and b in cols]
    partition = len(band_cols) > 1 and _disjoint(bands) and all(b in cols for b in band_cols)
    for code in codes:
        for whole, part in pairs:
            cell = (code, f"{whole}-{part}")
            equations.append(subset((code, whole), (code, part), cell))
            rest.add(cell)
        if partition:
            cell = (code, "one_person-bands")
            equations.append(((code, "one_person"), tuple((code, b) for b in band_cols) + (cell,)))
            rest.add(cell)
    return equations, rest


PARENT_OF = {"nation": lambda c: None, "sido": lambda c: NATION["code"], "sgg": lambda c: c[:2], "emd": lambda c: c[:5]}


_MEMO: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_MEMO_SIZE = 24


def _fingerprint(store: Store, round_id: int) -> tuple:
    t = {"t": int(round_id)}
    parts = store.rows(sql.PROTECT_FINGERPRINT, t)[0]
    scores = store.rows(sql.PROTECT_FINGERPRINT_SCORES, t)[0] if has_scores(store, round_id) else ()
    return (store.meta().get("built_at"), *parts, *scores)


def protected_counts(store: Store, scope: Scope, round_id: int, bands: AgeBands = DEFAULT_BANDS) -> pd.DataFrame:
    """See :func:`_protected_counts`; remembered per database, scope, threshold, round and
    bands while that round's visits, scores and loads are unchanged (the whole tree costs
    seconds nationally, and a page asks for it per round)."""
    bands = check_bands(bands)
    key = (
        str(getattr(store, "path", id(store))),
        scope.sgg_codes,
        threshold(scope),
        int(round_id),
        bands,
        _fingerprint(store, round_id),
    )
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key].copy()
    out = _protected_counts(store, scope, round_id, bands)
    _MEMO[key] = out
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return out.copy()


def _protected_counts(store: Store, scope: Scope, round_id: int, bands: AgeBands = DEFAULT_BANDS) -> pd.DataFrame:
    """Every region of the scope at every level (nation '00', 시도, 시군구, 읍면동) with its
    counts after primary and complementary suppression at ``threshold(scope)``:
    one row per code, a ``level`` column, the :func:`count_columns` (hidden = NaN, a true
    zero = 0) and ``mean_probability`` (shown only when ``k`` or more households were scored).

    Example: ``protected_counts(store, Scope.aggregates_only(), 20243).loc["29", "households"]``
    is 광주광역시's households, or NaN if hiding it protects a small count.
    """
    bands = check_bands(bands)
    k = threshold(scope)
    tree = pd.concat(
        [
            _raw_counts(store, scope, level, round_id, bands).assign(level=level)
            for level in ("nation", "sido", "sgg", "emd")
        ]
    )
    cols = count_columns(store, round_id, bands)
    levels = dict(zip(tree.index, tree["level"], strict=False))
    equations, rest = count_equations(list(tree.index), cols, bands, lambda c: PARENT_OF[levels[c]](c))
    values = {(code, col): int(round(v)) for col in cols for code, v in tree[col].fillna(0).items()}
    for code, name in rest:
        whole, part = name.split("-")
        if part == "bands":
            values[(code, name)] = values[(code, whole)] - sum(
                values[(code, f"one_person_{band_key(b)}")] for b in bands
            )
        else:
            values[(code, name)] = values[(code, whole)] - values[(code, part)]
    hide = protect(values, equations, k, implicit=rest)
    out = tree.copy()
    for col in cols:
        gone = [code for code in out.index if (code, col) in hide]
        out.loc[gone, col] = np.nan
    if "mean_probability" in out:
        out["mean_probability"] = mask_statistic(out["mean_probability"], out["scored"], k)
    return out.drop(columns=["scored"], errors="ignore")


def _in_view(view: Scope, level: str, codes: pd.Index) -> np.ndarray:
    if view.sgg_codes is None or level == "nation":
        return np.ones(len(codes), dtype=bool)
    if level == "sido":
        return np.array([c in view.sido_codes for c in codes], dtype=bool)
    return np.array([c[:5] in view.sgg_codes for c in codes], dtype=bool)


def region_counts(
    store: Store, scope: Scope, level: str, round_id: int, bands: AgeBands = DEFAULT_BANDS
) -> pd.DataFrame:
    """Per-region counts of one round, wide: one row per region code that has
    households in scope, one column per count (households, one_person,
    one_person_<band>, domain_<d>, signal_any, visited, confirmed, supported, and
    at_risk, mean_probability when scores exist).  An absent count is 0.  With a
    small-count threshold (``threshold(scope) > 1``) the counts are those of
    :func:`protected_counts` over the caller's whole scope: hidden ones are NaN.
    ``level`` may be ``"nation"`` (one row, code '00').
    """
    if level not in LEVEL_COLUMN:
        raise ValueError(f"level must be one of {tuple(LEVEL_COLUMN)}")
    bands = check_bands(bands)
    if threshold(scope) <= 1:
        return _raw_counts(store, scope, level, round_id, bands).drop(columns=["scored"], errors="ignore")
    tree = protected_counts(store, outer_scope(scope) if level != "nation" else scope, round_id, bands)
    rows = tree[tree["level"] == level].drop(columns=["level"])
    return rows[_in_view(scope, level, rows.index)].astype("float64")
