"""Validating an extraction file against the format of ``docs/ingest-format.md``.

Three steps, all vectorised over columns (no Python loop over rows):

1. the header: required columns present, no unknown ones (Korean aliases accepted);
2. cells to types with Arrow compute: integers (``'1,200'`` and ``'3.0'`` accepted),
   vocabulary labels to codes (``'아파트'`` → ``apartment``); a cell that is not a
   number is a problem with its row, not a crash;
3. a pandera schema on the typed frame: ranges, vocabularies, 읍면동 codes that exist,
   catalogue indicator codes; then duplicates and long-format consistency in pandas.

Every problem becomes one report row (:mod:`blindspot.ingest.report`): file, row (as the
user sees it: header = 1), column, value and a Korean message.  A file with any problem
loads nothing.  The format itself (columns, ranges, vocabularies, pandera schemas) is data
in :mod:`blindspot.ingest.schema`.

Why over 500 lines: each check sits beside its Korean report message (most lines are
messages); the three steps share one frame and one report, and splitting them would part
a check from the rows it reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.ingest.readers import Problem, RawTable, echo
from blindspot.ingest.report import finish_report, problem_rows, problems_frame
from blindspot.ingest.schema import (
    BOOL_TEXT,
    CHANNEL_MAP,
    HOUSEHOLD_COLUMNS,
    HOUSING_MAP,
    INT_RE,
    LONG_COLUMNS,
    MAX_INT,
    MESSAGES,
    MONTHS_MAX,
    OPTIONAL_OUTCOME_COLUMNS,
    OUTCOME_COLUMNS,
    OUTCOME_MAP,
    SEX_MAP,
    WELFARE_MAP,
    household_schema,
    outcome_schema,
    run_schema,
)


@dataclass
class Checked:
    """A file that passed (or failed) validation: typed frames and the problems found."""

    kind: str  # 'households' or 'outcomes'
    layout: str  # 'wide', 'long' or 'outcomes'
    rows: int  # data rows read
    households: pd.DataFrame | None  # one row per household, attribute codes
    observations: pd.DataFrame | None  # pseudo_id, indicator_code, value (value ≠ 0)
    outcomes: pd.DataFrame | None
    report: pd.DataFrame
    household_rows: np.ndarray | None = None  # the file row of each row of ``households``
    ids: pd.Series | None = None  # wide layout: pseudo_id by file row, even when the piece failed

    @property
    def ok(self) -> bool:
        return self.report.empty


# --- header ---------------------------------------------------------------------------------


def _alias_map(columns: dict[str, tuple[str, ...]], catalogue: Catalogue | None) -> dict[str, str]:
    out = {}
    for canon, aliases in columns.items():
        out[canon.lower()] = canon
        for a in aliases:
            out[a.replace(" ", "").lower()] = canon
    if catalogue is not None:
        for ind in catalogue.indicators:
            out[ind.code.lower()] = ind.code
            out[ind.name_ko.replace(" ", "").lower()] = ind.code
    return out


def _normalise(raw: RawTable, allowed: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Map the file's header names to canonical names; unknown names come back separately."""
    mapping, unknown = {}, []
    for name in raw.columns:
        canon = allowed.get(name.replace(" ", "").lower())
        if canon is None:
            unknown.append(name)
        else:
            mapping[name] = canon
    return mapping, unknown


def _garbled(text: str) -> bool:
    """Text that is Korean read with the wrong encoding (mojibake) or carries NUL bytes.

    >>> _garbled("ê°€êµ¬ID"), _garbled("가구ID"), _garbled("head_age")
    (True, False, False)
    """
    return (
        "\x00" in text
        or "\ufffd" in text
        or any("\u0080" <= ch <= "\u024f" or "\u0400" <= ch <= "\u04ff" for ch in text)
    )


