"""Read-side query functions over household data.

Every function takes the caller's :class:`~blindspot.access.Scope` and applies it in
SQL; aggregates of a scope with a small-count threshold are the map's protected counts
(:func:`blindspot.maps.data.protected_counts`), so the overview hides what the map
hides.  Pages call these through :mod:`blindspot.app.data`, never SQL.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from blindspot.access import Scope, protect, scope_sql, threshold
from blindspot.db import sql
from blindspot.db.store import Store
from blindspot.maps import counts as mapcounts
from blindspot.rounds import from_id

_LEVEL_COLUMN = {"sido": "sido_code", "sgg": "sgg_code", "emd": "emd_code"}


def rounds(store: Store) -> pd.DataFrame:
    """Rounds loaded, oldest first, with a Korean label."""
    df = store.df(sql.ROUNDS)
    df["label"] = [from_id(int(r)).label_ko for r in df["round_id"]]
    return df


def latest_round(store: Store) -> int | None:
    df = store.df(sql.ROUNDS)
    return None if df.empty else int(df["round_id"].max())


def loaded_round(store: Store, text: str) -> int:
    """The id of the round typed on a command line (``--round 2024-R3``), refused with a
    Korean message when it is malformed or not loaded in ``store``.

    Example: ``loaded_round(store, "2024-R3")`` → 20243.
    """
    from blindspot.errors import BlindspotError
    from blindspot.rounds import parse_round

    try:
        round_id = parse_round(text).round_id
    except ValueError as exc:
        raise BlindspotError(f"--round: {exc}") from None
    if round_id not in {int(r) for (r,) in store.rows(sql.ROUND_IDS)}:
        raise BlindspotError(f"데이터베이스에 없는 차수입니다: {text} (python -m blindspot info 로 확인).")
    return round_id


def data_info(store: Store) -> dict:
    """What the database holds: data kind (synthetic or real), reference dates, build facts."""
    meta = store.meta()
    info: dict[str, Any] = dict(meta)
    info["synthetic"] = meta.get("data_kind") == "synthetic"
    # Rounds loaded for part of the country only (declared at ingest): {round code: 시군구 count}.
    info["partial_rounds"] = {
        from_id(int(k.split(":", 1)[1])).code: len(json.loads(v))
        for k, v in meta.items()
        if k.startswith("round_scope:")
    }
    if "calibration" in meta:
        info["calibration"] = json.loads(meta["calibration"])
    return info


def sgg_codes(store: Store) -> frozenset[str]:
    """Every 시군구 code of the geography."""
    return frozenset(c for (c,) in store.rows(sql.REGION_CODES_AT_LEVEL, ["sgg"]))


_COVERED: dict[tuple[str, int], list[str]] = {}  # (version file, round) → 시군구 codes, read-only stores


def round_coverage(store: Store, round_id: int) -> dict:
    """Which 시군구 a round's households cover, against all 시군구 of the geography.

    ``{"partial": bool, "sgg_count": N, "sgg_total": M, "sgg": [codes], "declared": [codes] | None}``;
    ``declared`` is the scope given at load time (``--sgg``), None for a national load
    or a synthetic round.  Example: a round loaded from a 종로구-only file with
    ``--sgg 11110`` gives ``partial=True, sgg_count=1``.
    """
    # A read-only store is a published snapshot version, which never changes under its file:
    # its coverage is read once per round (a scan of every household, 0.2-0.3 s nationally,
    # that every district's first overview paid again).  A writable store is read every time.
    key = (str(store.file), int(round_id))
    if store.read_only and key in _COVERED:
        covered = _COVERED[key]
    else:
        covered = [c for (c,) in store.rows(sql.ROUND_SGG_COVERED, [int(round_id), int(round_id)])]
        if store.read_only:
            _COVERED[key] = covered
            while len(_COVERED) > 64:
                _COVERED.pop(next(iter(_COVERED)))
    total = len(sgg_codes(store))
    declared = store.meta().get(f"round_scope:{int(round_id)}")
    declared = json.loads(declared) if declared else None
    # A synthetic demo built for a few 시도 is a demo's choice (its banner says synthetic);
    # a round from files is partial whenever it misses a 시군구.
    ingested = store.scalar(sql.ROUND_SOURCE, [int(round_id)]) not in (None, "synthetic")
    return {
        "partial": bool(declared) or (ingested and 0 < len(covered) < total),
        "sgg_count": len(covered),
        "sgg_total": total,
        "sgg": list(covered),
        "declared": declared,
    }


def table_counts(store: Store) -> dict:
    """Row counts per table and regions per level (for ``info``)."""
    levels = dict(store.rows(sql.REGION_LEVEL_COUNTS))
    out: dict[str, Any] = {"regions": {lvl: int(levels.get(lvl, 0)) for lvl in ("sido", "sgg", "emd")}}
    for table in ("households", "rounds", "observations", "visits", "synthetic_crisis"):
        out[table] = int(store.scalar(sql.COUNT_ROWS.format(table=table)))
    return out


def households_by_region(store: Store, scope: Scope, level: str, round_id: int) -> pd.DataFrame:
    """Households and one-person households per region of ``level`` in one round.

    Columns: code, name, full_name, parent_code, households, one_person,
    one_person_share (0..1), suppressed.  Regions outside the scope are absent; a region
    without any households has no data (NaN, not suppressed).  With a small-count
    threshold the counts are the map's (primary and complementary suppression): hidden
    ones are NaN with ``suppressed`` true; a true zero is 0.

    Example: ``households_by_region(store, Scope.all_areas(), "sido", 20243)`` gives
    17 rows; counts are households (not persons), shares are fractions 0..1.
    """
    if level not in _LEVEL_COLUMN:
        raise ValueError(f"level must be one of {tuple(_LEVEL_COLUMN)}")
    cond, params = scope_sql(scope, "sgg_code")
    region_cond, region_params = (
        scope_sql(scope, "r.sido_code", sido=True) if level == "sido" else scope_sql(scope, "r.sgg_code")
    )
    statement = sql.HOUSEHOLDS_BY_REGION.format(level_col=_LEVEL_COLUMN[level], scope=cond, region_scope=region_cond)
    df = store.df(statement, [round_id, round_id, *params, level, *region_params])
    df[["households", "one_person"]] = df[["households", "one_person"]].astype("float64")
    if threshold(scope) > 1:
        tree = mapcounts.protected_counts(store, scope, round_id)
        for col in ("households", "one_person"):
            df[col] = df["code"].map(tree[col]).astype("float64")
    df["one_person_share"] = df["one_person"] / df["households"].where(df["households"] > 0)
    # A region without any households has no data (NaN), which is not a suppression.
    df["suppressed"] = df["households"].isna() & (df["code"].isin(tree.index) if threshold(scope) > 1 else False)
    return df


def overview(store: Store, scope: Scope, round_id: int) -> dict:
    """National (or in-scope) totals for the overview page: households, one_person (None
    when suppressed), one_person_share and the table by region at the scope's own level
    (``level``: 시도 nationally, 읍면동 for one 시군구; :attr:`Scope.home_level`), so a 시군구's
    households are never listed under its 시도's name.

    With a small-count threshold the totals are the map's protected national figures.
    """
    level = scope.home_level
    by_region = households_by_region(store, scope, level, round_id)
    if threshold(scope) > 1:
        nation = mapcounts.region_counts(store, scope, "nation", round_id)
        row = nation.iloc[0] if len(nation) else pd.Series({"households": 0.0, "one_person": 0.0})
        households, one = (None if pd.isna(row[c]) else int(row[c]) for c in ("households", "one_person"))
    else:
        households = int(by_region["households"].fillna(0).sum())
        one = int(by_region["one_person"].fillna(0).sum())
    coverage = round_coverage(store, round_id)
    return {
        # A round covering only some 시군구 is never a national total: pages label it
        # "일부 지역 (N개 시군구)" (coverage["partial"], coverage["sgg_count"]).
        "coverage": {k: coverage[k] for k in ("partial", "sgg_count", "sgg_total", "declared")},
        "households": households,
        "one_person": one,
        "one_person_share": (one / households) if households and one is not None else None,
        "level": level,
        "by_region": by_region,
    }


BANDS = ("high", "medium", "low", "none")


def band_counts(store: Store, scope: Scope, round_id: int) -> dict[str, int | None] | None:
    """Households per risk band (high/medium/low/none) in the scope for a round, or
    ``None`` when the round has no scores.  Counts 1..k-1 are suppressed (``None``), and
    so is a band that the scored total (≈ the households shown) and the other bands, or
    the map's 위험·주의 count, would give back.

    Example: ``band_counts(store, Scope.all_areas(), 20243)["high"]`` is the number of
    households in the 위험 band nationally.
    """
    cond, params = scope_sql(scope, "sgg_code")
    rows = dict(store.rows(sql.BAND_COUNTS.format(scope=cond), [round_id, *params]))
    if not rows:
        return None
    values = {band: int(rows.get(band, 0)) for band in BANDS}
    k = threshold(scope)
    if k <= 1:
        return dict(values)
    values["scored"] = sum(values[b] for b in BANDS)
    values["at_risk"] = values["high"] + values["medium"]
    values["low_none"] = values["low"] + values["none"]
    eqs = [("scored", BANDS), ("at_risk", ("high", "medium")), ("scored", ("at_risk", "low_none"))]
    # The scored total is about the households shown; 위험·주의 is the map's national count.
    hide = protect(values, eqs, k, implicit={"low_none"}, fixed={"scored", "at_risk"})
    return {band: (None if band in hide else values[band]) for band in BANDS}
