"""개요: 권한 범위의 가구와 1인 가구 (전국은 시도별, 한 시군구는 읍면동별), 적재된 차수, 자료 기준일."""

import streamlit as st

from blindspot import glossary
from blindspot.access import count_text
from blindspot.app import cache, data, login, widgets
from blindspot.vocab import LEVELS

st.title("개요")
scope = login.current_scope()
info = cache.data_info()
rounds = data.rounds()
round_id = widgets.round_picker()
summary = data.overview(scope, round_id)

coverage = summary["coverage"]
households_label = f"가구 수 ({scope.label})"
if coverage["partial"] and scope.sgg_codes is None:
    # Never present a round loaded for some 시군구 as a national figure.
    area = f"일부 지역 ({coverage['sgg_count']:,}개 시군구)"
    households_label = f"가구 수 · {area}"
    st.warning(
        f"이 차수는 {area}만 적재되었습니다 (전국 {coverage['sgg_total']:,}개 시군구 중). "
        "아래 합계는 전국 수치가 아닙니다."
    )

c1, c2, c3, c4 = st.columns(4)
c1.metric(households_label, count_text(summary["households"]))
c2.metric("1인 가구 비율", "—" if summary["one_person_share"] is None else f"{summary['one_person_share']:.1%}")
c3.metric(
    "적재된 차수",
    f"{len(rounds)}개",
    f"{glossary.round_label(rounds['round_code'].iloc[0])} ~ {glossary.round_label(rounds['round_code'].iloc[-1])}",
    delta_color="off",
)
c4.metric("인구·경계 기준", info.get("geo_ref_month", "—"))

bands = data.band_counts(scope, round_id)
if bands is None:
    st.info("이 차수에는 위험 점수가 없습니다. `python -m blindspot score --round 차수` 로 계산하세요.")
else:
    b1, b2, b3, b4 = st.columns(4)
    for col, band in zip((b1, b2, b3, b4), ("high", "medium", "low", "none"), strict=True):
        label = glossary.BAND_LABELS[band]
        col.metric(f"{label} 가구", count_text(bands[band]))

level_name = LEVELS[summary["level"]]
st.subheader(f"{level_name}별 가구와 1인 가구" + ("" if scope.is_national else f" ({scope.label})"))
# By value, not 가나다: the first rows are where the share is highest.
table = summary["by_region"].sort_values("one_person_share", ascending=False, na_position="last")
st.dataframe(
    table[["name", "households", "one_person", "one_person_share"]],
    hide_index=True,
    width="stretch",
    column_config={
        "name": st.column_config.TextColumn(level_name),
        "households": st.column_config.NumberColumn(glossary.MAP_MEASURES["households"], format="localized"),
        "one_person": st.column_config.NumberColumn(glossary.MAP_MEASURES["one_person"], format="localized"),
        "one_person_share": st.column_config.ProgressColumn(
            glossary.MAP_MEASURES["one_person_share"], format="percent", min_value=0.0, max_value=1.0
        ),
    },
)
st.bar_chart(
    table,
    x="name",
    y="one_person_share",
    x_label=level_name,
    y_label=glossary.MAP_MEASURES["one_person_share"],
    horizontal=True,
    sort="-one_person_share",
)
