"""위험 가구 목록: 이번 차수 방문 대상 가구 (권한 범위 안, 가명 처리), 열람 목적·감사 기록,
파일 내보내기, 방문 결과 입력."""

import streamlit as st

from blindspot import glossary
from blindspot.access import may, threshold
from blindspot.app import data, login, widgets
from blindspot.casework import lists
from blindspot.casework.exports import SUMMARY_COLUMNS, EmptyExport
from blindspot.casework.outcomes import OutcomeExists, earlier_text
from blindspot.errors import BlindspotError
from blindspot.maps.measures import RISK_BANDS
from blindspot.vocab import OUTCOMES, SUPPORT_TYPES

st.title("위험 가구 목록")
scope = login.current_scope()
if not scope.household_level:
    st.error("이 계정은 집계 자료만 볼 수 있습니다 (가구 단위 목록 열람 권한 없음).")
    st.stop()
settings = login.settings()

c1, c2, c3, c4 = st.columns(4)
with c1:
    round_id = widgets.round_picker(key="rl_round")
with c2:
    area = widgets.area_picker(scope, "emd", key="rl_area")
with c3:
    bands = st.multiselect(
        "등급", list(RISK_BANDS), default=["high", "medium"], format_func=RISK_BANDS.get, key="rl_bands"
    )
with c4:
    options = data.indicator_options()
    signal = st.selectbox("위기정보 지표·영역", list(options), format_func=options.get, key="rl_signal")
c5, c6, c7, c8 = st.columns(4)
with c5:
    household_type = st.selectbox(
        "가구 유형", list(lists.HOUSEHOLD_TYPES), key="rl_type", format_func=lambda k: lists.HOUSEHOLD_TYPES[k][0]
    )
with c6:
    age_band = st.selectbox(
        "세대주 연령대", list(lists.AGE_BANDS), key="rl_age", format_func=lambda k: lists.AGE_BANDS[k][0]
    )
with c7:
    new_only = st.checkbox("이번 차수 신규 위기정보만", key="rl_new")
    not_visited = st.checkbox("아직 방문하지 않은 가구만", key="rl_unvisited")
    audit_sample = st.checkbox(
        "무작위 점검 가구 포함",
        value=True,
        key="rl_audit",
        help="명단 밖 위기정보 가구 가운데 무작위로 뽑은 방문 대상 (편향 없는 성과 측정용, 방문 용량과 별도)",
    )
with c8:
    trim = st.toggle("방문 용량만큼 (읍면동별 상위 k)", value=True, key="rl_trim")
    capacity = st.number_input(
        "방문 용량 (읍면동 가구 대비 %)",
        min_value=0.1,
        max_value=10.0,
        step=0.1,
        value=float(settings["capacity_share"]) * 100,
        key="rl_capacity",
        disabled=not trim,
    )

if not data.has_scores(round_id):
    st.info("이 차수에는 위험 점수가 없습니다. `python -m blindspot score --round 차수` 로 계산하세요.")
    st.stop()
kind, _, code = (signal or "").partition(":")
filters = lists.ListFilters(
    round_id,
    area,
    tuple(bands),
    code if kind == "indicator" else None,
    code if kind == "domain" else None,
    household_type,
    age_band,
    new_only,
    not_visited,
    capacity / 100 if trim else None,
    audit_sample,
)

purpose = widgets.purpose_picker("rl_purpose")
if purpose is None:
    st.stop()
rows = data.risk_list(scope, filters, purpose)
st.caption(f"권한 범위: {scope.label} · 목적: {purpose} · 이 열람은 감사 기록에 남습니다.")
if rows.empty:
    st.info("조건에 맞는 가구가 없습니다. 필터를 넓혀 보세요.")
else:
    st.metric("목록 가구", f"{len(rows):,}")
    st.dataframe(
        rows,
        column_order=lists.shown_columns(rows),
        hide_index=True,
        width="stretch",
        column_config={
            **lists.COLUMNS,
            "probability": st.column_config.ProgressColumn(
                glossary.LIST_COLUMNS["probability"], format="percent", min_value=0.0, max_value=1.0
            ),
        },
    )

