"""지역 지도: 시도·시군구·읍면동 단계구분도(choropleth), 이전 차수 대비 변화, 클릭한 지역의 상세 패널."""

import streamlit as st

from blindspot import glossary
from blindspot.app import data, login, widgets
from blindspot.maps import measures as mapmeasures
from blindspot.maps import render as maps
from blindspot.rounds import parse_round

st.title("지역 지도")
scope = login.current_scope()

c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
level, area, round_id = widgets.map_choices(scope, "map", (c1, c2, c3))
scored = data.has_scores(round_id)
catalogue = {m.key: m for m in data.measure_catalogue()}
with c4:
    measure = st.selectbox(
        "지표",
        list(catalogue),
        key="map_measure",
        index=list(catalogue).index("one_person_share"),
        format_func=lambda k: (
            catalogue[k].label + ("" if scored or not catalogue[k].needs_scores else f" ({mapmeasures.NO_SCORES})")
        ),
    )
c5, c6 = st.columns([2, 5])
with c5:
    change = st.toggle("이전 차수 대비 변화", key="map_change")
with c6:
    method = st.radio(
        "구간 나누기",
        list(maps.METHODS),
        format_func=maps.METHODS.get,
        horizontal=True,
        key="map_method",
        disabled=change,
    )

chosen = catalogue[measure]
if chosen.needs_scores and not scored:
    st.info(
        f"**{mapmeasures.NO_SCORES}** — 이 차수에는 위기 점수(위험도 모형)가 아직 없습니다. "
        "다른 지표를 고르거나 점수 산출 후 다시 보세요."
    )

view = data.map_view(scope, level, area, round_id, measure, change)
layer = data.region_layer(scope, level, area)
label = chosen.label + (" — 이전 차수 대비" if change else "")
deck, legend = maps.choropleth(view, layer, label, chosen.unit, change=change, method=method)

left, right = st.columns([3, 2])
with left:
    # A fixed key and a view that depends only on the area keep the user's pan and zoom across reruns.
    event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key="region_map", height=560)
    widgets.legend(legend, label)

codes = view["code"].tolist()
names = dict(zip(view["code"], view["full_name"], strict=False))
picked = maps.selected_code(event.selection if event else None)
if picked and picked != st.session_state.get("map_last_pick"):
    st.session_state["map_last_pick"] = picked
    st.session_state["map_focus"] = picked
if st.session_state.get("map_focus") not in codes:
    st.session_state["map_focus"] = None

with right:
    focus = st.selectbox(
        "상세 보기 (지도를 클릭하거나 고르세요)",
        [None] + codes,
        key="map_focus",
        placeholder="— 지역 선택 —",
        format_func=lambda c: "— 지역 선택 —" if c is None else names[c],
    )
    if focus:
        profile = data.region_profile(scope, focus, round_id)
        st.subheader(profile["region"]["full_name"])
        st.caption(f"비교: {profile['parent']['name']} (권한 범위 안의 집계)")
        st.dataframe(maps.kpi_rows(profile["kpis"]), hide_index=True, width="stretch")
        st.markdown("**위기정보 영역별 가구 (천 가구당)**")
        # Series named after the two areas compared, shares in %: the legend and axis read as words.
        here, parent = profile["region"]["name"], profile["parent"]["name"]
        st.bar_chart(
            profile["domains"].rename(columns={"value": here, "parent": parent}),
            x="label",
            y=[here, parent],
            x_label="영역",
            y_label="천 가구당",
            stack=False,
            horizontal=True,
        )
        st.markdown("**1인 가구 비율 (세대주 연령대별)**")
        bands = profile["bands"]
        st.bar_chart(
            bands.assign(**{here: bands["share"] * 100, parent: bands["parent_share"] * 100}),
            x="label",
            y=[here, parent],
            x_label="연령대",
            y_label="전체 가구 대비 (%)",
            stack=False,
        )
        st.markdown(f"**추세: {chosen.label}**")
        trend = profile["trend"].assign(차수=lambda t: t["round_code"].map(lambda c: parse_round(c).short_ko))
        st.line_chart(trend, x="차수", y=measure, x_label="차수", y_label=chosen.label)
        if not scored:
            st.caption(f"우선 방문 가구 목록: {mapmeasures.NO_SCORES}")
        elif not scope.household_level:
            st.caption("우선 방문 가구 목록은 가구 단위 열람 권한이 있는 계정만 볼 수 있습니다.")
        else:
            st.markdown("**우선 방문 가구 (위기 확률 순, 가명 ID)**")
            purpose = widgets.purpose_picker("map_purpose")
            if purpose is not None:
                st.dataframe(
                    data.top_households(scope, focus, round_id, purpose),
                    hide_index=True,
                    width="stretch",
                    column_config={
                        **glossary.HOUSEHOLD_COLUMNS,
                        "probability": st.column_config.ProgressColumn(
                            glossary.PROBABILITY, format="percent", min_value=0.0, max_value=1.0
                        ),
                    },
                )
                st.caption("이 열람은 감사 기록에 남습니다.")
    else:
        st.caption("지도에서 지역을 클릭하면 그 지역의 지표를 상위 지역과 비교해 보여 줍니다.")
