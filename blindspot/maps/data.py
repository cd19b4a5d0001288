"""Per-region measures for the maps: one-person households by age band, indicator-domain
prevalence, visit outcomes, households at risk, change since the previous round and rank
within the parent area; and the drill-down of one region (its profile and, for officials,
its top households).

Every function takes the caller's :class:`~blindspot.access.Scope`.  The counts come
from :mod:`blindspot.maps.counts` (protected against small counts and subtraction); the
rates built on a missing count are missing too.  A view of one 시도 or 시군구 (``area``)
narrows the scope to that area before querying, so DuckDB reads only those 시군구 and a
caller never sees more than the scope allows.  The measure catalogue is in
:mod:`blindspot.maps.measures`.  Described in docs/maps.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot.access import Scope, narrow, scope_sql_named, threshold
from blindspot.casework import audit
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.errors import AccessDenied
from blindspot.geo import regions as geography
from blindspot.maps import sql
from blindspot.maps.counts import region_counts
from blindspot.maps.measures import (
    DEFAULT_BANDS,
    NATION,
    PARENT_LEVEL,
    RISK_BANDS,
    AgeBands,
    band_key,
    band_label,
    check_bands,
    domain_list,
    has_scores,
    measures,
    previous_round,
)


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
    cond_s, params = scope_sql_named(view, "s.sgg_code")
    cond_o, _ = scope_sql_named(view, "o.sgg_code")
    params.update(t=int(round_id), area=str(code), limit=int(limit))
    df = store.df(sql.TOP_HOUSEHOLDS.format(score_scope=cond_s, obs_scope=cond_o), params)
    df["band"] = df["band"].map(RISK_BANDS).fillna(df["band"])
    audit.record(
        scope,
        "view_map_households",
        {"round": int(round_id), "area": str(code), "limit": int(limit)},
        len(df),
        purpose,
    )
    return df[columns]
