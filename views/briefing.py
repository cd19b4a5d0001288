"""브리핑: 의회·동료 발표용 화면과 브리핑 자료(PDF·PNG) — 소수 억제를 거친 집계만."""

import streamlit as st

from blindspot import glossary
from blindspot.app import data, login, widgets
from blindspot.briefing import data as brief

scope = login.current_scope()
top = st.columns([3, 2, 2, 2])
with top[0]:
    st.title("브리핑")
with top[3]:
    presenting = st.toggle("발표 모드", key="presenting", help="사이드바를 숨기고 글자를 크게 합니다.")
widgets.presentation_mode(presenting)

# On the projector the choices fold away, so the figures sit on the first screen (1280 × 720 too).
choices = st.expander("지역·차수·비교 고르기", expanded=False) if presenting else st.container()
with choices:
    c1, c2, c3 = st.columns([3, 3, 2])
with c1:
    area = widgets.area_picker(scope, "emd", key="brief_area", nation_code="00")
with c2:
    round_id = widgets.round_picker(key="brief_round")
with c3:
    mode = st.radio("비교", ["없음", "두 차수", "두 지역"], horizontal=True, key="brief_compare")
b = data.briefing(scope, area, round_id)

st.subheader(f"{b.area['name']} · {b.round_ko}")
st.caption(b.stamp)
tiles = st.columns(5)
for col, (key, label) in zip(
    tiles,
    [
        ("flagged", "발굴 가구"),
        ("confirmed", "욕구 확인"),
        ("supported", "지원 연계"),
        ("supported_rate", "지원 연계율 (%)"),
        ("at_risk", glossary.AT_RISK_HOUSEHOLDS),
    ],
    strict=False,
):
    value, before = b.kpis.get(key), b.previous.get(key)
    delta = None if value is None or before is None else round(value - before, 1)
    col.metric(
        label,
        brief.shown(b, key),
        delta,
        # Coloured by meaning: fewer households at risk is good (green), more found and supported too.
        delta_color=brief.DELTA_COLOUR.get(key, "normal"),
        help=f"이전 차수({b.previous_code}) 대비" if b.previous_code else None,
    )

if presenting:  # the area on screen for the room, the map the pack prints
    st.image(data.briefing_map(scope, area, round_id), width="stretch")

table = brief.as_text(b.table, ["실적 B"]).assign(
    **{"달성률 (%)": [brief.number_text(v, "—") for v in b.table["달성률 (%)"]]}
)
if not b.model_version:
    table.loc[table["key"] == "at_risk", "실적 B"] = "점수 없음"
shown_columns = ["지표", "목표 A", "실적 B", "달성률 (%)", "산식", "자료출처"]
if data.can_set_targets(scope, area):
    st.markdown("**성과 지표** (목표는 고쳐서 저장할 수 있습니다)")
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        key="brief_table",
        disabled=["key", "지표", "실적 B", "달성률 (%)", "산식", "자료출처"],
        column_order=shown_columns,
        column_config={"목표 A": st.column_config.NumberColumn(min_value=0.0, format="%.1f")},
    )
    if st.button("목표 저장", key="save_targets"):
        changed = data.save_targets(scope, area, dict(zip(edited["key"], edited["목표 A"], strict=False)))
        st.success(
            f"목표를 저장했습니다 (바뀐 지표 {changed}개, 감사 기록에 남았습니다)."
            if changed
            else "바뀐 목표가 없습니다."
        )
        st.rerun()
else:
    st.markdown("**성과 지표**")
    st.dataframe(brief.as_text(table, ["목표 A"], "미설정")[shown_columns], hide_index=True, width="stretch")
    st.caption("목표는 관리자나 그 시군구 담당 공무원만 정할 수 있습니다.")

left, right = st.columns(2)
with left:
    st.markdown("**발굴 → 방문 → 욕구 확인 → 지원**")
    st.bar_chart(b.funnel, x="단계", y="가구", horizontal=True, sort=False)
    st.metric("후속 연락 (사례관리, 첫 방문과 별도; 건)", brief.shown(b, "followup_contacts"))
    hidden = [stage for stage, v in zip(b.funnel["단계"], b.funnel["가구"], strict=False) if v is None or v != v]
    if hidden:
        st.caption(f"비공개 (소수 {b.k} 미만이거나 빼기로 소수가 드러나는 칸): {', '.join(hidden)}")
    st.markdown("**발굴 경로별**")
    st.dataframe(brief.as_text(b.channels, ["발굴", "욕구 확인", "지원 연계"]), hide_index=True, width="stretch")
with right:
    st.markdown("**차수별 추이**")
    st.line_chart(b.trend, x="차수", y=["발굴", "지원 연계"])
    per_1000 = b.ranking_measure == "at_risk_rate"
    label = glossary.AT_RISK_RATE if per_1000 else "1인 가구 비율"
    st.markdown(f"**상위·하위 지역: {label}**")
    ranked = {
        "hide_index": True,
        "width": "stretch",
        "column_order": ["name", b.ranking_measure],
        "column_config": {
            "name": glossary.COLUMNS["name"],
            b.ranking_measure: st.column_config.NumberColumn(label, format="%.1f" if per_1000 else "percent"),
        },
    }
    st.dataframe(b.ranking.head(5), **ranked)
    st.dataframe(b.ranking.tail(5), **ranked)

if mode != "없음":
    st.subheader("비교")
    if mode == "두 차수":
        other = data.briefing(scope, area, widgets.round_picker("비교할 차수", key="brief_round_b"))
    else:
        other = data.briefing(scope, widgets.area_picker(scope, "emd", key="brief_area_b", nation_code="00"), round_id)
    compared = brief.compare(b, other)
    st.dataframe(brief.as_text(compared, list(compared.columns[1:])), hide_index=True, width="stretch")

st.subheader("브리핑 자료")
st.caption(
    "A4 가로 PDF(표지, 성과표, 1인 가구 지도, 핫스팟 지도, 추이·깔때기·상위하위 차트)와 "
    f"지도·차트 PNG: 집계만 담고 가구 단위 자료는 싣지 않습니다 ({glossary.SUPPRESSION} 적용)."
)
if st.button("브리핑 자료 만들기", key="make_pack"):
    st.session_state["pack_for"] = (area, round_id)
if st.session_state.get("pack_for") == (area, round_id):
    pdf, pngs = data.briefing_pack(scope, area, round_id)
    d1, d2 = st.columns(2)
    widgets.download_button(
        "PDF 내려받기", pdf, f"briefing_{area}_{b.round_code}.pdf", "application/pdf", "dl_pdf", where=d1
    )
    widgets.download_button(
        "PNG 묶음 내려받기 (ZIP)",
        pngs,
        f"briefing_{area}_{b.round_code}_png.zip",
        "application/zip",
        "dl_png",
        where=d2,
    )
