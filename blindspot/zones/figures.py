"""The special support zone ranking (사회보장 특별지원구역): the components per area and round,
the composite need index, its rank and its bootstrap rank interval.

Components (every one oriented so that higher = more need; docs/zones.md gives the
domain.md sentence behind each):

* ``crisis`` 위기정보 가구 (천 가구당) — households with any crisis signal per 1,000 households;
* ``at_risk`` 위험군 가구 (천 가구당) — households in the 위험·주의 bands per 1,000 (needs scores);
* ``reach_gap`` 미발견 추정 (천 가구당) — expected crisis households (Σ calibrated
  probability) minus those found, per 1,000 households (:mod:`blindspot.reach.figures`;
  needs scores);
* ``alone_young``, ``alone_middle``, ``alone_old`` — one-person households whose head is
  20–39, 40–64 or 65+, as a share (0..1) of all households;
* ``elderly`` — residents aged 65 and over as a share (0..1) of residents (June 2024).

Each round's figures are the maps' (protected for a presenter: a hidden value stays hidden);
a component is the mean over the rounds used, and an area missing a weighted component in
any of those rounds is not ranked (비공개 or 자료 없음).  Scope: the 시군구 ranking covers
the scope's 시군구 (nationally for a national scope); the 읍면동 ranking the 읍면동 of one
시군구 of the scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blindspot import glossary, settings
from blindspot.access import Scope, narrow, scope_sql_named, threshold
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.geo import regions as geography
from blindspot.maps import data as mapdata
from blindspot.maps.measures import DEFAULT_BANDS, band_key, band_label
from blindspot.zones import index as zindex
from blindspot.zones import sql

LEVELS = ("sgg", "emd")
ELDERLY_AGE = 65  # domain.md: "older 65+"


@dataclass(frozen=True)
class Component:
    """One component of the index: key, Korean label, unit, where it comes from, whether it
    needs risk scores, and the domain.md fact that justifies it."""

    key: str
    label: str
    unit: str  # "per_1000" | "share" (0..1)
    source: str
    needs_scores: bool
    why: str


_YOUNG, _MIDDLE, _OLD = DEFAULT_BANDS
COMPONENTS: tuple[Component, ...] = (
    Component(
        "crisis",
        "위기정보 가구 (천 가구당)",
        "per_1000",
        "signal_any",
        False,
        "발굴시스템은 협력 기관의 위기정보로 위기 가능성이 높은 사람을 찾는다.",
    ),
    Component(
        "at_risk",
        glossary.AT_RISK_RATE,
        "per_1000",
        "at_risk_rate",
        True,
        "위기 가능성 순으로 명단을 만든다: 위험 모델의 위험·주의 등급.",
    ),
    Component(
        "reach_gap",
        "미발견 추정 (천 가구당)",
        "per_1000",
        "gap_rate",
        True,
        "사각지대 가구는 아무도 몰라서 지원을 받지 못하는 위기 가구다: 예상 위기 가구 − 발견.",
    ),
    Component(
        "alone_young",
        f"1인 가구 비율 ({band_label(_YOUNG)})",
        "share",
        f"one_person_{band_key(_YOUNG)}_share",
        False,
        "새 사각지대로 은둔형 청년, 자립준비청년이 꼽힌다.",
    ),
    Component(
        "alone_middle",
        f"1인 가구 비율 ({band_label(_MIDDLE)})",
        "share",
        f"one_person_{band_key(_MIDDLE)}_share",
        False,
        "새 사각지대로 혼자 사는 중년 남성이 꼽힌다.",
    ),
    Component(
        "alone_old",
        f"1인 가구 비율 ({band_label(_OLD)})",
        "share",
        f"one_person_{band_key(_OLD)}_share",
        False,
        "새 사각지대로 혼자 사는 노인이 꼽힌다.",
    ),
    Component(
        "elderly",
        "65세 이상 인구 비율",
        "share",
        "population_by_age",
        False,
        "노년층(65세 이상)과 고독사 예방 목표(100명 사망당 1.06명 → 0.85명).",
    ),
)
BY_KEY = {c.key: c for c in COMPONENTS}
STATUS = glossary.ZONE_STATUS


class ZonesError(BlindspotError):
    """The ranking cannot be made as asked (no scored round for a score component, no area)."""


def default_weights() -> dict[str, float]:
    """The weights of the settings table (``zones_weight_<key>``), relative.

    >>> default_weights()["reach_gap"], round(sum(default_weights().values()), 6)
    (0.2, 1.0)
    """
    return {c.key: float(settings.default(f"zones_weight_{c.key}")) for c in COMPONENTS}


@dataclass
class Ranking:
    """A ranking: one row per area (``table``) and how it was made.

    ``table`` columns: code, name, full_name, households (round ``round_id``; the map's
    protected count), one column per component (mean over ``rounds``, its unit), ``z_<key>``
    (standard deviations), index (standard deviations above the average area), rank (1 =
    most need), rank_low, rank_high (the 95 % bootstrap interval), top_share (0..1: share of
    replicates ranking the area within the first ``designate``), status (:data:`STATUS`
    key).  Ranked areas first, by rank."""

    level: str
    area: str | None
    round_id: int
    rounds: list[int]
    weights: dict[str, float]
    replicates: int
    seed: int
    designate: int
    k: int
    table: pd.DataFrame
    dropped: list[str] = field(default_factory=list)

    @property
    def components(self) -> list[Component]:
        """The components with a weight above zero, in catalogue order."""
        return [c for c in COMPONENTS if self.weights.get(c.key, 0.0) > 0]


def rounds_used(store: Store, round_id: int, n: int, needs_scores: bool) -> list[int]:
    """The last ``n`` loaded rounds up to ``round_id``, oldest first; only scored rounds when a
    weighted component needs scores.  Raises :class:`ZonesError` when none is left."""
    rows = store.df(sql.ROUNDS_WITH_SCORES, {"t": int(round_id)})
    if not len(rows) or int(rows["round_id"].iloc[0]) != int(round_id):
        raise ZonesError(f"데이터베이스에 없는 차수입니다: {round_id}.")
    rows = rows.head(int(n))
    if needs_scores:
        rows = rows[rows["scored"].astype(bool)]
        if rows.empty:
            raise ZonesError(
                "고른 차수까지 최근 차수에 위기 점수가 없어 위험군·미발견 추정을 셀 수 없습니다: "
                "점수가 있는 차수를 고르거나 두 성분의 가중치를 0 으로 하세요."
            )
    return sorted(int(r) for r in rows["round_id"])


def elderly_share(store: Store, scope: Scope, level: str) -> pd.Series:
    """Residents aged 65+ ÷ residents (0..1) per region of ``level`` in the scope (index: code).

    Example: ``elderly_share(store, Scope.analyst(), "sgg")["36110"]`` is 세종시's share.
    """
    cond, params = scope_sql_named(scope, "left(code, 5)")
    df = store.df(sql.ELDERLY_SHARE.format(scope=cond), {**params, "age": ELDERLY_AGE, "level": level})
    return df.set_index("code")["share"].astype("float64")


def round_components(store: Store, scope: Scope, level: str, round_id: int, area: str | None = None) -> pd.DataFrame:
    """Every component and the households of one round per region of ``level`` in the scope
    (narrowed to ``area``): index code, columns households and the component keys (units as
    in :data:`COMPONENTS`); a hidden value is NaN, score components NaN in an unscored round.

    Example: ``round_components(store, Scope.analyst(), "emd", 20243, "29110")`` has one row
    per 읍면동 of 광주 동구.
    """
    from blindspot.reach import figures as reach

    m = mapdata.region_measures(store, scope, level, int(round_id), area=area).set_index("code")
    out = pd.DataFrame(index=m.index)
    out["households"] = m["households"].astype("float64")
    for c in COMPONENTS:
        if c.source in m:
            out[c.key] = m[c.source].astype("float64")
    if mapdata.has_scores(store, int(round_id)):
        # The map's counts of the regions with data are the reach gap's own (the same
        # region_counts of the same view), so they are read once, not again.
        counts = m.loc[m["has_data"].astype(bool), ["households", "confirmed", "supported"]]
        gap = reach.gap_rate(store, scope, level, int(round_id), area, counts=counts)
        out["reach_gap"] = gap.reindex(out.index).astype("float64")
    else:
        out["at_risk"] = np.nan
        out["reach_gap"] = np.nan
    out["elderly"] = elderly_share(store, narrow(store, scope, area), level).reindex(out.index)
    out["has_data"] = m["has_data"].astype(bool)
    return out


def zone_ranking(
    store: Store,
    scope: Scope,
    level: str,
    round_id: int,
    area: str | None = None,
    weights: dict[str, float] | None = None,
    n_rounds: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    designate: int | None = None,
    read_round: Callable[[int], pd.DataFrame] | None = None,
) -> Ranking:
    """The ranking of the 시군구 (``level="sgg"``; ``area`` None or a 시도) or of the 읍면동 of
    one 시군구 (``level="emd"``, ``area`` that 시군구) in the caller's scope, up to ``round_id``.

    ``weights`` (component key → relative weight ≥ 0; missing keys 0) default to the settings;
    ``n_rounds``, ``replicates``, ``seed`` and ``designate`` to ``zones_rounds``,
    ``zones_replicates``, ``zones_seed`` and ``zones_designate``.  See :class:`Ranking` for
    the columns and units.  ``read_round(round_id)`` gives one round's
    :func:`round_components` in the same scope, level and area (default: computed here; the
    page passes its cached reader, so a change of weights reuses the rounds' figures).

    Example: ``zone_ranking(store, Scope.analyst(), "sgg", 20243).table.head(8)`` are the
    eight 시군구 with the highest index over 2024-R1…R3 (the scored rounds of the demo).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    if level == "emd" and (area is None or len(str(area)) != 5):
        raise ZonesError("읍면동 순위는 시군구 하나 안에서 매깁니다: 시군구를 고르세요.")
    weights = {c.key: float((weights or default_weights()).get(c.key, 0.0)) for c in COMPONENTS}
    zindex.check_weights(list(weights.values()))
    n_rounds = int(settings.default("zones_rounds") if n_rounds is None else n_rounds)
    replicates = int(settings.default("zones_replicates") if replicates is None else replicates)
    seed = int(settings.default("zones_seed") if seed is None else seed)
    designate = int(settings.default("zones_designate") if designate is None else designate)
    view = narrow(store, scope, area)
    used = [c for c in COMPONENTS if weights[c.key] > 0]
    chosen = rounds_used(store, round_id, n_rounds, any(c.needs_scores for c in used))
    read = read_round or (lambda r: round_components(store, scope, level, r, area))
    frames = [read(r) for r in chosen]
    latest = read(round_id) if round_id not in chosen else frames[-1]
    keys = [c.key for c in used]
    codes = latest.index
    cube = np.stack([f.reindex(codes)[keys].to_numpy(dtype="float64") for f in frames])  # rounds × areas × comps
    complete = np.isfinite(cube).all(axis=(0, 2))
    regions = geography.regions(store, view, level).set_index("code")
    table = pd.DataFrame(index=codes)
    table["name"] = regions["name"].reindex(codes)
    table["full_name"] = regions["full_name"].reindex(codes)
    table["households"] = latest["households"]
    all_keys = [c.key for c in COMPONENTS]
    means = np.stack([f.reindex(codes)[all_keys].to_numpy(dtype="float64") for f in frames]).mean(axis=0)
    for j, key in enumerate(all_keys):
        table[key] = means[:, j]
    for col in ("index", "rank", "rank_low", "rank_high", "top_share", *[f"z_{k}" for k in keys]):
        table[col] = np.nan
    w = np.array([weights[k] for k in keys])
    if complete.sum() >= 1:
        out = zindex.rank_intervals(cube[:, complete, :], w, replicates, seed, designate)
        z = zindex.standardise(cube[:, complete, :].mean(axis=0))
        for j, key in enumerate(keys):
            table.loc[complete, f"z_{key}"] = z[:, j]
        for col in ("index", "rank", "rank_low", "rank_high", "top_share"):
            table.loc[complete, col] = out[col]
    table[["rank", "rank_low", "rank_high"]] = table[["rank", "rank_low", "rank_high"]].astype("Int64")
    hidden = ~complete & latest["has_data"].to_numpy()
    table["status"] = np.where(complete, "ranked", np.where(hidden, "hidden", "no_data"))
    table = table.reset_index().sort_values(["rank", "full_name"], na_position="last").reset_index(drop=True)
    dropped = [c.key for c in COMPONENTS if weights[c.key] == 0]
    return Ranking(
        level=level,
        area=None if area is None else str(area),
        round_id=int(round_id),
        rounds=chosen,
        weights=weights,
        replicates=replicates,
        seed=seed,
        designate=designate,
        k=threshold(scope),
        table=table,
        dropped=dropped,
    )
