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

from blindspot import glossary, settings, vocab
from blindspot.access import SUPPRESSED, Scope, can, narrow, outer_scope, protect, scope_sql, subset, threshold
from blindspot.briefing import sql
from blindspot.casework import audit
from blindspot.db import opstore
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.followup import cases as followup
from blindspot.geo import regions as geography
from blindspot.lonely import figures as lonely
from blindspot.maps import counts as mapcounts
from blindspot.maps import data as mapdata
from blindspot.maps import measures as mapmeasures
from blindspot.model import artifacts
from blindspot.rounds import from_id, parse_round

DEFAULT_K = settings.default("min_count")
CHILD_LEVEL = {"nation": "sido", "sido": "sgg", "sgg": "emd"}

# key, 지표, unit, 산식, 자료출처 — the rows of the evaluation table.
INDICATORS = (
    (
        "flagged",
        "발굴 가구 (방문 대상)",
        "가구",
        "발굴시스템 명단·자체 선정·제보로 방문 대상이 된 가구 수",
        "방문 결과(visits), 해당 차수",
    ),
    ("contact_rate", "접촉률", "%", "연락·방문된 가구 ÷ 발굴 가구 × 100", "방문 결과(visits)"),
    ("confirmed", "욕구 확인 가구", "가구", "욕구 확인 + 지원 연계 가구 수", "방문 결과(visits)"),
    ("supported", "지원 연계 가구", "가구", "지원 연계된 가구 수", "방문 결과(visits)"),
    ("supported_rate", "지원 연계율", "%", "지원 연계 가구 ÷ 발굴 가구 × 100", "방문 결과(visits)"),
    (
        "at_risk",
        glossary.AT_RISK_HOUSEHOLDS,
        "가구",
        "위험 모델 등급이 위험·주의인 가구 수",
        "위험 점수(scores), 모델 버전은 표지 참조",
    ),
    ("one_person_share", "1인 가구 비율", "%", "1인 가구 ÷ 전체 가구 × 100", "주민등록 기반 가구(households)"),
    # The lonely-death plan's national goal (per 100 deaths) needs death records the system does
    # not hold: the formula names it as the reference; the KPI is what the system can count.
    (
        "lonely_rate",
        "고독사 위기정보 1인 가구",
        "천 가구당",
        "고독사 위기정보가 하나 이상인 1인 가구 ÷ 1인 가구 × 1,000 "
        "(국가 목표 참고: 사망 100건당 고독사 1.06건(2021) → 0.85건(2027))",
        "위기정보(observations)의 고독사 지표, 주민등록 기반 가구(households); docs/lonely.md",
    ),
)
INDICATOR_KEYS = tuple(k for k, *_ in INDICATORS)


def with_unit(label: str, unit: str) -> str:
    """An indicator's name with its unit, in one pair of brackets: a second pair after a name
    that already ends in one read as "발굴 가구 (방문 대상) (가구)".

    >>> with_unit("접촉률", "%"), with_unit("발굴 가구 (방문 대상)", "가구")
    ('접촉률 (%)', '발굴 가구 (방문 대상, 가구)')
    """
    return f"{label[:-1]}, {unit})" if label.endswith(")") else f"{label} ({unit})"


def safe_scope(scope: Scope, k: int = DEFAULT_K) -> Scope:
    """The caller's areas, aggregates only, counts below ``max(k, scope.min_count)`` hidden.

    >>> s = safe_scope(Scope.district(["11110"]))
    >>> sorted(s.sgg_codes), s.household_level, s.min_count
    (['11110'], False, 5)
    """
    return dataclasses.replace(scope, household_level=False, min_count=threshold(scope, k))


def area_level(code: str) -> str:
    """>>> area_level("00"), area_level("11"), area_level("11110")
    ('nation', 'sido', 'sgg')
    """
    return {2: "sido", 5: "sgg"}.get(len(code), "nation") if code != mapmeasures.NATION["code"] else "nation"


@dataclass
class Briefing:
    """What a briefing shows; every number is an aggregate that passed suppression."""

    area: dict  # code, name, level
    round_id: int
    round_code: str
    previous_code: str | None
    k: int
    kpis: dict  # indicator key -> value (None when suppressed or unknown)
    previous: dict  # the same for the previous round
    table: pd.DataFrame  # the evaluation table
    funnel: pd.DataFrame  # stage, households
    channels: pd.DataFrame  # channel label, flagged, confirmed, supported
    trend: pd.DataFrame  # round_code, flagged, supported, supported_rate, at_risk_rate
    ranking: pd.DataFrame  # child areas: name, at_risk_rate / one_person_share
    ranking_measure: str
    children: pd.DataFrame  # child areas: code, name, one_person_share (0..1), at_risk_rate
    model_version: str | None
    synthetic: bool
    generated_at: str

    @property
    def round_ko(self) -> str:
        """The round as titles and tables read it ("2024년 3차"); the stamp and file names keep
        the code (2024-R3), which is what a command or a file is asked for."""
        return glossary.round_label(self.round_code)

    @property
    def stamp(self) -> str:
        """Provenance line printed on every page and image."""
        model = f"모델 {self.model_version}" if self.model_version else "위험 점수 없음"
        data = " · 합성 데이터 (synthetic)" if self.synthetic else ""
        return f"자료 차수 {self.round_code} · {model} · 생성 {self.generated_at}{data} · 소수 {self.k} 미만 비공개"


