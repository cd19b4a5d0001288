"""Controlled vocabularies of household and visit attributes, with Korean labels.

Codes are stored in the database; labels are what the UI and exports show, and come from
:mod:`blindspot.glossary`.
"""

from blindspot import glossary

# The names live in the glossary (one home for every term); the old names stay here for the
# many modules that validate and map codes with them.
HEAD_SEX = glossary.HEAD_SEX
HOUSING_TYPES = glossary.HOUSING_TYPES
WELFARE_STATUS = glossary.WELFARE_STATUS
# Visit outcomes (방문 결과).  need_confirmed and supported both count as "need confirmed".
OUTCOMES = glossary.OUTCOMES
# Outcomes that confirm a need (the maps' and briefing's "확인"), and those that label a
# household positive for the model: a refusal of support still means the need was there.
CONFIRMED_OUTCOMES = ("need_confirmed", "supported")
LABEL_OUTCOMES = (*CONFIRMED_OUTCOMES, "refused")
# What a supported household was linked to (the generator draws from the same list).
SUPPORT_TYPES = glossary.SUPPORT_TYPES
# How a visited household was found (발굴 경로).
CHANNELS = glossary.CHANNELS
LEVELS = glossary.LEVELS
# A yes/no value as every file and screen shows it (never True/False).
YES_NO = glossary.YES_NO
EMD_TYPES = glossary.EMD_TYPES

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
