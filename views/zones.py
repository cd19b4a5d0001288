"""사회보장 특별지원구역: 시군구(전국)·읍면동(시군구 안) 필요 지수, 성분과 가중치, 순위와 부트스트랩 순위 구간."""

import streamlit as st

from blindspot import glossary
from blindspot.access import may
from blindspot.app import data, login, widgets, zonedata
from blindspot.zones import export, present
from blindspot.zones import figures as zones

st.title(f"사회보장 {glossary.SPECIAL_ZONES}")
st.caption(
    f"{glossary.NEED_INDEX}: 성분마다 순위에 든 지역 사이의 표준점수(평균 0, 표준편차 1)를 가중치로 평균한 값 "
    "(0 = 평균 지역, 높을수록 필요가 큼). 순위 구간은 차수를 복원 추출해 다시 매긴 순위의 95% 범위입니다. "
    "시군구 순위는 전국, 읍면동 순위는 시군구 하나 안에서 매깁니다."
)
scope = login.current_scope()

levels = ["sgg", "emd"] if scope.is_national else ["emd"]
c1, c2, c3 = st.columns([2, 3, 2])
with c1:
    level = st.radio("순위 단위", levels, format_func=glossary.RANKING_LEVELS.get, key="zones_level")
with c2:
    area = widgets.area_picker(scope, "emd", key="zones_area") if level == "emd" else None
with c3:
    round_id = widgets.round_picker("기준 차수", key="zones_round")

weights = zones.default_weights()
if may(scope.role, "set_zone_weights"):
    with st.expander("가중치 바꾸기 (분석가)", expanded=False):
        st.caption("가중치는 상대값입니다 (합으로 나눔). 0 이면 그 성분을 빼고, 기본값은 설정 zones_weight_* 입니다.")
        cols = st.columns(4)
        for i, c in enumerate(zones.COMPONENTS):
            weights[c.key] = cols[i % 4].number_input(
                c.label, min_value=0.0, max_value=10.0, value=weights[c.key], step=0.05, key=f"zones_w_{c.key}"
            )

if level == "emd" and (area is None or len(area) != 5):
    st.info("읍면동 순위는 시군구 하나 안에서 매깁니다: 시군구를 고르세요.")
elif sum(weights.values()) <= 0:
    st.warning("가중치가 모두 0 입니다: 하나 이상에 0 보다 큰 가중치를 주세요.")
else:
    key = tuple(sorted(weights.items()))
    try:
        ranking = zonedata.zone_ranking(scope, level, area, round_id, key)
    except zones.ZonesError as exc:
        ranking = None
        st.info(str(exc))
    if ranking is not None:
        table = ranking.table
        ranked = int((table["status"] == "ranked").sum())
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("순위에 든 지역", f"{ranked:,} / {len(table):,}")
        m2.metric("쓴 차수", f"{len(ranking.rounds)}개")
        m3.metric("부트스트랩", f"{ranking.replicates:,}회")
        m4.metric("난수 시드", str(ranking.seed))
        st.caption(
            "쓴 차수: "
            + ", ".join(glossary.round_label(r) for r in ranking.rounds)
            + f". {present.formula_text(ranking)}"
        )
        st.subheader(f"{present.INDEX} 순위")
        left, right = st.columns([2, 3])
        with left:
            layer = data.region_layer(scope, level, area)
            deck, legend = present.index_map(ranking, layer, "전국" if area is None else scope.label)
            st.pydeck_chart(deck, key="zones_map", height=480)
            widgets.legend(legend, f"{present.INDEX} (평균 지역 = 0, 표준편차 단위)")
        with right:
            st.dataframe(present.ranking_table(ranking), hide_index=True, width="stretch", height=480)
        if ranked < len(table):
            st.caption(
                f"{glossary.SUPPRESSED}: 쓴 차수 가운데 한 번이라도 소수 억제로 가려진 성분이 있는 지역은 "
                "순위에서 뺍니다. "
                f"{glossary.NO_DATA}: 가구 자료가 없는 지역."
            )
        st.subheader("성분과 가중치")
        st.dataframe(present.weights_table(ranking), hide_index=True, width="stretch")
        st.caption(present.FORMULA)

        st.subheader("내려받기")
        d1, d2 = st.columns(2)
        xlsx = export.ranking_xlsx(ranking, scope)
        widgets.download_button(
            "순위와 방법 (XLSX)", xlsx, export.file_name(ranking), export.MIME, "zones_xlsx", where=d1
        )
        if d2.button("지정 회의용 한 장 (PDF) 만들기", key="zones_make_pdf"):
            st.session_state["zones_pdf_for"] = (level, area, round_id, key)
        if st.session_state.get("zones_pdf_for") == (level, area, round_id, key):
            pdf = zonedata.zone_brief(scope, level, area, round_id, key)
            widgets.download_button(
                "PDF 내려받기",
                pdf,
                export.file_name(ranking).replace(".xlsx", ".pdf"),
                "application/pdf",
                "zones_pdf",
                where=d2,
            )

st.caption("성분마다의 근거와 정의: docs/zones.md.")
