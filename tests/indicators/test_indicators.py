import csv
import shutil

import pytest

from blindspot.config import PACKAGE_DATA_DIR
from blindspot.errors import BlindspotError
from blindspot.indicators.catalogue import load_catalogue, parse_catalogue


def test_catalogue_spans_domains_and_kinds():
    cat = load_catalogue()
    assert len(cat) >= 40
    assert {d.code for d in cat.domains} == {"economy", "housing", "health", "finance", "employment", "family"}
    for d in cat.domains:
        assert len(cat.in_domain(d.code)) >= 4, d.code
    kinds = {i.kind for i in cat.indicators}
    assert kinds == {"flag", "months", "amount"}
    assert any(i.lonely_death for i in cat.indicators)
    assert 0.005 < sum(i.prevalence for i in cat.indicators) / len(cat) < 0.02


@pytest.mark.parametrize(
    "code, value, expected",
    [
        ("health_ins_arrears", 6, "건강보험료 6개월 체납"),
        ("elec_cutoff", 1, "단전"),
        ("fin_delinquency", 3_500_000, "금융연체 3,500,000원"),
        ("elec_cutoff", None, "단전"),
    ],
)
def test_reason_text(code, value, expected):
    assert load_catalogue().by_code(code).reason(value) == expected


def _copy(tmp_path):
    ind = tmp_path / "indicators.csv"
    dom = tmp_path / "domains.csv"
    shutil.copy(PACKAGE_DATA_DIR / "indicators.csv", ind)
    shutil.copy(PACKAGE_DATA_DIR / "domains.csv", dom)
    rows = list(csv.DictReader(open(ind, encoding="utf-8")))
    return ind, dom, rows


def _write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def test_adding_an_indicator_is_adding_a_row(tmp_path):
    ind, dom, rows = _copy(tmp_path)
    rows.append({**rows[0], "code": "new_signal", "name_ko": "새 지표", "reason_ko": "새 지표"})
    _write(ind, rows)
    cat = parse_catalogue(ind, dom)
    assert len(cat) == len(load_catalogue()) + 1
    assert cat.by_code("new_signal").name_ko == "새 지표"


@pytest.mark.parametrize(
    "row_index, field, value, message",
    [
        (0, "kind", "percent", "kind"),
        (3, "code", "Bad-Code", "code"),
        (1, "code", "elec_cutoff", "중복"),
        (2, "prevalence", "abc", "숫자"),
        (2, "prevalence", "0.9", "범위"),
        (0, "reason_ko", "단전 {value}", "reason_ko"),
        (1, "reason_ko", "전기요금 체납", "reason_ko"),
        (4, "domain", "weather", "domain"),
    ],
)
def test_bad_catalogue_names_file_row_and_field(tmp_path, row_index, field, value, message):
    ind, dom, rows = _copy(tmp_path)
    rows[row_index][field] = value
    _write(ind, rows)
    with pytest.raises(BlindspotError) as err:
        parse_catalogue(ind, dom)
    text = str(err.value)
    assert "indicators.csv" in text and f"{row_index + 2}행" in text and message in text


def test_missing_column_is_reported(tmp_path):
    ind, dom, rows = _copy(tmp_path)
    _write(ind, [{k: v for k, v in r.items() if k != "crisis_rr"} for r in rows])
    with pytest.raises(BlindspotError, match="crisis_rr"):
        parse_catalogue(ind, dom)
