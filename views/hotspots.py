"""핫스팟: 읍면동 비율의 Getis-Ord Gi* 핫·콜드스팟(또는 국지적 Moran's I), 떠오르는 핫스팟, H3 육각형 미세 지도."""

import streamlit as st

from blindspot import glossary
from blindspot.app import data, login, widgets
from blindspot.maps import hexgrid, palette, spatial
from blindspot.maps import measures as mapmeasures
from blindspot.maps import render as maps

st.title("핫스팟")
scope = login.current_scope()

c1, c2, c3 = st.columns(3)
with c1:
    round_id = widgets.round_picker(key="hot_round")
scored = data.has_scores(round_id)
rates = {m.key: m for m in data.measure_catalogue() if m.unit != "count" and (scored or not m.needs_scores)}
with c2:
    measure = st.selectbox("지표 (읍면동 비율)", list(rates), format_func=lambda k: rates[k].label, key="hot_measure")
with c3:
    area = widgets.area_picker(scope, "sgg", key="hot_area")
method = st.radio(
    "방법",
    ["gi", "moran"],
    horizontal=True,
    key="hot_method",
    format_func=glossary.HOTSPOT_METHODS.get,
)
chosen = rates[measure]
labels, colours = (
    (spatial.GI_CLASSES, palette.GI_COLOURS) if method == "gi" else (spatial.MORAN_CLASSES, palette.MORAN_COLOURS)
)

result = data.hotspot_table(scope, round_id, measure, area, method)
hot_cols = glossary.HOTSPOT_COLUMNS
layer = data.region_layer(scope, "emd", area)
deck, legend = maps.category_map(result, layer, labels, colours, chosen.label, chosen.unit)
left, right = st.columns([3, 2])
with left:
    st.pydeck_chart(deck, key="hotspot_map", height=520)
    widgets.legend(legend, "분류 (FDR 보정 후, 순열 999회)")
with right:
    st.dataframe(spatial.class_counts(result, labels), width="stretch")
    significant = spatial.significant(result)
    st.markdown(f"**유의한 읍면동 {len(significant):,}곳**")
    st.dataframe(
        significant[["full_name", "value", "cls", "p_fdr"] + (["z"] if method == "gi" else ["I"])],
        hide_index=True,
        width="stretch",
        height=300,
        column_config={
            **hot_cols,
            "value": chosen.label,
            "p_fdr": st.column_config.NumberColumn(hot_cols["p_fdr"], format="%.3f"),
            "z": st.column_config.NumberColumn(hot_cols["z"], format="%.2f"),
            "I": st.column_config.NumberColumn(hot_cols["I"], format="%.2f"),
        },
    )

st.subheader("떠오르는 핫스팟 (emerging hotspots)")
st.caption("최근 차수들에 걸쳐 Gi* z 점수가 올라간 읍면동 (Mann–Kendall 추세 검정, 단측 p ≤ 0.05, 최근 z > 0).")
trend = data.emerging_hotspots(scope, round_id, measure, area)
rising = spatial.rising(trend)
e1, e2 = st.columns([3, 2])
with e1:
    edeck, _ = maps.category_map(
        spatial.emerging_classes(trend), layer, spatial.EMERGING_LABELS, palette.EMERGING_COLOURS, "최근 Gi* z", "z"
    )
    st.pydeck_chart(edeck, key="emerging_map", height=420)
with e2:
    st.markdown(f"**{len(rising):,}곳**")
    st.dataframe(
        rising[["full_name", "tau", "p", "z_first", "z_last"]],
        hide_index=True,
        width="stretch",
        column_config={
            "full_name": hot_cols["full_name"],
            "tau": st.column_config.NumberColumn("Kendall τ", format="%.2f"),
            "p": st.column_config.NumberColumn("p", format="%.4f"),
            "z_first": st.column_config.NumberColumn(hot_cols["z_first"], format="%.2f"),
            "z_last": st.column_config.NumberColumn(hot_cols["z_last"], format="%.2f"),
        },
    )

st.subheader("육각형 미세 지도 (H3)")
sgg_names = data.sgg_names(scope, area)
h1, h2, h3_, h4 = st.columns(4)
with h1:
    sgg_code = st.selectbox("시군구", list(sgg_names), format_func=sgg_names.get, key="hex_sgg")
with h2:
    resolution = st.select_slider("해상도 (H3 resolution)", list(hexgrid.RESOLUTIONS), value=8, key="hex_res")
with h3_:
    k = st.number_input(
        "최소 가구 수 k (미만 셀은 표시 안 함)",
        min_value=5,
        max_value=200,
        value=hexgrid.DEFAULT_K,
        step=1,
        key="hex_k",
    )
hex_measures = [m for m in hexgrid.MEASURES if scored or not m.startswith("at_risk")]
with h4:
    hex_measure = st.selectbox("지표", hex_measures, format_func=hexgrid.MEASURES.get, key="hex_measure")
if sgg_code:
    cells = data.hex_cells(scope, sgg_code, round_id, resolution, k)
    hdeck, hlegend = hexgrid.hex_deck(cells, hex_measure)
    st.pydeck_chart(hdeck, key="hex_map", height=480)
    widgets.legend(hlegend, f"{hexgrid.MEASURES[hex_measure]} — 가구 {k}곳 미만 셀은 숨김")
    st.caption(
        f"표시된 셀 {len(cells):,}개 · 표시된 가구 {int(cells['households'].sum()) if len(cells) else 0:,}"
        f"{'' if scored else f' · 위기 점수: {mapmeasures.NO_SCORES}'}"
    )