# How a change of each tile reads: "inverse" where a fall is good (fewer households at risk),
# "normal" where a rise is (more found, confirmed, supported).
DELTA_COLOUR = {"at_risk": "inverse", "at_risk_rate": "inverse"}


def shown(b: Briefing, key: str) -> str:
    """A KPI as text: the number, "점수 없음" for risk without scores, else "비공개"."""
    value = b.kpis.get(key)
    if value is not None:
        return f"{value:,}"
    return "점수 없음" if key in ("at_risk", "at_risk_rate") and not b.model_version else SUPPRESSED


# The area's counts that the map also shows (briefing key -> map column).
MAP_CELLS = {
    "households": "households",
    "one_person": "one_person",
    "flagged": "visited",
    "confirmed": "confirmed",
    "supported": "supported",
    "at_risk": "at_risk",
}


def briefing_equations(channels, scored: bool) -> tuple[list, set]:
    """What a briefing lets a reader subtract: the funnel 발굴 ⊃ 접촉 ⊃ 욕구 확인 ⊃ 지원 연계,
    each total = the sum of its channels, within a channel 발굴 ⊃ 욕구 확인 ⊃ 지원 연계, and
    households ⊃ one-person, ⊃ 발굴, ⊃ at risk.  Cells are ("T", key) for the area and
    (channel, key); the differences are cells never shown.

    >>> eqs, rest = briefing_equations(["system"], False)
    >>> eqs[0], len(eqs), len(rest)
    ((('T', 'flagged'), (('T', 'contacted'), ('rest', 'flagged-contacted'))), 10, 7)
    """
    eqs, rest = [], set()

    def sub(whole, part):
        cell = ("rest", f"{whole[1]}-{part[1]}") if whole[0] == "T" else (whole[0], f"rest:{whole[1]}-{part[1]}")
        eqs.append(subset(whole, part, cell))
        rest.add(cell)

    for whole, part in (
        ("flagged", "contacted"),
        ("contacted", "confirmed"),
        ("confirmed", "supported"),
        ("households", "one_person"),
        ("households", "flagged"),
    ) + ((("households", "at_risk"),) if scored else ()):
        sub(("T", whole), ("T", part))
    for key in ("flagged", "confirmed", "supported"):
        eqs.append((("T", key), tuple((c, key) for c in channels)))
    for c in channels:
        sub((c, "flagged"), (c, "confirmed"))
        sub((c, "confirmed"), (c, "supported"))
    return eqs, rest


def _protected(store: Store, safe: Scope, view: Scope, area_code: str, round_id: int) -> tuple[dict, pd.DataFrame]:
    """The area's KPIs and its channel table for one round, after suppression at
    ``threshold(safe)``: the map's cells keep the map's decision (hidden stays hidden,
    shown is known to a reader), the rest is protected around them."""
    k = threshold(safe)
    cond, params = scope_sql(view, "sgg_code")
    ch = store.df(sql.BRIEFING_CHANNELS.format(scope=cond), [round_id, *params])
    tree = mapcounts.protected_counts(store, outer_scope(view), round_id)
    code = area_code if area_code in tree.index else None
    scored = mapmeasures.has_scores(store, round_id)
    level = "nation" if area_code == mapmeasures.NATION["code"] else mapdata._level_of(area_code)
    raw = mapcounts._raw_counts(store, view, level, round_id, mapmeasures.DEFAULT_BANDS)
    exact = raw.loc[area_code] if area_code in raw.index else pd.Series(0.0, index=raw.columns)
    values = {
        ("T", key): int(ch[key].sum()) if len(ch) else 0 for key in ("flagged", "contacted", "confirmed", "supported")
    }
    for key, col in MAP_CELLS.items():
        if col in exact.index:
            values[("T", key)] = int(0 if pd.isna(exact[col]) else exact[col])
    channels = [str(c) for c in ch["channel"]]
    for row in ch.itertuples():
        for key in ("flagged", "confirmed", "supported"):
            values[(str(row.channel), key)] = int(getattr(row, key))
    eqs, rest = briefing_equations(channels, scored and ("T", "at_risk") in values)
    for total, parts in eqs:
        if len(parts) == 2 and parts[1] in rest:
            values[parts[1]] = values[total] - values[parts[0]]
    fixed, hidden = set(), set()
    for key, col in MAP_CELLS.items():
        if ("T", key) in values and code is not None and col in tree.columns:
            (hidden if pd.isna(tree.loc[code, col]) else fixed).add(("T", key))
    hide = protect(values, eqs, k, implicit=rest, fixed=fixed, hidden=hidden)
    out = {
        key: (None if ("T", key) in hide else values[("T", key)])
        for key in ("flagged", "contacted", "confirmed", "supported", "households", "one_person", "at_risk")
        if ("T", key) in values
    }
    if not scored:
        out["at_risk"] = None
    rows = [
        {
            "경로": vocab.CHANNELS.get(c, c),
            **{
                label: (None if (c, key) in hide else values[(c, key)])
                for key, label in (("flagged", "발굴"), ("confirmed", "욕구 확인"), ("supported", "지원 연계"))
            },
        }
        for c in channels
    ]
    return out, pd.DataFrame(rows, columns=["경로", "발굴", "욕구 확인", "지원 연계"])


