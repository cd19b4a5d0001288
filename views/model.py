"""모델: 서비스 중인 위험 모델의 성능(지표 개수 규칙 대비), 보정, 하위집단, 변수 중요도, 모델 카드."""

import streamlit as st

from blindspot.app import data
from blindspot.maps import palette
from blindspot.model import card as modelcard

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
        "모델": st.column_config.NumberColumn(format="%.4f"),
        "지표 개수 규칙": st.column_config.NumberColumn(format="%.4f"),
    },
)
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
st.dataframe(
    sub.style.apply(
        lambda row: [f"background-color: {palette.GAP_HIGHLIGHT}" if row["gap"] else ""] * len(row), axis=1
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "dimension": "구분",
        "group": "집단",
        "n": st.column_config.NumberColumn("가구", format="localized"),
        "positives": st.column_config.NumberColumn("위기 가구", format="localized"),
        "prevalence": st.column_config.NumberColumn("위기 비율", format="percent"),
        "model_recall": st.column_config.NumberColumn("모델 재현율", format="%.3f"),
        "model_ceiling": st.column_config.NumberColumn(
            "용량 상한", format="%.3f", help="방문 용량으로 찾을 수 있는 최대 재현율 = min(1, 방문 ÷ 위기 가구)"
        ),
        "baseline_recall": st.column_config.NumberColumn("규칙 재현율", format="%.3f"),
        "model_pr_auc": st.column_config.NumberColumn("모델 PR-AUC", format="%.3f"),
        "baseline_pr_auc": st.column_config.NumberColumn("규칙 PR-AUC", format="%.3f"),
        "model_ece": st.column_config.NumberColumn("모델 ECE", format="%.4f"),
        "gap": st.column_config.CheckboxColumn("격차"),
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

with st.expander("모델 카드 (model card)", expanded=False):
    st.markdown(data.model_card(meta["version"]))
