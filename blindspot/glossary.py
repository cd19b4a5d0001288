"""One Korean term per concept: the words every page, file and briefing uses for the product's
core ideas, with what each means.  ``docs/glossary.md`` is made from this table
(:func:`markdown`; ``tests/test_glossary.py`` keeps the two equal), so the glossary an office
reads and the labels on screen cannot disagree.

Codes (band ``high``, measure ``at_risk``) stay in the database and the code; people read the
terms below.  The code → name tables (roles, household and visit vocabularies, column headers,
model measures, map classes, case work) live in :mod:`blindspot.glossary_tables` to keep this
module short, and are imported from here: ``from blindspot import glossary`` is the one place a
feature module takes a name from.  :data:`TABLES` lists them all, with the namespace in which
a code must keep one name; :data:`SYNONYMS` the words the code must not use.
"""

from __future__ import annotations

from blindspot.glossary_tables import (
    AUDIT_ACTIONS,
    AUDIT_COLUMNS,
    CAPACITY_RULES,
    CASE_COLUMNS,
    CASE_HISTORY_COLUMNS,
    CASE_OWNERS,
    CASE_TASKS,
    CHANNELS,
    CLASS_METHODS,
    CLOSED,
    CLOSED_CADENCE,
    COLUMN_ALIASES,
    COLUMNS,
    CONTACT_METHODS,
    DETAIL_LABELS,
    DRIFT_COLUMNS,
    DRIFT_STATUS,
    EMD_TYPES,
    EMERGING_LABELS,
    FEATURE_LABELS,
    FILTER_LABELS,
    GATE_STATUS,
    GI_CLASSES,
    HEAD_SEX,
    HOTSPOT_COLUMNS,
    HOTSPOT_METHODS,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_TYPES,
    HOUSING_TYPES,
    INGEST_COLUMNS,
    JOB_KINDS,
    LEVELS,
    LIST_COLUMNS,
    LIST_SELECTION,
    MAP_MEASURES,
    METRIC_LABELS,
    MODEL_LIST_COLUMNS,
    MODEL_SUBGROUP_COLUMNS,
    MORAN_CLASSES,
    NO_DATA,
    NO_SCORES,
    NOT_SIGNIFICANT,
    NOT_TESTED,
    OUTCOMES,
    RANKING_LEVELS,
    RANKINGS,
    REACH_CLASSES,
    REALISED_COLUMNS,
    REPORT_LABELS,
    ROLE_MEANINGS,
    ROLES,
    SUPPORT_TYPES,
    SUPPRESSED,
    SUPPRESSION,
    SYNONYMS,
    TIER_SOURCES,
    UNITS,
    WELFARE_STATUS,
    YES_NO,
    ZONE_STATUS,
)
from blindspot.rounds import parse_round

# Risk bands: label, what it means, the contact cadence of the district practice that grades
# people in tiers (수영구 casebook: weekly contact and a monthly visit for 위험, …).
BANDS = {
    "high": ("위험", "방문 용량 안에 들고 위기 확률이 주의 기준 이상인 가구", "매주 연락, 매월 방문"),
    "medium": ("주의", "위기 확률이 주의 기준(band_medium) 이상인 가구", "매월 연락"),
    "low": ("관심", "위기 확률이 관심 기준(band_low) 이상인 가구", "두 달마다 연락"),
    "none": ("해당 없음", "관심 기준 미만인 가구", "정기 연락 없음"),
}
BAND_LABELS = {code: label for code, (label, _, _) in BANDS.items()}

ROUND = "차수"
PROBABILITY = "위기 확률"
AT_RISK = "위험군"  # the 위험 and 주의 bands together
AT_RISK_HOUSEHOLDS = "위험군 가구"
AT_RISK_COUNT = "위험군 가구 수"
AT_RISK_RATE = "위험군 가구 (천 가구당)"
SPECIAL_ZONES = "특별지원구역"
NEED_INDEX = "필요 지수"
REACH_GAP = "발굴 격차"
EXPECTED_CRISIS = "예상 위기 가구"
FOUND = "발견"
LONELY_RISK = "고독사 위험"
MIDDLE_AGED_MEN = "중장년 1인 남성"
# Life stages of the lonely-death plan (youth, middle age, old age), named by where a band starts.
LIFE_STAGES = {"youth": "청년", "middle": "중장년", "old": "노년"}
# The household-level 고독사 위험 grade (docs/lonely.md), for one-person households only.
LONELY_GRADES = {"high": "높음", "medium": "보통", "low": "낮음", "na": "해당 없음"}

