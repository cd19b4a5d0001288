"""The extraction-file format as data: columns and their Korean aliases, value ranges,
vocabularies, and the pandera schemas with their Korean messages (``docs/ingest-format.md``).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from blindspot import vocab
from blindspot.indicators.catalogue import Catalogue
from blindspot.ingest.report import empty_report

HOUSEHOLD_COLUMNS = {
    "pseudo_id": ("가구ID", "가구번호", "가명ID"),
    "emd_code": ("읍면동코드", "행정동코드"),
    "head_age": ("세대주연령", "세대주나이"),
    "head_sex": ("세대주성별",),
    "household_size": ("가구원수", "세대원수"),
    "one_person": ("1인가구",),
    "housing_type": ("주거형태",),
    "welfare_status": ("복지수급", "수급상태"),
}
LONG_COLUMNS = {"indicator_code": ("지표코드",), "value": ("값", "지표값")}
OUTCOME_COLUMNS = {
    "pseudo_id": HOUSEHOLD_COLUMNS["pseudo_id"],
    "channel": ("발굴경로",),
    "outcome": ("방문결과",),
    "support_type": ("지원내용", "지원유형"),
}
OPTIONAL_OUTCOME_COLUMNS = ("support_type",)

MAX_INT = 2_147_483_647  # observations.value is INTEGER
AGE_RANGE = (15, 120)
SIZE_RANGE = (1, 30)
MONTHS_MAX = 600
INT_RE = r"^[+-]?\d{1,15}(\.0*)?$"
_RRN_RE = r"^\d{6}-?[1-8]\d{6}$"  # 주민등록번호 pattern
# The documented alphabet of pseudonymous ids (docs/ingest-format.md): no spaces, control
# characters, BOM, line breaks or formula-leading characters can ever be stored in one.
ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# Free text (지원 내용) that a spreadsheet would run as a formula (OWASP CSV injection),
# or that carries control characters, is refused rather than altered.
_FORMULA_START = r"^[=+\-@\t\r]"
_CONTROL_CHARS = r"[\x00-\x1f\x7f\ufeff\u2028\u2029]"
BOOL_TEXT = {"0": "0", "1": "1", "false": "0", "true": "1", "n": "0", "y": "1", "아니오": "0", "예": "1", "아니요": "0"}


def _vocab_map(codes: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {}
    for code, label in codes.items():
        out[code] = code
        out[code.lower()] = code
        out[label] = code
        out[label.replace(" ", "").lower()] = code
    out.update(extra or {})
    return out


SEX_MAP = _vocab_map(vocab.HEAD_SEX, {"남자": "M", "여자": "F", "m": "M", "f": "F", "1": "M", "2": "F"})
HOUSING_MAP = _vocab_map(vocab.HOUSING_TYPES, {"취약주거": "vulnerable", "연립": "multiplex", "다세대": "multiplex"})
WELFARE_MAP = _vocab_map(vocab.WELFARE_STATUS, {"수급": "basic_livelihood", "없음": "none"})
CHANNEL_MAP = _vocab_map(vocab.CHANNELS)
OUTCOME_MAP = _vocab_map(vocab.OUTCOMES)


def _allowed(codes: dict[str, str]) -> str:
    return ", ".join(f"{k}({v})" for k, v in codes.items())


# --- pandera schemas --------------------------------------------------------------------------
# Check names are keys of MESSAGES: a failure case turns into a report row with that message.

MESSAGES = {
    "not_nullable": "값이 비어 있습니다. 이 열은 반드시 채워야 합니다.",
    "pseudo_id_alphabet": (
        "가구 ID는 영문자·숫자·'-'·'_' 로 된 1~64자이고 영문자나 숫자로 시작해야 합니다 "
        "(공백·한글·제어문자·BOM·줄바꿈 불가; 예: P-001, H1A2B3C4D)."
    ),
    "pseudo_id_rrn": "주민등록번호로 보입니다. 실명·주민번호가 아닌 가명 가구 ID를 쓰세요 (개인정보보호법).",
    "emd_format": "읍면동 코드는 행정안전부 10자리 행정기관코드여야 합니다 (예: 1111051500).",
    "emd_kostat": (
        "8자리 코드는 통계청(KOSTAT·SGIS) 읍면동 코드로 보입니다. 이 제품은 행정안전부 10자리 행정기관코드"
        "(행정동코드, 예: 1111051500)를 씁니다. 두 체계는 번호 매김이 달라 자릿수를 붙여서는 바뀌지 않고, "
        "공유 자료(shared/geo)에는 둘을 잇는 변환표가 없어 자동 변환하지 않습니다. 추출 시스템에서 "
        "행정동코드(10자리)로 다시 뽑으세요."
    ),
    "emd_known": "이 10자리 읍면동 코드는 2024년 6월 행정구역에 없습니다 (폐지·신설 동이거나 오타).",
    "head_age_range": f"세대주 연령은 {AGE_RANGE[0]}~{AGE_RANGE[1]}세여야 합니다.",
    "head_sex_vocab": f"세대주 성별은 {_allowed(vocab.HEAD_SEX)} 중 하나여야 합니다.",
    "size_range": f"가구원 수는 {SIZE_RANGE[0]}~{SIZE_RANGE[1]}명이어야 합니다.",
    "one_person_vocab": "1인 가구 여부는 1(예) 또는 0(아니오)이어야 합니다.",
    "one_person_size": "1인 가구 여부와 가구원 수가 맞지 않습니다 (1인 가구 = 가구원 1명).",
    "housing_vocab": f"주거 형태는 {_allowed(vocab.HOUSING_TYPES)} 중 하나여야 합니다.",
    "welfare_vocab": f"복지 수급 상태는 {_allowed(vocab.WELFARE_STATUS)} 중 하나여야 합니다.",
    "flag_01": "예/아니오 지표는 1(있음) 또는 0·빈 칸(없음)이어야 합니다.",
    "months_range": f"체납 개월 수는 0 이상 {MONTHS_MAX} 이하여야 합니다 (음수 불가).",
    "amount_range": f"금액(원)은 0 이상 {MAX_INT:,} 이하여야 합니다 (음수 불가).",
    "indicator_known": "지표 목록(카탈로그)에 없는 지표 코드입니다 (blindspot/data/indicators.csv 의 code).",
    "value_for_kind": "지표 값이 종류에 맞지 않습니다: 예/아니오 지표는 0·1, 개월·금액 지표는 0 이상이어야 합니다.",
    "value_needed": "지표 코드가 있는 행에는 값이 있어야 합니다.",
    "code_needed": "값이 있는 행에는 지표 코드가 있어야 합니다.",
    "channel_vocab": f"발굴 경로는 {_allowed(vocab.CHANNELS)} 중 하나여야 합니다.",
    "outcome_vocab": f"방문 결과는 {_allowed(vocab.OUTCOMES)} 중 하나여야 합니다.",
    "support_length": "지원 내용은 100자 이하여야 합니다.",
    "support_formula": (
        "지원 내용이 =, +, -, @ 로 시작하면 스프레드시트에서 수식으로 실행될 수 있어 받지 않습니다 "
        "(앞에 글자를 두세요, 예: '긴급지원 +30만원' → '긴급지원 30만원 추가')."
    ),
    "support_control": "지원 내용에 제어문자(줄바꿈·탭·NUL·BOM)가 있습니다. 한 줄의 글로 고치세요.",
}


def _pa():
    import pandera.pandas as pandera  # imported on first use: the app's other pages do not need it

    return pandera


def _check(fn, name: str, element_wise: bool = False):
    pandera = _pa()
    return pandera.Check(fn, name=name, error=MESSAGES[name], element_wise=element_wise)


@lru_cache(maxsize=4)
def household_schema(catalogue: Catalogue, emd_codes: frozenset[str], layout: str):
    """The pandera schema of a households file (wide: one column per indicator)."""
    pandera = _pa()
    codes = sorted(emd_codes)

    def col(dtype, checks, nullable=False):
        return pandera.Column(dtype, checks=checks, nullable=nullable, coerce=False)

    columns = {
        "pseudo_id": col(
            None,
            [
                _check(lambda s: s.str.fullmatch(ID_RE), "pseudo_id_alphabet"),
                _check(lambda s: ~s.str.match(_RRN_RE), "pseudo_id_rrn"),
            ],
        ),
        "emd_code": col(
            None,
            [
                _check(lambda s: s.str.fullmatch(r"\d{10}") | (s.str.len() == 8), "emd_format"),
                _check(lambda s: s.str.len() != 8, "emd_kostat"),
                _check(lambda s: ~s.str.fullmatch(r"\d{10}") | s.isin(codes), "emd_known"),
            ],
        ),
        "head_age": col("Int64", [_check(lambda s: s.between(*AGE_RANGE), "head_age_range")]),
        "head_sex": col(None, [_check(lambda s: s.isin(list(vocab.HEAD_SEX)), "head_sex_vocab")]),
        "household_size": col("Int64", [_check(lambda s: s.between(*SIZE_RANGE), "size_range")]),
        "one_person": col("Int64", [_check(lambda s: s.isin([0, 1]), "one_person_vocab")]),
        "housing_type": col(None, [_check(lambda s: s.isin(list(vocab.HOUSING_TYPES)), "housing_vocab")]),
        "welfare_status": col(None, [_check(lambda s: s.isin(list(vocab.WELFARE_STATUS)), "welfare_vocab")]),
    }
    if layout == "wide":
        for ind in catalogue.indicators:
            if ind.kind == "flag":
                checks = [_check(lambda s: s.isin([0, 1]), "flag_01")]
            elif ind.kind == "months":
                checks = [_check(lambda s: s.between(0, MONTHS_MAX), "months_range")]
            else:
                checks = [_check(lambda s: s.between(0, MAX_INT), "amount_range")]
            columns[ind.code] = col("Int64", checks, nullable=True)
    else:
        kinds = {i.code: i.kind for i in catalogue.indicators}
        columns["indicator_code"] = col(None, [_check(lambda s: s.isin(list(kinds)), "indicator_known")], nullable=True)
        columns["value"] = col("Int64", [], nullable=True)
    return pandera.DataFrameSchema(columns, strict=False)


def outcome_schema():
    pandera = _pa()
    return pandera.DataFrameSchema(
        {
            "pseudo_id": pandera.Column(None, checks=[_check(lambda s: s.str.fullmatch(ID_RE), "pseudo_id_alphabet")]),
            "channel": pandera.Column(None, checks=[_check(lambda s: s.isin(list(vocab.CHANNELS)), "channel_vocab")]),
            "outcome": pandera.Column(None, checks=[_check(lambda s: s.isin(list(vocab.OUTCOMES)), "outcome_vocab")]),
            "support_type": pandera.Column(
                None,
                nullable=True,
                checks=[
                    _check(lambda s: s.str.len() <= 100, "support_length"),
                    _check(lambda s: ~s.str.contains(_FORMULA_START), "support_formula"),
                    _check(lambda s: ~s.str.contains(_CONTROL_CHARS), "support_control"),
                ],
            ),
        }
    )


def run_schema(schema, df: pd.DataFrame, file: str, originals: dict[str, pd.Series]) -> pd.DataFrame:
    """Validate lazily and turn pandera's failure cases into report rows."""
    pandera = _pa()
    try:
        # inplace: nothing is coerced (coerce=False), so no copy of a 1 M-row piece is needed.
        schema.validate(df, lazy=True, inplace=True)
        return empty_report()
    except pandera.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    fc = fc[fc["index"].notna()]
    check = fc["check"].astype(str)
    check = check.where(~check.str.startswith("not_nullable"), "not_nullable")
    # pandera names a failed check by its error text when one is given (our Korean message).
    messages = (
        check.map(MESSAGES).fillna(check.where(check.isin(list(MESSAGES.values())))).fillna("형식에 맞지 않습니다.")
    )
    rows = fc["index"].astype("int64").to_numpy()
    values = fc["failure_case"].astype(object).to_numpy()
    # Show the value as written in the file (e.g. '아파트트'), not as converted.
    out_values = values.copy()
    for column, orig in originals.items():
        sel = (fc["column"] == column).to_numpy()
        if sel.any():
            out_values[sel] = orig.reindex(rows[sel]).to_numpy()
    return pd.DataFrame(
        {
            "file": file,
            "row": rows,
            "column": fc["column"].to_numpy(),
            "value": pd.Series(out_values, dtype=object).where(pd.notna(out_values), None).to_numpy(),
            "message": messages.to_numpy(),
        }
    )
