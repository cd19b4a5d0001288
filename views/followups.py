"""후속 관리: 이번 주 연락 대상 (한 시군구의 사례 가운데 기한이 된·지난 것), 마지막 결과와 이력,
후속 연락 기록, 사례 맡기·놓기·넘기기와 사례 등급 변경 (담당 공무원, 감사 기록)."""

import datetime as dt

import streamlit as st

from blindspot import glossary
from blindspot.access import may
from blindspot.app import data, login, widgets
from blindspot.errors import BlindspotError
from blindspot.followup import cadence, cases, colleagues, entries
from blindspot.followup import export as followup_export
from blindspot.glossary import round_label
from blindspot.vocab import OUTCOMES, SUPPORT_TYPES

st.title("후속 관리")
scope = login.require("view_households")
st.caption(
    f"{glossary.AT_RISK_HOUSEHOLDS}마다 사례를 열고 차수가 바뀌어도 등급과 연락 주기를 이어 갑니다: "
    + " · ".join(f"{cadence.TIER_LABELS[t]} {cadence.TIER_CADENCE[t]}" for t in cadence.TIERS)
    + ". 예정일이 주말·공휴일이면 다음 근무일입니다."
)

names = data.sgg_names(scope)
c1, c2, c3 = st.columns(3)
with c1:
    sgg = st.selectbox("시군구", list(names), format_func=names.get, key="fu_sgg")
with c2:
    today = dt.date.today()
    due_by = st.date_input("연락 기한 (이날까지, 지난 것 포함)", value=cadence.week_end(today), key="fu_due_by")
with c3:
    owner = st.radio(
        "담당",
        list(cases.OWNERS),
        format_func=cases.OWNERS.get,
        index=1 if may(scope.role, "enter_outcome") else 0,
        horizontal=True,
        key="fu_owner",
    )
if sgg is None:
    st.info("권한 범위에 시군구가 없습니다.")
    st.stop()

purpose = widgets.purpose_picker("fu_purpose")
if purpose is None:
    st.stop()
synced = data.sync_followups(scope, sgg)
if synced["round"] is None:
    st.info(
        "위험 점수가 있는 차수가 없어 사례를 열 수 없습니다. `python -m blindspot score --round 차수` 로 계산하세요."
    )
    st.stop()
version = st.session_state.get("fu_version", 0)
view = data.followup_due(scope, sgg, due_by, purpose, version, owner)
st.caption(
    f"권한 범위: {scope.label} · 목적: {purpose} · 등급 기준 {round_label(view.round_id)} · "
    "이 열람은 감사 기록에 남습니다."
)
m1, m2, m3 = st.columns(3)
m1.metric("연락 대상", f"{len(view.rows):,}")
m2.metric("그중 기한 지남", f"{int(view.rows['overdue'].sum()) if len(view.rows) else 0:,}")
m3.metric("사례 전체", f"{view.cases:,}")
kind, text = st.session_state.pop("fu_msg", (None, None))
if kind:  # what the last save did (the page ran again after it)
    getattr(st, kind)(text)
if view.rows.empty:
    st.info(f"{cadence.korean_date(due_by)}까지 연락할 사례가 없습니다. 기한을 늦춰 보세요.")
    st.stop()
st.dataframe(cases.display(view.rows), hide_index=True, width="stretch", column_config=cases.ROW_COLUMNS)

made_from = (scope, sgg, due_by, purpose, owner, version)
f1, f2 = st.columns(2)
for fmt, where in (("xlsx", f1), ("csv", f2)):
    if where.button(f"{fmt.upper()} 파일 만들기", key=f"fu_make_{fmt}"):
        try:
            widgets.keep_made(f"fu_file_{fmt}", made_from, followup_export.export_due(view, scope, purpose, fmt, owner))
        except BlindspotError as exc:
            where.warning(str(exc))
    made = widgets.made_for(f"fu_file_{fmt}", made_from)
    if made is not None:
        widgets.download_button(
            f"{made.file_name} 내려받기 ({made.rows:,}행)", made.data, made.file_name, made.mime, f"fu_dl_{fmt}", where
        )

