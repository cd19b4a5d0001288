"""Council briefing: safe aggregates of one area and round, in the form councils use.

Local welfare results are reported in one table form (domain.md): 지표 (indicator),
목표 A (target), 실적 B (actual), 달성률 B/A, 산식 (formula), 자료출처 (source), with the
funnel flagged → contacted → need confirmed → supported and the channel that found the
households.  Everything here goes through :func:`safe_scope`: no household row, ever,
and every count below *k* (default 5) is suppressed, whoever asks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pandas as pd

from blindspot import artifacts, geography, mapdata, sql, vocab
from blindspot.access import Scope, scope_sql, suppress
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.rounds import from_id

DEFAULT_K = 5
CHILD_LEVEL = {"nation": "sido", "sido": "sgg", "sgg": "emd"}

# key, 지표, unit, 산식, 자료출처 — the rows of the evaluation table.
INDICATORS = (
    ("flagged", "발굴 가구 (방문 대상)", "가구", "발굴시스템 명단·자체 선정·제보로 방문 대상이 된 가구 수",
     "방문 결과(visits), 해당 차수"),
    ("contact_rate", "접촉률", "%", "연락·방문된 가구 ÷ 발굴 가구 × 100", "방문 결과(visits)"),
    ("confirmed", "욕구 확인 가구", "가구", "욕구 확인 + 지원 연계 가구 수", "방문 결과(visits)"),
    ("supported", "지원 연계 가구", "가구", "지원 연계된 가구 수", "방문 결과(visits)"),
    ("supported_rate", "지원 연계율", "%", "지원 연계 가구 ÷ 발굴 가구 × 100", "방문 결과(visits)"),
    ("at_risk", "위험군 가구 (위험+주의)", "가구", "위험 모델 등급이 위험·주의인 가구 수",
     "위험 점수(scores), 모델 버전은 표지 참조"),
    ("one_person_share", "1인 가구 비율", "%", "1인 가구 ÷ 전체 가구 × 100", "주민등록 기반 가구(households)"),
)
INDICATOR_KEYS = tuple(k for k, *_ in INDICATORS)


def safe_scope(scope: Scope, k: int = DEFAULT_K) -> Scope:
    """The caller's areas, aggregates only, counts below ``max(k, scope.min_count)`` hidden.

    >>> s = safe_scope(Scope.district(["11110"]))
    >>> sorted(s.sgg_codes), s.household_level, s.min_count
    (['11110'], False, 5)
    """
    return dataclasses.replace(scope, household_level=False, min_count=max(int(k), scope.min_count, 1))


def area_level(code: str) -> str:
    """>>> area_level("00"), area_level("11"), area_level("11110")
    ('nation', 'sido', 'sgg')
    """
    return {2: "sido", 5: "sgg"}.get(len(code), "nation") if code != mapdata.NATION["code"] else "nation"


@dataclass
class Briefing:
    """What a briefing shows; every number is an aggregate that passed suppression."""

    area: dict                 # code, name, level
    round_id: int
    round_code: str
    previous_code: str | None
    k: int
    kpis: dict                 # indicator key -> value (None when suppressed or unknown)
    previous: dict             # the same for the previous round
    table: pd.DataFrame        # the evaluation table
    funnel: pd.DataFrame       # stage, households
    channels: pd.DataFrame     # channel label, flagged, confirmed, supported
    trend: pd.DataFrame        # round_code, flagged, supported, supported_rate, at_risk_rate
    ranking: pd.DataFrame      # child areas: name, at_risk_rate / one_person_share
    ranking_measure: str
    children: pd.DataFrame     # child areas: code, name, one_person_share (0..1), at_risk_rate
    model_version: str | None
    synthetic: bool
    generated_at: str

    @property
    def stamp(self) -> str:
        """Provenance line printed on every page and image."""
        model = f"모델 {self.model_version}" if self.model_version else "위험 점수 없음"
        data = " · 합성 데이터 (synthetic)" if self.synthetic else ""
        return f"자료 차수 {self.round_code} · {model} · 생성 {self.generated_at}{data} · 소수 {self.k} 미만 비공개"


def shown(b: "Briefing", key: str) -> str:
    """A KPI as text: the number, "점수 없음" for risk without scores, else "비공개"."""
    value = b.kpis.get(key)
    if value is not None:
        return f"{value:,}"
    return "점수 없음" if key in ("at_risk", "at_risk_rate") and not b.model_version else "비공개"


def _kpis(store, view: Scope, round_id: int, k: int) -> dict:
    """KPIs of the area (the scope ``view`` narrowed to it): visits by outcome, households,
    one-person households and households at risk, each suppressed below ``k``."""
    cond, params = scope_sql(view, "sgg_code")
    ch = store.df(sql.BRIEFING_CHANNELS.format(scope=cond), [round_id, *params])
    total = {c: int(ch[c].sum()) if len(ch) else 0 for c in ("flagged", "contacted", "confirmed", "supported")}
    households, one_person = store.rows(sql.BRIEFING_HOUSEHOLDS.format(scope=cond), [round_id, round_id, *params])[0]
    bands = dict(store.rows(sql.BAND_COUNTS.format(scope=cond), [round_id, *params]))
    out = {key: suppress(value, k) for key, value in total.items()}
    out["households"] = suppress(households, k)
    out["one_person"] = suppress(one_person, k)
    out["at_risk"] = suppress(bands.get("high", 0) + bands.get("medium", 0), k) if bands else None

    def pct(num, den):
        return None if num is None or not den else round(100.0 * num / den, 1)

    out["contact_rate"] = pct(out["contacted"], out["flagged"])
    out["supported_rate"] = pct(out["supported"], out["flagged"])
    out["one_person_share"] = pct(out["one_person"], out["households"])
    out["at_risk_rate"] = (None if out["at_risk"] is None or not out["households"]
                           else round(1000.0 * out["at_risk"] / out["households"], 1))
    return out


def _channels(store, view: Scope, round_id: int, k: int) -> pd.DataFrame:
    cond, params = scope_sql(view, "sgg_code")
    ch = store.df(sql.BRIEFING_CHANNELS.format(scope=cond), [round_id, *params])
    rows = [{"경로": vocab.CHANNELS.get(c, c), "발굴": suppress(f, k), "욕구 확인": suppress(cf, k),
             "지원 연계": suppress(s, k)}
            for c, f, cf, s in zip(ch["channel"], ch["flagged"], ch["confirmed"], ch["supported"])]
    return pd.DataFrame(rows, columns=["경로", "발굴", "욕구 확인", "지원 연계"])


def targets(store, area_code: str) -> dict[str, float]:
    """Saved targets (목표 A) of an area's evaluation table."""
    return dict(store.rows(sql.BRIEFING_TARGETS, [area_code]))