# A follow-up case's tier: the three band names a case can take from the model, and 종결.
TIER_LABELS = {**{t: BAND_LABELS[t] for t in ("high", "medium", "low")}, "closed": CLOSED}
TIER_CADENCE = {**{t: BANDS[t][2] for t in ("high", "medium", "low")}, "closed": CLOSED_CADENCE}

# Term → what it means (the glossary's rows, in this order).
TERMS = {
    ROUND: '두 달 단위의 자료 시점. "2024년 3차"(5–6월)처럼 씁니다. 파일·명령에서는 2024-R3.',
    "위기정보": "단전·단수·체납·실직 등 47개 지표 가운데 한 가구에 나타난 것 하나.",
    "발굴": "발굴시스템 명단과 지자체 자체 선정으로 방문 대상이 된 것 (이웃 신고 등 제보는 따로 셉니다).",
    "욕구 확인": "방문해서 도움이 필요함을 확인한 것 (지원 연계 포함).",
    "지원 연계": "방문 뒤 공공·민간 지원으로 이어진 것.",
    PROBABILITY: "위험 모델이 계산한, 이 가구가 위기에 있을 확률 (0–100 %).",
    REACH_GAP: "예상 위기 가구에 비해 발견하지 못한 만큼: 예상 위기 가구 − 발견 (가구), 그리고 발견률과 그 95 % 구간.",
    EXPECTED_CRISIS: "한 지역 모든 가구의 위기 확률(보정된 확률)의 합: 모두 방문했다면 욕구가 확인될 가구 수의 기대값.",
    FOUND: "그 차수에 방문해서 욕구를 확인한 가구 (욕구 확인·지원 연계). 발견률 = 발견 ÷ 예상 위기 가구.",
    AT_RISK: '위험·주의 등급 가구를 함께 부르는 말. 지도·브리핑의 "위험군 가구"는 이 수입니다.',
    "방문 용량": "한 차수에 읍면동이 방문할 수 있는 가구 수 (기본: 가구의 0.8 %).",
    SUPPRESSION: "작은 수를 숨기는 규칙: 1~k−1 가구인 칸(k: 설정 min_count), 그리고 빼기로 그런 수가 드러나는 칸.",
    SUPPRESSED: f"숨긴 칸({SUPPRESSION})에 숫자 대신 쓰는 말. 0은 0으로 씁니다.",
    NO_DATA: "그 지역·차수에 자료가 없음 (비공개와 다릅니다).",
    NO_SCORES: "그 차수에 위험 모델 점수가 아직 없음 (위험군·위기 확률을 셀 수 없음).",
    NOT_SIGNIFICANT: "핫스팟 분석에서 FDR 보정 후 90 % 수준으로도 유의하지 않은 지역.",
    NOT_TESTED: "이웃 지역이 없거나 값이 없어 핫스팟 검정을 하지 않은 지역.",
    SPECIAL_ZONES: "사회보장 특별지원구역: 보건복지부가 4년 동안 지원할 지역. 후보는 필요 지수 순위로 고릅니다.",
    NEED_INDEX: (
        "성분(위기정보, 위험군, 미발견 추정, 생애주기별 1인 가구, 65세 이상 인구)의 표준점수를 "
        "가중치로 평균한 값. 0 = 평균 지역."
    ),
    LONELY_RISK: "1인 가구의 고독사 위기정보(단전·우편물 방치·통신 끊김 등 지표 목록의 고독사 지표)를 "
    "가중치(방문 결과로 추정한 특이도)로 더해 매긴 등급: 높음·보통·낮음, 1인 가구가 아니면 해당 없음.",
    "생애주기": "세대주 나이로 나눈 청년·중장년·노년 (기본 20–39세, 40–64세, 65세 이상; 설정 life_stage_bands).",
    MIDDLE_AGED_MEN: "세대주가 40–64세 남성인 1인 가구: 제1차 고독사 예방 기본계획이 이름 붙인 위험 집단.",
    "분위수 구간": "지도 색칠 방법: 값 순서로 지역을 같은 수씩 나눈 구간 (중앙값 하나로 나누는 것이 아님).",
}

