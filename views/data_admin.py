"""데이터 관리: 추출 파일 올리기 → 검사 보고서 → 적재(진행 막대, 교체 확인) → 점수 다시 계산 → 적재 이력."""

import streamlit as st

from blindspot import glossary
from blindspot.app import data, login, widgets
from blindspot.ingest import format_help, report
from blindspot.ingest import load as ingest

st.title("데이터 관리")
scope = login.require("ingest")
JOBS = glossary.JOB_KINDS


def job_panel() -> None:
    """The jobs this session started, at the top of the page: progress while they run (the
    page stays usable), then their outcome; a finished job reruns the page once so the
    history and every cached figure show the new version."""
    for key in JOBS:
        job = data.job(st.session_state.get(key))
        if job is None:
            continue
        if job.status == "running":
            st.progress(job.fraction, text=f"{job.kind} 중 ({job.user}): {job.message}")
            continue
        if st.session_state.get(f"{key}_seen") != job.id:
            st.session_state[f"{key}_seen"] = job.id
            data.clear_caches()
            st.rerun()
        if job.status == "failed":
            (st.error if key == "ingest_job" else st.info)(job.error)
        elif key == "ingest_job":
            r = {"snapshot": None, **job.result}
            st.success(
                f"적재 완료: 차수 {r['round']} — 가구 {r['households']:,}곳, 위기정보 {r['observations']:,}건, "
                f"방문 결과 {r['visits']:,}건 ({r['seconds']}초)"
                + (
                    f" · 새 판 {r['snapshot']} 게시: 모든 화면이 다음 조작부터 이 자료를 씁니다"
                    if r.get("snapshot")
                    else ""
                )
            )
        else:
            r = job.result
            st.success(f"점수 계산 완료: 차수 {r['round']}, 모델 {r['model_version']}, 가구 {r['households']:,}곳")


busy = any(getattr(data.job(st.session_state.get(k)), "status", None) == "running" for k in JOBS)
# Polled every second only while a job runs: an idle page costs the server nothing.
st.fragment(run_every=1.0 if busy else None)(job_panel)()

st.caption(
    "한 차수의 가구 파일(CSV·XLSX·Parquet)과 선택으로 방문 결과 파일을 올리세요. "
    "문제가 하나라도 있으면 아무것도 적재하지 않습니다."
)
with st.expander("파일 형식 안내"):
    st.markdown(format_help.format_help())
c1, c2, c3 = st.columns([1, 2, 2])
round_code = c1.text_input("차수 (YYYY-Rn)", value="", placeholder="2024-R4", key="ingest_round")
# The typed round is checked as typed: a bad one is the box's fault, never the file's.
round_problem = format_help.round_problem(round_code) if round_code else None
if round_problem:
    c1.error(round_problem)
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
    disabled=households is None
    or not round_code
    or bool(round_problem)
    or (coverage == "일부 지역" and not sgg_choice),
    key="ingest_check",
):
    try:
        st.session_state["ingest_prepared"] = data.prepare_ingest(
            round_code, households, outcomes, widgets.progress_bar("검사 중…"), sgg=sgg_choice
        )
    except ingest.IngestError as exc:
        st.session_state["ingest_prepared"] = None
        st.error(str(exc))
    st.session_state.pop("ingest_job", None)

prepared = st.session_state.get("ingest_prepared")
if prepared is not None:
    names = ", ".join(f.name for f in prepared.files)
    if prepared.already_loaded:
        st.success(
            f"이미 적재됨: {prepared.round.code} 차수는 이 파일({names})로 적재되어 있습니다. 바뀐 것이 없습니다."
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
            st.warning(format_help.replace_warning(prepared))
            replace = st.checkbox("기존 자료를 이 파일로 교체 (--replace)", key="ingest_replace")
        if st.button(
            "적재하기", type="primary", disabled=busy or (prepared.round_exists and not replace), key="ingest_load"
        ):
            # A background job: the page can be left; progress shows at the top.
            st.session_state["ingest_job"] = data.start_load(prepared, replace)
            st.session_state["ingest_prepared"] = None
            st.rerun()

loaded = data.job(st.session_state.get("ingest_job"))
last_round = loaded.result["round"] if loaded is not None and loaded.status == "done" else ""

st.subheader("점수 다시 계산")
rescore_round = st.text_input("차수", value=last_round, placeholder="2024-R4", key="rescore_round")
if st.button("서비스 모델로 이 차수 점수 계산", disabled=busy or not rescore_round, key="rescore"):
    st.session_state["rescore_job"] = data.start_rescore(rescore_round)
    st.rerun()

st.subheader("적재 이력")
st.dataframe(
    data.ingest_history(),
    hide_index=True,
    width="stretch",
    column_config={
        **glossary.INGEST_COLUMNS,
        "loaded_at": st.column_config.DatetimeColumn(
            glossary.INGEST_COLUMNS["loaded_at"], format="YYYY-MM-DD HH:mm:ss"
        ),
        "rows": st.column_config.NumberColumn(glossary.INGEST_COLUMNS["rows"], format="localized"),
        "replaced": st.column_config.CheckboxColumn(glossary.INGEST_COLUMNS["replaced"]),
    },
)