def _kpis(store: Store, safe: Scope, view: Scope, area_code: str, round_id: int) -> tuple[dict, pd.DataFrame]:
    """KPIs of the area (the scope ``view`` narrowed to it) and its channel table; every
    count suppressed (see :func:`_protected`), every rate missing unless both its counts
    are shown."""
    out, channels = _protected(store, safe, view, area_code, round_id)

    def pct(num, den, per=100.0):
        return None if num is None or not den else round(per * num / den, 1)

    out["contact_rate"] = pct(out["contacted"], out["flagged"])
    out["supported_rate"] = pct(out["supported"], out["flagged"])
    out["one_person_share"] = pct(out["one_person"], out["households"])
    out["at_risk_rate"] = pct(out.get("at_risk"), out["households"], 1000.0)
    return out, channels


def targets(store: Store, area_code: str) -> dict[str, float]:
    """Saved targets (목표 A) of an area's evaluation table (operational store: they outlive
    every snapshot).  ``store`` is the snapshot the table is built from, unused here."""
    return opstore.open_ops().targets(area_code)


def save_targets(store: Store, scope: Scope, area_code: str, values: dict, user: str) -> int:
    """Save edited targets (None or NaN removes one) and return how many changed.

    Only a role that :func:`blindspot.access.can` ``set_targets`` for the area may
    save (an admin, or the district official of that 시군구); others get
    :class:`AccessDenied` whatever page calls this.  Unknown indicators and negative
    targets are refused.  A save that changes anything writes one ``set_targets`` audit
    record with the old and new value of each changed indicator.
    """
    if not can(scope, "set_targets", area_code):
        raise AccessDenied("브리핑 목표는 관리자나 그 시군구 담당 공무원만 저장할 수 있습니다.")
    if area_code != mapmeasures.NATION["code"]:
        narrow(store, scope, area_code)  # raises AccessDenied outside the scope
    unknown = set(values) - set(INDICATOR_KEYS)
    if unknown:
        raise BlindspotError(f"알 수 없는 지표: {', '.join(sorted(unknown))}")
    new = {}
    for key, target in values.items():
        if target is None or pd.isna(target):
            new[key] = None
        elif float(target) < 0:
            raise BlindspotError(f"목표는 0 이상이어야 합니다: {key} = {target}")
        else:
            new[key] = float(target)
    old = targets(store, area_code)
    changes = {key: {"old": old.get(key), "new": value} for key, value in sorted(new.items()) if old.get(key) != value}
    if not changes:
        return 0
    now = dt.datetime.now().replace(microsecond=0)
    ops = opstore.open_ops()
    with ops.begin() as con:  # the targets and their audit record commit together
        for key, change in changes.items():
            ops.set_target(area_code, key, change["new"], user, now, con=con)
        audit.record(
            scope, "set_targets", {"area": area_code}, len(changes), None, detail=audit.filters_text(changes), con=con
        )
    return len(changes)


def number_text(value, missing: str = SUPPRESSED) -> str:
    """A shown number: whole numbers with thousands separators, others with one decimal;
    a missing one is ``missing`` ("비공개" for a suppressed count), never "None".

    >>> number_text(1234.0), number_text(85.25), number_text(0), number_text(None), number_text(float("nan"), "—")
    ('1,234', '85.2', '0', '비공개', '—')
    """
    if value is None or value != value:
        return missing
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def as_text(frame: pd.DataFrame, columns, missing: str = SUPPRESSED) -> pd.DataFrame:
    """``frame`` with the number ``columns`` as text (see :func:`number_text`), for tables
    on screen: a suppressed cell reads "비공개" and a true zero "0"."""
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = [number_text(v, missing) for v in out[col]]
    return out


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
        rows.append(
            {
                "key": key,
                "지표": with_unit(label, unit),
                "목표 A": target,
                "실적 B": actual,
                "달성률 (%)": rate,
                "산식": formula,
                "자료출처": source,
            }
        )
    return pd.DataFrame(rows)


