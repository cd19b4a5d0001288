"""``train`` through the gate, ``models list|activate|rollback``: the model in service, the
rescored rounds, the snapshot versions and one audit record per change."""

import json
import shutil
import subprocess
import sys

import pytest
from ops import audit_rows

from blindspot.db import snapshots
from blindspot.db.store import Store


def _run(*args):
    return subprocess.run([sys.executable, "-m", "blindspot", *args], capture_output=True, text=True)


@pytest.fixture()
def copy(modelled, tmp_path):
    """The modelled database and its models folder, copied (the commands change both)."""
    db, models, meta = modelled
    shutil.copy(db, tmp_path / "db.duckdb")
    shutil.copytree(models, tmp_path / "models")
    return tmp_path / "db.duckdb", tmp_path / "models", meta


def _state(db):
    """(model in service, model_version of every scored round's scores, drift rows' model and reference)."""
    st = Store(db, read_only=True)
    try:
        served = st.meta().get("model_version")
        scored = st.rows("SELECT round_id, list(DISTINCT model_version) FROM scores GROUP BY 1 ORDER BY 1")
        drifted = st.rows("SELECT DISTINCT model_version, reference_round FROM feature_drift")
        return served, scored, drifted
    finally:
        st.close()


def _list(db, models):
    out = _run("models", "list", "--json", "--db", str(db), "--models", str(models))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_models_list(copy):
    db, models, meta = copy
    listed = _list(db, models)
    assert listed["in_service"] == meta["version"]
    [row] = listed["models"]
    m = meta["metrics"]
    assert row["version"] == meta["version"] and row["in_service"] is True
    assert row["test_round"] == "2024-R3"
    assert row["recall_at_capacity"] == pytest.approx(m["model"]["recall_at_capacity"])
    # Over the backtest's pooled folds when train wrote one, else on the test round.
    pooled = (meta.get("backtest") or {}).get("pooled") or m
    assert row["ratio_basis"] == ("backtest" if meta.get("backtest") else "test_round")
    assert row["ratio_strong"] == pytest.approx(
        pooled["model"]["recall_at_capacity"] / pooled["strong_baseline"]["recall_at_capacity"]
    )
    assert row["gate"] == "통과" and row["gate_reasons"][0].startswith("첫 모델")
    assert [(h["version"], h["action"]) for h in listed["history"]] == [(meta["version"], "promote")]
    text = _run("models", "list", "--db", str(db), "--models", str(models))
    assert text.returncode == 0 and text.stdout.startswith(f"* {meta['version']}") and "관문 통과" in text.stdout


def test_train_gate_override_rollback_and_activate(copy):
    db, models, meta = copy
    first = meta["version"]
    common = ("--db", str(db), "--models", str(models))

    # Same data, same version: nothing to promote, nothing published.
    out = _run("train", *common)
    assert out.returncode == 0, out.stderr
    assert "이미 서비스 중" in out.stderr and json.loads(out.stdout)["in_service"] == first
    versions = len(snapshots.versions(db))

    # A candidate tested on an earlier round than the model in service: no fair comparison, kept out.
    out = _run("train", "--test-round", "2024-R2", *common)
    assert out.returncode == 1, out.stderr
    result = json.loads(out.stdout)
    second = result["version"]
    assert second != first and result["promoted"] is False and result["in_service"] == first
    assert not result["gate"]["passed"] and "공정하게 비교할 수 없습니다" in result["gate"]["reasons"][0]
    assert "관문 미통과" in out.stderr and f"models activate {second} --force" in out.stderr
    assert len(snapshots.versions(db)) == versions and audit_rows().empty
    assert _state(db)[0] == first

    out = _run("train", "--test-round", "2024-R2", "--force", *common)
    assert out.returncode == 2 and "--reason" in out.stderr

    # The admin's override: in service, every scored round rescored, one audit record.
    out = _run("train", "--test-round", "2024-R2", "--force", "--reason", "시험용 강제 지정", "--user", "kim", *common)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["promoted"] and result["overridden"] and result["in_service"] == second
    assert result["rescored_rounds"] == ["2024-R1", "2024-R2", "2024-R3"] and result["previous"] == first
    served, scored, drifted = _state(db)
    assert served == second and [v for _, v in scored] == [[second]] * 3
    assert drifted == [(second, "2024-R2")]
    log = audit_rows()
    assert log["action"].tolist() == ["override_model_gate"]
    row = log.iloc[0]
    assert row["user_name"] == "kim" and row["role"] == "admin"
    assert json.loads(row["filters"])["model_version"] == second and json.loads(row["filters"])["previous"] == first
    assert row["detail"].startswith("사유: 시험용 강제 지정 · 관문: ")
    assert json.loads(row["filters"])["snapshot"] == snapshots.active_version(db)

    listed = {r["version"]: r for r in _list(db, models)["models"]}
    assert listed[second]["in_service"] and listed[second]["gate"] == "미통과 (관리자 무시)"

    # Rollback: the model the override replaced, rescored, audited once more.
    out = _run("models", "rollback", "--reason", "되돌림 시험", "--user", "kim", *common)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["version"] == first and result["previous"] == second and result["snapshot"]
    served, scored, drifted = _state(db)
    assert served == first and [v for _, v in scored] == [[first]] * 3 and drifted == [(first, "2024-R3")]
    assert audit_rows()["action"].tolist() == ["override_model_gate", "rollback_model"]
    assert audit_rows().iloc[1]["detail"].startswith("사유: 되돌림 시험 · ")

    # Activating the candidate again goes through the gate, which still refuses it.
    before = len(snapshots.versions(db))
    out = _run("models", "activate", second, *common)
    assert out.returncode == 1 and "관문 미통과" in out.stderr
    assert _state(db)[0] == first and len(snapshots.versions(db)) == before

    # The first model replaced none: nothing to roll back to.
    out = _run("models", "rollback", *common)
    assert out.returncode == 2 and "되돌릴 이전 모델이 없습니다" in out.stderr
    assert len(audit_rows()) == 2
