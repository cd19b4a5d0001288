"""``python -m blindspot train``, ``evaluate`` (with the oracle and ``--seeds``) and
``models list|activate|rollback``: training, evaluation and the gate.

Apart from :mod:`blindspot.cli` to keep that module short.  ``train`` makes a candidate
and :func:`promote_candidate` runs the gate (:mod:`blindspot.model.registry`): a candidate
that passes goes into service in the new snapshot version, one that fails is kept in
``models/`` and the command exits with status 1, unless ``--force --reason`` overrides
(audited).  ``models activate`` and ``rollback`` write a new snapshot version in which the
model in service changed and every scored round was rescored.
"""

from __future__ import annotations

import json
import sys

from blindspot import config
from blindspot.errors import BlindspotError


def _explain(result: dict) -> None:
    """The gate's decision in Korean on stderr (stdout carries the JSON)."""
    if result.get("already"):
        print(f"이미 서비스 중인 모델입니다: {result['version']}. 바뀐 것이 없습니다.", file=sys.stderr)
        return
    gate = result.get("gate")
    if gate:
        print("관문 " + ("통과" if gate["passed"] else "미통과") + ":", file=sys.stderr)
        for reason in gate["reasons"]:
            print(f"  - {reason}", file=sys.stderr)
    if result.get("promoted"):
        how = " (관문 미통과, 관리자 사유로 지정)" if result.get("overridden") else ""
        rescored = ", ".join(result.get("rescored_rounds") or []) or "없음"
        print(
            f"서비스 모델로 지정했습니다: {result['version']}{how}. "
            f"이전 모델: {result.get('previous') or '없음'}. 다시 계산한 차수: {rescored}.",
            file=sys.stderr,
        )
    else:
        print(
            f"후보 모델을 저장했지만 서비스 모델로 지정하지 않았습니다: {result['version']}. 관리자가 사유를 적어 "
            f"지정하려면: python -m blindspot models activate {result['version']} --force --reason '사유'",
            file=sys.stderr,
        )


def promote_candidate(draft, models, version: str, args) -> dict:
    """Run the gate for a candidate inside ``train``'s draft; the draft is published only
    when the model in service changed."""
    from blindspot.cli import _user
    from blindspot.model import artifacts, registry
    from blindspot.progress import LineProgress

    result = registry.promote(
        draft.store,
        models,
        version,
        user=_user(args),
        reason=args.reason,
        force=args.force,
        snapshot=draft.name,
        progress=LineProgress(),
    )
    draft.keep = bool(result["promoted"])
    _explain(result)
    keys = ("promoted", "overridden", "previous", "rescored_rounds")
    return {
        "gate": result["gate"],
        **{k: result[k] for k in keys if k in result},
        "in_service": artifacts.in_service(draft.store),
    }


def _cmd_train(args) -> int:
    """Train a candidate, then the gate decides whether it goes into service
    (:func:`_explain` says why on stderr; status 1 when the candidate stays out of service)."""
    from blindspot.cli import _next_version, _or_setting, _thresholds
    from blindspot.model.training import train
    from blindspot.progress import LineProgress
    from blindspot.rounds import parse_round as parse

    if args.force and not args.reason:
        raise BlindspotError("--force 에는 --reason '사유' 가 필요합니다 (관문 무시는 감사 기록에 남습니다).")
    models = config.models_dir(args.models)
    with _next_version(args, "train") as draft:
        meta = train(
            draft.store,
            models,
            C=_or_setting(args.C, "model_c"),
            thresholds=_thresholds(args),
            test_round=parse(args.test_round).round_id if args.test_round else None,
            activate=False,
            progress=LineProgress(),
        )
        result = promote_candidate(draft, models, meta["version"], args)
    out = {"version": meta["version"], "training": meta["training"], "metrics": meta["metrics"], **result}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if result["in_service"] == meta["version"] else 1