def _header_cause(names: list[str]) -> str:
    """The likely reason why no column name of a file is recognised, in one sentence.

    >>> _header_cause(["pseudo_id;emd_code;head_age"])[:14]
    '열 구분자가 세미콜론(;)'
    >>> _header_cause(["ê°€êµ¬ID", "ìë©´ë"])[:11]
    '글자가 깨져 있습니다'
    """
    text = "".join(names)
    if ";" in text and text.count(";") >= len(names):
        return (
            "열 구분자가 세미콜론(;)인 파일로 보입니다. 쉼표(,) 또는 탭으로 구분한 CSV로 다시 저장하세요 "
            "(엑셀: 'CSV UTF-8(쉼표로 분리)')."
        )
    if "|" in text and text.count("|") >= len(names):
        return "열 구분자가 세로줄(|)인 파일로 보입니다. 쉼표(,) 또는 탭으로 구분한 CSV로 다시 저장하세요."
    if _garbled(text):
        return (
            "글자가 깨져 있습니다 (인코딩이 잘못 바뀐 파일: 예를 들어 UTF-8 파일을 다른 인코딩으로 열어 다시 저장함). "
            "원본 추출 파일을 'CSV UTF-8(쉼표로 분리)' 로 다시 저장하세요."
        )
    return (
        "자료 파일이 아니거나(다른 파일을 고름) 1행이 머리글이 아닙니다. 1행에 열 이름이 있는 추출 파일을 고르세요 "
        "(형식: docs/ingest-format.md)."
    )


def _header_problems(
    raw: RawTable, mapping: dict[str, str], unknown: list[str], required: list[str], hint_codes: bool
) -> list[Problem]:
    if not mapping and raw.columns:
        # Nothing recognised: one message with the likely cause, not one per garbled name,
        # and none of the file's text (it may not be a data file at all).
        return [
            Problem(
                raw.file,
                1,
                None,
                None,
                "필수 열이 없습니다: 1행에서 형식의 열 이름을 하나도 찾지 못했습니다. " + _header_cause(raw.columns),
            )
        ]
    garbled = [n for n in unknown if _garbled(n)]
    if garbled:
        return [
            Problem(
                raw.file,
                1,
                None,
                None,
                (
                    f"필수 열이 없습니다: 1행의 열 이름 {len(garbled):,}개를 알아볼 수 없습니다. "
                    + _header_cause(garbled)
                ),
            )
        ]
    problems = []
    seen: dict[str, str] = {}
    for name, canon in mapping.items():
        if canon in seen:
            problems.append(
                Problem(
                    raw.file,
                    1,
                    name,
                    name,
                    f"같은 항목({canon})의 열이 둘입니다: '{echo(seen[canon])}', '{echo(name)}'. 하나만 두세요.",
                )
            )
        seen[canon] = name
    missing = [c for c in required if c not in seen]
    if missing:
        problems.append(
            Problem(
                raw.file,
                1,
                None,
                ", ".join(missing),
                (
                    f"필수 열이 없습니다: {', '.join(missing)}. 1행에 열 이름이 있어야 합니다 "
                    "(지금 1행: "
                    f"{', '.join(echo(c, 30) for c in raw.columns[:8])}{' …' if len(raw.columns) > 8 else ''}). "
                    "형식: docs/ingest-format.md"
                ),
            )
        )
    for name in unknown:
        looks_like_code = hint_codes and re.match(r"^[a-z][a-z0-9_]{1,23}$", name)
        why = (
            "지표 목록(카탈로그, blindspot/data/indicators.csv)에 없는 지표 코드입니다"
            if looks_like_code
            else "형식에 없는 열입니다"
        )
        problems.append(Problem(raw.file, 1, name, name, f"{why}. 열을 지우거나 이름을 고치세요."))
    return problems


def _layout(mapping: dict[str, str]) -> str:
    return "long" if "indicator_code" in mapping.values() else "wide"


def layout_of(raw: RawTable, catalogue: Catalogue) -> str:
    """'long' when the header has an indicator-code column (one row per household and
    indicator), else 'wide' (one column per indicator)."""
    return _layout(_normalise(raw, _alias_map({**HOUSEHOLD_COLUMNS, **LONG_COLUMNS}, catalogue))[0])


