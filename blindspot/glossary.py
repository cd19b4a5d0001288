"""One Korean term per concept: the words every page, file and briefing uses for the product's
core ideas, with what each means.  ``docs/glossary.md`` is made from this table
(:func:`markdown`; ``tests/test_glossary.py`` keeps the two equal), so the glossary an office
reads and the labels on screen cannot disagree.

Codes (band ``high``, measure ``at_risk``) stay in the database and the code; people read the
terms below.  Vocabularies of household attributes (housing, outcomes, channels) are
:mod:`blindspot.vocab`.
"""

from __future__ import annotations

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

AT_RISK = "위험군"  # 위험 + 주의
AT_RISK_HOUSEHOLDS = "위험군 가구"
AT_RISK_COUNT = "위험군 가구 수"
AT_RISK_RATE = "위험군 가구 (천 가구당)"
SUPPRESSED = "비공개"
NO_DATA = "자료 없음"
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

# Term → what it means (the glossary's rows, in this order).
TERMS = {
    "차수": '두 달 단위의 자료 시점. "2024년 3차"(5–6월)처럼 씁니다. 파일·명령에서는 2024-R3.',
    "위기정보": "단전·단수·체납·실직 등 47개 지표 가운데 한 가구에 나타난 것 하나.",
    "발굴": "발굴시스템 명단과 지자체 자체 선정으로 방문 대상이 된 것 (이웃 신고 등 제보는 따로 셉니다).",
    "욕구 확인": "방문해서 도움이 필요함을 확인한 것 (지원 연계 포함).",
    "지원 연계": "방문 뒤 공공·민간 지원으로 이어진 것.",
    "위기 확률": "위험 모델이 계산한, 이 가구가 위기에 있을 확률 (0–100 %).",
    REACH_GAP: "예상 위기 가구에 비해 발견하지 못한 만큼: 예상 위기 가구 − 발견 (가구), 그리고 발견률과 그 95 % 구간.",
    EXPECTED_CRISIS: "한 지역 모든 가구의 위기 확률(보정된 확률)의 합: 모두 방문했다면 욕구가 확인될 가구 수의 기대값.",
    FOUND: "그 차수에 방문해서 욕구를 확인한 가구 (욕구 확인·지원 연계). 발견률 = 발견 ÷ 예상 위기 가구.",
    AT_RISK: '위험·주의 등급 가구를 함께 부르는 말. 지도·브리핑의 "위험군 가구"는 이 수입니다.',
    "방문 용량": "한 차수에 읍면동이 방문할 수 있는 가구 수 (기본: 가구의 0.8 %).",
    SUPPRESSED: '소수 억제: 1~k−1 가구인 칸, 그리고 빼기로 그런 수가 드러나는 칸은 숫자 대신 "비공개"로 씁니다.',
    NO_DATA: "그 지역·차수에 자료가 없음 (비공개와 다릅니다).",
    SPECIAL_ZONES: "사회보장 특별지원구역: 보건복지부가 4년 동안 지원할 지역. 후보는 필요 지수 순위로 고릅니다.",
    NEED_INDEX: (
        "성분(위기정보, 위험군, 미발견 추정, 생애주기별 1인 가구, 65세 이상 인구)의 표준점수를 "
        "가중치로 평균한 값. 0 = 평균 지역."
    ),
    LONELY_RISK: "1인 가구의 고독사 위기정보(단전·우편물 방치·통신 끊김 등 지표 목록의 고독사 지표)를 "
    "가중치(방문 결과로 추정한 특이도)로 더해 매긴 등급: 높음·보통·낮음, 1인 가구가 아니면 해당 없음.",
    "생애주기": "세대주 나이로 나눈 청년·중장년·노년 (기본 20–39세, 40–64세, 65세 이상; 설정 life_stage_bands).",
    MIDDLE_AGED_MEN: "세대주가 40–64세 남성인 1인 가구: 제1차 고독사 예방 기본계획이 이름 붙인 위험 집단.",
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


def markdown() -> str:
    """``docs/glossary.md``: the terms, then the bands with their meaning and contact cadence."""
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
    ]
    return "\n".join(lines)
