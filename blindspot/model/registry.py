"""Which trained model is in service: the promotion gate, activation, rollback, the model list.

``train`` only makes a *candidate* (``models/<version>/``); :func:`promote` puts it in
service when it passes :func:`gate`:

(a) it beats the model in service on recall at capacity, both judged on the candidate's
    test round.  The model in service was tested on a round no later than that (it was
    trained before it, on rounds before its own test round), so that round is unseen by
    both and the comparison has no leakage.  When the model in service was tested on a
    *later* round — it may have trained on the candidate's test round — no fair comparison
    exists and the gate fails;
(b) it beats the strong baseline (the specificity-weighted signal sum) on recall at
    capacity: over the rolling backtest's pooled folds (``metadata["backtest"]["pooled"]``)
    when the model has one, else on its test round (``metadata["metrics"]``).

A first model (none in service) passes, with the reason "첫 모델".  A model that fails may
still be put in service by an admin who states a reason (an override).  Every change of
the model in service — promotion, override, activation of another version, rollback — is
one record of the audit log (:func:`blindspot.casework.audit.record`), written before the
new snapshot version is published, so no change goes unrecorded.

The model in service is the snapshot's meta ``model_version``; its history (who put which
model in service, replacing which, why) is the meta ``model_history`` of the same snapshot,
so ``snapshots activate`` (which moves data and model back together) also moves the
history back.  :func:`rollback` returns to the model the current one replaced.  Activating
or rolling back rescores every scored round with the new model, so lists, bands and maps
follow it.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from blindspot import glossary
from blindspot.access import Scope
from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model import artifacts, drift, sql
from blindspot.model.features import feature_set
from blindspot.model.pipeline import ModelError
from blindspot.progress import ProgressFn, silent
from blindspot.rounds import parse_round

HISTORY_KEY = "model_history"
REASON_MIN, REASON_MAX = 4, 200
FIRST = "첫 모델: 서비스 중인 모델이 없어 비교 없이 지정합니다."


@dataclass(frozen=True)
class GateResult:
    """Whether a candidate may go into service, why (Korean sentences) and the figures."""

    passed: bool
    reasons: list[str]
    figures: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _recall(block: dict | None) -> float | None:
    value = (block or {}).get("recall_at_capacity")
    return None if value is None else float(value)


def strong_figures(meta: dict) -> dict:
    """The candidate's recall and the strong baseline's, from the backtest's pooled folds
    when present, else from the test round.

    >>> strong_figures({"metrics": {"round": "2024-R3", "model": {"recall_at_capacity": 0.12},
    ...                              "strong_baseline": {"recall_at_capacity": 0.1}}})
    {'basis': 'test_round', 'rounds': ['2024-R3'], 'model_recall': 0.12, 'strong_recall': 0.1}
    """
    backtest = meta.get("backtest") or {}
    pooled = backtest.get("pooled") or {}
    if _recall(pooled.get("model")) is not None and _recall(pooled.get("strong_baseline")) is not None:
        return {
            "basis": "backtest",
            "rounds": [f.get("round") for f in backtest.get("folds", [])],
            "model_recall": _recall(pooled["model"]),
            "strong_recall": _recall(pooled["strong_baseline"]),
        }
    m = meta.get("metrics", {})
    return {
        "basis": "test_round",
        "rounds": [m.get("round")],
        "model_recall": _recall(m.get("model")),
        "strong_recall": _recall(m.get("strong_baseline")),
    }


def gate(candidate: dict, service: dict | None) -> GateResult:
    """The promotion gate (module docstring), a pure function of the candidate's metadata
    and of the model in service's figures on the candidate's test round: ``service`` is None
    when no model is in service, else ``{"version", "test_round", "recall_at_capacity"}``
    (``recall_at_capacity`` None when it could not be evaluated: ``"error"`` says why).

    >>> cand = {"metrics": {"round": "2024-R3", "model": {"recall_at_capacity": 0.12},
    ...                     "strong_baseline": {"recall_at_capacity": 0.10}}}
    >>> gate(cand, None).passed, gate(cand, None).reasons[0][:4]
    (True, '첫 모델')
    >>> g = gate(cand, {"version": "rm-a", "test_round": "2024-R2", "recall_at_capacity": 0.13})
    >>> g.passed, len(g.reasons)
    (False, 2)
    """
    figures = {"strong": strong_figures(candidate)}
    m_recall = figures["strong"]["model_recall"]
    s_recall = figures["strong"]["strong_recall"]
    basis = "백테스트 합산" if figures["strong"]["basis"] == "backtest" else "검증 차수"
    if s_recall is None or m_recall is None:
        strong_ok, strong_reason = False, "강한 기준선 수치가 없어 비교할 수 없습니다 (이 기능 전에 학습된 모델)."
    else:
        strong_ok = m_recall > s_recall
        strong_reason = (
            f"강한 기준선보다 용량 내 재현율이 {'높습니다' if strong_ok else '높지 않습니다'}: "
            f"{m_recall:.4f} {'>' if strong_ok else '≤'} {s_recall:.4f} ({basis})"
        )
    if service is None:
        return GateResult(True, [FIRST, strong_reason], figures)
    figures["service"] = dict(service)
    cand_round = candidate.get("metrics", {}).get("round") or candidate.get("training", {}).get("test_round")
    c_recall = _recall(candidate.get("metrics", {}).get("model"))
    v = service.get("version")
    if service.get("test_round") and parse_round(service["test_round"]).round_id > parse_round(cand_round).round_id:
        service_ok = False
        service_reason = (
            f"서비스 모델 {v} 의 검증 차수({service['test_round']})가 후보의 검증 차수({cand_round})보다 나중입니다: "
            "후보의 검증 차수가 서비스 모델의 학습에 쓰였을 수 있어 공정하게 비교할 수 없습니다."
        )
    elif service.get("recall_at_capacity") is None:
        # A model in service that no longer loads (another scikit-learn, another catalogue)
        # cannot score anything: it is no competition.
        service_ok = True
        why = service.get("error") or "이유 모름"
        service_reason = f"서비스 모델({v})을 평가할 수 없어 비교하지 않았습니다: {why}"
    else:
        r = float(service["recall_at_capacity"])
        service_ok = c_recall is not None and c_recall > r
        service_reason = (
            f"서비스 모델 {v} 보다 용량 내 재현율이 {'높습니다' if service_ok else '높지 않습니다'}: "
            f"{c_recall if c_recall is not None else float('nan'):.4f} {'>' if service_ok else '≤'} {r:.4f} "
            f"(둘 다 검증 차수 {cand_round})"
        )
    return GateResult(service_ok and strong_ok, [service_reason, strong_reason], figures)


def service_figures(
    store: Store, models_dir: Path, candidate: dict, catalogue: Catalogue | None = None, progress: ProgressFn = silent
) -> dict | None:
    """The model in service judged on the candidate's test round, with the candidate's
    visit capacity (None when no model is in service)."""
    from blindspot.model.training import evaluate

    version = artifacts.in_service(store)
    if not version:
        return None
    try:
        fitted, meta = artifacts.load(Path(models_dir), version, catalogue)
    except ModelError as exc:
        return {"version": version, "test_round": None, "recall_at_capacity": None, "error": str(exc)}
    test_round = meta.get("training", {}).get("test_round")
    cand_round = candidate["metrics"]["round"]
    out = {"version": version, "test_round": test_round, "recall_at_capacity": None}
    if test_round and parse_round(test_round).round_id > parse_round(cand_round).round_id:
        return out  # no fair comparison: the gate says so without evaluating
    share = candidate.get("thresholds", {}).get("capacity_share")
    result = evaluate(store, fitted, parse_round(cand_round).round_id, catalogue, share, progress)
    out["recall_at_capacity"] = result["model"]["recall_at_capacity"]
    return out


def check_reason(text: str | None) -> str:
    """A stated reason, trimmed: 4 to 200 characters on one line.

    >>> check_reason("  성능 저하 확인 ")
    '성능 저하 확인'
    >>> check_reason("")
    Traceback (most recent call last):
    ...
    blindspot.model.pipeline.ModelError: 사유를 4자 이상 200자 이하의 한 줄로 적으세요.
    """
    text = (text or "").strip()
    bad = any(unicodedata.category(c)[0] == "C" for c in text)
    if bad or not REASON_MIN <= len(text) <= REASON_MAX:
        raise ModelError("사유를 4자 이상 200자 이하의 한 줄로 적으세요.")
    return text


def history(store: Store) -> list[dict]:
    """Changes of the model in service in this snapshot, oldest first."""
    text = store.meta().get(HISTORY_KEY)
    return json.loads(text) if text else []


def rollback_target(entries: list[dict], current: str | None) -> str | None:
    """The model the current one replaced when it was last put in service forward (a
    rollback is not a forward step, so rolling back twice goes two steps back).

    >>> h = [{"version": "A", "previous": None, "action": "promote"},
    ...      {"version": "B", "previous": "A", "action": "promote"},
    ...      {"version": "C", "previous": "B", "action": "promote"},
    ...      {"version": "B", "previous": "C", "action": "rollback"}]
    >>> rollback_target(h[:3], "C"), rollback_target(h, "B"), rollback_target(h[:1], "A")
    ('B', 'A', None)
    """
    for e in reversed(entries):
        if e.get("version") == current and e.get("action") != "rollback":
            return e.get("previous")
    return None


def ensure_reference(
    store: Store, models_dir: Path, meta: dict, catalogue: Catalogue | None = None, progress: ProgressFn = silent
) -> dict:
    """The model's drift reference (its test round's population, binned), computed and
    saved in its metadata.json when missing; returns the metadata."""
    if meta.get("drift_reference"):
        return meta
    round_id = parse_round(meta["metrics"]["round"]).round_id
    ref = drift.reference(store, round_id, feature_set(catalogue), catalogue, progress)
    return artifacts.update_metadata(Path(models_dir), meta["version"], {"drift_reference": ref})


def rescore_all(
    store: Store, models_dir: Path, version: str, catalogue: Catalogue | None = None, progress: ProgressFn = silent
) -> list[str]:
    """Rescore every round that has scores with model ``version`` (and its drift reference)."""
    from blindspot.model.capacity import current_plan
    from blindspot.model.scoring import score_round
    from blindspot.rounds import from_id

    fitted, meta = artifacts.load(Path(models_dir), version, catalogue)
    plan = current_plan(fitted.thresholds.capacity_share)
    rounds = [r for (r,) in store.rows(sql.SCORED_ROUND_IDS)]
    for k, r in enumerate(rounds):

        def part(f: float, m: str, k: int = k) -> None:
            progress((k + f) / len(rounds), m)

        score_round(
            store, fitted, version, r, catalogue, progress=part, reference=meta.get("drift_reference"), plan=plan
        )
    return [from_id(r).code for r in rounds]


def _put_in_service(
    store: Store,
    models_dir: Path,
    version: str,
    *,
    action: str,
    audit_action: str,
    user: str,
    reason: str | None,
    snapshot: str | None,
    detail: str,
    catalogue: Catalogue | None,
    progress: ProgressFn,
) -> dict:
    from blindspot.casework import audit

    previous = artifacts.in_service(store)
    artifacts.activate(store, Path(models_dir), version, catalogue)
    entries = history(store)
    entries.append(
        {
            "version": version,
            "previous": previous,
            "action": action,
            "at": dt.datetime.now().isoformat(timespec="seconds"),
            "by": user,
            "reason": reason,
            "snapshot": snapshot,
        }
    )
    store.set_meta(HISTORY_KEY, json.dumps(entries, ensure_ascii=False))
    rescored = rescore_all(store, models_dir, version, catalogue, progress)
    # Last, inside the caller's draft: a failed record leaves nothing published.
    audit.record(
        Scope.all_areas(user=user, role="admin"),
        audit_action,
        {"model_version": version, "previous": previous, "snapshot": snapshot},
        None,
        None,
        detail=(f"사유: {reason} · " if reason else "") + detail,
    )
    return {"version": version, "previous": previous, "rescored_rounds": rescored}


def promote(
    store: Store,
    models_dir: Path,
    version: str,
    *,
    user: str,
    reason: str | None = None,
    force: bool = False,
    snapshot: str | None = None,
    action: str = "promote",
    catalogue: Catalogue | None = None,
    progress: ProgressFn = silent,
) -> dict:
    """Put model ``version`` in service if it passes the gate, or when ``force`` with a
    ``reason`` (an admin's override); otherwise leave the model in service as it is.

    Returns ``{"version", "promoted", "gate", "previous", "rescored_rounds"}`` (and
    ``"already": True`` when it is in service already).  ``action`` names the step in the
    history: ``promote`` (after train) or ``activate`` (a chosen version).
    """
    catalogue = catalogue or load_catalogue()
    models_dir = Path(models_dir)
    if force:
        reason = check_reason(reason)
    artifacts.load(models_dir, version, catalogue)  # refuse an unusable artifact before any work
    meta = artifacts.read_metadata(models_dir, version)
    # Also for the model in service: retraining on the same data rewrote its metadata.json.
    meta = ensure_reference(store, models_dir, meta, catalogue, lambda f, m: progress(0.2 * f, m))
    if artifacts.in_service(store) == version:
        if not meta.get("gate"):
            same = {"passed": True, "reasons": ["서비스 중인 모델과 같은 버전입니다 (같은 자료로 다시 학습)."]}
            artifacts.update_metadata(models_dir, version, {"gate": {**same, "figures": {}}})
        return {"version": version, "promoted": False, "already": True, "gate": None}
    service = service_figures(store, models_dir, meta, catalogue, lambda f, m: progress(0.2 + 0.3 * f, m))
    result = gate(meta, service)
    record = {**result.as_dict(), "evaluated_at": dt.datetime.now().isoformat(timespec="seconds")}
    if not result.passed and not force:
        artifacts.update_metadata(models_dir, version, {"gate": record})
        return {"version": version, "promoted": False, "gate": result.as_dict()}
    overridden = not result.passed
    if overridden:
        record["override"] = {"by": user, "reason": reason}
    done = _put_in_service(
        store,
        models_dir,
        version,
        action="override" if overridden else action,
        audit_action="override_model_gate" if overridden else "promote_model",
        user=user,
        reason=reason,
        snapshot=snapshot,
        detail="관문: " + " / ".join(result.reasons),
        catalogue=catalogue,
        progress=lambda f, m: progress(0.5 + 0.5 * f, m),
    )
    artifacts.update_metadata(models_dir, version, {"gate": record})
    return {**done, "promoted": True, "overridden": overridden, "gate": result.as_dict()}


def rollback(
    store: Store,
    models_dir: Path,
    *,
    user: str,
    reason: str | None = None,
    snapshot: str | None = None,
    catalogue: Catalogue | None = None,
    progress: ProgressFn = silent,
) -> dict:
    """Put back the model the current one replaced (:func:`rollback_target`); no gate: it
    was in service before.  Raises :class:`ModelError` when there is none to go back to."""
    catalogue = catalogue or load_catalogue()
    current = artifacts.in_service(store)
    target = rollback_target(history(store), current)
    if target is None:
        raise ModelError(
            f"되돌릴 이전 모델이 없습니다 (서비스 모델 {current or '없음'}: 처음 지정된 모델이거나 기록이 없음). "
            "`python -m blindspot models list` 로 모델을 보고 `models activate 버전` 으로 지정하세요."
        )
    reason = check_reason(reason) if reason else None
    meta = ensure_reference(store, Path(models_dir), artifacts.read_metadata(Path(models_dir), target), catalogue)
    done = _put_in_service(
        store,
        Path(models_dir),
        target,
        action="rollback",
        audit_action="rollback_model",
        user=user,
        reason=reason,
        snapshot=snapshot,
        detail=f"{current} → {target} (검증 차수 {meta['metrics']['round']})",
        catalogue=catalogue,
        progress=progress,
    )
    return {**done, "promoted": True}


GATE_STATUS = glossary.GATE_STATUS


def list_models(models_dir: Path, current: str | None) -> list[dict]:
    """Every model of ``models_dir`` (``*/metadata.json``), oldest first: version, created,
    test round, recall at capacity, ratio over the strong baseline (and its basis), the
    last gate's status, and whether it is the one in service."""
    out = []
    for path in sorted(Path(models_dir).glob("*/" + artifacts.METADATA_FILE)):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        fig = strong_figures(meta)
        g = meta.get("gate")
        status = "기록 없음" if not g else GATE_STATUS[bool(g.get("passed"))]
        if g and g.get("override"):
            status = "미통과 (관리자 무시)"
        out.append(
            {
                "version": meta.get("version", path.parent.name),
                "created_at": meta.get("created_at"),
                "test_round": meta.get("metrics", {}).get("round"),
                "recall_at_capacity": _recall(meta.get("metrics", {}).get("model")),
                "ratio_strong": (
                    fig["model_recall"] / fig["strong_recall"] if fig["model_recall"] and fig["strong_recall"] else None
                ),
                "ratio_basis": fig["basis"],
                "gate": status,
                "gate_reasons": (g or {}).get("reasons", []),
                "in_service": meta.get("version") == current,
            }
        )
    return sorted(out, key=lambda r: (r["created_at"] or "", r["version"]))
