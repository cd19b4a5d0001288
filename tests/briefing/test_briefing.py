"""Council briefing: safe aggregates, the evaluation table, targets, the PDF/PNG pack."""

from __future__ import annotations

import io
import re
import shutil

import pytest
from PIL import Image
from pypdf import PdfReader

from blindspot.access import Scope
from blindspot.briefing import data as briefing
from blindspot.briefing import pack as briefpack
from blindspot.db.store import Store, open_store
from blindspot.errors import AccessDenied, BlindspotError


@pytest.fixture(scope="module")
def gwangju(modelled):
    path, _, _ = modelled
    st = open_store(path)
    return st, briefing.build(st, Scope.aggregates_only(), "29", 20243)


def test_kpis_match_hand_counts(gwangju):
    st, b = gwangju
    flagged, confirmed, supported = st.rows("""
        SELECT count(*), count(*) FILTER (WHERE outcome IN ('need_confirmed', 'supported')),
               count(*) FILTER (WHERE outcome = 'supported')
        FROM visits WHERE round_id = 20243 AND sgg_code LIKE '29%'""")[0]
    at_risk = st.scalar("""SELECT count(*) FROM scores WHERE round_id = 20243 AND sgg_code LIKE '29%'
                           AND band IN ('high', 'medium')""")
    assert b.kpis["flagged"] == flagged and b.kpis["confirmed"] == confirmed
    assert b.kpis["supported"] == supported and b.kpis["at_risk"] == at_risk
    assert b.kpis["supported_rate"] == round(100 * supported / flagged, 1)
    # A stage hidden by suppression is None among the tiles and an empty (NaN) bar in the funnel.
    bars = [None if v != v else v for v in b.funnel["가구"].tolist()]
    assert bars == [flagged, b.kpis["contacted"], confirmed, supported]
    assert b.area == {"code": "29", "name": "광주광역시", "level": "sido"}
    assert b.previous_code == "2024-R2" and b.model_version
    assert list(b.trend["차수"]) == ["2023년 6차", "2024년 1차", "2024년 2차", "2024년 3차"]
    assert len(b.ranking) == 5 and b.ranking_measure == "at_risk_rate"  # 광주's five 구


@pytest.mark.parametrize("k", [5, 20, 60])
def test_every_shown_count_passes_suppression(modelled, k):
    st = open_store(modelled[0])
    b = briefing.build(st, Scope.aggregates_only(min_count=k), "36", 20243, k=k)
    counts = [
        b.kpis[key] for key in ("households", "one_person", "flagged", "contacted", "confirmed", "supported", "at_risk")
    ]
    counts += b.funnel["가구"].tolist()
    counts += [v for col in ("발굴", "욕구 확인", "지원 연계") for v in b.channels[col].tolist()]
    shown = [v for v in counts if v is not None and v == v]
    assert all(v == 0 or v >= k for v in shown)
    if k == 60:  # 세종's rarer channels fall under 60 and must be hidden
        assert b.channels.isna().any().any() or any(v is None for v in b.channels["욕구 확인"])


def test_a_district_cannot_brief_another_area(modelled):
    st = open_store(modelled[0])
    with pytest.raises(AccessDenied):
        briefing.build(st, Scope.district(["29110"]), "36", 20243)
    with pytest.raises(BlindspotError, match="전국"):
        briefing.build(st, Scope.district(["29110"]), "00", 20243)
    b = briefing.build(st, Scope.district(["29110"]), "29110", 20243)
    assert b.area["level"] == "sgg" and set(b.ranking["code"].str[:5]) == {"29110"}


def test_targets_are_saved_and_give_achievement(modelled, tmp_path):
    db = tmp_path / "t.duckdb"
    shutil.copy(modelled[0], db)
    st = Store(db)
    try:
        briefing.save_targets(st, Scope.all_areas(), "29", {"flagged": 200.0, "supported_rate": None}, "tester")
        b = briefing.build(st, Scope.aggregates_only(), "29", 20243)
        row = b.table.set_index("key").loc["flagged"]
        assert row["목표 A"] == 200.0 and row["달성률 (%)"] == round(100 * b.kpis["flagged"] / 200, 1)
        with pytest.raises(AccessDenied):
            briefing.save_targets(st, Scope.district(["29110"]), "36", {"flagged": 1.0}, "x")
        with pytest.raises(BlindspotError, match="알 수 없는 지표"):
            briefing.save_targets(st, Scope.all_areas(), "29", {"nonsense": 1.0}, "x")
    finally:
        st.close()


def test_pack_renders_pdf_and_pngs_with_korean_stamp_and_no_household(gwangju):
    st, b = gwangju
    pdf, pngs = briefpack.render(st, Scope.aggregates_only(), b)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 8
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "복지사각지대 발굴 현황 브리핑" in text and "광주광역시" in text
    assert "자료 차수 2024-R3" in text and f"모델 {b.model_version}" in text and "합성 데이터" in text
    assert "출처: 통계청 SGIS, 행정안전부 주민등록 인구통계" in text
    assert f"{b.kpis['flagged']:,}" in text
    assert "광주광역시 발굴 격차 (2024년 3차)" in text and "예상 위기 가구" in text  # the reach-gap page
    assert not re.search(r"\bH[0-9A-F]{8}\b", text)  # no pseudonymous household id anywhere
    fonts = {f.get_object()["/BaseFont"] for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("NanumGothic" in f for f in fonts)
    assert set(pngs) == {
        "1인가구_지도.png",
        "핫스팟_지도.png",
        "발굴격차_지도.png",
        "발굴_깔때기.png",
        "차수별_추이.png",
        "상위하위_지역.png",
    }
    for data in pngs.values():
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.size[0] > 800
        assert len(image.convert("RGB").getcolors(1 << 24)) > 20  # drawn, not blank


def test_compare_two_rounds(modelled):
    st = open_store(modelled[0])
    a = briefing.build(st, Scope.aggregates_only(), "29", 20242)
    b = briefing.build(st, Scope.aggregates_only(), "29", 20243)
    table = briefing.compare(a, b).set_index("지표")
    row = table.loc["발굴 가구 (방문 대상, 가구)"]
    assert row["차이 (B−A)"] == b.kpis["flagged"] - a.kpis["flagged"]
