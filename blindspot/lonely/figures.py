"""Per-region figures of the lonely-death lens, the grade counts of an area, and the grade
measured against the general risk score on the synthetic ground truth.

Counts per region (:func:`stage_counts`): one-person households per life stage
(``one_person_<band>``, the maps' counts), those with at least one lonely-death signal
(``lonely_<band>``, ``lonely_any``), the named group 중장년 1인 남성 (``men_40_64``) and those of
it with a signal (``men_40_64_lonely``).  With a small-count threshold (a presenter) the
cells go through :func:`blindspot.access.protect` over the scope's whole tree: the maps'
cells (households, one-person, one-person per band) count as published where the maps show
them and hidden where the maps hide them, so no subtraction across the map and this lens
gives back a count 1..k-1.  Described in docs/lonely.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot import settings
from blindspot.access import Scope, disclosures, narrow, outer_scope, protect, scope_sql_named, subset, threshold
from blindspot.db.store import Store
from blindspot.geo import regions as geography
from blindspot.lonely import sql
from blindspot.lonely.grade import GRADES, grade_frame, lonely_indicators, lonely_weights
from blindspot.lonely.stages import MEN_KEY, MIDDLE_AGE, AgeBands, keys, life_stages
from blindspot.maps.counts import protected_counts
from blindspot.maps.measures import check_bands

LEVELS = ("nation", "sido", "sgg", "emd")
PARENT = {"sido": lambda c: "00", "sgg": lambda c: c[:2], "emd": lambda c: c[:5]}


def count_columns(bands: AgeBands) -> list[str]:
    """The count columns of :func:`stage_counts`.

    >>> cols = count_columns(((20, 39), (65, None)))
    >>> cols[:4]
    ['one_person', 'one_person_20_39', 'one_person_65_plus', 'lonely_any']
    >>> cols[4:]
    ['lonely_20_39', 'lonely_65_plus', 'men_40_64', 'men_40_64_lonely']
    """
    ks = keys(bands)
    return [
        "one_person",
        *[f"one_person_{k}" for k in ks],
        "lonely_any",
        *[f"lonely_{k}" for k in ks],
        MEN_KEY,
        f"{MEN_KEY}_lonely",
    ]


def _emd_counts(store: Store, scope: Scope, round_id: int, bands: AgeBands) -> pd.DataFrame:
    cond_h, params = scope_sql_named(scope, "sgg_code")
    cond_o, _ = scope_sql_named(scope, "o.sgg_code")
    rows = store.df(sql.STAGE_ROWS.format(scope=cond_h, obs_scope=cond_o), params | {"t": int(round_id)})
    out = pd.DataFrame(index=pd.Index(sorted(set(rows["code"])), name="code"))
    g = rows.groupby("code")
    out["one_person"] = g["n"].sum()
    out["lonely_any"] = g["lonely"].sum()
    age = rows["head_age"]
    for band, k in zip(bands, keys(bands), strict=True):
        inside = (age >= band[0]) & (age <= (band[1] if band[1] is not None else 200))
        part = rows[inside].groupby("code")
        out[f"one_person_{k}"] = part["n"].sum()
        out[f"lonely_{k}"] = part["lonely"].sum()
    men = rows[(rows["head_sex"] == "M") & age.between(*MIDDLE_AGE)].groupby("code")
    out[MEN_KEY] = men["n"].sum()
    out[f"{MEN_KEY}_lonely"] = men["lonely"].sum()
    return out.reindex(columns=count_columns(bands)).fillna(0).astype("int64")


def _tree(emd: pd.DataFrame) -> pd.DataFrame:
    """Counts at every level from the 읍면동 counts: 시군구, 시도 and nation ('00') are sums."""
    parts = [emd.assign(level="emd")]
    for level, width in (("sgg", 5), ("sido", 2)):
        parts.append(emd.groupby(emd.index.str[:width]).sum().assign(level=level))
    parts.append(pd.DataFrame([emd.sum()], index=pd.Index(["00"])).assign(level="nation"))
    out = pd.concat(parts)
    out.index.name = "code"
    return out


def equations(tree: pd.DataFrame, bands: AgeBands) -> tuple[list, set, dict]:
    """Every subtraction the lens offers (for :func:`protect`) and the never-shown difference
    cells with their values: parent = sum of children per count; within a region, each
    count of a subset of another (lonely ⊂ one-person per band and in all, the named group ⊂
    one-person and ⊂ the 40–64 band when there is one, its lonely ⊂ it and ⊂ lonely), and,
    when the bands do not overlap, one-person and lonely = the sum of their bands + the rest.

    >>> t = pd.DataFrame({"one_person": [9, 9], "one_person_65_plus": [4, 4], "lonely_any": [2, 2],
    ...     "lonely_65_plus": [1, 1], "men_40_64": [3, 3], "men_40_64_lonely": [1, 1],
    ...     "level": ["sgg", "emd"]}, index=["29110", "2911051000"])
    >>> eqs, rest, values = equations(t, ((65, None),))
    >>> eqs[0], values[("29110", "one_person-lonely_any")]
    ((('29110', 'one_person'), (('2911051000', 'one_person'),)), 7)
    """
    ks = keys(bands)
    cols = count_columns(bands)
    levels = dict(zip(tree.index, tree["level"], strict=False))
    present = set(tree.index)
    eqs: list = []
    children: dict[str, list[str]] = {}
    for code, level in levels.items():
        if level in PARENT and PARENT[level](code) in present:
            children.setdefault(PARENT[level](code), []).append(code)
    for parent, kids in children.items():
        for col in cols:
            eqs.append(((parent, col), tuple((kid, col) for kid in kids)))
    pairs = [("one_person", "lonely_any"), ("one_person", MEN_KEY), (MEN_KEY, f"{MEN_KEY}_lonely")]
    pairs += [("lonely_any", f"{MEN_KEY}_lonely")]
    pairs += [(f"one_person_{k}", f"lonely_{k}") for k in ks]
    mid = "_".join(str(a) for a in MIDDLE_AGE)
    if mid in ks:
        pairs += [(f"one_person_{mid}", MEN_KEY), (f"lonely_{mid}", f"{MEN_KEY}_lonely")]
    ordered = sorted(bands)
    disjoint = len(bands) > 1 and all(
        a[1] is not None and a[1] < b[0] for a, b in zip(ordered, ordered[1:], strict=False)
    )
    rest: set = set()
    values: dict = {}
    records = tree.drop(columns=["level"]).astype("int64").to_dict("index")
    for code in tree.index:
        row = records[code]
        for whole, part in pairs:
            cell = (code, f"{whole}-{part}")
            eqs.append(subset((code, whole), (code, part), cell))
            rest.add(cell)
            values[cell] = int(row[whole]) - int(row[part])
        if disjoint:
            for total, prefix in (("one_person", "one_person_"), ("lonely_any", "lonely_")):
                cell = (code, f"{total}-bands")
                eqs.append(((code, total), tuple((code, f"{prefix}{k}") for k in ks) + (cell,)))
                rest.add(cell)
                values[cell] = int(row[total]) - sum(int(row[f"{prefix}{k}"]) for k in ks)
    return eqs, rest, values


def _protected(store: Store, scope: Scope, round_id: int, bands: AgeBands) -> pd.DataFrame:
    k = threshold(scope)
    tree = _tree(_emd_counts(store, scope, round_id, bands))
    cols = count_columns(bands)
    eqs, rest, values = equations(tree, bands)
    for col in cols:
        for code, v in tree[col].items():
            values[(code, col)] = int(v)
    maps = protected_counts(store, scope, round_id, bands)
    published = ["one_person", *[f"one_person_{b}" for b in keys(bands)]]
    fixed, hidden = set(), set()
    for col in published:
        shown = maps[col].reindex(tree.index)
        fixed |= {(code, col) for code in shown.index[shown.notna()]}
        hidden |= {(code, col) for code in shown.index[shown.isna()]}
    # The map shows its cells whatever this lens does: they are kept, never chosen to hide.
    hide = protect(values, eqs, k, implicit=rest, keep=fixed, hidden=hidden)
    after = {cell: (None if cell in hide else v) for cell, v in values.items()}
    if disclosures(after, eqs, k):
        # Fail safe (not seen on the test worlds): no lonely-death count rather than a leak.
        hide |= {(code, col) for (code, col) in values if col in cols and not col.startswith("one_person")}
    out = tree.astype({c: "float64" for c in cols})
    for col in cols:
        gone = [code for code in out.index if (code, col) in hide]
        out.loc[gone, col] = np.nan
    return out


def stage_counts(
    store: Store, scope: Scope, level: str, round_id: int, bands: AgeBands | None = None, area: str | None = None
) -> pd.DataFrame:
    """Counts of :func:`count_columns` per region of ``level`` in the scope (narrowed to
    ``area``), one row per region with one-person households, indexed by code; hidden = NaN
    when the scope has a small-count threshold (a true zero stays 0).

    Example: ``stage_counts(store, Scope.district(["29110"]), "sgg", 20243).loc["29110",
    "men_40_64_lonely"]`` is 광주 동구's middle-aged men living alone with a lonely-death signal.
    """
    if level not in LEVELS:
        raise ValueError(f"level 은 {', '.join(LEVELS)} 중 하나여야 합니다.")
    bands = check_bands(bands or life_stages())
    view = narrow(store, scope, area)
    if threshold(view) <= 1:
        tree = _tree(_emd_counts(store, view, round_id, bands)).astype({c: "float64" for c in count_columns(bands)})
    else:
        tree = _protected(store, outer_scope(view), round_id, bands)
        allowed = set(geography.regions(store, view, level)["code"]) if level != "nation" else {"00"}
        tree = tree[tree.index.isin(allowed) | (tree["level"] == "nation")]
    rows = tree[tree["level"] == level].drop(columns=["level"])
    return rows


def add_rates(counts: pd.DataFrame, bands: AgeBands) -> pd.DataFrame:
    """Per 1,000 one-person households of the same group: ``lonely_<band>_rate``,
    ``lonely_any_rate``, ``men_40_64_lonely_rate``; missing when either count is.

    >>> c = pd.DataFrame({"one_person": [200.0], "lonely_any": [30.0], "one_person_65_plus": [80.0],
    ...     "lonely_65_plus": [20.0], "men_40_64": [40.0], "men_40_64_lonely": [float("nan")]})
    >>> r = add_rates(c, ((65, None),)).iloc[0]
    >>> float(r["lonely_any_rate"]), float(r["lonely_65_plus_rate"]), bool(np.isnan(r["men_40_64_lonely_rate"]))
    (150.0, 250.0, True)
    """
    out = counts.copy()
    pairs = [("lonely_any", "one_person"), (f"{MEN_KEY}_lonely", MEN_KEY)]
    pairs += [(f"lonely_{k}", f"one_person_{k}") for k in keys(bands)]
    for num, den in pairs:
        out[f"{num}_rate"] = out[num] / out[den].where(out[den] > 0) * 1000.0
    return out


def _graded_households(store: Store, scope: Scope, round_id: int, bands: AgeBands | None = None) -> pd.DataFrame:
    """Every one-person household of the round in the scope with its grade (unmasked: only
    for counting, never shown; callers of household rows go through the risk list).

    Columns: household_id, sgg_code, emd_code, head_age, head_sex, one_person, codes,
    lonely_grade, lonely_score, lonely_reasons.
    """
    bands = check_bands(bands or life_stages())
    cond_h, params = scope_sql_named(scope, "sgg_code")
    cond_o, _ = scope_sql_named(scope, "o.sgg_code")
    rows = store.df(
        sql.GRADE_ROWS.format(scope=cond_h, obs_scope=cond_o), params | {"t": int(round_id), "one_only": True}
    )
    graded = grade_frame(rows, lonely_weights(store, round_id), lonely_indicators(store), bands)
    return pd.concat([rows, graded], axis=1)


def grade_counts(store: Store, scope: Scope, round_id: int, bands: AgeBands | None = None) -> dict[str, int | None]:
    """One-person households of the scope per grade label (높음, 보통, 낮음).

    Only for scopes without a small-count threshold (roles that see households): for a
    presenter every count is None (hidden), because 높음 + 보통 is close to the one-person
    households with a lonely-death signal and 낮음 to the rest, and with the map's one-person
    count either would give a cell of :func:`stage_counts` back by subtraction.

    Example: ``grade_counts(store, Scope.district(["29110"]), 20243)`` → {'높음': 17, '보통': 554, '낮음': 2182}
    in the demo world.
    """
    labels = [GRADES[g] for g in ("high", "medium", "low")]
    if threshold(scope) > 1:
        return dict.fromkeys(labels)
    weights = lonely_weights(store, round_id)
    cond_h, params = scope_sql_named(scope, "sgg_code")
    cond_o, _ = scope_sql_named(scope, "o.sgg_code")
    params |= {
        "t": int(round_id),
        "codes": list(weights),
        "weights": [float(weights[c]) for c in weights],
        "high": float(settings.get("lonely_high_score")),
    }
    row = store.rows(sql.GRADE_COUNTS.format(scope=cond_h, obs_scope=cond_o), params)[0]
    return {GRADES[g]: int(n) for g, n in zip(("high", "medium", "low"), row, strict=True)}


def _measure(sel: np.ndarray, crisis: np.ndarray) -> dict:
    n, hits, total = int(sel.sum()), int((sel & crisis).sum()), int(crisis.sum())
    return {
        "listed": n,
        "found": hits,
        "recall": hits / total if total else float("nan"),
        "precision": hits / n if n else float("nan"),
    }


def evaluate_grade(store: Store, round_id: int, bands: AgeBands | None = None) -> pd.DataFrame:
    """The grade against the general risk score on the synthetic ground truth, among the
    one-person households of the round (all areas), per life stage, the named group and all:
    ``crises`` (truly in crisis), then for 높음 (``grade_*``), the general model's 위험 band
    (``band_*``) and the general model's top households of the same group, as many as 높음 lists
    (``top_*``): listed, found, recall (found ÷ crises), precision (found ÷ listed).

    Evaluation only: the ground truth never feeds the grade.  Example in docs/lonely.md.
    """
    bands = check_bands(bands or life_stages())
    graded = _graded_households(store, Scope.all_areas(), round_id, bands)
    truth = store.df(sql.TRUTH_ROWS, {"t": int(round_id)})
    df = graded.merge(truth, on="household_id", how="left")
    groups = [(f"{b}", ((df["head_age"] >= b[0]) & (df["head_age"] <= (b[1] or 200))).to_numpy()) for b in bands]
    from blindspot.lonely.stages import stage_name

    named = [(stage_name(b), sel) for b, (_, sel) in zip(bands, groups, strict=True)]
    men = ((df["head_sex"] == "M") & df["head_age"].between(*MIDDLE_AGE)).to_numpy()
    named += [("중장년 1인 남성", men), ("1인 가구 전체", np.ones(len(df), dtype=bool))]
    crisis_all = df["crisis"].fillna(False).to_numpy(bool)
    high_all = (df["lonely_grade"] == "high").to_numpy()
    band_all = (df["band"] == "high").to_numpy()
    prob_all = df["probability"].fillna(-1.0).to_numpy(np.float64)
    rows = []
    for name, sel in named:
        crisis, high, band, prob = crisis_all[sel], high_all[sel], band_all[sel], prob_all[sel]
        top = np.zeros(len(prob), dtype=bool)
        top[np.argsort(-prob, kind="stable")[: int(high.sum())]] = True
        row = {"group": name, "households": int(sel.sum()), "crises": int(crisis.sum())}
        for prefix, chosen in (("grade", high), ("band", band), ("top", top)):
            row |= {f"{prefix}_{k}": v for k, v in _measure(chosen, crisis).items()}
        rows.append(row)
    return pd.DataFrame(rows)


def region_frame(
    store: Store, scope: Scope, level: str, round_id: int, area: str | None = None, bands: AgeBands | None = None
) -> pd.DataFrame:
    """Every region of ``level`` the scope (narrowed to ``area``) may see, with the counts of
    :func:`stage_counts` and their rates (:func:`add_rates`) and ``has_data`` (it has
    one-person households); columns code, name, full_name, parent_code first.

    Example: ``region_frame(store, Scope.all_areas(), "emd", 20243, area="36")`` gives 세종시's
    읍면동 with ``lonely_any_rate`` per 1,000 one-person households.
    """
    bands = check_bands(bands or life_stages())
    view = narrow(store, scope, area)
    regions = geography.regions(store, view, level)[["code", "name", "full_name", "parent_code"]]
    counts = add_rates(stage_counts(store, view, level, round_id, bands), bands)
    out = regions.merge(counts, left_on="code", right_index=True, how="left")
    out["has_data"] = out["code"].isin(counts.index)
    return out.reset_index(drop=True)


def area_kpi(store: Store, scope: Scope, area_code: str, round_id: int) -> float | None:
    """The briefing's 고독사 KPI of an area ('00' nation, 2-digit 시도, 5-digit 시군구): one-person
    households with at least one lonely-death signal per 1,000 one-person households, one
    decimal, from :func:`stage_counts` in the scope (None when either count is hidden).

    Example: 42 of 200 one-person households → 210.0.
    """
    level = "nation" if area_code == "00" else {2: "sido", 5: "sgg"}[len(area_code)]
    counts = stage_counts(store, scope, level, round_id, area=None if level == "nation" else area_code)
    if area_code not in counts.index:
        return None
    row = counts.loc[area_code, ["lonely_any", "one_person"]].astype("float64").to_numpy()
    num, den = float(row[0]), float(row[1])
    if np.isnan(num) or np.isnan(den) or not den:
        return None
    return round(1000.0 * num / den, 1)
