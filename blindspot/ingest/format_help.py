"""The extraction-file format as Korean help for the 데이터 관리 page, made from the format's own
data (:mod:`blindspot.ingest.schema`, :mod:`blindspot.vocab`, the indicator catalogue and the
size settings), so the help an official reads in the app cannot drift from what the checks
accept.  ``docs/ingest-format.md`` is the longer English reference for developers.
"""

from __future__ import annotations

from blindspot import config, settings, vocab
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.ingest.load import IngestError, Prepared, _round
from blindspot.ingest.schema import AGE_RANGE, HOUSEHOLD_COLUMNS, OUTCOME_COLUMNS, SIZE_RANGE

# What each column holds, in the order of the households file (the names and aliases come
# from HOUSEHOLD_COLUMNS; only the description is written here).
_HOUSEHOLD_TEXT = {
    "pseudo_id": "가명 가구 ID. 파일 안에서 한 번만. 이름·주민등록번호는 안 됩니다 (아래 ID 규칙)",
    "emd_code": "읍면동 **10자리 행정기관코드** (행정안전부, 2024년 6월 기준), 예: 1111051500. "
    "8자리 통계청 코드는 받지 않습니다",
    "head_age": f"세대주 나이(세), {AGE_RANGE[0]}~{AGE_RANGE[1]}",
    "head_sex": ", ".join(f"{k}({v})" for k, v in vocab.HEAD_SEX.items()),
    "household_size": f"가구원 수(명), {SIZE_RANGE[0]}~{SIZE_RANGE[1]}",
    "one_person": "1/0 (예/아니요, Y/N, true/false 도 됨). 가구원 수 1 과 맞아야 합니다",
    "housing_type": ", ".join(f"{k}({v})" for k, v in vocab.HOUSING_TYPES.items()),
    "welfare_status": ", ".join(f"{k}({v})" for k, v in vocab.WELFARE_STATUS.items()),
}
_OUTCOME_TEXT = {
    "pseudo_id": "이 차수 가구 파일에 있는 가구. 파일 안에서 한 번만",
    "channel": ", ".join(f"{k}({v})" for k, v in vocab.CHANNELS.items()),
    "outcome": ", ".join(f"{k}({v})" for k, v in vocab.OUTCOMES.items()),
    "support_type": "선택. 100자 이내 글 (예: 긴급지원). =, +, -, @ 로 시작하거나 줄바꿈·탭이 있으면 거부",
}


def _table(columns: dict[str, tuple[str, ...]], text: dict[str, str]) -> list[str]:
    rows = ["| 열 이름 | 한글 이름 | 내용 |", "|---|---|---|"]
    rows += [f"| `{name}` | {', '.join(aliases)} | {text[name]} |" for name, aliases in columns.items()]
    return rows


