import json
import subprocess
import sys

import pytest
from conftest import NATIONAL
from ops import audit_rows


def _run(*args, env=None):
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "blindspot", *args], capture_output=True, text=True, env=full_env)


def test_info_json_counts(national_db, geo_dir):
    out = _run("info", "--json", "--db", str(national_db))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["regions"] == {"sido": 17, "sgg": 252, "emd": 3558}
    assert info["households"] == pytest.approx(23_950_572 * NATIONAL.scale, rel=0.005)
    assert info["rounds"] == 6 and info["round_codes"][-1] == "2024-R3"
    assert info["data_kind"] == "synthetic"


def test_info_json_carries_the_field_calibration(national_db):
    """info --json shows the generator's calibration next to the field targets of domain.md
    (docs/synthetic-data.md, "Calibration"); at scale 0.01 every target is met."""
    out = _run("info", "--json", "--db", str(national_db))
    assert out.returncode == 0, out.stderr
    cal = json.loads(out.stdout)["calibration"]
    assert cal["flagged_share"] == pytest.approx(0.008, abs=0.00005)
    assert 0.49 <= cal["supported_share"] <= 0.584
    assert sorted(cal["flagged_share_by_round"]) == json.loads(out.stdout)["round_codes"]
    assert all(abs(v - 0.008) < 0.0005 for v in cal["flagged_share_by_round"].values())
    assert all(0.49 <= v <= 0.584 for v in cal["supported_share_of_flagged_by_round"].values())
    assert 0.49 <= cal["supported_share_all_visits"] <= 0.6  # referrals included
    assert 0.75 <= cal["prevalence_ratio_min"] <= cal["prevalence_ratio_max"] <= 1.25
    targets = {t["name"]: t for t in cal["field_targets"]}
    assert len(targets) == 7 and all(t["ok"] for t in targets.values()), targets
    one = targets["one_person_share"]
    assert one["field_range"] == [0.41, 0.42] and one["reached"] == pytest.approx(cal["one_person_share"], abs=1e-6)
    assert "41–42 %" in one["source"]


def test_info_human_readable(small_db):
    out = _run("info", "--db", str(small_db))
    assert out.returncode == 0 and "시도 17 / 시군구 252 / 읍면동 3558" in out.stdout


@pytest.mark.parametrize(
    "command", ["build-demo", "geo-import", "info", "settings", "train", "evaluate", "score", "stats", "bench"]
)
def test_help(command):
    out = _run(command, "--help")
    assert out.returncode == 0 and "usage" in out.stdout


def test_console_script_and_module_give_the_same_help():
    """`make` installs the package: the `blindspot` console script beside the venv's python
    is the same command line as `python -m blindspot`."""
    from pathlib import Path

    script = Path(sys.executable).with_name("blindspot")
    assert script.is_file(), f"{script} missing: `make setup` installs it (pip install -e .)"
    by_script = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    by_module = _run("--help")
    assert by_script.returncode == 0 and by_module.returncode == 0
    assert "settings" in by_script.stdout and "export-round" in by_script.stdout
    assert by_script.stdout.split("\n", 1)[1] == by_module.stdout.split("\n", 1)[1]  # past the program name


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["build-demo", "--scale", "0", "--db", "/tmp/never.duckdb"], {}, "--scale"),
        (["build-demo", "--sido", "99", "--scale", "0.01", "--db", "/tmp/never.duckdb"], {}, "시도 코드"),
        (["build-demo", "--db", "/tmp/never.duckdb"], {"BLINDSPOT_GEO_DIR": "/nonexistent"}, "BLINDSPOT_GEO_DIR"),
        (["info", "--db", "/tmp/does-not-exist.duckdb"], {}, "build-demo"),
        (["score", "--round", "2024-7", "--db", "/tmp/does-not-exist.duckdb"], {}, "build-demo"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, env, message):
    out = _run(*args, env=env)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_build_demo_prints_progress_and_result(tmp_path):
    db = tmp_path / "one.duckdb"
    out = _run(
        "build-demo",
        "--scale",
        "0.01",
        "--rounds",
        "2",
        "--sido",
        "36",
        "--db",
        str(db),
        "--models",
        str(tmp_path / "models"),
    )
    assert out.returncode == 0, out.stderr
    assert "가구 생성" in out.stderr and "완료" in out.stderr
    result = json.loads(out.stdout)
    assert result["households"] == pytest.approx(162_161 * 0.01, abs=10)
    # Two rounds are too few for a model: the database is built and the reason is said.
    assert "학습에 쓸 차수가 없습니다" in result["model"]["skipped"] and "모델 학습을 건너뜁니다" in out.stderr