def _list(args) -> int:
    from blindspot.cli import _database
    from blindspot.model import artifacts, registry

    with _database(args) as st:
        current = artifacts.in_service(st)
        history = registry.history(st)
    rows = registry.list_models(config.models_dir(args.models), current)
    if args.json:
        print(json.dumps({"in_service": current, "models": rows, "history": history}, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        where = config.models_dir(args.models)
        print(f"{where} 에 학습된 모델이 없습니다. `python -m blindspot train` 으로 학습하세요.")
    for r in rows:
        mark = "*" if r["in_service"] else " "
        recall = "-" if r["recall_at_capacity"] is None else f"{r['recall_at_capacity']:.4f}"
        ratio = "-" if r["ratio_strong"] is None else f"{r['ratio_strong']:.2f}배"
        print(
            f"{mark} {r['version']}  {r['created_at'] or '-':19s}  검증 {r['test_round'] or '-':8s} "
            f"재현율 {recall}  강한 기준선의 {ratio}  관문 {r['gate']}"
        )
    return 0


def _change(args) -> int:
    from blindspot.cli import _next_version, _user
    from blindspot.model import registry
    from blindspot.progress import LineProgress

    models = config.models_dir(args.models)
    if args.action == "activate":
        if not args.version:
            raise BlindspotError(
                "지정할 모델 버전을 주세요: python -m blindspot models activate rm-… (models list 에 나옴)"
            )
        if args.force and not args.reason:
            raise BlindspotError("--force 에는 --reason '사유' 가 필요합니다 (관문 무시는 감사 기록에 남습니다).")
        with _next_version(args, f"models activate {args.version}") as draft:
            result = registry.promote(
                draft.store,
                models,
                args.version,
                user=_user(args),
                reason=args.reason,
                force=args.force,
                snapshot=draft.name,
                action="activate",
                progress=LineProgress(),
            )
            draft.keep = bool(result["promoted"])
    else:
        if args.version:
            raise BlindspotError(
                "rollback 은 버전을 받지 않습니다 (직전 서비스 모델로 돌아감). 고르려면 models activate."
            )
        with _next_version(args, "models rollback") as draft:
            result = registry.rollback(
                draft.store, models, user=_user(args), reason=args.reason, snapshot=draft.name, progress=LineProgress()
            )
    _explain(result)
    print(json.dumps({**result, "snapshot": draft.published}, ensure_ascii=False, indent=2))
    return 0 if result["promoted"] or result.get("already") else 1


def _cmd_models(args) -> int:
    return _list(args) if args.action == "list" else _change(args)


def _cmd_evaluate(args) -> int:
    from blindspot.model.oracle import oracle_metrics
    from blindspot.model.training import evaluate
    from blindspot.progress import LineProgress
    from blindspot.rounds import parse_round as parse

    if args.seeds:
        from blindspot.model.sweep import run_seeds

        sweep = run_seeds(args.seeds, scale=args.scale, rounds=args.rounds)
        print(json.dumps(sweep, ensure_ascii=False, indent=None if args.json else 1))
        return 0
    from blindspot.cli import _database, _load_in_service

    with _database(args) as st:
        version, fitted, meta = _load_in_service(st, config.models_dir(args.models))
        round_id = parse(args.round or meta["training"]["test_round"]).round_id
        # The strong baseline's weights come from the model's own training rows (metadata).
        weights = meta.get("baselines", {}).get("strong_baseline_weights")
        result = evaluate(st, fitted, round_id, progress=LineProgress(), weights=weights)
        if not args.no_oracle:  # synthetic data only: None without ground truth
            result.update(
                oracle_metrics(st, round_id, result["model"]["recall_at_capacity"], progress=LineProgress()) or {}
            )
    keys: tuple[str, ...] = ("round", "ground_truth", "capacity_share", "model", "baseline", "recall_ratio")
    keys += ("strong_baseline", "recall_ratio_strong", "oracle", "recall_ratio_oracle", "audit_estimate")
    out = {"model_version": version, **{k: result[k] for k in keys if k in result}}
    out["subgroup_gaps"] = result["subgroup_gaps"]
    # The rolling backtest is measured once, at training (it refits a model per round), and
    # printed from the model's metadata; a model trained before it existed has none.
    if meta.get("backtest"):
        out["backtest"] = meta["backtest"]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        m, b = out["model"], out["baseline"]
        print(f"모델 {version}, 차수 {out['round']}, 정답 {out['ground_truth']}")
        for key in ("recall_at_capacity", "precision_at_capacity", "pr_auc", "roc_auc"):
            print(f"{key:24s} 모델 {m[key]:.3f}   개수 규칙 {b[key]:.3f}")
        print(f"{'ece':24s} 모델 {m['ece']:.4f}")
        if "backtest" in out:
            pooled = out["backtest"]["pooled"]
            lo, hi = pooled["model"]["ci95"]["recall_at_capacity"] or (float("nan"),) * 2
            print(
                f"차수별 검증 ({', '.join(pooled['rounds'])}) 모델 용량 내 재현율 "
                f"{pooled['model']['recall_at_capacity']:.3f} (95% 구간 {lo:.3f}–{hi:.3f})"
            )
    return 0
