"""What the maps can show: the measure catalogue (one-person households by age band,
indicator domains, visit outcomes, risk), the age bands, the risk band names and the level
columns the map SQL groups by.  No household data: a store is read only for the domain
list and whether a round has scores.  Described in docs/maps.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindspot import glossary
from blindspot.db.store import Store
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

RISK_BANDS = glossary.BAND_LABELS
NO_SCORES = glossary.NO_SCORES


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
    term = glossary.MAP_MEASURES
    out = [
        Measure("households", term["households"], "count", "가구"),
        Measure("one_person", term["one_person"], "count", "1인 가구"),
        Measure("one_person_share", term["one_person_share"], "share", "1인 가구"),
    ]
    for band in bands:
        k, label = band_key(band), band_label(band)
        out.append(Measure(f"one_person_{k}", f"{term['one_person']} ({label})", "count", "1인 가구"))
        out.append(Measure(f"one_person_{k}_share", f"{term['one_person_share']} ({label})", "share", "1인 가구"))
    for domain, name in domains:
        out.append(Measure(f"domain_{domain}", f"{name} 위기정보 가구 (천 가구당)", "per_1000", "위기정보 영역"))
    out += [
        Measure("signal_any", term["signal_any"], "per_1000", "위기정보 영역"),
        Measure("visited", term["visited"], "count", "방문·지원"),
        Measure("visited_rate", term["visited_rate"], "per_1000", "방문·지원"),
        Measure("confirmed", term["confirmed"], "count", "방문·지원"),
        Measure("confirmed_rate", term["confirmed_rate"], "share", "방문·지원"),
        Measure("supported", term["supported"], "count", "방문·지원"),
        Measure("supported_rate", term["supported_rate"], "share", "방문·지원"),
        Measure("at_risk", glossary.AT_RISK_COUNT, "count", "위기 점수", True),
        Measure("at_risk_rate", glossary.AT_RISK_RATE, "per_1000", "위기 점수", True),
        Measure("mean_probability", term["mean_probability"], "probability", "위기 점수", True),
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
