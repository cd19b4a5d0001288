"""The crisis-indicator catalogue (위기정보 지표 목록).

``blindspot/data/indicators.csv`` is the single source of truth: the store's
``indicators`` table, the synthetic generator, model features and UI labels all
read it, so adding an indicator is adding one row.  ``domains.csv`` names the six
domains of ``shared/docs/domain.md``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from blindspot.config import PACKAGE_DATA_DIR
from blindspot.errors import BlindspotError

KINDS = ("flag", "months", "amount")
TARGET_GROUPS = ("all", "young", "middle", "older")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,23}$")
_COLUMNS = (
    "code",
    "name_ko",
    "name_en",
    "domain",
    "institution",
    "kind",
    "lonely_death",
    "prevalence",
    "crisis_rr",
    "persistence",
    "target_group",
    "one_person_rr",
    "value_scale",
    "reason_ko",
)


@dataclass(frozen=True)
class Domain:
    code: str
    name_ko: str
    name_en: str
    sort_order: int


@dataclass(frozen=True)
class Indicator:
    """One crisis signal.

    ``kind`` says what its value means: ``flag`` (1 = present), ``months`` (months
    overdue) or ``amount`` (won).  ``prevalence`` is the target share of households
    showing it in a round; ``crisis_rr``, ``persistence``, ``target_group`` and
    ``one_person_rr`` drive the synthetic generator (docs/synthetic-data.md).
    """

    code: str
    name_ko: str
    name_en: str
    domain: str
    institution: str
    kind: str
    lonely_death: bool
    prevalence: float
    crisis_rr: float
    persistence: float
    target_group: str
    one_person_rr: float
    value_scale: int
    reason_ko: str

    def reason(self, value: float | int | None) -> str:
        """Korean reason phrase for an observed value.

        >>> load_catalogue().by_code("health_ins_arrears").reason(6)
        '건강보험료 6개월 체납'
        >>> load_catalogue().by_code("fin_delinquency").reason(3500000)
        '금융연체 3,500,000원'
        """
        if self.kind == "flag" or value is None:
            return self.reason_ko
        return self.reason_ko.replace("{value}", f"{int(value):,}")


@dataclass(frozen=True)
class Catalogue:
    indicators: tuple[Indicator, ...]
    domains: tuple[Domain, ...]

    def __len__(self) -> int:
        return len(self.indicators)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def by_code(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    def domain(self, code: str) -> Domain:
        for d in self.domains:
            if d.code == code:
                return d
        raise KeyError(code)

    def in_domain(self, domain: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.domain == domain)


def _fail(path: Path, row: int, field: str, value: object, why: str) -> BlindspotError:
    return BlindspotError(f"{path.name} {row}행 '{field}' 값 {value!r}: {why}")


def _float(path: Path, row: int, rec: dict, field: str, lo: float, hi: float) -> float:
    try:
        v = float(rec[field])
    except (TypeError, ValueError):
        raise _fail(path, row, field, rec[field], "숫자가 아닙니다") from None
    if not lo <= v <= hi:
        raise _fail(path, row, field, v, f"{lo}~{hi} 범위를 벗어났습니다")
    return v


def parse_catalogue(indicator_csv: Path, domain_csv: Path) -> Catalogue:
    """Read and validate the two catalogue files; errors name file, row and field."""
    with open(domain_csv, encoding="utf-8", newline="") as f:
        domains = tuple(
            Domain(r["domain"], r["name_ko"], r["name_en"], int(r["sort_order"])) for r in csv.DictReader(f)
        )
    domain_codes = {d.code for d in domains}
    out: list[Indicator] = []
    seen: set[str] = set()
    with open(indicator_csv, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BlindspotError(f"{indicator_csv.name}: 필수 열이 없습니다: {', '.join(missing)}")
        for row, rec in enumerate(reader, start=2):  # row 1 is the header
            code = rec["code"]
            if not _CODE_RE.match(code or ""):
                raise _fail(indicator_csv, row, "code", code, "영문 소문자·숫자·밑줄 2~24자여야 합니다")
            if code in seen:
                raise _fail(indicator_csv, row, "code", code, "중복된 코드입니다")
            seen.add(code)
            if rec["domain"] not in domain_codes:
                raise _fail(indicator_csv, row, "domain", rec["domain"], f"{sorted(domain_codes)} 중 하나여야 합니다")
            if rec["kind"] not in KINDS:
                raise _fail(indicator_csv, row, "kind", rec["kind"], f"{KINDS} 중 하나여야 합니다")
            if rec["target_group"] not in TARGET_GROUPS:
                raise _fail(
                    indicator_csv, row, "target_group", rec["target_group"], f"{TARGET_GROUPS} 중 하나여야 합니다"
                )
            if rec["lonely_death"] not in ("true", "false"):
                raise _fail(indicator_csv, row, "lonely_death", rec["lonely_death"], "true 또는 false 여야 합니다")
            has_slot = "{value}" in rec["reason_ko"]
            if has_slot != (rec["kind"] != "flag"):
                raise _fail(
                    indicator_csv,
                    row,
                    "reason_ko",
                    rec["reason_ko"],
                    "months/amount 지표의 문구에는 {value} 자리가 있어야 하고 flag 지표에는 없어야 합니다",
                )
            for text_field in ("name_ko", "name_en", "institution"):
                if not (rec[text_field] or "").strip():
                    raise _fail(indicator_csv, row, text_field, rec[text_field], "비어 있습니다")
            out.append(
                Indicator(
                    code=code,
                    name_ko=rec["name_ko"].strip(),
                    name_en=rec["name_en"].strip(),
                    domain=rec["domain"],
                    institution=rec["institution"].strip(),
                    kind=rec["kind"],
                    lonely_death=rec["lonely_death"] == "true",
                    prevalence=_float(indicator_csv, row, rec, "prevalence", 0.0001, 0.2),
                    crisis_rr=_float(indicator_csv, row, rec, "crisis_rr", 1.0, 100.0),
                    persistence=_float(indicator_csv, row, rec, "persistence", 0.0, 0.95),
                    target_group=rec["target_group"],
                    one_person_rr=_float(indicator_csv, row, rec, "one_person_rr", 0.5, 5.0),
                    value_scale=int(_float(indicator_csv, row, rec, "value_scale", 1, 1e9)),
                    reason_ko=rec["reason_ko"].strip(),
                )
            )
    if not out:
        raise BlindspotError(f"{indicator_csv.name}: 지표가 하나도 없습니다.")
    return Catalogue(tuple(out), tuple(sorted(domains, key=lambda d: d.sort_order)))


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The catalogue shipped with the package (cached: it is read-only)."""
    return parse_catalogue(PACKAGE_DATA_DIR / "indicators.csv", PACKAGE_DATA_DIR / "domains.csv")
