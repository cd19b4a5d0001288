"""Controlled vocabularies of household and visit attributes, with Korean labels.

Codes are stored in the database; labels are what the UI and exports show.
"""

HEAD_SEX = {"M": "남", "F": "여"}

HOUSING_TYPES = {
    "apartment": "아파트",
    "multiplex": "연립·다세대",
    "detached": "단독주택",
    "officetel": "오피스텔",
    "vulnerable": "취약주거(고시원·반지하·쪽방 등)",
    "other": "기타",
}

WELFARE_STATUS = {
    "none": "수급 없음",
    "basic_livelihood": "기초생활수급",
    "near_poor": "차상위",
}

# Visit outcomes (방문 결과).  need_confirmed and supported both count as "need confirmed".
OUTCOMES = {
    "contacted": "접촉·상담(지원 불필요)",
    "need_confirmed": "욕구 확인",
    "supported": "지원 연계",
    "unreachable": "연락 불가",
    "not_eligible": "대상 아님",
    "refused": "지원 거부",
}
# Outcomes that confirm a need (the maps' and briefing's "확인"), and those that label a
# household positive for the model: a refusal of support still means the need was there.
CONFIRMED_OUTCOMES = ("need_confirmed", "supported")
LABEL_OUTCOMES = (*CONFIRMED_OUTCOMES, "refused")

# What a supported household was linked to (the generator draws from the same list).
SUPPORT_TYPES = ("민간자원 연계", "긴급지원", "서비스 연계", "공공급여 연계", "기초생활보장 신청")

# How a visited household was found (발굴 경로).
CHANNELS = {
    "system": "발굴시스템 명단",
    "local": "지자체 자체 선정",
    "neighbour": "이웃 신고",
    "volunteer": "명예사회복지공무원",
    "meter_reader": "검침원 제보",
}

LEVELS = {"sido": "시도", "sgg": "시군구", "emd": "읍면동"}

# A yes/no value as every file and screen shows it (never True/False).
YES_NO = {True: "예", False: "아니요"}

EMD_TYPES = {"eup": "읍", "myeon": "면", "dong": "동"}

# Head-of-household age bands (domain.md defaults; configurable where used).
DEFAULT_AGE_BANDS = ((20, 39, "20–39세"), (40, 64, "40–64세"), (65, 200, "65세 이상"))


def particle(word: str, pair: str) -> str:
    """``word`` with the Korean particle of ``pair`` ("은/는", "이/가", "을/를", "과/와",
    "으로/로") that fits its last syllable: the first after a final consonant, the second
    after a vowel (and "로" after ㄹ).  A word that does not end in Hangul gets both, as
    "값은(는)", since its reading is unknown.

    >>> particle("강원", "은/는"), particle("제주", "은/는"), particle("서울", "으로/로"), particle("2024-R3", "이/가")
    ('강원은', '제주는', '서울로', '2024-R3이(가)')
    """
    after_consonant, after_vowel = pair.split("/")
    last = word[-1:] if word else ""
    if not ("가" <= last <= "힣"):
        return f"{word}{after_consonant}({after_vowel})"
    final = (ord(last) - 0xAC00) % 28
    if after_consonant == "으로" and final == 8:  # ㄹ takes 로
        return word + after_vowel
    return word + (after_consonant if final else after_vowel)