# Every code → name table: its Korean title (a section of docs/glossary.md) and the namespaces
# in which a code must keep one name (tests/test_glossary.py).  Tables in no shared namespace
# name codes that mean different things elsewhere ("high" is 위험 as a band, 높음 as a
# 고독사 위험 grade).
TABLES: dict[str, tuple[str, dict, tuple[str, ...]]] = {
    "BAND_LABELS": ("위험 등급", BAND_LABELS, ("band",)),
    "TIER_LABELS": ("사례 등급 (후속 관리)", TIER_LABELS, ("band",)),
    "LONELY_GRADES": ("고독사 위험 등급", LONELY_GRADES, ()),
    "LIFE_STAGES": ("생애주기", LIFE_STAGES, ()),
    "ROLES": ("역할", ROLES, ("role",)),
    "LEVELS": ("지역 단위", LEVELS, ("level",)),
    "RANKING_LEVELS": ("순위 단위 (특별지원구역)", RANKING_LEVELS, ()),
    "EMD_TYPES": ("읍·면·동 구분", EMD_TYPES, ()),
    "HEAD_SEX": ("세대주 성별", HEAD_SEX, ()),
    "HOUSING_TYPES": ("주거 형태", HOUSING_TYPES, ()),
    "WELFARE_STATUS": ("복지 수급", WELFARE_STATUS, ()),
    "OUTCOMES": ("방문 결과", OUTCOMES, ("outcome",)),
    "CHANNELS": ("발굴 경로", CHANNELS, ()),
    "YES_NO": ("예·아니요", YES_NO, ()),
    "COLUMNS": ("공통 열 이름", COLUMNS, ("column",)),
    "FILTER_LABELS": ("필터 (내보내기·감사 기록)", FILTER_LABELS, ("column",)),
    "DETAIL_LABELS": ("감사 기록 비고", DETAIL_LABELS, ()),
    "REPORT_LABELS": ("적재 검사 보고 열", REPORT_LABELS, ("column",)),
    "LIST_COLUMNS": ("위험 가구 목록 열", LIST_COLUMNS, ("column",)),
    "HOUSEHOLD_TYPES": ("가구 유형", HOUSEHOLD_TYPES, ()),
    "LIST_SELECTION": ("목록 선정 경로", LIST_SELECTION, ()),
    "HOUSEHOLD_COLUMNS": ("지도 우선 방문 가구 열", HOUSEHOLD_COLUMNS, ("column",)),
    "INGEST_COLUMNS": ("적재 이력 열", INGEST_COLUMNS, ("column",)),
    "JOB_KINDS": ("데이터 관리 작업", JOB_KINDS, ()),
    "AUDIT_ACTIONS": ("감사 기록 행위", AUDIT_ACTIONS, ()),
    "AUDIT_COLUMNS": ("감사 기록 열", AUDIT_COLUMNS, ("audit",)),
    "CONTACT_METHODS": ("연락 방법", CONTACT_METHODS, ("contact",)),
    "CASE_TASKS": ("후속 관리 할 일", CASE_TASKS, ("contact",)),
    "TIER_SOURCES": ("사례 등급 출처", TIER_SOURCES, ()),
    "CASE_OWNERS": ("사례 담당 보기", CASE_OWNERS, ()),
    "CASE_COLUMNS": ("후속 관리 연락 대상 열", CASE_COLUMNS, ("case",)),
    "CASE_HISTORY_COLUMNS": ("후속 관리 기록 열", CASE_HISTORY_COLUMNS, ("case",)),
    "FEATURE_LABELS": ("위험 모델 입력 변수 (지표 외)", FEATURE_LABELS, ()),
    "METRIC_LABELS": ("모델 성능 지표", METRIC_LABELS, ("metric",)),
    "RANKINGS": ("비교 순위 (모델·규칙)", RANKINGS, ()),
    "CAPACITY_RULES": ("방문 용량 배분 규칙", CAPACITY_RULES, ()),
    "GATE_STATUS": ("서비스 관문", GATE_STATUS, ()),
    "DRIFT_STATUS": ("입력 분포 변화 (PSI) 판정", DRIFT_STATUS, ()),
    "MODEL_SUBGROUP_COLUMNS": ("하위집단별 성능 열", MODEL_SUBGROUP_COLUMNS, ()),
    "DRIFT_COLUMNS": ("입력 분포 변화 열", DRIFT_COLUMNS, ()),
    "REALISED_COLUMNS": ("실현 정밀도 열", REALISED_COLUMNS, ()),
    "MODEL_LIST_COLUMNS": ("모델 목록 열", MODEL_LIST_COLUMNS, ("metric",)),
    "CLASS_METHODS": ("지도 색 구간 방법", CLASS_METHODS, ()),
    "HOTSPOT_METHODS": ("핫스팟 분석 방법", HOTSPOT_METHODS, ()),
    "GI_CLASSES": ("핫·콜드스팟 분류 (Gi*)", GI_CLASSES, ("spatial",)),
    "MORAN_CLASSES": ("국지적 군집 분류 (LISA)", MORAN_CLASSES, ("spatial",)),
    "EMERGING_LABELS": ("떠오르는 핫스팟 분류", EMERGING_LABELS, ("spatial",)),
    "HOTSPOT_COLUMNS": ("핫스팟 표 열", HOTSPOT_COLUMNS, ()),
    "MAP_MEASURES": ("지도 측정값", MAP_MEASURES, ("measure",)),
    "UNITS": ("단위", UNITS, ()),
    "REACH_CLASSES": ("발굴 격차 분류", REACH_CLASSES, ("status",)),
    "ZONE_STATUS": ("특별지원구역 순위 상태", ZONE_STATUS, ("status",)),
}