shown = [int(x) for x in view.rows["case_id"]]
labels = {
    int(cid): f"{int(cid)} · {pid} · {cadence.TIER_LABELS[tier]}"
    for cid, pid, tier in zip(view.rows["case_id"], view.rows["pseudo_id"], view.rows["tier"], strict=True)
}
with st.expander("사례 이력 (연락·등급 변경)"):
    picked = st.selectbox("사례", shown, format_func=labels.get, key="fu_history_case")
    history = cases.case_history(view, picked)
    st.dataframe(cases.display_history(history), hide_index=True, width="stretch", column_config=cases.HISTORY_COLUMNS)


def save(write, said) -> None:
    """Run one entry (``write``), keep what it did for the next run (``said(result)``, or the
    refusal), make the changed list a new view and run the page again."""
    try:
        result = write()
        st.session_state["fu_version"] = version + 1
        st.session_state["fu_msg"] = ("success", said(result))
    except BlindspotError as exc:
        st.session_state["fu_msg"] = ("error", str(exc))
    st.rerun()


if may(scope.role, "enter_outcome"):
    st.subheader("후속 연락 기록")
    with st.form("fu_contact"):
        case_id = st.selectbox("사례", shown, format_func=labels.get, key="fu_contact_case")
        when = st.date_input("연락한 날", value=today, max_value=today, key="fu_contact_on")
        method = st.selectbox("방법", list(cadence.METHODS), format_func=cadence.METHODS.get, key="fu_method")
        outcome = st.selectbox("결과", list(OUTCOMES), format_func=OUTCOMES.get, key="fu_outcome")
        support = st.selectbox(
            "지원 종류 (지원 연계일 때)", [None, *SUPPORT_TYPES], format_func=lambda s: "—" if s is None else s
        )
        contact_saved = st.form_submit_button("연락 저장")
    if contact_saved:
        save(
            lambda: entries.record_contact(scope, case_id, when, method, outcome, support, shown=shown),
            lambda done: (
                f"사례 {case_id}: {cadence.METHODS[method]} {OUTCOMES[outcome]} 저장했습니다. "
                f"다음 예정일 {cadence.korean_date(done['next_due_on'])}."
            ),
        )

    st.subheader("사례 맡기·놓기")
    with st.form("fu_take"):
        take_case = st.selectbox("사례", shown, format_func=labels.get, key="fu_take_case")
        take_mine = st.radio(
            "",
            [True, False],
            format_func={True: "내가 맡기", False: "놓기 (미지정)"}.get,
            horizontal=True,
            key="fu_take_mine",
            label_visibility="collapsed",
        )
        take_saved = st.form_submit_button("담당 저장")
    if take_saved:
        save(
            lambda: entries.take(scope, take_case, take_mine, shown=shown),
            lambda done: (
                f"사례 {take_case}: 담당 {done['old'] or '미지정'} → {done['new'] or '미지정'} (감사 기록에 남음)."
            ),
        )

    st.subheader("사례 넘기기")
    receivers = colleagues.colleagues(scope, sgg)
    if not receivers:
        st.caption("이 시군구에는 사례를 넘겨받을 다른 담당 공무원 계정이 없습니다.")
    else:
        with st.form("fu_hand"):
            hand_case = st.selectbox("사례", shown, format_func=labels.get, key="fu_hand_case")
            hand_to = st.selectbox(
                "받을 담당 공무원 (같은 시군구)", list(receivers), format_func=receivers.get, key="fu_hand_to"
            )
            hand_saved = st.form_submit_button("사례 넘기기")
        if hand_saved:
            save(
                lambda: entries.hand_over(scope, hand_case, hand_to, shown=shown),
                lambda done: (
                    f"사례 {hand_case}: 담당 {done['old'] or '미지정'} → {receivers[hand_to]} (감사 기록에 남음)."
                ),
            )

    st.subheader("사례 등급 변경")
    with st.form("fu_tier"):
        tier_case = st.selectbox("사례", shown, format_func=labels.get, key="fu_tier_case")
        tier = st.selectbox("새 등급", list(cadence.TIERS), format_func=cadence.TIER_LABELS.get, key="fu_tier")
        tier_saved = st.form_submit_button("등급 저장")
    if tier_saved:
        save(
            lambda: entries.set_tier(scope, tier_case, tier, shown=shown),
            lambda changed: (
                f"사례 {tier_case}: {cadence.TIER_LABELS[changed['old']]} → {cadence.TIER_LABELS[tier]} "
                "(담당자 지정: 다음 차수의 모델 등급이 바꾸지 않습니다; 감사 기록에 남음)."
            ),
        )
