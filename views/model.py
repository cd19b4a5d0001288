"""모델: 서비스 중인 위험 모델의 성능(지표 개수 규칙 대비), 보정, 하위집단, 변수 중요도, 분포 변화(PSI)·실현 정밀도,
관리자의 모델 지정·되돌리기(관문, 사유, 감사 기록), 모델 카드."""

import streamlit as st

from blindspot import glossary, settings
from blindspot.access import may
from blindspot.app import capacity as capacity_panel
from blindspot.app import data, login
from blindspot.errors import BlindspotError
from blindspot.maps import palette
from blindspot.model import auditsample, capacity, whatif
from blindspot.model import card as modelcard
from blindspot.model.pipeline import ModelError

st.title("위험 모델")
meta = data.model_metadata()
if meta is None:
    st.info("서비스 중인 모델이 없습니다. `python -m blindspot train` 으로 학습하면 이 화면에 성능이 나타납니다.")
    st.stop()

m, b = meta["metrics"]["model"], meta["metrics"]["baseline"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("모델 버전", meta["version"])
c2.metric(
    "용량 내 재현율",
    f"{m['recall_at_capacity']:.3f}",
    f"지표 개수 규칙의 {meta['metrics']['recall_ratio']:.2f}배",
    delta_color="normal",
)
c3.metric("PR-AUC", f"{m['pr_auc']:.3f}", f"{m['pr_auc'] - b['pr_auc']:+.3f} (규칙 대비)")
c4.metric("보정 오차 (ECE)", f"{m['ece']:.4f}")
st.caption(
    f"학습 {', '.join(meta['training']['rounds'])} · 검증 {meta['metrics']['round']} · "
    f"정답 `{meta['metrics']['ground_truth']}` · 방문 용량 읍면동 가구의 "
    f"{meta['metrics']['capacity_share']:.1%} · 생성 {meta['created_at']}"
)

st.subheader("성능: 모델 vs 지표 개수 규칙")
st.dataframe(
    modelcard.metrics_table(meta),
    hide_index=True,
    width="stretch",
    column_config={
        glossary.RANKINGS["model"]: st.column_config.NumberColumn(format="%.4f"),
        glossary.RANKINGS["baseline"]: st.column_config.NumberColumn(format="%.4f"),
    },
)
backtest = modelcard.backtest_table(meta)
if not backtest.empty:
    st.subheader("차수별 검증 (rolling backtest, 95% 구간)")
    st.caption(meta["backtest"]["method"])
    st.dataframe(backtest, hide_index=True, width="stretch")
if meta["metrics"].get("audit_estimate"):
    st.markdown("**무작위 점검으로 본 재현율 (편향 없는 추정)**")
    st.caption(auditsample.summary_text(meta["metrics"]["audit_estimate"]))
left, right = st.columns(2)
with left:
    st.markdown("**정밀도–재현율 곡선 (PR curve)**")
    st.line_chart(modelcard.pr_frame(meta), x="재현율 (recall)", y="정밀도 (precision)", color="순위")
with right:
    st.markdown("**보정 곡선 (reliability curve)**")
    st.line_chart(modelcard.reliability_frame(meta), x="예측 확률", y=["실제 비율", "완벽한 보정"])

st.subheader("하위집단별 성능 (subgroups)")
st.caption("빨간 행: 같은 구분에서 재현율이 가장 높은 집단의 0.8배 미만인 집단 (이유는 아래 모델 카드).")
sub = modelcard.subgroup_frame(meta)
sub_cols = glossary.MODEL_SUBGROUP_COLUMNS
st.dataframe(
    sub.style.apply(
        lambda row: [f"background-color: {palette.GAP_HIGHLIGHT}" if row["gap"] else ""] * len(row), axis=1
    ),
    hide_index=True,
    width="stretch",
    column_config={
        **sub_cols,
        "n": st.column_config.NumberColumn(sub_cols["n"], format="localized"),
        "positives": st.column_config.NumberColumn(sub_cols["positives"], format="localized"),
        "prevalence": st.column_config.NumberColumn(sub_cols["prevalence"], format="percent"),
        "model_recall": st.column_config.NumberColumn(sub_cols["model_recall"], format="%.3f"),
        "model_ceiling": st.column_config.NumberColumn(
            sub_cols["model_ceiling"],
            format="%.3f",
            help="방문 용량으로 찾을 수 있는 최대 재현율 = min(1, 방문 ÷ 위기 가구)",
        ),
        "baseline_recall": st.column_config.NumberColumn(sub_cols["baseline_recall"], format="%.3f"),
        "model_pr_auc": st.column_config.NumberColumn(sub_cols["model_pr_auc"], format="%.3f"),
        "baseline_pr_auc": st.column_config.NumberColumn(sub_cols["baseline_pr_auc"], format="%.3f"),
        "model_ece": st.column_config.NumberColumn(sub_cols["model_ece"], format="%.4f"),
        "gap": st.column_config.CheckboxColumn(sub_cols["gap"]),
    },
)

st.subheader("변수 중요도 (평균 |기여도|, log-odds)")
st.bar_chart(
    modelcard.importance_frame(meta),
    x="label",
    y="mean_abs_contribution",
    horizontal=True,
    x_label="평균 |기여도|",
    y_label="",
)

st.subheader("입력 분포 변화 (drift)")
psi_warn, psi_alert = settings.get("psi_warn"), settings.get("psi_alert")
drift_status = glossary.DRIFT_STATUS
drift = data.model_drift()
drift_cols = glossary.DRIFT_COLUMNS
if drift.empty:
    st.info("분포 변화 기록이 없습니다: 이 모델의 기준 분포로 점수를 계산한 차수부터 기록됩니다.")
else:
    st.caption(
        f"차수 {drift['round'].iloc[0]}의 입력 변수 분포를 모델 검증 차수 {drift['reference_round'].iloc[0]}의 "
        f"분포와 비교한 PSI(population stability index). {drift_status['shift']} ≥ {psi_warn}, "
        f"{drift_status['alert']} ≥ {psi_alert}: "
        "PSI에서 흔히 쓰는 관례값이며 현장에서 잰 수치가 아닙니다."
    )
    for level, show in ((drift_status["alert"], st.error), (drift_status["shift"], st.warning)):
        names = drift.loc[drift["status"] == level, "label"].tolist()
        if names:
            show(f"{level}: {', '.join(names)} — 분포가 검증 차수와 달라졌습니다. 재학습과 성능 확인을 검토하세요.")
    if not (drift["status"] != drift_status["stable"]).any():
        st.success(f"모든 입력 변수의 PSI가 {drift_status['shift']} 기준({psi_warn}) 미만입니다.")
    st.dataframe(
        drift[["label", "feature", "psi", "status"]],
        hide_index=True,
        width="stretch",
        column_config={
            **drift_cols,
            "psi": st.column_config.NumberColumn(drift_cols["psi"], format="%.4f"),
        },
    )

st.markdown("**위험 등급 명단의 실현 정밀도** (방문 결과가 들어온 차수)")
realised = data.realised_precision()
realised_cols = glossary.REALISED_COLUMNS
for row in realised[realised["warn"]].itertuples():
    st.warning(
        f"차수 {row.round}: 방문한 위험 등급 가구의 욕구 확인 비율({row.precision:.1%})이 "
        f"예측 확률 평균({row.expected:.1%})의 {settings.get('precision_warn_ratio')}배에 못 미칩니다."
    )
st.dataframe(
    realised,
    hide_index=True,
    width="stretch",
    column_config={
        **realised_cols,
        "listed": st.column_config.NumberColumn(realised_cols["listed"], format="localized"),
        "visited": st.column_config.NumberColumn(realised_cols["visited"], format="localized", help="연락 불가 제외"),
        "confirmed": st.column_config.NumberColumn(realised_cols["confirmed"], format="localized"),
        "precision": st.column_config.NumberColumn(realised_cols["precision"], format="percent"),
        "expected": st.column_config.NumberColumn(realised_cols["expected"], format="percent"),
        "warn": st.column_config.CheckboxColumn(realised_cols["warn"]),
    },
)

if may(login.current_scope().role, "capacity_what_if"):
    st.subheader("방문 용량 가정 분석 (what-if)")
    st.caption(
        f"검증 차수 {glossary.round_label(meta['metrics']['round'])}의 모델 순위로, 방문 용량과 배분 규칙을 바꾸면 "
        "찾는 위기 가구와 지역 간 재현율 격차가 어떻게 달라지는지 계산합니다 (재학습·재계산 없음). "
        "인력이 등록된 시군구는 인력 × 1인당 방문 가구, 나머지는 기본 방문 비율을 씁니다."
    )
    staff = capacity_panel.registered_staff()
    a1, a2, a3 = st.columns(3)
    rule = a1.radio("배분 규칙", list(capacity.RULE_LABELS), format_func=capacity.RULE_LABELS.get, horizontal=True)
    share_pct = a2.number_input(
        "기본 방문 비율 (%)",
        min_value=0.1,
        max_value=10.0,
        value=round(meta["metrics"]["capacity_share"] * 100, 2),
        step=0.1,
    )
    per_officer = a3.number_input(
        "담당자 1명당 방문 가구", min_value=1, max_value=1000, value=int(settings.get("visits_per_officer")), step=10
    )
    use_staff = st.checkbox(f"등록된 담당 인력 반영 ({len(staff):,}개 시군구)", value=bool(staff), disabled=not staff)
    plans = {
        "현재 설정": capacity.Plan.configured(staff, share=meta["metrics"]["capacity_share"]),
        "가정": capacity.Plan(
            share=share_pct / 100,
            rule=rule,
            officers=staff if use_staff else {},
            visits_per_officer=int(per_officer),
        ),
    }
    table = capacity_panel.capacity_what_if(meta["version"], plans)
    if table is None:
        st.info("이 모델은 가정 분석 자료 없이 저장되었습니다. 다시 학습하면 이 표가 나타납니다.")
    else:
        st.dataframe(whatif.shown(table), width="stretch")

if may(login.current_scope().role, "set_staff"):
    st.markdown(
        "**시군구 담당 인력 등록 (관리자)**: 등록하면 그 시군구의 방문 용량이 인력 × 1인당 방문 가구가 되고, "
        "모든 차수의 점수 등급을 새 판으로 다시 계산합니다 (감사 기록)."
    )
    staff_job = data.job(st.session_state.get("staff_job"))
    s1, s2, s3 = st.columns([3, 2, 2])
    names = data.sgg_names(login.current_scope())
    staff_sgg = s1.selectbox("시군구", list(names), format_func=names.get, key="staff_sgg")
    staff_n = s2.number_input("담당 인원 (0 = 등록 해제)", min_value=0.0, max_value=500.0, step=1.0, key="staff_n")
    if s3.button(
        "등록하고 등급 다시 계산", key="staff_save", disabled=staff_job is not None and staff_job.status == "running"
    ):
        try:
            st.session_state["staff_job"] = capacity_panel.start_staff_change(staff_sgg, staff_n or None)
            st.rerun()
        except BlindspotError as exc:
            st.error(str(exc))
    if staff_job is not None:
        if staff_job.status == "running":
            st.progress(staff_job.fraction, text=f"{staff_job.kind} 중: {staff_job.message}")
        elif staff_job.status == "failed":
            st.error(staff_job.error)
        else:
            done = staff_job.result
            who = "등록 해제" if done["officers"] is None else f"담당 {done['officers']:g}명"
            st.success(f"{done['sgg']} {who}: 다시 계산한 차수 {', '.join(done['rescored_rounds']) or '없음'}.")

if may(login.current_scope().role, "manage_model"):
    st.subheader("모델 관리 (관리자)")
    job = data.job(st.session_state.get("model_job"))
    busy = job is not None and job.status == "running"

    def job_panel() -> None:
        """This session's model change: progress while it runs, then its outcome (once, with fresh caches)."""
        job = data.job(st.session_state.get("model_job"))
        if job is None:
            return
        if job.status == "running":
            st.progress(job.fraction, text=f"{job.kind} 중 ({job.user}): {job.message}")
            return
        if st.session_state.get("model_job_seen") != job.id:
            st.session_state["model_job_seen"] = job.id
            data.clear_caches()
            st.rerun()
        if job.status == "failed":
            st.error(job.error)
        else:
            r = job.result
            before = r.get("previous") or "없음"
            st.success(f"{job.kind} 완료: 서비스 모델 {r['version']} (이전 {before}), 새 판 {r['snapshot']}")

    st.fragment(run_every=1.0 if busy else None)(job_panel)()
    models = data.model_list()
    model_cols = glossary.MODEL_LIST_COLUMNS
    st.caption(
        "관문: 후보는 검증 차수에서 서비스 모델보다, 그리고 강한 기준선(지표별 가중 합)보다 용량 내 재현율이 "
        "높아야 서비스 모델이 됩니다. 지정·되돌리기는 새 판으로 게시되고 점수를 다시 계산하며 감사 기록에 남습니다."
    )
    st.dataframe(
        models,
        hide_index=True,
        width="stretch",
        column_config={
            **model_cols,
            "recall_at_capacity": st.column_config.NumberColumn(model_cols["recall_at_capacity"], format="%.4f"),
            "ratio_strong": st.column_config.NumberColumn(model_cols["ratio_strong"], format="%.2f배"),
            "in_service": st.column_config.CheckboxColumn(model_cols["in_service"]),
        },
    )
    others = [v for v, on in zip(models["version"], models["in_service"], strict=True) if not on]
    choice = st.selectbox("서비스 모델로 지정할 버전", others, index=None, key="model_choice")
    reason = st.text_input("사유 (필수: 감사 기록에 남습니다)", key="model_reason")
    force = st.checkbox("관문을 통과하지 못해도 지정 (관리자 무시)", key="model_force")
    c1, c2 = st.columns(2)
    go = c1.button("이 버전을 서비스 모델로", disabled=busy or not choice or not reason.strip(), key="model_activate")
    back = c2.button("직전 서비스 모델로 되돌리기", disabled=busy or not reason.strip(), key="model_rollback")
    if go or back:
        try:
            kind = "activate" if go else "rollback"
            st.session_state["model_job"] = data.start_model_change(kind, choice, reason, force)
            st.rerun()
        except ModelError as exc:
            st.error(str(exc))

with st.expander("모델 카드 (model card)", expanded=False):
    st.markdown(data.model_card(meta["version"]))
