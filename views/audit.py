"""감사 기록: 가구 단위 자료의 열람·내보내기·방문 결과 입력 기록 (관리자 전용), 필터와 CSV 내보내기."""

import datetime as dt

import streamlit as st

from blindspot.app import data, login, widgets
from blindspot.casework.audit import ACTIONS
from blindspot.casework.exports import EmptyExport

st.title("감사 기록")
scope = login.require("read_audit")

c1, c2, c3 = st.columns(3)
with c1:
    user = st.selectbox(
        "사용자", [None, *data.audit_users(scope)], key="audit_user", format_func=lambda u: "전체" if u is None else u
    )
with c2:
    action = st.selectbox(
        "행위", [None, *ACTIONS], key="audit_action", format_func=lambda a: "전체" if a is None else ACTIONS[a]
    )
with c3:
    today = dt.date.today()
    since, until = st.date_input("기간", (today - dt.timedelta(days=30), today), key="audit_dates")
filters = {"user": user, "action": action, "since": since, "until": until}
log = data.audit_log(scope, **filters)
st.metric("기록", f"{len(log):,}")
st.dataframe(log, hide_index=True, width="stretch")
if st.button("CSV 파일 만들기", key="audit_make"):
    try:
        widgets.keep_made("audit_file", filters, data.export_audit(scope, **filters))
    except EmptyExport as exc:
        st.session_state.pop("audit_file", None)
        st.warning(str(exc))
made = widgets.made_for("audit_file", filters)
if made is not None:
    widgets.download_button(
        f"{made.file_name} 내려받기 ({made.rows:,}행)", made.data, made.file_name, made.mime, key="audit_download"
    )