def save_targets(store, scope: Scope, area_code: str, values: dict, user: str) -> None:
    """Save edited targets (None or NaN removes one); refuses unknown indicators and areas
    outside the scope."""
    if area_code != mapdata.NATION["code"]:
        mapdata.narrow(store, scope, area_code)  # raises AccessDenied outside the scope
        # A 시도's targets are shared by everyone who briefs that 시도: only a scope
        # covering all of it may set them.
        if len(area_code) == 2 and not all(scope.allows_sgg(c) for (c,) in store.rows(sql.SGG_OF_SIDO, [area_code])):
            raise AccessDenied(f"{area_code} 시도 전체를 볼 권한이 있어야 시도 목표를 저장할 수 있습니다.")
    elif not scope.is_national:
        raise BlindspotError("전국 목표는 전국 권한이 있는 계정만 저장할 수 있습니다.")
    unknown = set(values) - set(INDICATOR_KEYS)
    if unknown:
        raise BlindspotError(f"알 수 없는 지표: {', '.join(sorted(unknown))}")
    now = dt.datetime.now()
    with store.transaction():
        for key, target in values.items():
            if target is None or pd.isna(target):
                store.run(sql.DELETE_BRIEFING_TARGET, [area_code, key])
            elif float(target) < 0:
                raise BlindspotError(f"목표는 0 이상이어야 합니다: {key} = {target}")
            else:
                store.run(sql.UPSERT_BRIEFING_TARGET, [area_code, key, float(target), user, now])


