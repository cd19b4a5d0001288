"""``evaluate --seeds``: the headline on several synthetic worlds, so a claim does not rest on
the development seed.

Each seed is a world of its own, built and evaluated by the command line in a child process
(``build-demo`` then ``evaluate --json``) in a temporary folder with its own operational store,
so the sweep never touches the product's database, audit log or models.  The worlds are
generator 3 at ``scale`` (default 0.05: at 0.01 the one-visit floor per 읍면동 inflates every
recall, docs/model.md); each row carries the targets (:data:`TARGETS`) as booleans.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

# The claims a model must meet on every seed: against the strong baseline and the oracle, and calibration.
TARGETS = {
    "recall_vs_strong": 1.10,  # model recall ≥ 1.10 × strong baseline
    "recall_vs_oracle": 0.95,  # model recall ≥ 0.95 × oracle
    "ece": 0.02,  # ≤
    "ece_signalled": 0.02,  # ≤
}
# Seeds used while the model and generator were developed (seed 42, and the outside audit's
# four); a sweep meant to confirm a claim should use others.
DEVELOPMENT_SEEDS = (42, 1, 2, 3, 4)


def seed_row(seed: int, result: dict) -> dict:
    """One seed's figures from its ``evaluate --json`` and whether each target holds.

    >>> r = seed_row(7, {"model": {"recall_at_capacity": 0.08, "ece": 0.01, "ece_signalled": 0.03},
    ...     "baseline": {"recall_at_capacity": 0.06}, "strong_baseline": {"recall_at_capacity": 0.07},
    ...     "oracle": {"recall_at_capacity": 0.08}})
    >>> r["recall_vs_strong"], r["targets"]
    (1.143, {'recall_vs_strong': True, 'recall_vs_oracle': True, 'ece': True, 'ece_signalled': False})
    """
    m = result["model"]
    recall = {k: (result.get(k) or {}).get("recall_at_capacity") for k in ("baseline", "strong_baseline", "oracle")}

    def ratio(other):
        return round(m["recall_at_capacity"] / other, 3) if other else None

    row = {
        "seed": seed,
        "model_recall": m["recall_at_capacity"],
        "count_rule_recall": recall["baseline"],
        "strong_recall": recall["strong_baseline"],
        "oracle_recall": recall["oracle"],
        "recall_vs_count": ratio(recall["baseline"]),
        "recall_vs_strong": ratio(recall["strong_baseline"]),
        "recall_vs_oracle": ratio(recall["oracle"]),
        "ece": m.get("ece"),
        "ece_signalled": m.get("ece_signalled"),
    }
    at_least = ("recall_vs_strong", "recall_vs_oracle")  # ratios: ≥ target; errors: ≤ target
    row["targets"] = {
        k: row[k] is not None and (row[k] >= TARGETS[k] if k in at_least else row[k] <= TARGETS[k]) for k in TARGETS
    }
    return row


def summary(rows: list[dict]) -> dict:
    """Min and max of each figure over the seeds, and whether every target held on every seed.

    >>> summary([{"seed": 1, "ece": 0.01, "targets": {"ece": True}},
    ...          {"seed": 2, "ece": 0.03, "targets": {"ece": False}}])
    {'ece': [0.01, 0.03], 'all_targets_hold': False}
    """
    keys = [k for k in (rows[0] if rows else {}) if k not in ("seed", "targets")]
    out: dict = {}
    for k in keys:
        values = [r[k] for r in rows if r.get(k) is not None]
        out[k] = [min(values), max(values)] if values else None
    out["all_targets_hold"] = all(all(r["targets"].values()) for r in rows)
    return out


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "blindspot", *args], env=env, capture_output=True, text=True)


def run_seeds(
    seeds: Sequence[int],
    scale: float = 0.05,
    rounds: int = 6,
    keep: Path | None = None,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> dict:
    """Build and evaluate one world per seed; ``{"scale", "rounds", "seeds": [rows], "summary",
    "development_seeds"}``.  ``keep`` keeps the worlds in that folder (default: a temporary
    folder, removed).  A failing child raises RuntimeError with its last lines."""
    with tempfile.TemporaryDirectory(prefix="blindspot-seeds-") as tmp:
        root = Path(keep) if keep else Path(tmp)
        rows = []
        for i, seed in enumerate(seeds):
            here = root / f"seed-{seed}"
            here.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "BLINDSPOT_OPS_URL": f"sqlite:///{here / 'ops.sqlite'}"}
            db, models = str(here / "world.duckdb"), str(here / "models")
            say(f"[{i + 1}/{len(seeds)}] 시드 {seed}: 합성 세계 만들기·학습 (규모 {scale}, {rounds}개 차수)")
            steps = (
                [
                    "build-demo",
                    "--db",
                    db,
                    "--models",
                    models,
                    "--scale",
                    str(scale),
                    "--seed",
                    str(seed),
                    "--rounds",
                    str(rounds),
                ],
                ["evaluate", "--json", "--db", db, "--models", models],
            )
            out = None
            for step in steps:
                out = _run(step, env)
                if out.returncode != 0:
                    tail = "\n".join(out.stderr.strip().splitlines()[-5:])
                    raise RuntimeError(f"시드 {seed}: `{step[0]}` 실패 (종료 {out.returncode}):\n{tail}")
            rows.append(seed_row(seed, json.loads(out.stdout.strip().splitlines()[-1])))
            say(f"    재현율 모델 {rows[-1]['model_recall']:.4f} · 가중 규칙 대비 {rows[-1]['recall_vs_strong']}배")
    return {
        "scale": scale,
        "rounds": rounds,
        "targets": TARGETS,
        "development_seeds": list(DEVELOPMENT_SEEDS),
        "seeds": rows,
        "summary": summary(rows),
    }