def format_help(catalogue: Catalogue | None = None) -> str:
    """The file format in Korean markdown: round, households file (wide and long), outcomes
    file, id rule, file types and size limits.

    >>> text = format_help()
    >>> "`emd_code`" in text and "행정동코드" in text and "2024-R3" in text
    True
    """
    catalogue = catalogue or load_catalogue()
    lo, hi = config.ROUND_YEARS
    kinds = {"flag": "있으면 1", "months": "체납 개월 수 0~600", "amount": "금액(원) 0~2,147,483,647"}
    first = {}  # one example indicator per kind
    for ind in catalogue.indicators:
        first.setdefault(ind.kind, ind)
    example = ", ".join(f"{i.name_ko} ({kinds.get(k, k)})" for k, i in first.items())
    limits = {
        "ingest_max_file_bytes": "파일 한 개의 크기(바이트)",
        "ingest_max_rows": "자료 행 수",
    }
    lines = [
        "**차수**는 파일이 아니라 위 입력란(또는 명령의 `--round`)에 `YYYY-Rn` 으로 씁니다. "
        f"n 은 1~6 (두 달마다, 1차 = 1~2월), 연도는 {lo}~{hi}년. 예: 2024-R3.",
        "",
        "**가구 파일** (필수): 1행은 열 이름, 2행부터 한 행에 한 가구. 열 이름은 영어 이름이나 한글 이름 "
        "(띄어쓰기·대소문자 무시), 순서는 상관없습니다.",
        "",
        *_table(HOUSEHOLD_COLUMNS, _HOUSEHOLD_TEXT),
        f"| 지표마다 한 열 | 지표의 한글 이름 | 지표 {len(catalogue.indicators)}개가 모두 있어야 합니다. "
        f"비어 있거나 0 이면 위기정보 없음. 예: {example} |",
        "",
        "가구 파일은 **긴 형식**도 됩니다: 위 가구 열에 `indicator_code`(지표코드)와 `value`(값)를 더하고 지표 열은 "
        "빼며, 위기정보 하나가 한 행입니다 (위기정보가 없는 가구는 두 열을 비운 한 행).",
        "",
        "**방문 결과 파일** (선택): 이 차수의 방문 결과. 한 행에 한 가구.",
        "",
        *_table(OUTCOME_COLUMNS, _OUTCOME_TEXT),
        "",
        "**가구 ID 규칙**: 영문자·숫자·`-`·`_` 로 1~64자, 영문자나 숫자로 시작 (예: P-001, H1A2B3C4D). "
        "한글·띄어쓰기·따옴표·줄바꿈, 그리고 =, +, -, @ 로 시작하는 값(스프레드시트가 수식으로 실행)은 거부합니다.",
        "",
        "**파일 종류**: CSV (UTF-8 또는 CP949/EUC-KR, 쉼표나 탭으로 구분), XLSX (첫 시트, 1행이 열 이름; "
        "병합된 셀·수식은 거부 — 값으로 붙여 넣어 저장하세요), Parquet. 예전 .xls 는 .xlsx 로 저장하세요.",
        "",
        "**크기 한도**: "
        + ", ".join(f"{what} {settings.show(settings.get(name))}" for name, what in limits.items())
        + ". 넘으면 시도·시군구별로 나누어 올리세요.",
        "",
        "문제가 하나라도 있으면 아무것도 적재하지 않고, 문제마다 파일·행·열을 알려 줍니다 "
        "(주민등록번호·전화번호 모양의 값은 가려서 보여 줍니다).",
    ]
    return "\n".join(lines)


def round_problem(text: str) -> str | None:
    """Why a typed round cannot be used, in Korean, or None when it can.

    >>> round_problem("2024-R3") is None, round_problem("2024-R7")[:9]
    (True, '차수 형식이 잘못')
    """
    try:
        _round(text, "")
    except IngestError as exc:
        return str(exc.report["message"].iloc[0]).split(" 파일(")[0]
    return None


def replace_warning(prepared: Prepared) -> str:
    """What loading ``prepared`` over its existing round takes away, counted, and how the file's
    coverage compares (a file of fewer 시군구 replacing a wider round says so first)."""
    old = prepared.replaces or {}
    hh = prepared.households.households if prepared.households is not None else None
    new_sgg = int(hh["emd_code"].astype(str).str[:5].nunique()) if hh is not None else 0
    parts = [
        f"이미 있는 차수입니다: {prepared.round.code}. 교체하면 지금 자료가 모두 지워지고 이 파일의 내용으로 바뀝니다: "
        f"가구 {old.get('households', 0):,}곳 ({old.get('sgg', 0):,}개 시군구), "
        f"위기정보 {old.get('observations', 0):,}건, 적재된 방문 결과 {old.get('visits', 0):,}건, "
        f"위험 점수 {old.get('scores', 0):,}건."
    ]
    if new_sgg and new_sgg < old.get("sgg", 0):
        parts.insert(0, f"주의: 이 파일은 {new_sgg:,}개 시군구만 담고 있어, {old['sgg']:,}개 시군구 차수를 좁힙니다.")
    parts.append("화면에서 입력한 방문 결과는 운영 저장소에 남습니다 (같은 가구 ID가 새 파일에 있으면 이어집니다).")
    return " ".join(parts)