# --- cells to types --------------------------------------------------------------------------


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    col = pc.utf8_trim_whitespace(col)
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _integers(raw: RawTable, col: pa.ChunkedArray, name: str) -> tuple[pd.Series, pd.DataFrame]:
    """Integer cells; cells that are not integers are reported and become empty."""
    try:
        # Fast path: clean files parse with one strict cast; only others need the checks below.
        values = pc.cast(col, pa.int64())
        return values.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    s = pc.replace_substring(_text(col), ",", "")
    ok = pc.match_substring_regex(s, INT_RE)
    bad = pc.and_(pc.is_valid(s), pc.invert(ok)).to_numpy(zero_copy_only=False)
    bad = np.asarray(bad, dtype=bool)
    report = None
    if bad.any():
        report = problem_rows(
            raw.file,
            raw.row_numbers[bad],
            name,
            np.asarray(col.to_numpy(zero_copy_only=False))[bad],
            "정수(숫자)가 아닙니다. 숫자만 쓰세요 (단위·문자 없이, 빈 칸 = 없음).",
        )
    clean = pc.replace_substring_regex(pc.if_else(ok, s, pa.scalar(None, pa.string())), r"\.0*$", "")
    values = pc.cast(clean, pa.int64())
    return values.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get), report


STRING = pd.StringDtype("pyarrow")


def _strings(col: pa.ChunkedArray) -> np.ndarray:
    """Trimmed text cells as Arrow-backed pandas strings (vectorised .str, no Python objects)."""
    return _text(col).to_pandas(types_mapper={pa.string(): STRING}.get).array


def _codes(col: pa.ChunkedArray, mapping: dict[str, str]) -> pd.Series:
    """Vocabulary labels or codes to codes; anything else is left as written (and fails later)."""
    s = _text(col)
    enc = pc.dictionary_encode(s).combine_chunks()
    dictionary = enc.dictionary.to_pylist()
    mapped = pa.array([mapping.get(v, mapping.get(v.replace(" ", "").lower(), v)) for v in dictionary], pa.string())
    return pd.Series(pc.take(mapped, enc.indices).to_pandas(types_mapper={pa.string(): STRING}.get).array)


# --- households files -----------------------------------------------------------------------------