def test_evaluate_json_has_model_and_baseline(modelled):
    db, models, meta = modelled
    out = _run("evaluate", "--json", "--db", str(db), "--models", str(models))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["model_version"] == meta["version"]
    for key in ("recall_at_capacity", "pr_auc", "ece", "roc_auc", "precision_at_capacity", "brier"):
        assert result["model"][key] == pytest.approx(meta["metrics"]["model"][key])
    for key in ("recall_at_capacity", "pr_auc"):
        assert result["baseline"][key] == pytest.approx(meta["metrics"]["baseline"][key])
    # The strong baseline, with the weights the model's training rows gave (metadata), and
    # the calibration of households with a signal: the same figures as at training time.
    for key in ("recall_at_capacity", "precision_at_capacity", "pr_auc"):
        assert result["strong_baseline"][key] == pytest.approx(meta["metrics"]["strong_baseline"][key])
    assert result["recall_ratio_strong"] == pytest.approx(meta["metrics"]["recall_ratio_strong"])
    assert result["model"]["ece_signalled"] == pytest.approx(meta["metrics"]["model"]["ece_signalled"])
    # The learnable ceiling: the same pipeline on 2024-R2's full ground truth, tested on 2024-R3.
    oracle = result["oracle"]
    assert oracle["trained_on"] == 20242 and oracle["n"] == result["model"]["n"]
    assert 0 < oracle["recall_at_capacity"] < 1 and oracle["selected"] == result["model"]["selected"]
    assert result["recall_ratio_oracle"] == pytest.approx(
        result["model"]["recall_at_capacity"] / oracle["recall_at_capacity"]
    )
    quick = json.loads(_run("evaluate", "--json", "--no-oracle", "--db", str(db), "--models", str(models)).stdout)
    assert "oracle" not in quick and quick["model"] == result["model"]


def test_evaluate_seeds_builds_a_world_per_seed_apart_from_the_product(tmp_path):
    """`evaluate --seeds`: a world per seed in a temporary folder (its own operational store),
    the headline and the targets per seed; nothing of the product's database is read."""
    out = _run(
        "evaluate", "--seeds", "5", "--scale", "0.01", "--rounds", "4", "--json", "--db", str(tmp_path / "none.duckdb")
    )
    assert out.returncode == 0, out.stderr[-2000:]
    sweep = json.loads(out.stdout)
    (row,) = sweep["seeds"]
    assert row["seed"] == 5 and 0 < row["model_recall"] < 1 and row["oracle_recall"] > 0
    assert row["recall_vs_strong"] == pytest.approx(row["model_recall"] / row["strong_recall"], abs=1e-3)
    assert set(row["targets"]) == {"recall_vs_strong", "recall_vs_oracle", "ece", "ece_signalled"}
    assert sweep["summary"]["model_recall"] == [row["model_recall"]] * 2 and 42 in sweep["development_seeds"]
    assert not (tmp_path / "none.duckdb").exists()


def test_score_and_train_without_a_model(small_db, tmp_path):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(small_db, db)
    out = _run("score", "--round", "2024-R3", "--db", str(db), "--models", str(tmp_path / "m"))
    assert out.returncode == 2 and "python -m blindspot train" in out.stderr
    out = _run("train", "--test-round", "2023-R6", "--db", str(db), "--models", str(tmp_path / "m"))
    assert out.returncode == 2 and "학습에 쓸 차수가 없습니다" in out.stderr


