"""Scoring every household of a round into the ``scores`` table, in batches.

A national round has about 24 million households; their features, transformed columns
and contributions do not fit in memory at once, so a round is cut into batches of whole
시군구 (a 읍면동 never straddles two batches, so ranks within a 읍면동 are exact).
The whole round is written in one transaction: a failed or interrupted scoring leaves
the previous scores of the round in place.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import numpy as np
import pandas as pd
import pyarrow as pa

from blindspot import settings
from blindspot.access import Scope, scope_sql
from blindspot.db import aggregates as stats
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model import auditsample, sql
from blindspot.model.capacity import Plan, capacity_rows
from blindspot.model.evaluation import count_rule_score, rank_within
from blindspot.model.features import build_features
from blindspot.model.pipeline import BANDS, FittedModel, ModelError, assign_bands, explain, top_reasons
from blindspot.progress import ProgressFn, silent
from blindspot.rounds import from_id

BATCH_ROWS = 600_000


def sgg_batches(store: Store, round_id: int, scope: Scope | None = None, max_rows: int = BATCH_ROWS) -> list[list[str]]:
    """Groups of 시군구 codes with at most ``max_rows`` households each (a larger
    시군구 forms a batch of its own).

    Example: at full scale, about 40 batches of ≤ 600,000 households.
    """
    scope = scope or Scope.all_areas()
    cond, params = scope_sql(scope, "sgg_code")
    rows = store.rows(sql.HOUSEHOLDS_PER_SGG.format(scope=cond), [round_id, round_id, *params])
    batches: list[list[str]] = []
    size = 0
    for code, n in rows:
        if not batches or size + n > max_rows:
            batches.append([])
            size = 0
        batches[-1].append(code)
        size += n
    return batches


def feature_batches(
    store: Store, round_id: int, catalogue: Catalogue, batches: list[list[str]]
) -> Iterator[pd.DataFrame]:
    """Feature frames of the batches, the next one read while the caller works on this
    one (DuckDB releases the GIL; the reader thread uses its own cursor)."""

    def read(codes):
        return build_features(store, round_id, Scope.district(codes), catalogue=catalogue)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(read, batches[0]) if batches else None
        for k in range(len(batches)):
            frame = pending.result()
            pending = pool.submit(read, batches[k + 1]) if k + 1 < len(batches) else None
            yield frame


def _dictionary(indices: np.ndarray, values: list) -> pa.DictionaryArray:
    """Dictionary-encoded strings from int indices (-1 = null): few distinct values,
    millions of rows, no Python string per row."""
    indices = np.asarray(indices, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, mask=indices < 0, type=pa.int32()), pa.array(list(values), pa.string())
    )


def _code_text(values: np.ndarray, width: int) -> pa.Array:
    """Integer region codes back to zero-padded text, dictionary-encoded."""
    codes, uniques = pd.factorize(np.asarray(values))
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), pa.array([str(u).zfill(width) for u in uniques], pa.string())
    )


def score_frame(
    model: FittedModel, X: pd.DataFrame, round_id: int, version: str, catalogue: Catalogue, plan: Plan | None = None
) -> pa.Table:
    """Scores table rows for one batch of feature rows (whole 시군구).  The 위험 band is the
    top of each 읍면동 within its capacity under ``plan`` (default: the model's national share,
    the configured allocation rule, no registered staff)."""
    plan = plan or Plan.configured(share=model.thresholds.capacity_share)
    prob, contrib = explain(model, X)
    emd = X["emd_code"].to_numpy()
    rank = rank_within(emd, prob)
    capacity = capacity_rows(emd, X["sgg_code"].to_numpy(), prob, plan)
    band = assign_bands(prob, rank <= capacity, model.thresholds)
    reasons = top_reasons(model, X, contrib, catalogue)
    cols = {
        "round_id": pa.array(np.full(len(X), round_id, dtype=np.int32)),
        "household_id": pa.array(X["household_id"].to_numpy(np.int32)),
        "sgg_code": _code_text(X["sgg_code"].to_numpy(), 5),
        "emd_code": _code_text(X["emd_code"].to_numpy(), 10),
        "model_version": _dictionary(np.zeros(len(X)), [version]),
        "probability": pa.array(prob),
        "band": _dictionary(band, BANDS),
        "rank_in_emd": pa.array(rank.astype(np.int32)),
    }
    names = list(model.features.all)
    for k in range(len(reasons.feature)):
        cols[f"reason_{k + 1}"] = _dictionary(reasons.phrase[k], reasons.phrases)
        cols[f"reason_code_{k + 1}"] = _dictionary(reasons.feature[k], names)
        contribution = reasons.contribution[k]
        cols[f"contribution_{k + 1}"] = pa.array(contribution, mask=np.isnan(contribution), type=pa.float32())
    # The random audit sample: signalled households outside the 위험 band, drawn per 읍면동 with a
    # known probability (blindspot/model/auditsample.py), visited besides the list.
    listed = band == 0
    signalled = X["n_signals"].to_numpy() > 0
    pi = auditsample.probabilities(emd, listed, signalled, settings.get("audit_sample_share"))
    cols["audit_pick"] = pa.array(auditsample.picks(round_id, X["household_id"].to_numpy(), pi))
    return pa.table(cols)


def score_round(
    store: Store,
    model: FittedModel,
    version: str,
    round_id: int,
    catalogue: Catalogue | None = None,
    progress: ProgressFn = silent,
    max_rows: int = BATCH_ROWS,
    reference: dict | None = None,
    plan: Plan | None = None,
) -> dict:
    """Score every household of ``round_id`` and replace that round's scores.

    ``plan``: the visit capacity the 위험 band follows (:mod:`blindspot.model.capacity`);
    default the settings' share and allocation rule without registered staff.  The run's record
    (``score_runs.thresholds``) keeps the plan's summary.

    With the model's drift ``reference`` (``metadata["drift_reference"]``), the features
    that pass anyway are also counted into its bins, and the round's PSI per feature
    replaces its ``feature_drift`` rows (:mod:`blindspot.model.drift`); without one the
    round's old drift rows go, as they described another model's scores.
    Returns households scored, counts per band, seconds and the largest PSI (None without a reference).
    """
    from blindspot.model import drift

    catalogue = catalogue or load_catalogue()
    if round_id not in [r for (r,) in store.rows(db_sql.ROUND_IDS)]:
        raise ModelError(f"데이터베이스에 없는 차수입니다: {from_id(round_id).code}.")
    started = time.monotonic()
    batches = sgg_batches(store, round_id, None, max_rows)
    if not batches:
        raise ModelError(f"차수 {from_id(round_id).code} 에 점수를 매길 가구가 없습니다.")
    plan = plan or Plan.configured(share=model.thresholds.capacity_share)
    run_record = {**asdict(model.thresholds), "capacity": plan.summary()}
    total = 0
    bands = dict.fromkeys(("high", "medium", "low", "none"), 0)
    hist = drift.Histograms(reference) if reference else None
    max_psi = None
    with store.transaction():
        store.run(sql.DELETE_SCORES, [round_id])
        for k, X in enumerate(feature_batches(store, round_id, catalogue, batches)):
            if hist is not None:
                hist.add(X)
            table = score_frame(model, X, round_id, version, catalogue, plan)
            store.run_with(sql.INSERT_SCORES, table)
            total += table.num_rows
            for item in table.column("band").value_counts().to_pylist():
                bands[item["values"]] += item["counts"]
            progress((k + 1) / len(batches), f"점수 계산 {from_id(round_id).code}: {total:,}가구")
        stats.refresh(store, round_id, ("risk",))
        if hist is not None:
            max_psi = round(drift.write(store, round_id, version, hist), 4)
        else:
            store.run(sql.DELETE_DRIFT, [round_id])
        seconds = time.monotonic() - started
        store.run(
            sql.INSERT_SCORE_RUN,
            [round_id, version, dt.datetime.now(), total, seconds, json.dumps(run_record)],
        )
    return {
        "round": from_id(round_id).code,
        "model_version": version,
        "households": total,
        "bands": bands,
        "seconds": round(seconds, 1),
        "max_psi": max_psi,
    }


def predict_round(
    store: Store,
    model: FittedModel,
    round_id: int,
    catalogue: Catalogue | None = None,
    progress: ProgressFn = silent,
    max_rows: int = BATCH_ROWS,
    weights: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-household probability, count-rule score and subgroup attributes of a round
    (for evaluation), and the summed |contribution| per feature (for importance).
    ``weights`` (indicator → weight) adds ``strong``: the weighted sum of present signals."""
    catalogue = catalogue or load_catalogue()
    codes = list(weights or {})
    w = np.array([weights[c] for c in codes], dtype=np.float64) if weights else None
    parts = []
    abs_sum = np.zeros(len(model.features.all))
    batches = sgg_batches(store, round_id, None, max_rows)
    for k, X in enumerate(feature_batches(store, round_id, catalogue, batches)):
        prob, contrib = explain(model, X)
        abs_sum += np.abs(contrib).sum(axis=0, dtype=np.float64)
        extra = {} if w is None else {"strong": (X[codes].to_numpy(np.float64) > 0) @ w}
        parts.append(
            pd.DataFrame(
                {
                    **extra,
                    "household_id": X["household_id"].to_numpy(),
                    "emd_code": X["emd_code"].to_numpy(),
                    "sgg_code": X["sgg_code"].to_numpy(),
                    "probability": prob,
                    "baseline": count_rule_score(X["n_signals"], X["total_amount"], X["max_months"]),
                    "n_signals": X["n_signals"].to_numpy(np.int16),
                    "age_band": X["age_band"],
                    "head_sex": X["head_sex"],
                    "one_person": X["one_person"],
                    "emd_type": X["emd_type"],
                }
            )
        )
        progress((k + 1) / len(batches), f"평가용 예측 {from_id(round_id).code}")
    frame = pd.concat(parts, ignore_index=True)
    return frame, abs_sum / max(len(frame), 1)
