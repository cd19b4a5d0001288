"""Per-region measures for the maps: one-person households by age band, indicator-domain
prevalence, visit outcomes, households at risk, change since the previous round and rank
within the parent area.

Every function takes the caller's :class:`~blindspot.access.Scope` and applies it in SQL.
With a small-count threshold (a presenter, a briefing) every count goes through
:func:`blindspot.access.protect` over the whole tree of the scope — nation, 시도, 시군구,
읍면동, each count with its parts and subsets — so counts 1..k-1 are missing, and so is
every count whose showing would let one be recovered by subtraction (complementary
suppression); the rates built on a missing count are missing too.  A true zero is 0.
A view of one 시도 or 시군구 (``area``) narrows the scope to that area before querying, so
DuckDB reads only those 시군구 and a caller never sees more than the scope allows.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blindspot.access import (
    Scope,
    mask_statistic,
    named_scope,
    narrow,
    outer_scope,
    protect,
    scope_sql,
    subset,
    threshold,
)
from blindspot.casework import audit
from blindspot.db import aggregates as stats
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.errors import AccessDenied
from blindspot.geo import regions as geography
from blindspot.maps import sql

LEVEL_COLUMN = {"nation": "'00'", "sido": "sido_code", "sgg": "sgg_code", "emd": "emd_code"}
# Observations and visits carry no 시도 code: it is the first two digits of the 시군구.
OBS_LEVEL_COLUMN = {"nation": "'00'", "sido": "left(o.sgg_code, 2)", "sgg": "o.sgg_code", "emd": "o.emd_code"}
VISIT_LEVEL_COLUMN = {"nation": "'00'", "sido": "left(sgg_code, 2)", "sgg": "sgg_code", "emd": "emd_code"}
PARENT_LEVEL = {"sido": "nation", "sgg": "sido", "emd": "sgg"}
NATION = {"code": "00", "name": "전국", "full_name": "전국", "parent_code": None}

# (lo, hi) head-of-household ages in completed years, both ends inclusive; hi None = no upper end.
AgeBands = tuple[tuple[int, int | None], ...]
DEFAULT_BANDS: AgeBands = ((20, 39), (40, 64), (65, None))

RISK_BANDS = {"high": "위험", "medium": "주의", "low": "관심", "none": "해당 없음"}
NO_SCORES = "점수 없음"


@dataclass(frozen=True)
class Measure:
    """One map measure: its column, Korean label, unit and what it needs."""

    key: str
    label: str
    unit: str  # "count" | "share" (0..1) | "per_1000" | "probability" (0..1)
    group: str
    needs_scores: bool = False


def band_key(band: tuple[int, int | None]) -> str:
    """Column suffix of an age band.

    >>> band_key((20, 39)), band_key((65, None))
    ('20_39', '65_plus')
    """
    lo, hi = band
    return f"{lo}_plus" if hi is None else f"{lo}_{hi}"


def band_label(band: tuple[int, int | None]) -> str:
    """Korean label of an age band.

    >>> band_label((20, 39)), band_label((65, None))
    ('20–39세', '65세 이상')
    """
    lo, hi = band
    return f"{lo}세 이상" if hi is None else f"{lo}–{hi}세"


def check_bands(bands: AgeBands) -> AgeBands:
    """Validate bands (ages 0..130, lo ≤ hi); overlapping bands are allowed on purpose
    (a 19–34 youth band beside 20–39)."""
    out = []
    for band in bands:
        lo, hi = int(band[0]), (None if band[1] is None else int(band[1]))
        if lo < 0 or (hi is not None and (hi < lo or hi > 130)):
            raise ValueError(f"연령 구간이 잘못되었습니다: {band} (0 ≤ 시작 ≤ 끝 ≤ 130)")
        out.append((lo, hi))
    return tuple(out)


def measures(domains: list[tuple[str, str]], bands: AgeBands = DEFAULT_BANDS) -> list[Measure]:
    """The map measures for a domain list [(domain, Korean name)] and age bands.

    >>> [m.key for m in measures([("economy", "경제·공과금")], ((65, None),))][:6]
    ['households', 'one_person', 'one_person_share', 'one_person_65_plus', 'one_person_65_plus_share', 'domain_economy']
    """
    out = [
        Measure("households", "가구 수", "count", "가구"),
        Measure("one_person", "1인 가구 수", "count", "1인 가구"),
        Measure("one_person_share", "1인 가구 비율", "share", "1인 가구"),
    ]
    for band in bands:
        k, label = band_key(band), band_label(band)
        out.append(Measure(f"one_person_{k}", f"1인 가구 수 ({label})", "count", "1인 가구"))
        out.append(Measure(f"one_person_{k}_share", f"1인 가구 비율 ({label})", "share", "1인 가구"))
    for domain, name in domains:
        out.append(Measure(f"domain_{domain}", f"{name} 위기정보 가구 (천 가구당)", "per_1000", "위기정보 영역"))
    out += [
        Measure("signal_any", "위기정보 가구 (천 가구당)", "per_1000", "위기정보 영역"),
        Measure("visited", "방문 가구 수", "count", "방문·지원"),
        Measure("visited_rate", "방문 가구 (천 가구당)", "per_1000", "방문·지원"),
        Measure("confirmed", "욕구 확인 가구 수", "count", "방문·지원"),
        Measure("confirmed_rate", "욕구 확인율 (방문 대비)", "share", "방문·지원"),
        Measure("supported", "지원 연계 가구 수", "count", "방문·지원"),
        Measure("supported_rate", "지원 연계율 (방문 대비)", "share", "방문·지원"),
        Measure("at_risk", "위험·주의 가구 수", "count", "위기 점수", True),
        Measure("at_risk_rate", "위험·주의 가구 (천 가구당)", "per_1000", "위기 점수", True),
        Measure("mean_probability", "평균 위기 확률", "probability", "위기 점수", True),
    ]
    return out


def domain_list(store: Store) -> list[tuple[str, str]]:
    return [(str(d), str(n)) for d, n in store.rows(sql.DOMAINS)]


def measure_catalogue(store: Store, bands: AgeBands = DEFAULT_BANDS) -> list[Measure]:
    return measures(domain_list(store), check_bands(bands))


def has_scores(store: Store, round_id: int) -> bool:
    """Whether risk scores exist for the round (the table exists in every opened store:
    opening migrates it to the current schema)."""
    return bool(store.scalar(sql.SCORES_IN_ROUND, [int(round_id)]))


def previous_round(store: Store, round_id: int) -> int | None:
    value = store.scalar(sql.PREVIOUS_ROUND, [int(round_id)])
    return None if value is None else int(value)


# --- counts and measures ---------------------------------------------------------------


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
    cond_h, names = named_scope(scope_sql(scope, "sgg_code")[0])
    cond_o, _ = named_scope(scope_sql(scope, "o.sgg_code")[0])
    cond_v, _ = named_scope(scope_sql(scope, "sgg_code")[0])
    params = dict(zip(names, scope_sql(scope, "sgg_code")[1], strict=False))
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
        cond_s, _ = named_scope(scope_sql(scope, "s.sgg_code")[0])
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


def add_rates(counts: pd.DataFrame, bands: AgeBands = DEFAULT_BANDS) -> pd.DataFrame:
    """Rates from counts; a rate is missing when either of its counts is.

    Shares are fractions 0..1; ``*_rate`` of visits and risk per 1,000 households,
    ``confirmed_rate`` and ``supported_rate`` per visited household, domains per 1,000.

    >>> c = pd.DataFrame({"households": [200.0], "one_person": [80.0], "one_person_65_plus": [30.0],
    ...                   "domain_health": [12.0], "visited": [10.0], "confirmed": [6.0]}, index=["a"])
    >>> r = add_rates(c, ((65, None),)).iloc[0]
    >>> [float(r[c]) for c in ("one_person_share", "one_person_65_plus_share", "domain_health", "confirmed_rate")]
    [0.4, 0.15, 60.0, 0.6]
    """
    out = counts.copy()
    hh = out["households"] if "households" in out else pd.Series(np.nan, index=out.index)

    def ratio(num: str, den: pd.Series, per: float = 1.0) -> pd.Series:
        values = out[num] if num in out else pd.Series(np.nan, index=out.index)
        return (values / den.where(den > 0)) * per

    out["one_person_share"] = ratio("one_person", hh)
    for band in bands:
        out[f"one_person_{band_key(band)}_share"] = ratio(f"one_person_{band_key(band)}", hh)
    for col in [c for c in counts.columns if c.startswith("domain_")] + ["signal_any"]:
        out[col] = ratio(col, hh, 1000.0)
    if "signal_any" not in counts:
        out["signal_any"] = np.nan
    out["visited_rate"] = ratio("visited", hh, 1000.0)
    visited = out["visited"] if "visited" in out else pd.Series(np.nan, index=out.index)
    out["confirmed_rate"] = ratio("confirmed", visited)
    out["supported_rate"] = ratio("supported", visited)
    if "at_risk" in out:
        out["at_risk_rate"] = ratio("at_risk", hh, 1000.0)
    return out


def region_measures(
    store: Store, scope: Scope, level: str, round_id: int, bands: AgeBands = DEFAULT_BANDS, area: str | None = None
) -> pd.DataFrame:
    """Every measure per region of ``level`` in one round, for the regions the scope
    (narrowed to ``area``) may see.

    Columns: code, name, full_name, parent_code, then one column per
    :func:`measures` key (missing when suppressed or absent; risk columns missing
    when there are no scores).  Units as in :func:`add_rates`.

    Example: ``region_measures(store, Scope.all_areas(), "emd", 20243, area="36")`` gives
    the 24 읍면동 of 세종시 with ``one_person_share`` as a 0..1 fraction.
    """
    bands = check_bands(bands)
    view = narrow(store, scope, area)
    regions = geography.regions(store, view, level)[["code", "name", "full_name", "parent_code"]]
    counts = add_rates(region_counts(store, view, level, round_id, bands), bands)
    out = regions.merge(counts, left_on="code", right_index=True, how="left")
    # A missing value of a region with data is a suppressed one (shown "비공개"); a region
    # without households has no data (shown "자료 없음").
    out["has_data"] = out["code"].isin(counts.index)
    for m in measures(domain_list(store), bands):
        if m.key not in out:
            out[m.key] = np.nan
    return out.reset_index(drop=True)


def rank_within(values: pd.Series, parents: pd.Series) -> pd.Series:
    """Rank of each value among regions with the same parent, 1 = highest; missing
    values get no rank.

    >>> rank_within(pd.Series([5.0, 9.0, None, 1.0]), pd.Series(["a", "a", "a", "b"])).tolist()
    [2.0, 1.0, nan, 1.0]
    """
    return values.groupby(parents.fillna(NATION["code"]).values).rank(ascending=False, method="min")


def map_view(
    store: Store,
    scope: Scope,
    level: str,
    round_id: int,
    measure: str,
    area: str | None = None,
    change: bool = False,
    bands: AgeBands = DEFAULT_BANDS,
) -> pd.DataFrame:
    """What the choropleth draws: one row per region with ``value``, its ``rank`` within
    the parent area, ``siblings`` (how many ranked regions share that parent),
    ``parent_name`` and ``suppressed`` (missing because hidden, not for want of data).

    With ``change=True`` the value is this round minus the previous loaded round
    (same unit as the measure; missing if either round is suppressed), and
    ``current``/``previous`` hold the two rounds' values.
    """
    now = region_measures(store, scope, level, round_id, bands, area)
    if measure not in now:
        raise ValueError(f"알 수 없는 지표입니다: {measure}")
    out = now[["code", "name", "full_name", "parent_code"]].copy()
    if change:
        prev_id = previous_round(store, round_id)
        before = (
            region_measures(store, scope, level, prev_id, bands, area).set_index("code")[measure]
            if prev_id is not None
            else pd.Series(np.nan, index=now["code"])
        )
        out["current"] = now[measure].values
        out["previous"] = out["code"].map(before).astype("float64").values
        out["value"] = out["current"] - out["previous"]
    else:
        out["value"] = now[measure].astype("float64").values
    out["suppressed"] = out["value"].isna() & now["has_data"].values & (threshold(scope) > 1)
    out["rank"] = rank_within(out["value"], out["parent_code"])
    out["siblings"] = out.groupby(out["parent_code"].fillna(NATION["code"]))["value"].transform("count")
    out["parent_name"] = _parent_names(store, scope, level, out["parent_code"])
    return out


def _parent_names(store: Store, scope: Scope, level: str, parent_codes: pd.Series) -> pd.Series:
    if PARENT_LEVEL[level] == "nation":
        return pd.Series(NATION["name"], index=parent_codes.index)
    parents = geography.regions(store, scope, PARENT_LEVEL[level])
    return parent_codes.map(dict(zip(parents["code"], parents["name"], strict=False))).fillna("")


# --- drill-down ---------------------------------------------------------------------------


def _level_of(code: str) -> str:
    return {2: "sido", 5: "sgg", 10: "emd"}[len(str(code))]


def _one(store: Store, scope: Scope, level: str, code: str, round_id: int, bands: AgeBands) -> pd.Series:
    counts = add_rates(
        region_counts(store, narrow(store, scope, code if level != "nation" else None), level, round_id, bands), bands
    )
    row = counts.loc[code] if code in counts.index else pd.Series(dtype="float64")
    return row.reindex([m.key for m in measures(domain_list(store), bands)])


def region_profile(store: Store, scope: Scope, code: str, round_id: int, bands: AgeBands = DEFAULT_BANDS) -> dict:
    """The drill-down panel of one region: its measures beside its parent's, domain
    breakdown, one-person households by age band, and the trend over loaded rounds.

    The parent is computed within the same scope (a district official's 시도 figure
    covers only the 시군구 they may see).  Returns a dict with ``region`` and
    ``parent`` (dicts of code/name), ``kpis`` (measure, label, unit, value, parent),
    ``domains`` (label, value per 1,000 households), ``bands`` (label, count, share)
    and ``trend`` (round_id, round_code and every measure).
    Example: ``region_profile(store, Scope.all_areas(), "29110", 20243)["parent"]["name"]``
    is ``'광주광역시'``.
    """
    bands = check_bands(bands)
    region = geography.region(store, scope, code)
    if region is None:
        raise AccessDenied(f"{code} 지역이 없거나 볼 권한이 없습니다.")
    level = region["level"]
    parent_level = PARENT_LEVEL[level]
    if parent_level == "nation":
        parent, parent_code = dict(NATION), NATION["code"]
    else:
        parent_code = region["parent_code"]
        parent = geography.region(store, scope, parent_code) or {"code": parent_code, "name": parent_code}
    catalogue = measures(domain_list(store), bands)
    mine = _one(store, scope, level, code, round_id, bands)
    theirs = (
        _one(store, scope, "nation", NATION["code"], round_id, bands)
        if parent_level == "nation"
        else _one(store, narrow(store, scope, parent_code), parent_level, parent_code, round_id, bands)
    )
    kpis = pd.DataFrame(
        {
            "measure": [m.key for m in catalogue],
            "label": [m.label for m in catalogue],
            "unit": [m.unit for m in catalogue],
            "group": [m.group for m in catalogue],
            "value": mine.values,
            "parent": theirs.values,
        }
    )
    # Missing under a small-count threshold: suppressed where the region has households.
    hidden = threshold(scope) > 1
    kpis["value_suppressed"] = kpis["value"].isna() & hidden & mine.notna().any()
    kpis["parent_suppressed"] = kpis["parent"].isna() & hidden & theirs.notna().any()
    domains = kpis[kpis["measure"].str.startswith("domain_")][["label", "value", "parent"]]
    band_rows = pd.DataFrame(
        {
            "label": ["전체"] + [band_label(b) for b in bands],
            "count": [mine.get("one_person")] + [mine.get(f"one_person_{band_key(b)}") for b in bands],
            "share": [mine.get("one_person_share")] + [mine.get(f"one_person_{band_key(b)}_share") for b in bands],
            "parent_share": [theirs.get("one_person_share")]
            + [theirs.get(f"one_person_{band_key(b)}_share") for b in bands],
        }
    )
    trend_rows = []
    for rid, rcode in store.rows(db_sql.ROUNDS_UP_TO, [int(round_id)]):
        trend_rows.append(
            {"round_id": int(rid), "round_code": rcode, **_one(store, scope, level, code, int(rid), bands).to_dict()}
        )
    return {
        "region": {k: region[k] for k in ("code", "name", "full_name", "level")},
        "parent": {"code": parent.get("code"), "name": parent.get("name")},
        "kpis": kpis,
        "domains": domains.reset_index(drop=True),
        "bands": band_rows,
        "trend": pd.DataFrame(trend_rows),
    }


def top_households(store: Store, scope: Scope, code: str, round_id: int, purpose: str, limit: int = 20) -> pd.DataFrame:
    """Top-ranked households (by risk probability) of one 시군구 or 읍면동, pseudonymous.

    Household-level rows: the scope must allow them (raises AccessDenied otherwise) and a
    purpose must be given (PurposeRequired); every call on a scored round writes one audit
    record (an unscored round returns no rows and records nothing).
    Columns: pseudo_id, emd_name, band (Korean 위험/주의/관심/해당 없음), probability (0..1),
    reasons (the household's signals this round).  Empty when there are no scores.
    """
    scope.require_household_level()
    purpose = audit.check_purpose(purpose)
    view = narrow(store, scope, code)
    columns = ["pseudo_id", "emd_name", "band", "probability", "reasons"]
    if not has_scores(store, round_id):
        return pd.DataFrame(columns=columns)
    cond_s, names = named_scope(scope_sql(view, "s.sgg_code")[0])
    cond_o, _ = named_scope(scope_sql(view, "o.sgg_code")[0])
    params = dict(zip(names, scope_sql(view, "sgg_code")[1], strict=False))
    params.update(t=int(round_id), area=str(code), limit=int(limit))
    df = store.df(sql.TOP_HOUSEHOLDS.format(score_scope=cond_s, obs_scope=cond_o), params)
    df["band"] = df["band"].map(RISK_BANDS).fillna(df["band"])
    audit.record(
        store,
        scope,
        "view_map_households",
        {"round": int(round_id), "area": str(code), "limit": int(limit)},
        len(df),
        purpose,
    )
    return df[columns]
