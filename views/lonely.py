"""고독사 위험: 생애주기별 1인 가구와 고독사 위기정보 지도, 중장년 1인 남성, 1인 가구의 고독사 위험 등급 수."""

import streamlit as st

from blindspot import glossary
from blindspot.app import data, login, widgets
from blindspot.app import lonely as lonely_data
from blindspot.lonely import present
from blindspot.lonely.stages import life_stages

st.title(glossary.LONELY_RISK)
st.caption(
    "생애주기(세대주 나이)별 1인 가구 가운데 지표 목록의 고독사 위기정보가 하나 이상 있는 가구 (천 가구당). "
    f"{present.NATIONAL_GOALS}"
)
scope = login.current_scope()
bands = life_stages()
groups = present.groups(bands)

c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
level, area, round_id = widgets.map_choices(scope, "lonely", (c1, c2, c3))
with c4:
    group = st.selectbox("생애주기", list(groups), format_func=groups.get, key="lonely_group", index=len(groups) - 2)

frame = lonely_data.regions(scope, level, area, round_id)
area_name = widgets.area_title(scope, area)

layer = data.region_layer(scope, level, area)
deck, legend = present.rate_map(frame, layer, group, groups[group], area_name)
left, right = st.columns([3, 2])
with left:
    st.pydeck_chart(deck, key="lonely_map", height=540)
    widgets.legend(legend, f"{present.RATE} — {groups[group]}")
with right:
    if scope.household_level:
        st.markdown(f"**{glossary.LONELY_RISK} 등급 ({area_name}, 1인 가구)**")
        st.dataframe(present.grade_table(lonely_data.grades(scope, area, round_id)), hide_index=True, width="stretch")
    st.markdown(f"**지역별 {groups[group]} (천 가구당 높은 순)**")
    st.dataframe(present.region_table(frame, group), hide_index=True, width="stretch", height=360)
st.caption(
    f"{glossary.LONELY_RISK} 등급은 1인 가구의 고독사 위기정보를 방문 결과로 추정한 가중치로 더한 규칙입니다 "
    f"(위험 가구 목록의 '{glossary.LONELY_RISK}' 열). {glossary.SUPPRESSED}: 작은 수(1~k−1)이거나 빼기로 그런 수가 "
    "드러나는 칸. 자세한 정의와 검증은 docs/lonely.md."
)