def evaluation_table(kpis: dict, saved: dict) -> pd.DataFrame:
    """The council table form: 지표, 목표 A, 실적 B, 달성률 (B/A, %), 산식, 자료출처.

    >>> t = evaluation_table({"flagged": 120, "supported": None}, {"flagged": 100.0})
    >>> [float(v) for v in t.iloc[0][["목표 A", "실적 B", "달성률 (%)"]]]
    [100.0, 120.0, 120.0]
    """
    rows = []
    for key, label, unit, formula, source in INDICATORS:
        actual = kpis.get(key)
        target = saved.get(key)
        rate = round(100.0 * actual / target, 1) if actual is not None and target else None
        rows.append({"key": key, "지표": f"{label} ({unit})", "목표 A": target, "실적 B": actual,
                     "달성률 (%)": rate, "산식": formula, "자료출처": source})
    return pd.DataFrame(rows)


def build(store, scope: Scope, area_code: str, round_id: int, k: int = DEFAULT_K) -> Briefing:
    """Everything a briefing shows for ``area_code`` ('00' nation, 2-digit 시도,
    5-digit 시군구) and ``round_id``, under :func:`safe_scope`.

    Example: ``build(store, Scope.aggregates_only(), "29", 20243).kpis["flagged"]`` is
    the number of households flagged in 광주광역시 in 2024-R3 (None if below 5).
    """
    safe = safe_scope(scope, k)
    k = safe.min_count
    level = area_level(area_code)
    view = mapdata.narrow(store, safe, None if level == "nation" else area_code)
    if level == "nation":
        area = {"code": "00", "name": "전국", "level": "nation"}
        if not safe.is_national:
            raise BlindspotError("전국 브리핑은 전국 권한이 있는 계정만 만들 수 있습니다. 시도나 시군구를 고르세요.")
    else:
        reg = geography.region(store, safe, area_code)
        area = {"code": area_code, "name": reg["full_name"], "level": level}
    prev = mapdata.previous_round(store, round_id)
    kpis = _kpis(store, view, round_id, k)
    previous = _kpis(store, view, prev, k) if prev else {}
    funnel = pd.DataFrame({"단계": ["발굴", "접촉·방문", "욕구 확인", "지원 연계"],
                           "가구": [kpis["flagged"], kpis["contacted"], kpis["confirmed"], kpis["supported"]]})
    trend_rows = []
    for rid, rcode in store.rows(sql.ROUNDS_UP_TO, [int(round_id)]):
        t = _kpis(store, view, int(rid), k)
        trend_rows.append({"차수": rcode, "발굴": t["flagged"], "지원 연계": t["supported"],
                           "지원 연계율 (%)": t["supported_rate"], "위험군 (천 가구당)": t["at_risk_rate"]})
    scored = mapdata.has_scores(store, round_id)
    measure = "at_risk_rate" if scored else "one_person_share"
    children = mapdata.region_measures(store, safe, CHILD_LEVEL[level], round_id,
                                       area=None if level == "nation" else area_code)
    children = children[["code", "name", "one_person_share", "at_risk_rate"] if scored else
                        ["code", "name", "one_person_share"]]
    ranking = children[["code", "name", measure]].dropna().sort_values(measure, ascending=False, kind="stable")
    meta = store.meta()
    return Briefing(
        area=area, round_id=int(round_id), round_code=from_id(round_id).code,
        previous_code=from_id(prev).code if prev else None, k=k, kpis=kpis, previous=previous,
        table=evaluation_table(kpis, targets(store, area_code)), funnel=funnel,
        channels=_channels(store, view, round_id, k), trend=pd.DataFrame(trend_rows),
        ranking=ranking.reset_index(drop=True), ranking_measure=measure, children=children.reset_index(drop=True),
        model_version=artifacts.in_service(store) if scored else None,
        synthetic=meta.get("data_kind") == "synthetic",
        generated_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M"))


def compare(a: Briefing, b: Briefing) -> pd.DataFrame:
    """Two briefings side by side (two rounds or two areas), one row per indicator."""
    rows = []
    for key, label, unit, *_ in INDICATORS:
        va, vb = a.kpis.get(key), b.kpis.get(key)
        rows.append({"지표": f"{label} ({unit})", f"{a.area['name']} {a.round_code}": va,
                     f"{b.area['name']} {b.round_code}": vb,
                     "차이 (B−A)": None if va is None or vb is None else round(vb - va, 1)})
    return pd.DataFrame(rows)
