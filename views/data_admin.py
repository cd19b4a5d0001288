"""데이터 관리: 추출 파일 올리기 → 검사 보고서 → 적재(진행 막대, 교체 확인) → 점수 다시 계산 → 적재 이력."""

import streamlit as st

from blindspot.app import data, login, widgets
from blindspot.errors import BlindspotError
from blindspot.ingest import load as ingest
from blindspot.ingest import report

st.title("데이터 관리")
scope = login.require("ingest")

st.caption(
    "한 차수의 가구 파일(CSV·XLSX·Parquet)과 선택으로 방문 결과 파일을 올리세요. 형식: docs/ingest-format.md. "
    "문제가 하나라도 있으면 아무것도 적재하지 않습니다."
)
c1, c2, c3 = st.columns([1, 2, 2])
round_code = c1.text_input("차수 (YYYY-Rn)", value="", placeholder="2024-R4", key="ingest_round")
households = c2.file_uploader("가구 파일", type=["csv", "xlsx", "parquet"], key="ingest_households")
outcomes = c3.file_uploader("방문 결과 파일 (선택)", type=["csv", "xlsx", "parquet"], key="ingest_outcomes")

# A file covering fewer 시군구 than the round it creates or replaces must say so: it is
# then recorded and shown as 일부 지역, never as national.
coverage = st.radio(
    "적재 범위",
    ["전국", "일부 지역"],
    horizontal=True,
    key="ingest_scope",
    help="파일이 모든 시군구를 담지 않으면(또는 교체할 차수보다 적은 지역이면) '일부 지역'을 고르고 "
    "파일이 담은 시군구를 고르세요. 범위 밖의 행은 거부됩니다.",
)
sgg_choice = None
if coverage == "일부 지역":
    names = data.sgg_names(scope)
    sgg_choice = st.multiselect(
        "파일이 담은 시군구", list(names), format_func=lambda c: f"{names.get(c, c)} ({c})", key="ingest_sgg"
    )

if st.button(
    "검사하기",
    disabled=households is None or not round_code or (coverage == "일부 지역" and not sgg_choice),
    key="ingest_check",
):
    try:
        st.session_state["ingest_prepared"] = data.prepare_ingest(
            round_code, households, outcomes, widgets.progress_bar("검사 중…"), sgg=sgg_choice
        )
    except ingest.IngestError as exc:
        st.session_state["ingest_prepared"] = None
        st.error(str(exc))
    st.session_state.pop("ingest_result", None)

prepared = st.session_state.get("ingest_prepared")
if prepared is not None:
    names = ", ".join(f.name for f in prepared.files)
    if prepared.already_loaded:
        st.success(
            f"이미 적재됨: 차수 {prepared.round.code} 는 이 파일({names})로 적재되어 있습니다. 바뀐 것이 없습니다."
        )
    elif not prepared.ok:
        st.error(f"문제 {len(prepared.report):,}건: 아무것도 적재하지 않았습니다. 파일을 고친 뒤 다시 올리세요.")
        st.dataframe(report.report_view(prepared.report), hide_index=True, width="stretch")
        widgets.download_button(
            "문제 목록 CSV 내려받기",
            report.report_csv(prepared.report),
            f"문제목록_{prepared.round.code}.csv",
            "text/csv",
            "ingest_report_csv",
        )
    else:
        hh = prepared.households
        st.success(
            f"문제 없음: {names} — 가구 {len(hh.households):,}곳, 위기정보 {len(hh.observations):,}건"
            + (f", 방문 결과 {len(prepared.outcomes.outcomes):,}건" if prepared.outcomes else "")
        )
        if prepared.scope:
            st.info(f"일부 지역 ({len(prepared.scope):,}개 시군구) 차수로 기록됩니다: 전국으로 표시되지 않습니다.")
        replace = False
        if prepared.round_exists:
            st.warning(
                f"차수 {prepared.round.code} 는 이미 있습니다. 적재하면 그 차수의 가구·위기정보·방문 결과·점수가 "
                "이 파일의 내용으로 바뀝니다."
            )
            replace = st.checkbox("기존 자료를 이 파일로 교체 (--replace)", key="ingest_replace")
        if st.button("적재하기", type="primary", disabled=prepared.round_exists and not replace, key="ingest_load"):
            try:
                st.session_state["ingest_result"] = data.load_ingest(
                    prepared, replace, widgets.progress_bar("적재 중…")
                )
                st.session_state["ingest_prepared"] = None
            except BlindspotError as exc:
                st.error(str(exc))

result = st.session_state.get("ingest_result")
if result:
    st.success(
        f"적재 완료: 차수 {result['round']} — 가구 {result['households']:,}곳, 위기정보 {result['observations']:,}건, "
        f"방문 결과 {result['visits']:,}건 ({result['seconds']}초)"
    )

st.subheader("점수 다시 계산")
rescore_round = st.text_input("차수", value=(result or {}).get("round", ""), placeholder="2024-R4", key="rescore_round")
if st.button("서비스 모델로 이 차수 점수 계산", disabled=not rescore_round, key="rescore"):
    try:
        scored = data.rescore_round(rescore_round, widgets.progress_bar("점수 계산 중…"))
        st.success(
            f"점수 계산 완료: 차수 {scored['round']}, 모델 {scored['model_version']}, 가구 {scored['households']:,}곳"
        )
    except BlindspotError as exc:
        st.info(str(exc))

st.subheader("적재 이력")
st.dataframe(
    data.ingest_history(),
    hide_index=True,
    width="stretch",
    column_config={
        "loaded_at": st.column_config.DatetimeColumn("적재 시각", format="YYYY-MM-DD HH:mm:ss"),
        "round_code": "차수",
        "kind": "종류",
        "file_name": "파일",
        "rows": st.column_config.NumberColumn("행", format="localized"),
        "loaded_by": "적재한 사람",
        "replaced": st.column_config.CheckboxColumn("교체"),
        "seconds": "초",
        "file_sha256": "SHA-256",
        "load_id": "적재 ID",
    },
)
