"""One glossary: docs/glossary.md is made from blindspot/glossary.py, and the labels on screen
and in files come from it."""

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