e1, e2 = st.columns(2)
made_from = (scope, filters, purpose)
for col, fmt in ((e1, "csv"), (e2, "xlsx")):
    with col:
        if st.button(f"{fmt.upper()} 파일 만들기", key=f"rl_make_{fmt}"):
            try:
                widgets.keep_made(f"rl_file_{fmt}", made_from, data.export_risk_list(scope, filters, purpose, fmt))
            except EmptyExport as exc:
                st.session_state.pop(f"rl_file_{fmt}", None)
                st.warning(str(exc))
        made = widgets.made_for(f"rl_file_{fmt}", made_from)
        if made is not None:
            widgets.download_button(
                f"{made.file_name} 내려받기 ({made.rows:,}행)",
                made.data,
                made.file_name,
                made.mime,
                key=f"rl_download_{fmt}",
            )

with st.expander(f"지역별 집계 ({glossary.SUPPRESSION})"):
    k = int(settings["min_count"])
    summary = data.risk_summary(scope, filters, "emd", k)
    st.caption(
        f"1~{threshold(scope, k) - 1} 가구인 칸과, 빼기로 그 수가 드러나는 칸은 {glossary.SUPPRESSED}입니다 "
        f"({glossary.SUPPRESSION})."
    )
    st.dataframe(summary, hide_index=True, width="stretch", column_config=SUMMARY_COLUMNS)

if may(scope.role, "enter_outcome") and not rows.empty:
    st.subheader("방문 결과 입력")
    shown = rows["pseudo_id"].tolist()  # the package checks the id against this list and its filters

    def _save(pid: str, outcome: str, support, overwrite: bool, shown_ids: list, list_filters) -> None:
        try:
            data.record_outcome(scope, pid, list_filters, outcome, support, shown_ids, overwrite=overwrite)
            st.session_state["rl_outcome_msg"] = (
                "success",
                f"{pid}: {OUTCOMES[outcome]} 저장했습니다 (지도 방문 지표와 다음 학습에 반영).",
            )
        except OutcomeExists as exc:
            st.session_state["rl_outcome_pending"] = {
                "pid": pid,
                "outcome": outcome,
                "support": support,
                "earlier": earlier_text(exc.earlier),
            }
        except BlindspotError as exc:
            st.session_state["rl_outcome_msg"] = ("error", str(exc))

    def _resolve(confirmed: bool, shown_ids: list, list_filters) -> None:
        # A button callback: runs before the next run draws the page, so the question goes away at once.
        pending = st.session_state.pop("rl_outcome_pending", None)
        if pending is None:
            return
        if confirmed:
            _save(pending["pid"], pending["outcome"], pending["support"], True, shown_ids, list_filters)
        else:
            st.session_state["rl_outcome_msg"] = ("info", "저장하지 않았습니다. 이전 결과가 그대로 남아 있습니다.")

    with st.form("rl_outcome"):
        pid = st.selectbox("가구 (가명 ID)", shown, key="rl_outcome_pid")
        outcome = st.selectbox("결과", list(OUTCOMES), format_func=OUTCOMES.get, key="rl_outcome")
        support = st.selectbox(
            "지원 종류 (지원 연계일 때)",
            [None, *SUPPORT_TYPES],
            key="rl_support",
            format_func=lambda s: "—" if s is None else s,
        )
        submitted = st.form_submit_button("결과 저장")
    if submitted:
        st.session_state.pop("rl_outcome_pending", None)
        _save(pid, outcome, support, False, shown, filters)
    kind_, text = st.session_state.pop("rl_outcome_msg", (None, None))
    if kind_:
        getattr(st, kind_)(text)
    pending = st.session_state.get("rl_outcome_pending")
    if pending:
        # An earlier outcome is replaced only after the official saw it and confirmed.
        st.warning(
            f"{pending['pid']}: 이번 차수 방문 결과가 이미 있습니다 — {pending['earlier']}. "
            f"새 결과 '{OUTCOMES[pending['outcome']]}'(으)로 덮어쓸까요?"
        )
        b1, b2 = st.columns(2)
        b1.button("덮어쓰기", key="rl_outcome_confirm", on_click=_resolve, args=(True, shown, filters))
        b2.button("취소", key="rl_outcome_cancel", on_click=_resolve, args=(False, shown, filters))
