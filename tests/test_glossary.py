"""One glossary: docs/glossary.md is made from blindspot/glossary.py, and the labels on screen
and in files come from it."""

import ast
import re

import pytest

from blindspot import config, glossary
from blindspot.briefing import data as briefing
from blindspot.maps import hexgrid
from blindspot.maps import measures as mapmeasures


def test_the_document_is_the_table():
    assert (config.PROJECT_DIR / "docs" / "glossary.md").read_text(encoding="utf-8") == glossary.markdown()


def test_one_term_for_the_households_at_risk():
    """위험군 (위험 + 주의) is one term on the map, the hexagons, the briefing and its files."""
    assert mapmeasures.RISK_BANDS == {"high": "위험", "medium": "주의", "low": "관심", "none": "해당 없음"}
    labels = {m.key: m.label for m in mapmeasures.measures([])}
    assert labels["at_risk"] == glossary.AT_RISK_COUNT and labels["at_risk_rate"] == glossary.AT_RISK_RATE
    assert hexgrid.MEASURES["at_risk"] == glossary.AT_RISK_COUNT
    assert hexgrid.MEASURES["at_risk_rate"] == glossary.AT_RISK_RATE
    indicator = {k: label for k, label, *_ in briefing.INDICATORS}
    assert indicator["at_risk"] == glossary.AT_RISK_HOUSEHOLDS == "위험군 가구"
    assert all("위험·주의 가구" not in text for text in [*labels.values(), *indicator.values()])


def test_rounds_read_as_year_and_round():
    assert glossary.round_label("2023-R4") == "2023년 4차" and glossary.round_label(20236) == "2023년 6차"


def test_one_term_for_the_reach_gap():
    """발굴 격차, 예상 위기 가구 and 발견 are the glossary's words on the page, in files and the pack."""
    from blindspot.app.pages import PAGE_TITLES
    from blindspot.reach import present

    assert PAGE_TITLES["reach_gap"] == glossary.REACH_GAP == "발굴 격차"
    assert (present.EXPECTED, present.FOUND) == (glossary.EXPECTED_CRISIS, glossary.FOUND) == ("예상 위기 가구", "발견")
    assert all(term in glossary.TERMS for term in (glossary.REACH_GAP, glossary.EXPECTED_CRISIS, glossary.FOUND))


# --- one name per concept, one home for the names ---------------------------------------------

SOURCES = sorted(
    [
        *(config.PROJECT_DIR / "blindspot").rglob("*.py"),
        *(config.PROJECT_DIR / "views").rglob("*.py"),
        config.PROJECT_DIR / "app.py",
    ]
)
HANGUL = re.compile(r"[가-힣]")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants (notes for developers, not text anyone reads on screen)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _synonym_table(tree: ast.AST) -> set[int]:
    """ids of the constants of the glossary's own list of words not to use."""
    return {
        id(c)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SYNONYMS" for t in node.targets)
        for c in ast.walk(node.value)
    }


def korean_strings(path) -> list[tuple[int, str]]:
    """(line, text) of every Korean string constant of a module, f-string parts included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _synonym_table(tree)
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and HANGUL.search(node.value)
    )


def test_the_scan_sees_strings_and_fstrings_but_not_docstrings(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '"""위험·주의 가구 (a docstring)."""\nA = f"{x} 회차 보기"\nB = "중위수 구간"\n', encoding="utf-8"
    )
    assert [text for _, text in korean_strings(module)] == [" 회차 보기", "중위수 구간"]


def test_no_text_uses_a_word_the_glossary_replaced():
    """회차 is 차수, 위험·주의 가구 is 위험군 가구, a quantile class is 분위수 구간: every
    string the app shows or writes (docstrings aside) uses the glossary's word."""
    assert (
        glossary.SYNONYMS["회차"] == glossary.ROUND
        and glossary.SYNONYMS["위험·주의 가구"] == glossary.AT_RISK_HOUSEHOLDS
    )
    found = [
        f"{path.relative_to(config.PROJECT_DIR)}:{line}: {other!r} → {term!r}"
        for path in SOURCES
        for line, text in korean_strings(path)
        for other, term in glossary.SYNONYMS.items()
        if other in text
    ]
    assert found == []