def round_label(code_or_id) -> str:
    """A round as people read it.

    >>> round_label("2024-R3"), round_label(20243)
    ('2024년 3차', '2024년 3차')
    """
    text = str(code_or_id)
    if text.isdigit():
        text = f"{text[:-1]}-R{text[-1]}"
    return parse_round(text).short_ko


def column(code: str) -> str:
    """The header of a column code, whichever of its codes a frame uses.

    >>> column("round_code"), column("round"), column("pseudo_id")
    ('차수', '차수', '가명 ID')
    """
    return COLUMNS[COLUMN_ALIASES.get(code, code)]


def markdown() -> str:
    """``docs/glossary.md``: the terms, the bands with their meaning and contact cadence, the
    roles with what each sees, then one section per code → name table of :data:`TABLES`."""
    lines = [
        "# 용어 (glossary)",
        "",
        "화면·파일·브리핑이 쓰는 낱말은 이 표 하나에서 나옵니다 (`blindspot/glossary.py`; 이 문서는 그 표로 만듭니다).",
        "",
        "| 용어 | 뜻 |",
        "|---|---|",
        *[f"| {term} | {meaning} |" for term, meaning in TERMS.items()],
        "",
        "## 위험 등급",
        "",
        "| 등급 | 뜻 | 연락 주기 (권장) |",
        "|---|---|---|",
        *[f"| {label} | {meaning} | {cadence} |" for label, meaning, cadence in BANDS.values()],
        "",
        "## 역할",
        "",
        "| 역할 | 보는 것 |",
        "|---|---|",
        *[f"| {ROLES[code]} | {meaning} |" for code, meaning in ROLE_MEANINGS.items()],
        "",
        "## 쓰지 않는 말",
        "",
        "| 쓰지 않는 말 | 대신 쓰는 말 |",
        "|---|---|",
        *[f"| {other} | {term} |" for other, term in SYNONYMS.items()],
        "",
        "## 코드와 이름",
        "",
        "데이터베이스·설정·파일의 코드가 화면에서 읽히는 이름입니다.",
    ]
    for title, table, _ in TABLES.values():
        lines += ["", f"### {title}", "", "| 코드 | 이름 |", "|---|---|"]
        lines += [f"| `{code}` | {name} |" for code, name in table.items()]
    lines += ["", "### 지원 내용 (코드 없이 이름으로 저장)", "", *[f"- {name}" for name in SUPPORT_TYPES], ""]
    return "\n".join(lines)
