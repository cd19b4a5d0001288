"""발굴 격차: 예상 위기 가구(보정 확률의 합) 대비 발견·지원 연계, 발견률과 95% 구간, 격차 핫스팟, 차수별 추세."""

import streamlit as st

from blindspot import glossary
from blindspot.app import data, login, widgets
from blindspot.maps import palette, spatial
from blindspot.maps import render as maps
from blindspot.maps.measures import NO_SCORES
from blindspot.reach import figures as reach
from blindspot.reach import present

st.title(glossary.REACH_GAP)
st.caption(
    f"{present.EXPECTED}: 모든 가구의 위기 확률(보정된 확률)의 합 · {present.FOUND}: 방문해 욕구를 확인한 가구 · "
    f"{present.RATIO} = {present.FOUND} ÷ {present.EXPECTED}. 구간 전체가 권한 범위 전체 발견률의 기준 배수보다 "
    "낮은 지역만 격차로 표시하므로, 작은 지역이 우연히 튀지 않습니다."
)
scope = login.current_scope()

c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
level, area, round_id = widgets.map_choices(scope, "reach", (c1, c2, c3))
with c4:
    mode = st.radio(
        "지도",
        ["class", "rate"],
        horizontal=True,
        key="reach_mode",
        format_func={"class": f"{present.CLASS} (구간 기준)", "rate": present.GAP_RATE}.get,
    )

scored = data.has_scores(round_id)
area_name = widgets.area_title(scope, area)
trend = data.reach_trend(scope, round_id, area)

if not scored:
    st.info(
        f"**{NO_SCORES}** — 이 차수에는 위기 점수가 없어 {present.EXPECTED} 수를 셀 수 없습니다. "
        "점수가 있는 차수를 고르세요. 아래 추세에는 차수마다 발견·지원 연계가 나옵니다."
    )
else:
    frame = data.reach_gap(scope, level, area, round_id)
    now = trend[trend["round_id"] == round_id].iloc[0]
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(f"{present.EXPECTED} ({area_name})", present.count_text(now["expected"]))
    m2.metric(present.FOUND, present.count_text(now["found"]))
    m3.metric(present.SUPPORTED, present.count_text(now["supported"]))
    m4.metric(
        present.RATIO,
        present.ratio_text(now["ratio"]),
        help=f"{present.INTERVAL}: {present.interval_text(now['ratio_low'], now['ratio_high'])}",
    )
    layer = data.region_layer(scope, level, area)
    if mode == "class":
        deck, legend = present.class_map(frame, layer)
        title = f"{present.CLASS} — 기준 발견률 {present.ratio_text(frame['reference'].iloc[0])}"
    else:
        deck, legend = present.gap_rate_map(frame, layer, area_name)
        title = present.GAP_RATE
    left, right = st.columns([3, 2])
    with left:
        st.pydeck_chart(deck, key="reach_map", height=540)
        widgets.legend(legend, title)
    with right:
        counts = frame["cls"].value_counts()
        st.dataframe(
            {
                "판정": [reach.CLASSES[c] for c in reach.CLASSES if c in counts],
                "지역 수": [f"{int(counts[c]):,}" for c in reach.CLASSES if c in counts],
            },
            hide_index=True,
            width="stretch",
        )
        st.markdown(f"**지역별 {present.GAP} (큰 순)**")
        st.dataframe(present.area_table(frame), hide_index=True, width="stretch", height=360)

    st.subheader(f"{present.GAP} 핫스팟 (읍면동, Getis-Ord Gi*)")
    st.caption(
        f"{present.GAP_RATE}의 Gi* 핫·콜드스팟: 퀸 인접, 순열 999회, FDR(Benjamini–Hochberg) 보정 후 90/95/99%. "
        "비공개·자료 없는 읍면동은 검정하지 않습니다."
    )
    hot = data.reach_hotspots(scope, round_id, area)
    h1, h2 = st.columns([3, 2])
    with h1:
        hdeck, hlegend = maps.category_map(
            hot,
            data.region_layer(scope, "emd", area),
            spatial.GI_CLASSES,
            palette.GI_COLOURS,
            present.GAP_RATE,
            "per_1000",
        )
        st.pydeck_chart(hdeck, key="reach_hot_map", height=460)
        widgets.legend(hlegend, "분류 (FDR 보정 후, 순열 999회)")
    with h2:
        classes = spatial.class_counts(hot, spatial.GI_CLASSES)
        st.dataframe(
            {"분류": list(classes.index), "읍면동 수": [f"{v:,}" for v in classes.values]},
            hide_index=True,
            width="stretch",
        )

st.subheader(f"차수별 추세 ({area_name})")
st.line_chart(
    present.trend_frame(trend),
    x="차수",
    y=[present.EXPECTED, present.FOUND, present.SUPPORTED],
    x_label="차수",
    y_label="가구",
    color=list(palette.REACH_TREND),
)
st.dataframe(present.trend_table(trend), hide_index=True, width="stretch")
st.caption(
    f"{glossary.SUPPRESSED}: 작은 수(1~k−1)이거나 빼기로 그런 수가 드러나는 칸. "
    f"{NO_SCORES}: 그 차수에는 위기 점수가 없음. 자세한 정의는 docs/reach-gap.md."
)