def test_the_replaced_words_are_not_glossary_names():
    names = {str(v) for _, table, _ in glossary.TABLES.values() for v in table.values()}
    assert not any(other in name for other in glossary.SYNONYMS for name in names | set(glossary.TERMS))
    # The word to use instead is the glossary's: a name, a term, or part of one ("위기 가구").
    words = names | set(glossary.TERMS) | {glossary.AT_RISK_HOUSEHOLDS}
    assert all(any(term in word for word in words) for term in glossary.SYNONYMS.values())


@pytest.mark.parametrize("name", sorted(glossary.TABLES))
def test_a_table_gives_each_concept_one_name(name):
    """No two codes of a table read the same, except codes kept for the same column."""
    _, table, _ = glossary.TABLES[name]
    canonical = {glossary.COLUMN_ALIASES.get(c, c): v for c, v in table.items()}
    names = list(canonical.values())
    assert len(names) == len(set(names)), [v for v in names if names.count(v) > 1]
    assert all(isinstance(v, str) and v.strip() == v and HANGUL.search(v) or v.isascii() for v in names)


def test_a_code_has_one_name_across_its_namespace():
    """Tables that share a namespace name a shared code alike: 위험 is high as a band and as a
    case tier; 가명 ID, 읍면동 and 차수 are the same headers in every frame; 비공개 and
    자료 없음 mean the same on the reach-gap and the zones pages."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    clashes = []
    for name, (_, table, spaces) in glossary.TABLES.items():
        for space in spaces:
            for code, label in table.items():
                key = (space, glossary.COLUMN_ALIASES.get(code, code) if space == "column" else code)
                if key in seen and seen[key][1] != label:
                    clashes.append(f"{space}/{code}: {seen[key][0]} {seen[key][1]!r} ≠ {name} {label!r}")
                seen.setdefault(key, (name, label))
    assert clashes == []
    assert glossary.TIER_LABELS["high"] == glossary.BAND_LABELS["high"] == "위험"
    assert glossary.REACH_CLASSES["hidden"] == glossary.ZONE_STATUS["hidden"] == glossary.SUPPRESSED == "비공개"


def test_the_risk_list_headers_agree_with_the_glossary():
    """The risk list keeps its own header table (for now); where it names a shared column it
    uses the glossary's header."""
    from blindspot.casework import lists

    shared = set(lists.COLUMNS) & set(glossary.COLUMNS)
    assert {"pseudo_id", "emd_name", "band", "probability"} <= shared
    assert {c: lists.COLUMNS[c] for c in shared} == {c: glossary.COLUMNS[c] for c in shared}


def test_feature_modules_read_their_names_from_the_glossary():
    """The old names of the tables are the glossary's tables, not copies that could drift."""
    from blindspot import vocab
    from blindspot.access import ROLES, SUPPRESSED
    from blindspot.casework import audit, describe, exports
    from blindspot.followup import cadence, cases
    from blindspot.ingest import report
    from blindspot.maps import render, spatial
    from blindspot.model import backtest, capacity, card, pipeline, registry
    from blindspot.reach import figures as reach
    from blindspot.zones import figures as zones

    pairs = [
        (vocab.OUTCOMES, glossary.OUTCOMES),
        (vocab.CHANNELS, glossary.CHANNELS),
        (vocab.HOUSING_TYPES, glossary.HOUSING_TYPES),
        (ROLES, glossary.ROLES),
        (audit.ACTIONS, glossary.AUDIT_ACTIONS),
        (describe.FILTER_LABELS, glossary.FILTER_LABELS),
        (exports.AUDIT_COLUMNS, glossary.AUDIT_COLUMNS),
        (cadence.TIER_LABELS, glossary.TIER_LABELS),
        (cadence.METHODS, glossary.CONTACT_METHODS),
        (cases.ROW_COLUMNS, glossary.CASE_COLUMNS),
        (report.REPORT_LABELS, glossary.REPORT_LABELS),
        (render.METHODS, glossary.CLASS_METHODS),
        (spatial.GI_CLASSES, glossary.GI_CLASSES),
        (spatial.EMERGING_LABELS, glossary.EMERGING_LABELS),
        (backtest.RANKING_KO, glossary.RANKINGS),
        (capacity.RULE_LABELS, glossary.CAPACITY_RULES),
        (card.METRIC_LABELS, glossary.METRIC_LABELS),
        (pipeline.FEATURE_LABELS, glossary.FEATURE_LABELS),
        (registry.GATE_STATUS, glossary.GATE_STATUS),
        (reach.CLASSES, glossary.REACH_CLASSES),
        (zones.STATUS, glossary.ZONE_STATUS),
    ]
    assert all(mine is theirs for mine, theirs in pairs)
    assert SUPPRESSED == glossary.SUPPRESSED
    assert exports.SUMMARY_COLUMNS["high"] == "위험" and ROLES["presenter"] == "발표자"
    assert render.METHODS["quantiles"] == "분위수 구간 (quantiles)"


