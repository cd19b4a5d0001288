"""The model card (``models/<version>/model-card.md``), generated from the metadata.

Headings are Korean with English; numbers come from the metadata only, so the card
can never disagree with the artifact it describes.
"""

from __future__ import annotations

from blindspot import glossary

GAP_LIMIT = 0.8


def _f(x, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _gap_reason(gap: dict, subgroups: list[dict]) -> str:
    """Why a subgroup's recall trails, from measured numbers only.

    Recall splits exactly into two measured factors: recall = (selected ÷ crisis
    households) × precision, so the worst/best recall ratio is the product of the ratio of
    the share of its crisis households a group got visits for and the ratio of precision
    inside those visits.  The sentence names the smaller factor as the main cause:

    * where every ranking selects the same number of a group's households (시도, 동/읍·면:
      capacity is per 읍면동, in proportion to households, not to need), the selection
      share is the capacity rule's ceiling, set by prevalence;
    * otherwise (age, sex, …) the selection share is the ranking's own allocation;
    * precision is how many of the selected households were in crisis.

    The crisis households' mean number of signals is given as a measured fact; the count
    rule's ratio beside the model's, as larger, smaller or alike, with no cause claimed.

    >>> g = {"dimension": "시도", "worst_group": "강원", "worst_recall": 0.15, "best_group": "제주",
    ...      "best_recall": 0.35, "ratio": 0.43, "baseline_ratio": 0.45}
    >>> rows = [{"dimension": "시도", "group": "강원", "positives": 1000, "prevalence": 0.043,
    ...          "model_selected": 190, "baseline_selected": 190, "model_precision": 0.79},
    ...         {"dimension": "시도", "group": "제주", "positives": 500, "prevalence": 0.018,
    ...          "model_selected": 220, "baseline_selected": 220, "model_precision": 0.80}]
    >>> import textwrap
    >>> for part in _gap_reason(g, rows).split("; "):
    ...     print(textwrap.fill(part, 50))
    방문 용량은 읍면동 가구 수에 비례해 나뉘는데 위기 가구 비율이 '강원' 4.3%,
    '제주' 1.8%라, 용량이 닿는 위기 가구는 '강원' 19%, '제주' 44%입니다
    용량 안 정밀도는 '강원' 0.79, '제주' 0.80입니다
    재현율 비율 0.43 = 용량 비율 0.43 × 정밀도 비율 0.99: 격차는 주로 방문
    용량 배분 규칙(가구 수 비례)에서 옵니다
    비율(최저/최고)은 모델 0.43, 지표 개수 규칙 0.45: 두 순위의 격차가
    비슷합니다.
    """
    rows = {r["group"]: r for r in subgroups if r["dimension"] == gap["dimension"]}
    worst_name, best_name = gap["worst_group"], gap["best_group"]
    worst, best = rows.get(worst_name, {}), rows.get(best_name, {})
    parts = []
    main = None
    sel = [worst.get("model_selected"), best.get("model_selected")]
    pos = [worst.get("positives"), best.get("positives")]
    prec = [worst.get("model_precision"), best.get("model_precision")]
    if None not in sel + prec and all(pos) and all(prec):
        share = [sel[0] / pos[0], sel[1] / pos[1]]
        # Capacity is per 읍면동: a dimension made of areas gets the same visits from any ranking.
        by_area = all(
            r.get("model_selected") == r.get("baseline_selected") for r in rows.values() if "baseline_selected" in r
        )
        wp, bp = worst.get("prevalence"), best.get("prevalence")
        if by_area:
            parts.append(
                f"방문 용량은 읍면동 가구 수에 비례해 나뉘는데 위기 가구 비율이 '{worst_name}' {wp:.1%}, "
                f"'{best_name}' {bp:.1%}라, 용량이 닿는 위기 가구는 '{worst_name}' {min(1, share[0]):.0%}, "
                f"'{best_name}' {min(1, share[1]):.0%}입니다"
            )
        else:
            parts.append(
                f"모델이 용량 안에 고른 가구는 그 집단 위기 가구 수의 '{worst_name}' {share[0]:.0%}, "
                f"'{best_name}' {share[1]:.0%}입니다 (위기 가구 비율 '{worst_name}' {wp:.1%}, '{best_name}' {bp:.1%})"
            )
        parts.append(f"용량 안 정밀도는 '{worst_name}' {prec[0]:.2f}, '{best_name}' {prec[1]:.2f}입니다")
        s_ratio, p_ratio = share[0] / share[1], prec[0] / prec[1]
        if min(s_ratio, p_ratio) >= 0.9:
            main = "두 요인 모두 작아 격차가 크지 않습니다"
        elif s_ratio <= p_ratio:
            main = (
                "격차는 주로 방문 용량 배분 규칙(가구 수 비례)에서 옵니다"
                if by_area
                else f"격차는 주로 모델이 용량 안에 '{worst_name}' 가구를 덜 고르는 데서 옵니다"
            )
        else:
            main = f"격차는 주로 정밀도에서 옵니다: 모델이 고른 '{worst_name}' 가구 중 위기 가구의 비율이 더 낮습니다"
        name = "용량 비율" if by_area else "선택 비율"
        parts.append(f"재현율 비율 {s_ratio * p_ratio:.2f} = {name} {s_ratio:.2f} × 정밀도 비율 {p_ratio:.2f}: {main}")
    ws, bs = worst.get("positive_mean_signals"), best.get("positive_mean_signals")
    if ws is not None and bs is not None and abs(ws - bs) >= 0.1:
        parts.append(f"위기 가구가 보이는 위기정보는 평균 '{worst_name}' {ws:.2f}건, '{best_name}' {bs:.2f}건입니다")
    base, ratio = gap.get("baseline_ratio"), gap.get("ratio")
    if base is not None and ratio is not None:
        if base > ratio + 0.02:
            compare = "모델의 격차가 더 큽니다"
        elif base < ratio - 0.02:
            compare = "모델의 격차가 더 작습니다"
        else:
            compare = "두 순위의 격차가 비슷합니다"
        parts.append(f"비율(최저/최고)은 모델 {ratio:.2f}, 지표 개수 규칙 {base:.2f}: {compare}")
    return "; ".join(parts) + "." if parts else "측정된 원인이 없습니다."


def _explanation_lines(meta: dict, n_features: int) -> list[str]:
    """The card's sentence on reasons, exact: the identity holds over every feature."""
    explain = meta.get("explain", {})
    # Without set_population_base the base is fit's: the training rows (pipeline.fit's wording).
    population = explain.get("base_population", f"학습 행 {meta['training']['rows']:,}건 (방문 가구)")
    whole = "전체 가구" in population  # set_population_base names a round's households so
    base = explain.get("base_logit")
    return [
        "가구별 사유는 선형 모델의 로그 오즈를 변수별로 정확히 나눈 값입니다: **기준값 + 기여도의 합 = 로그 오즈**. "
        f"이 등식의 합은 변수 {n_features}개 전체의 기여도 합이며, 화면에 보이는 사유 3개의 합이 아닙니다 "
        "(exact over all features, not over the three shown).",
        f"- 기준값 (base): 기준 집단의 열 평균에서의 로그 오즈{'' if base is None else f' {base:.3f}'}; "
        f"기준 집단: {population}."
        + (
            " 기준 집단이 그 차수의 전체 가구이므로 기준값은 그 가구들의 평균 로그 오즈이고, "
            "변수마다 기여도의 평균이 0입니다."
            if whole
            else " 방문 가구는 위기정보로 뽑힌 가구라, 이 기준값은 차수 전체 가구의 평균이 아닙니다."
        ),
        "- 기여도 (contribution): 계수 × (가구의 값 − 기준 집단의 평균), 로그 오즈 단위.",
        "- 보이는 사유: 기여도의 절댓값이 가장 큰 3개입니다. 값이 0인 변수(예: 신규 위기정보 없음)도 크면 "
        "나오며, 위험을 낮춘 요인은 '(위험 낮춤)'을 붙여 보입니다.",
    ]


def backtest_table(meta: dict):
    """The backtest as the model page shows it (:func:`blindspot.model.backtest.backtest_frame`)."""
    from blindspot.model.backtest import backtest_frame

    return backtest_frame(meta)


def _backtest_section(meta: dict) -> str:
    # Imported here: the backtest module imports training, which imports this module.
    from blindspot.model.backtest import card_section

    return card_section(meta)


def model_card(meta: dict) -> str:
    m, b = meta["metrics"]["model"], meta["metrics"]["baseline"]
    n_features = len(
        sum((meta["feature_set"][k] for k in ("flags", "months", "amounts", "numeric", "categorical")), [])
    )
    tr = meta["training"]
    th = meta["thresholds"]
    lines = [
        f"# 모델 카드 (Model card): {meta['version']}",
        "",
        f"생성 {meta['created_at']} · {meta['estimator']} · scikit-learn {meta['library_versions']['scikit-learn']}",
        "",
        "## 용도 (Intended use)",
        "읍면동 복지 담당자가 이번 차수 방문·상담 순서를 정할 때 참고하는 위기 가구 **우선순위**입니다. "
        "점수는 방문을 대신하지 않으며, 수급 자격 판정·제재·불이익 결정에 쓰지 않습니다. "
        "Ranks households for outreach visits; not for eligibility or sanctions.",
        "",
        "## 자료 (Data)",
        f"- 학습 차수 (training rounds): {', '.join(tr['rounds'])}; 검증 차수 (held-out): {tr['test_round']}",
        f"- 라벨 (labels): 방문 결과 — 발굴시스템 명단·지자체 선정 경로({', '.join(tr['label_channels'])})의 "
        "욕구 확인·지원 연계·지원 거부 = 1, 접촉·대상 아님 = 0, 연락 불가는 제외. "
        "이웃·명예사회복지공무원·검침원 제보는 위기를 보고 고른 가구라(결과에 따른 선택) 학습에서 뺍니다.",
        f"- 학습 행 (rows): {tr['rows']:,}건, 양성 {tr['positives']:,}건; 자료 지문 (fingerprint) "
        f"`{tr['data_fingerprint'][:16]}…`",
        *(
            [
                "- 확률 보정 (calibration): 가중치 없이 학습한 뒤, 방문 결과를 명단 선정 확률의 역수로 가중해 "
                f"로그오즈의 기울기와 절편을 다시 맞춤 (기울기: {c['slope']:.3f}, 절편: {c['intercept']:+.3f}; "
                "명단에 오른 가구가 아니라 위기정보 가구 전체에 맞춘 확률이며 순위는 그대로). "
                "Log-odds recalibrated with inverse listing-propensity weights (`listing_ipw_platt`).",
            ]
            if (c := tr.get("calibration"))
            else []
        ),
        f"- 데이터베이스: {tr['database'].get('data_kind')} (generator {tr['database'].get('generator_version')}, "
        f"seed {tr['database'].get('seed')}, scale {tr['database'].get('scale')})",
        "- 입력 변수 (features): "
        f"{len(sum((meta['feature_set'][k] for k in ('flags', 'months', 'amounts', 'numeric', 'categorical')), []))}개 "
        f"(feature set `{meta['feature_set']['fingerprint']}`): 지표별 값, 위기정보 이력(연속·신규·영역 수), "
        "가구 특성, 읍면동 위기정보 비율",
        "",
        "## 성능 (Metrics)",
        f"검증 차수 {meta['metrics']['round']}, 정답 (ground truth): `{meta['metrics']['ground_truth']}`, "
        f"방문 용량 (capacity): 읍면동 가구의 {meta['metrics']['capacity_share']:.1%} (최소 1가구).",
        "",
        "| 지표 (metric) | 모델 (model) | 지표 개수 규칙 (count rule) |",
        "|---|---|---|",
        f"| 용량 내 재현율 (recall at capacity) | {_f(m['recall_at_capacity'])} | {_f(b['recall_at_capacity'])} |",
        f"| 용량 내 정밀도 (precision at capacity) | {_f(m['precision_at_capacity'])} | "
        f"{_f(b['precision_at_capacity'])} |",
        f"| PR-AUC | {_f(m['pr_auc'])} | {_f(b['pr_auc'])} |",
        f"| ROC-AUC | {_f(m['roc_auc'])} | {_f(b['roc_auc'])} |",
        f"| Brier score | {_f(m.get('brier'), 4)} | — |",
        f"| 기대 보정 오차 (ECE) | {_f(m.get('ece'), 4)} | — |",
        "",
        f"재현율 비율 (model / count rule): **{_f(meta['metrics']['recall_ratio'], 2)}×**",
        *(
            [
                "",
                "가중 신호 규칙 (strong baseline: 위기정보마다 학습 차수의 위기 비율 로그 배수를 가중치로 더한 값, "
                f"전국 시스템의 방식): 용량 내 재현율 {_f(s['recall_at_capacity'])}, 정밀도 "
                f"{_f(s['precision_at_capacity'])}, PR-AUC {_f(s['pr_auc'])}; 모델 / 가중 신호 규칙 재현율 비율 "
                f"**{_f(meta['metrics'].get('recall_ratio_strong'), 2)}×**",
            ]
            if (s := meta["metrics"].get("strong_baseline"))
            else []
        ),
        f"보정 오차 (위기정보 1건 이상 가구, ECE signalled): {_f(m.get('ece_signalled'), 4)}",
        "",
        *([section, ""] if (section := _backtest_section(meta)) else []),
        *(
            [
                "## 무작위 점검으로 본 재현율 (audit-sample estimate)",
                _audit_text(a),
                "명령: `python -m blindspot train` (메타데이터 `metrics.audit_estimate`), "
                "`python -m blindspot evaluate --json` (`audit_estimate`).",
                "",
            ]
            if (a := meta["metrics"].get("audit_estimate"))
            else []
        ),
        "## 위험 등급 (Bands)",
        f"- 위험 (high): 읍면동 방문 용량 안 + 확률 ≥ {th['medium']}",
        f"- 주의 (medium): 확률 ≥ {th['medium']}; 관심 (low): 확률 ≥ {th['low']}; 나머지는 해당 없음",
        "",
        "## 하위집단 (Subgroups)",
        "| 구분 | 최저 집단 (worst) | 재현율 | 최고 집단 (best) | 재현율 | 비율 (worst/best) | 개수 규칙 비율 |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in meta["subgroup_gaps"]:
        lines.append(
            f"| {g['dimension']} | {g['worst_group']} | {_f(g['worst_recall'])} | {g['best_group']} | "
            f"{_f(g['best_recall'])} | {_f(g['ratio'], 2)} | {_f(g.get('baseline_ratio'), 2)} |"
        )
    low = [g for g in meta["subgroup_gaps"] if g["ratio"] is not None and g["ratio"] < GAP_LIMIT]
    lines.append("")
    if low:
        lines.append(f"비율이 {GAP_LIMIT} 미만인 구분과 그 이유 (why recall ratio < {GAP_LIMIT}):")
        for g in low:
            lines.append(f"- **{g['dimension']}** — '{g['worst_group']}': {_gap_reason(g, meta['subgroups'])}")
    else:
        lines.append(f"모든 구분에서 재현율 비율이 {GAP_LIMIT} 이상입니다.")
    lines += [
        "",
        "## 설명 방법 (Explanations)",
        *_explanation_lines(meta, n_features),
        "",
        "## 한계 (Limits)",
        "- 라벨은 방문한 가구에서만 나옵니다. 신호가 전혀 없는 가구에 대한 확률은 방문 가구에서 외삽한 값입니다.",
        "- 합성 데이터로 학습한 모델은 합성 세계의 규칙을 배운 것이며, 실데이터에서는 다시 학습·검증해야 합니다.",
        "- 지표 목록(feature set)이나 scikit-learn 버전이 바뀌면 이 모델은 거부되고 다시 학습해야 합니다.",
        "- 연락 불가 가구는 라벨에서 빠지므로, 연락이 끊긴 위기(거주불명 등)는 과소 학습될 수 있습니다.",
        "",
    ]
    return "\n".join(lines)


# --- tables for the "모델" page (plain frames; the page only renders them) ----------------

METRIC_LABELS = glossary.METRIC_LABELS


def metrics_table(meta: dict):
    """Model vs count rule, one row per metric."""
    import pandas as pd

    m, b = meta["metrics"]["model"], meta["metrics"]["baseline"]
    return pd.DataFrame(
        [
            {"지표": label, "모델": m.get(key), glossary.RANKINGS["baseline"]: b.get(key)}
            for key, label in METRIC_LABELS.items()
        ]
    )


def pr_frame(meta: dict):
    """Precision at each recall level for both rankings (long form for a line chart)."""
    import pandas as pd

    rows = [
        {"재현율 (recall)": p["recall"], "정밀도 (precision)": p["precision"], "순위": name}
        for key, name in ((k, glossary.RANKINGS[k]) for k in ("model", "baseline"))
        for p in meta["curves"]["pr"][key]
    ]
    return pd.DataFrame(rows)


def reliability_frame(meta: dict):
    """Mean predicted probability vs observed rate per bin, with the diagonal."""
    import pandas as pd

    rel = meta["curves"]["reliability"]
    return pd.DataFrame(
        {
            "예측 확률": [r["mean_probability"] for r in rel],
            "실제 비율": [r["observed_rate"] for r in rel],
            "완벽한 보정": [r["mean_probability"] for r in rel],
            "가구 수": [r["n"] for r in rel],
        }
    )


def subgroup_frame(meta: dict, limit: float = GAP_LIMIT):
    """Subgroup recall of model and count rule; ``gap`` marks the worst group of a
    dimension whose worst/best ratio is below ``limit``."""
    import pandas as pd

    df = pd.DataFrame(meta["subgroups"])
    df["gap"] = False
    for g in meta["subgroup_gaps"]:
        if g["ratio"] is not None and g["ratio"] < limit:
            df.loc[(df["dimension"] == g["dimension"]) & (df["group"] == g["worst_group"]), "gap"] = True
    cols = [
        "dimension",
        "group",
        "n",
        "positives",
        "prevalence",
        "model_recall",
        "model_ceiling",
        "baseline_recall",
        "model_pr_auc",
        "baseline_pr_auc",
        "model_ece",
        "gap",
    ]
    # Models trained before the ceilings were measured have no such columns.
    return df[[c for c in cols if c in df]]


def importance_frame(meta: dict, top: int = 15):
    import pandas as pd

    return pd.DataFrame(meta["importance"][:top])[["label", "mean_abs_contribution"]]


def _audit_text(a: dict) -> str:
    from blindspot.model.auditsample import summary_text

    return summary_text(a)