def _blank_rows(raw: RawTable) -> pd.DataFrame | None:
    if raw.table.num_rows == 0 or raw.table.num_columns == 0:
        return None
    blank = np.ones(raw.table.num_rows, dtype=bool)
    for col in raw.table.columns:
        blank &= np.asarray(_text(col).is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if not blank.any():
        return None
    return problem_rows(
        raw.file,
        raw.row_numbers[blank],
        None,
        [None] * int(blank.sum()),
        "빈 행입니다. 자료 중간의 빈 행은 잘림·붙여넣기 실수일 수 있어 받지 않습니다: 지우세요.",
    )


def duplicate_ids(file: str, df: pd.DataFrame) -> pd.DataFrame | None:
    """Report rows of a wide file's repeated household ids (``df`` indexed by file row)."""
    return _duplicates(file, df, ["pseudo_id"], "가구 ID가 중복됩니다. 한 가구는 한 행이어야 합니다")


def _duplicates(file: str, df: pd.DataFrame, keys: list[str], message: str) -> pd.DataFrame | None:
    dup = df.duplicated(keys, keep="first") & df[keys].notna().all(axis=1)
    if not dup.any():
        return None
    first_row = (
        pd.Series(df.index.to_numpy(), index=df.index)
        .groupby([df[k] for k in keys], sort=False, dropna=False)
        .transform("first")
    )
    rows = df.index[dup.to_numpy()]
    values = df.loc[dup, keys[0]] if len(keys) == 1 else df.loc[dup, keys].astype(str).agg(" / ".join, axis=1)
    return problem_rows(
        file,
        rows,
        keys[-1] if len(keys) > 1 else keys[0],
        values.to_numpy(),
        [f"{message} (처음 나온 행: {r})" for r in first_row[dup].to_numpy()],
    )


def check_households(
    raw: RawTable, emd_codes: frozenset[str], catalogue: Catalogue | None = None, duplicates: bool = True
) -> Checked:
    """Validate a households file (wide or long); see docs/ingest-format.md.

    ``duplicates=False`` leaves the wide layout's duplicate-id check to the caller: a piece of
    a file cannot see ids in other pieces (:mod:`blindspot.ingest.pieces` checks them once).

    Example: a file whose 3rd row has ``head_age`` = ``'사십'`` gives one report row
    ``(file, 3, 'head_age', '사십', '정수(숫자)가 아닙니다 …')`` and nothing to load.
    """
    catalogue = catalogue or load_catalogue()
    allowed = _alias_map({**HOUSEHOLD_COLUMNS, **LONG_COLUMNS}, catalogue)
    mapping, unknown = _normalise(raw, allowed)
    layout = _layout(mapping)
    if layout == "long":
        unknown += [n for n, c in mapping.items() if c in catalogue.codes]
        mapping = {n: c for n, c in mapping.items() if c not in catalogue.codes}
        required = [*HOUSEHOLD_COLUMNS, *LONG_COLUMNS]
    else:
        if "value" in mapping.values():
            unknown += [n for n, c in mapping.items() if c == "value"]
            mapping = {n: c for n, c in mapping.items() if c != "value"}
        required = [*HOUSEHOLD_COLUMNS, *catalogue.codes]
    header = _header_problems(raw, mapping, unknown, required, hint_codes=True)
    problems = (list(raw.problems) if mapping else []) + header
    if problems and any(p.row == 1 for p in problems):
        return Checked("households", layout, len(raw), None, None, None, finish_report([problems_frame(problems)]))
    if len(raw) == 0:
        return Checked(
            "households",
            layout,
            0,
            None,
            None,
            None,
            problems_frame(
                problems
                + [
                    Problem(
                        raw.file,
                        None,
                        None,
                        None,
                        "머리글(1행)만 있고 자료 행이 없습니다. 가구가 한 줄 이상 있어야 합니다.",
                    )
                ]
            ),
        )
    cols = {mapping[n]: raw.table.column(n) for n in raw.columns if n in mapping}
    parts = [problems_frame(problems), _blank_rows(raw)]
    df = pd.DataFrame(index=pd.Index(raw.row_numbers, name="row"))
    originals: dict[str, pd.Series] = {}
    for name in ("pseudo_id", "emd_code"):
        df[name] = _strings(cols[name])
    for name, table in (("head_sex", SEX_MAP), ("housing_type", HOUSING_MAP), ("welfare_status", WELFARE_MAP)):
        df[name] = _codes(cols[name], table).to_numpy()
        originals[name] = pd.Series(_text(cols[name]).to_numpy(zero_copy_only=False), index=df.index)
    bool_col = _codes(cols["one_person"], BOOL_TEXT)
    originals["one_person"] = pd.Series(_text(cols["one_person"]).to_numpy(zero_copy_only=False), index=df.index)
    one, bad = _integers(raw, pa.chunked_array([pc.cast(pa.array(bool_col.array), pa.string())]), "one_person")
    parts.append(bad)
    df["one_person"] = one.array
    int_cols = ["head_age", "household_size"] + (list(catalogue.codes) if layout == "wide" else ["value"])
    for name in int_cols:
        values, bad = _integers(raw, cols[name], name)
        parts.append(bad)
        df[name] = values.array
    if layout == "long":
        df["indicator_code"] = _strings(cols["indicator_code"])
    df = df.astype({c: "Int64" for c in int_cols + ["one_person"]})
    schema_report = run_schema(household_schema(catalogue, emd_codes, layout), df, raw.file, originals)
    parts.append(_without_echoes(schema_report, parts))
    parts.append(_cross_checks(raw.file, df, layout, catalogue, duplicates))
    report = finish_report(parts)
    ids = df["pseudo_id"] if layout == "wide" else None
    if not report.empty:
        return Checked("households", layout, len(raw), None, None, None, report, ids=ids)
    rows = (df.index[~df["pseudo_id"].duplicated()] if layout == "long" else df.index).to_numpy(np.int64)
    return Checked("households", layout, len(raw), *_split(df, layout, catalogue), None, report, rows, ids)


def _without_echoes(report: pd.DataFrame, earlier: list[pd.DataFrame | None]) -> pd.DataFrame:
    """Drop "empty" failures of cells already reported as not numbers (they became empty)."""
    earlier = [p for p in earlier if p is not None and not p.empty]
    if report.empty or not earlier:
        return report

    def key(frame):
        return frame["row"].astype("string").fillna("") + "|" + frame["column"].astype("string").fillna("")

    seen = key(pd.concat(earlier))
    echo = key(report).isin(set(seen)) & (report["message"] == MESSAGES["not_nullable"])
    return report[~echo.to_numpy()]


def _cross_checks(file: str, df: pd.DataFrame, layout: str, catalogue: Catalogue, duplicates: bool) -> pd.DataFrame:
    parts = []
    size, one = df["household_size"], df["one_person"]
    mismatch = (one.notna() & size.notna() & ((one == 1) != (size == 1))).fillna(False).to_numpy(bool)
    if mismatch.any():
        parts.append(
            problem_rows(
                file,
                df.index[mismatch],
                "one_person",
                one[mismatch].to_numpy(),
                [f"{MESSAGES['one_person_size']} (가구원 수 {s})" for s in size[mismatch]],
            )
        )
    attrs = list(HOUSEHOLD_COLUMNS)[1:]
    if layout == "wide":
        if duplicates:
            parts.append(duplicate_ids(file, df))
        return finish_report(parts)
    parts.append(
        _duplicates(
            file,
            df,
            ["pseudo_id", "indicator_code"],
            "같은 가구·지표가 두 번 나옵니다. 한 가구의 한 지표는 한 행이어야 합니다",
        )
    )
    code, value = df["indicator_code"], df["value"]
    need_value = (code.notna() & value.isna()).to_numpy(bool)
    if need_value.any():
        parts.append(
            problem_rows(file, df.index[need_value], "value", [None] * int(need_value.sum()), MESSAGES["value_needed"])
        )
    need_code = (code.isna() & value.notna()).to_numpy(bool)
    if need_code.any():
        parts.append(
            problem_rows(
                file, df.index[need_code], "indicator_code", value[need_code].to_numpy(), MESSAGES["code_needed"]
            )
        )
    kind = code.map({i.code: i.kind for i in catalogue.indicators})
    v = value.astype("Float64")
    wrong = (
        ((kind == "flag") & ~v.isin([0, 1]))
        | ((kind == "months") & ~v.between(0, MONTHS_MAX))
        | ((kind == "amount") & ~v.between(0, MAX_INT))
    ) & v.notna()
    wrong = wrong.fillna(False).to_numpy(bool)
    if wrong.any():
        parts.append(
            problem_rows(
                file,
                df.index[wrong],
                "value",
                value[wrong].to_numpy(),
                [f"{MESSAGES['value_for_kind']} ({c}: {k})" for c, k in zip(code[wrong], kind[wrong], strict=False)],
            )
        )
    # A household's attributes are repeated on each of its rows and must agree.
    first = df.groupby("pseudo_id", sort=False)[attrs].transform("first")
    for a in attrs:
        differs = (df[a].astype(object) != first[a].astype(object)).to_numpy(bool) & df["pseudo_id"].notna().to_numpy(
            bool
        )
        if differs.any():
            parts.append(
                problem_rows(
                    file,
                    df.index[differs],
                    a,
                    df.loc[differs, a].to_numpy(),
                    "같은 가구 ID의 앞 행과 값이 다릅니다. 긴 형식에서는 가구 속성을 모든 행에 같게 쓰세요.",
                )
            )
    return finish_report(parts)


def _split(df: pd.DataFrame, layout: str, catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households (one row each) and observations (only signals present: value ≠ 0)."""
    attrs = list(HOUSEHOLD_COLUMNS)
    if layout == "long":
        households = df.drop_duplicates("pseudo_id")[attrs].reset_index(drop=True)
        sig = df[df["indicator_code"].notna() & (df["value"] != 0).fillna(False)]
        obs = pd.DataFrame(
            {
                "pseudo_id": sig["pseudo_id"].to_numpy(),
                "indicator_code": sig["indicator_code"].to_numpy(),
                "value": sig["value"].to_numpy("int64"),
            }
        )
    else:
        households = df[attrs].reset_index(drop=True)
        # Ids stay in Arrow and codes are categories: a national file has ~80 M signals, and
        # one Python string object per signal would take gigabytes.
        ids = pa.chunked_array([pa.array(df["pseudo_id"].array, pa.string())])
        taken, codes, values = [], [], []
        for i, code in enumerate(catalogue.codes):
            v = df[code].to_numpy("float64", na_value=0.0)
            nz = np.flatnonzero(v != 0)
            if len(nz):
                taken.append(ids.take(pa.array(nz)))
                codes.append(np.full(len(nz), i, dtype=np.int16))
                values.append(v[nz].astype(np.int64))
        obs = pd.DataFrame(
            {
                "pseudo_id": pd.arrays.ArrowStringArray(
                    pa.chunked_array([c for t in taken for c in t.chunks], pa.string())
                ),
                "indicator_code": pd.Categorical.from_codes(
                    np.concatenate(codes) if codes else np.zeros(0, np.int16), categories=list(catalogue.codes)
                ),
                "value": np.concatenate(values) if values else np.zeros(0, np.int64),
            }
        )
    households["one_person"] = households["one_person"].astype(bool)
    households["head_age"] = households["head_age"].astype("int16")
    households["household_size"] = households["household_size"].astype("int16")
    return households, obs


# --- outcomes files ------------------------------------------------------------------------------


def check_outcomes(raw: RawTable, household_ids: pd.Series | None) -> Checked:
    """Validate an outcomes (visits) file; every household must be in the round's households file."""
    allowed = _alias_map(OUTCOME_COLUMNS, None)
    mapping, unknown = _normalise(raw, allowed)
    required = [c for c in OUTCOME_COLUMNS if c not in OPTIONAL_OUTCOME_COLUMNS]
    header = _header_problems(raw, mapping, unknown, required, hint_codes=False)
    problems = (list(raw.problems) if mapping else []) + header
    if problems and any(p.row == 1 for p in problems):
        return Checked("outcomes", "outcomes", len(raw), None, None, None, finish_report([problems_frame(problems)]))
    if len(raw) == 0:
        return Checked(
            "outcomes",
            "outcomes",
            0,
            None,
            None,
            None,
            problems_frame(
                problems + [Problem(raw.file, None, None, None, "머리글(1행)만 있고 방문 결과 행이 없습니다.")]
            ),
        )
    cols = {mapping[n]: raw.table.column(n) for n in raw.columns if n in mapping}
    df = pd.DataFrame(index=pd.Index(raw.row_numbers, name="row"))
    df["pseudo_id"] = pd.Series(_text(cols["pseudo_id"]).to_numpy(zero_copy_only=False), index=df.index, dtype=object)
    originals = {}
    for name, table in (("channel", CHANNEL_MAP), ("outcome", OUTCOME_MAP)):
        df[name] = _codes(cols[name], table).to_numpy()
        originals[name] = pd.Series(_text(cols[name]).to_numpy(zero_copy_only=False), index=df.index)
    support = cols.get("support_type")
    df["support_type"] = (
        pd.Series(_text(support).to_numpy(zero_copy_only=False), index=df.index, dtype=object)
        if support is not None
        else pd.Series(None, index=df.index, dtype=object)
    )
    parts = [
        problems_frame(problems),
        _blank_rows(raw),
        run_schema(outcome_schema(), df, raw.file, originals),
        _duplicates(raw.file, df, ["pseudo_id"], "한 가구의 방문 결과가 두 번 나옵니다. 차수마다 한 행이어야 합니다"),
    ]
    if household_ids is not None:
        unknown_hh = (df["pseudo_id"].notna() & ~df["pseudo_id"].isin(household_ids)).to_numpy(bool)
        if unknown_hh.any():
            parts.append(
                problem_rows(
                    raw.file,
                    df.index[unknown_hh],
                    "pseudo_id",
                    df.loc[unknown_hh, "pseudo_id"].to_numpy(),
                    "가구 파일에 없는 가구 ID입니다. 방문 결과는 같은 차수 가구 파일의 가구만 쓸 수 있습니다.",
                )
            )
    report = finish_report(parts)
    return Checked(
        "outcomes", "outcomes", len(raw), None, None, None if not report.empty else df.reset_index(drop=True), report
    )