def _check_values(column: str) -> set[str]:
    """The codes a column of the database schema may hold (its CHECK (… IN (…)) list)."""
    from blindspot.db import schema

    text = " ".join(s for s in vars(schema).values() if isinstance(s, str)) + " ".join(
        s for v in vars(schema).values() if isinstance(v, list | tuple) for s in v if isinstance(s, str)
    )
    match = re.search(rf"\b{column}\s+IN\s*\(([^)]*)\)", text)
    assert match, column
    return set(re.findall(r"'([^']*)'", match.group(1)))


def test_every_code_the_data_can_carry_has_a_name():
    from blindspot.access import PAGES
    from blindspot.maps import spatial
    from blindspot.model import features

    assert _check_values("channel") == set(glossary.CHANNELS)
    assert _check_values("outcome") == set(glossary.OUTCOMES)
    assert _check_values("band") == set(glossary.BAND_LABELS)
    assert _check_values("level") == set(glossary.LEVELS)
    assert set(features.NUMERIC) | set(features.CATEGORICAL) == set(glossary.FEATURE_LABELS)
    assert set(PAGES) == set(glossary.ROLES) == set(glossary.ROLE_MEANINGS)
    gi = {f"{side}_{level}" for side in ("hot", "cold") for _, level in spatial.LEVELS}
    assert gi | {"not_significant", "not_tested"} == set(glossary.GI_CLASSES)
    assert set(spatial._QUADRANT.values()) | {"not_significant", "not_tested"} == set(glossary.MORAN_CLASSES)
    assert set(glossary.TIER_LABELS) == {"high", "medium", "low", "closed"}


def test_the_glossary_document_lists_every_table():
    text = glossary.markdown()
    assert all(f"### {title}\n" in text for title, _, _ in glossary.TABLES.values())
    assert "| `presenter` | 발표자 |" in text and "| 회차 | 차수 |" in text
    assert "| 발표자 | 집계만: 소수 억제(비공개)를 거친 지도·브리핑, 가구 단위 자료 없음. |" in text


def test_a_map_measure_has_one_name_on_every_map():
    """The region map, the hexagons and the glossary name a measure alike."""
    labels = {m.key: m.label for m in mapmeasures.measures([])}
    assert {k: labels[k] for k in glossary.MAP_MEASURES} == glossary.MAP_MEASURES
    assert all(labels[k] == label for k, label in hexgrid.MEASURES.items())
    assert labels["households"] == "가구 수" and labels["one_person_share"] == "1인 가구 비율"


def _is_korean_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(HANGUL.search(node.value))


def literal_headers(path) -> list[tuple[int, str, str]]:
    """(line, code, header) of every dict entry of a module that maps an ASCII string key (a
    column code) to a Korean string literal, or to a call whose first argument is one
    (``st.column_config.NumberColumn("가구", …)``): a header written in place, not taken from
    the glossary."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isascii()):
                continue
            header = value.args[0] if isinstance(value, ast.Call) and value.args else value
            if _is_korean_literal(header):
                out.append((value.lineno, key.value, header.value))
    return out


def test_the_header_scan_sees_plain_and_configured_headers(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        'A = {"n": "가구", "p": st.column_config.NumberColumn("위기 확률", format="percent"), **B}\n'
        'C = {"x": g.T["x"], "y": st.column_config.NumberColumn(g.T["y"], help="설명"), "모델": 1}\n'
        'D = {"z": NumberColumn("PSI"), 1: "하나", "w": f"{g.T} (구간)"}\n',
        encoding="utf-8",
    )
    assert literal_headers(module) == [(1, "n", "가구"), (1, "p", "위기 확률")]


def test_the_views_take_their_column_headers_from_the_glossary():
    """A column code's header on a page is the glossary's (glossary.MODEL_LIST_COLUMNS["gate"],
    …), never a Korean literal in the view: one name per code, listed in docs/glossary.md."""
    found = [
        f"{path.relative_to(config.PROJECT_DIR)}:{line}: {code!r}: {header!r}"
        for path in sorted((config.PROJECT_DIR / "views").glob("*.py"))
        for line, code, header in literal_headers(path)
    ]
    assert found == []