def test_score_command_rescoring(modelled, tmp_path):
    import shutil

    db, models, meta = modelled
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    out = _run("score", "--round", "2024-R2", "--db", str(copy), "--models", str(models))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["round"] == "2024-R2" and result["model_version"] == meta["version"]
    assert sum(result["bands"].values()) == result["households"] > 0
    assert "점수 계산" in out.stderr


@pytest.mark.parametrize("command", ["ingest", "export-round", "init-db"])
def test_help_of_ingest_commands(command):
    out = _run(command, "--help")
    assert out.returncode == 0 and "usage" in out.stdout


def test_export_then_ingest_on_the_command_line(small_db, tmp_path):
    import csv
    import hashlib
    import shutil

    src = tmp_path / "src.duckdb"
    shutil.copy(small_db, src)
    args = ("export-round", "--round", "2024-R3", "--out", str(tmp_path / "x"), "--sgg", "36110", "--db", str(src))
    refused = _run(*args)
    assert refused.returncode == 2 and "--purpose" in refused.stderr
    out = _run(*args, "--purpose", "적재 형식 견본", "--user", "분석가")
    assert out.returncode == 0, out.stderr
    exported = json.loads(out.stdout)
    # Exactly one audit record of this household-level export, with the files' hash.
    log = audit_rows()
    rows = list(log[["user_name", "action", "row_count", "purpose", "file_hash"]].itertuples(index=False, name=None))
    digest = hashlib.sha256(
        open(exported["households_file"], "rb").read() + open(exported["outcomes_file"], "rb").read()
    ).hexdigest()
    assert rows == [("분석가", "export_round", exported["households_rows"], "적재 형식 견본", digest)]
    db = tmp_path / "real.duckdb"
    out = _run("init-db", "--db", str(db))
    assert out.returncode == 0, out.stderr
    hh = exported["households_file"]
    # Sejong only: without the declared scope it would pass for a national round.
    partial = _run("ingest", hh, "--round", "2024-R3", "--db", str(db))
    assert partial.returncode == 2 and "--sgg 36110" in partial.stderr and "Traceback" not in partial.stderr
    out = _run(
        "ingest",
        hh,
        "--round",
        "2024-R3",
        "--outcomes",
        exported["outcomes_file"],
        "--db",
        str(db),
        "--sgg",
        "36110",
        "--user",
        "분석가",
        "--rescore",
        "--models",
        str(tmp_path / "no-models"),
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["households"] == exported["households_rows"] and result["visits"] == exported["outcomes_rows"]
    assert "train" in result["rescore"]["skipped"] and "적재는 완료" in out.stderr
    again = _run(
        "ingest", hh, "--round", "2024-R3", "--outcomes", exported["outcomes_file"], "--db", str(db), "--sgg", "36110"
    )
    assert again.returncode == 0 and "이미 적재됨" in again.stderr
    # A broken copy: exit 2, a Korean summary naming row and column, and the full report.
    rows = list(csv.reader(open(hh, encoding="utf-8")))
    rows[2][rows[0].index("head_age")] = "마흔"
    bad = tmp_path / "bad.csv"
    with open(bad, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    out = _run(
        "ingest",
        str(bad),
        "--round",
        "2024-R3",
        "--replace",
        "--db",
        str(db),
        "--report",
        str(tmp_path / "r.csv"),
        "--sgg",
        "36110",
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "bad.csv 3행 'head_age' 값 '마흔': 정수(숫자)가 아닙니다" in out.stderr
    report = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "파일,행,열,값,문제" and report[1].startswith("bad.csv,3,head_age,마흔,")
    out = _run("ingest", hh, "--round", "2024-R3", "--db", str(db), "--outcomes", str(bad), "--sgg", "36110")
    assert out.returncode == 2 and "필수 열이 없습니다: channel, outcome" in out.stderr