def build(store: Store, scope: Scope, area_code: str, round_id: int, k: int = DEFAULT_K) -> Briefing:
    """Everything a briefing shows for ``area_code`` ('00' nation, 2-digit 시도,
    5-digit 시군구) and ``round_id``, under :func:`safe_scope`.

    Example: ``build(store, Scope.aggregates_only(), "29", 20243).kpis["flagged"]`` is
    the number of households flagged in 광주광역시 in 2024-R3 (None if below 5).
    """
    safe = safe_scope(scope, k)
    k = safe.min_count
    level = area_level(area_code)
    view = narrow(store, safe, None if level == "nation" else area_code)
    if level == "nation":
        area = {"code": "00", "name": "전국", "level": "nation"}
        if not safe.is_national:
            raise BlindspotError("전국 브리핑은 전국 권한이 있는 계정만 만들 수 있습니다. 시도나 시군구를 고르세요.")
    else:
        reg = geography.region(store, safe, area_code)
        area = {"code": area_code, "name": reg["full_name"], "level": level}
    prev = mapmeasures.previous_round(store, round_id)
    code = "00" if level == "nation" else area_code
    memo: dict[int, tuple] = {}

    def kpis_of(rid: int) -> tuple[dict, pd.DataFrame]:
        if rid not in memo:
            memo[rid] = _kpis(store, safe, view, code, rid)
        return memo[rid]

    kpis, channels = kpis_of(int(round_id))
    # Follow-up contacts (후속 관리) apart from the funnel's first visits: contacts, not households.
    kpis["followup_contacts"] = followup.followup_contacts(store, safe, code, int(round_id), k)
    kpis["lonely_rate"] = lonely.area_kpi(store, safe, code, int(round_id))
    previous = kpis_of(prev)[0] if prev else {}
    funnel = pd.DataFrame(
        {
            "단계": ["발굴", "접촉·방문", "욕구 확인", "지원 연계"],
            "가구": [kpis["flagged"], kpis["contacted"], kpis["confirmed"], kpis["supported"]],
        }
    )
    trend_rows = []
    for rid, rcode in store.rows(db_sql.ROUNDS_UP_TO, [int(round_id)]):
        t = kpis_of(int(rid))[0]
        trend_rows.append(
            {
                "차수": parse_round(rcode).short_ko,  # "2024년 3차": as the axis reads
                "발굴": t["flagged"],
                "지원 연계": t["supported"],
                "지원 연계율 (%)": t["supported_rate"],
                glossary.AT_RISK_RATE: t["at_risk_rate"],
            }
        )
    scored = mapmeasures.has_scores(store, round_id)
    measure = "at_risk_rate" if scored else "one_person_share"
    children = mapdata.region_measures(
        store, safe, CHILD_LEVEL[level], round_id, area=None if level == "nation" else area_code
    )
    children = children[
        ["code", "name", "one_person_share", "at_risk_rate"] if scored else ["code", "name", "one_person_share"]
    ]
    ranking = children[["code", "name", measure]].dropna().sort_values(measure, ascending=False, kind="stable")
    meta = store.meta()
    return Briefing(
        area=area,
        round_id=int(round_id),
        round_code=from_id(round_id).code,
        previous_code=from_id(prev).code if prev else None,
        k=k,
        kpis=kpis,
        previous=previous,
        table=evaluation_table(kpis, targets(store, area_code)),
        funnel=funnel,
        channels=channels,
        trend=pd.DataFrame(trend_rows),
        ranking=ranking.reset_index(drop=True),
        ranking_measure=measure,
        children=children.reset_index(drop=True),
        model_version=artifacts.in_service(store) if scored else None,
        synthetic=meta.get("data_kind") == "synthetic",
        generated_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def compare(a: Briefing, b: Briefing) -> pd.DataFrame:
    """Two briefings side by side (two rounds or two areas), one row per indicator."""
    rows = []
    for key, label, unit, *_ in INDICATORS:
        va, vb = a.kpis.get(key), b.kpis.get(key)
        rows.append(
            {
                "지표": with_unit(label, unit),
                f"{a.area['name']} {a.round_ko}": va,
                f"{b.area['name']} {b.round_ko}": vb,
                "차이 (B−A)": None if va is None or vb is None else round(vb - va, 1),
            }
        )
    return pd.DataFrame(rows)
