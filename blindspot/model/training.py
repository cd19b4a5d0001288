"""Train, evaluate, save and put in service a risk model; evaluate it against the count rule.

``train`` runs the whole path: plan rounds (temporal validation) → training rows →
checks → fit → evaluation on the held-out round → rolling backtest over the earlier labelled
rounds (:mod:`blindspot.model.backtest`) → artifact → model in service.  Any failure raises
:class:`ModelError` before the model in service is touched.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from blindspot import settings
from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model import artifacts, sql
from blindspot.model.card import model_card
from blindspot.model.evaluation import (
    expected_calibration_error,
    pr_curve,
    ranking_metrics,
    recall_gaps,
    reliability_curve,
    signal_weights,
    subgroup_table,
    within_capacity,
)
from blindspot.model.features import feature_set
from blindspot.model.pipeline import (
    LABEL_CHANNELS,
    RANDOM_STATE,
    FittedModel,
    Thresholds,
    check_labels,
    data_fingerprint,
    importance,
    plan_rounds,
    set_population_base,
    training_frame,
)
from blindspot.model.propensity import fit_calibrated
from blindspot.model.scoring import feature_batches, predict_round, sgg_batches
from blindspot.progress import ProgressFn, silent
from blindspot.rounds import from_id


def ground_truth(store: Store, round_id: int, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """Labels for evaluation and the rows they cover.

    Synthetic data has the generator's ground truth for every household
    (``synthetic_crisis``); real data only has the outcomes of the round's visits, so
    evaluation then covers the visited households only.
    """
    if store.scalar(sql.TRUTH_ROUND_COUNT, [round_id]):
        ids = store.df(sql.TRUTH_IDS, [round_id])["household_id"].to_numpy()
        y = np.isin(frame["household_id"].to_numpy(), ids).astype(np.int8)
        return y, np.ones(len(frame), dtype=bool), "synthetic_crisis"
    lab = store.df(sql.CHANNEL_LABELS, {"t": round_id, "channels": list(LABEL_CHANNELS)})
    pos = frame["household_id"].map(lab.set_index("household_id")["label"])
    covered = pos.notna().to_numpy()
    return pos.fillna(0).to_numpy(np.int8), covered, "visit_outcomes"


@dataclass
class RoundRows:
    """One round's predictions on the rows that have ground truth, and which of them each
    ranking puts inside capacity (capacity is counted over *all* of a 읍면동's households,
    as an office would visit).  ``strong``/``sel_s`` are None without strong-baseline weights."""

    round_id: int
    truth: str
    share: float
    frame: pd.DataFrame  # the covered rows: subgroup attributes, n_signals
    y: np.ndarray
    emd: np.ndarray
    p: np.ndarray
    b: np.ndarray
    strong: np.ndarray | None
    sel_m: np.ndarray
    sel_b: np.ndarray
    sel_s: np.ndarray | None
    mean_abs: np.ndarray  # mean |contribution| per feature over the round (importance)
    whatif: tuple[pd.DataFrame, pd.DataFrame] | None = None  # capacity what-if tables (blindspot.model.whatif)
    audit: dict | None = None  # the audit-sample estimate from real outcomes (blindspot.model.auditsample)

    @property
    def signalled(self) -> np.ndarray:
        """Households with at least one signal: where lists are made."""
        return self.frame["n_signals"].to_numpy() > 0


def round_rows(
    store: Store,
    model: FittedModel,
    round_id: int,
    catalogue: Catalogue | None = None,
    capacity_share: float | None = None,
    progress: ProgressFn = silent,
    weights: dict[str, float] | None = None,
    whatif: bool = False,
) -> RoundRows:
    """Predict every household of ``round_id`` and keep the rows with ground truth
    (:func:`ground_truth`), with each ranking's selection inside capacity.  ``whatif``: also
    the capacity what-if tables (:func:`blindspot.model.whatif.build`), over every household
    of the round (capacity counts them all; a household without ground truth counts as no crisis)."""
    catalogue = catalogue or load_catalogue()
    share = capacity_share or model.thresholds.capacity_share
    frame, mean_abs = predict_round(store, model, round_id, catalogue, progress, weights=weights)
    y, covered, truth = ground_truth(store, round_id, frame)
    emd = frame["emd_code"].to_numpy()
    p = frame["probability"].to_numpy()
    b = frame["baseline"].to_numpy()
    sel_m = within_capacity(emd, p, share)
    sel_b = within_capacity(emd, b, share)
    s_all = frame["strong"].to_numpy() if weights else None
    sel_s = within_capacity(emd, s_all, share) if weights else None
    tables = None
    if whatif:
        from blindspot.model import whatif as wi

        rural = (frame["emd_type"] != "dong").to_numpy()
        tables = wi.build(emd, frame["sgg_code"].to_numpy(), rural, p, np.where(covered, y, 0), share)
    audit = _real_audit(store, round_id, frame, y, covered) if truth == "visit_outcomes" else None
    if covered.all():  # a copy of 24 million rows costs a gigabyte
        return RoundRows(
            round_id, truth, share, frame, y, emd, p, b, s_all, sel_m, sel_b, sel_s, mean_abs, tables, audit
        )
    return RoundRows(
        round_id,
        truth,
        share,
        frame[covered],
        y[covered],
        emd[covered],
        p[covered],
        b[covered],
        None if s_all is None else s_all[covered],
        sel_m[covered],
        sel_b[covered],
        None if sel_s is None else sel_s[covered],
        mean_abs,
        tables,
        audit,
    )


def headline(rows: RoundRows) -> dict:
    """The headline figures of one round: ``model`` (with ``ece_signalled``), ``baseline``,
    ``strong_baseline`` when it has weights, and the recall ratios of the model over both."""
    model_m = ranking_metrics(rows.y, rows.p, rows.sel_m, rows.p)
    # Calibration where it matters for a list: households with at least one signal.
    signalled = rows.signalled
    model_m["ece_signalled"] = (
        expected_calibration_error(rows.y[signalled], rows.p[signalled]) if signalled.any() else None
    )
    out = {"model": model_m, "baseline": ranking_metrics(rows.y, rows.b, rows.sel_b)}
    out["recall_ratio"] = _ratio(model_m["recall_at_capacity"], out["baseline"]["recall_at_capacity"])
    if rows.strong is not None:
        out["strong_baseline"] = ranking_metrics(rows.y, rows.strong, rows.sel_s)
        ratio = _ratio(model_m["recall_at_capacity"], out["strong_baseline"]["recall_at_capacity"])
        if ratio is not None:
            out["recall_ratio_strong"] = ratio
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def evaluate(
    store: Store,
    model: FittedModel,
    round_id: int,
    catalogue: Catalogue | None = None,
    capacity_share: float | None = None,
    progress: ProgressFn = silent,
    weights: dict[str, float] | None = None,
    rows: RoundRows | None = None,
) -> dict:
    """Model and count-rule metrics on one round, overall and per subgroup; with the strong
    baseline's ``weights`` (:func:`strong_weights`) also ``strong_baseline``.  ``rows``: the
    round's predictions when the caller has them already (:func:`round_rows`)."""
    catalogue = catalogue or load_catalogue()
    if rows is None:
        rows = round_rows(store, model, round_id, catalogue, capacity_share, progress, weights)
    share, y, p, b, sel_m, sel_b, sub = rows.share, rows.y, rows.p, rows.b, rows.sel_m, rows.sel_b, rows.frame
    head = headline(rows)
    sido_names = {int(k): v for k, v in store.rows(sql.REGION_NAMES_AT_LEVEL, ["sido"])}
    sido_codes, sido_seen = pd.factorize(sub["sgg_code"].to_numpy() // 1000, sort=True)
    # Categoricals, not string arrays: one byte per household instead of dozens.
    groups = {
        "연령대": sub["age_band"].array,
        "성별": sub["head_sex"].cat.rename_categories(lambda c: {"M": "남", "F": "여"}.get(c, "미상")).array,
        "1인 가구": sub["one_person"].cat.rename_categories({"yes": "1인", "no": "다인"}).array,
        "도시/농촌": pd.Categorical.from_codes(
            (sub["emd_type"] != "dong").to_numpy().astype(np.int8), ["동(도시)", "읍·면(농촌)"]
        ),
        "시도": pd.Categorical.from_codes(sido_codes, [sido_names.get(int(c), str(c)) for c in sido_seen]),
    }
    # Mean signals of the households truly at risk, per group: explains recall gaps.
    table = subgroup_table(
        groups,
        y,
        {"model": (p, sel_m, p), "baseline": (b, sel_b, None)},
        positive_means={"positive_mean_signals": sub["n_signals"].to_numpy()},
    )
    gaps = recall_gaps(table, "model")
    base_gaps = recall_gaps(table, "baseline").set_index("dimension")["ratio"]
    gaps["baseline_ratio"] = gaps["dimension"].map(base_gaps)
    imp = importance(model, rows.mean_abs[None, :], catalogue)
    audit_estimate = rows.audit
    if rows.truth == "synthetic_crisis":  # the estimate is checkable only where the truth is known
        from blindspot.model import auditsample

        audit_estimate = auditsample.synthetic_check(
            rows.round_id, sub["household_id"].to_numpy(), rows.emd, sel_m, rows.signalled, y
        )
    return {
        "round": from_id(round_id).code,
        "ground_truth": rows.truth,
        "capacity_share": share,
        **head,
        "curves": {"pr": {"model": pr_curve(y, p), "baseline": pr_curve(y, b)}, "reliability": reliability_curve(y, p)},
        "subgroups": table.to_dict(orient="records"),
        "subgroup_gaps": gaps.to_dict(orient="records"),
        "importance": imp.head(25).to_dict(orient="records"),
        **({"audit_estimate": audit_estimate} if audit_estimate else {}),
    }


def strong_weights(X: pd.DataFrame, y: np.ndarray, fs) -> dict[str, float]:
    """The strong baseline's weight per indicator (:func:`evaluation.signal_weights`),
    estimated on the training rows only, so the test round never informs it."""
    codes = [*fs.flags, *fs.months, *fs.amounts]
    w = signal_weights(X[codes].to_numpy(np.float64) > 0, np.asarray(y))
    return {c: round(float(v), 6) for c, v in zip(codes, w, strict=True)}


def train(
    store: Store,
    models_dir: Path,
    *,
    C: float | None = None,
    thresholds: Thresholds | None = None,
    test_round: int | None = None,
    activate: bool = False,
    catalogue: Catalogue | None = None,
    progress: ProgressFn = silent,
) -> dict:
    """Train on earlier rounds, test on the latest labelled one and save: a *candidate*, put in
    service only through the gate (:func:`blindspot.model.registry.promote`).  ``activate=True``
    skips the gate and is for tests that need a model in service directly.

    ``C`` and ``thresholds`` default to the settings (``model_c``, ``band_medium``, ``band_low``,
    ``capacity_share``; environment first).  The metadata's ``backtest`` tests the same recipe
    on each of the latest ``backtest_folds`` labelled rounds in turn, with intervals
    (``backtest_replicates``); its latest fold is this model on this test round, not refitted.
    Returns the metadata written to ``models/<version>/metadata.json``.
    """
    catalogue = catalogue or load_catalogue()
    C = settings.get("model_c") if C is None else C
    thresholds = thresholds or Thresholds.configured()
    thresholds.validate()
    fs = feature_set(catalogue)
    started = time.monotonic()
    train_rounds, test = plan_rounds(store, test_round)
    X, y = training_frame(store, train_rounds, catalogue, progress=lambda f, m: progress(0.3 * f, m))
    check_labels(y, train_rounds)
    progress(0.3, f"학습 중: {len(y):,}건 (욕구 확인 {int(y.sum()):,}건)")
    t0 = time.monotonic()
    # Fit, then recalibrate on the signalled population (propensity.py); the listing
    # propensities of the training rounds are kept for the backtest's folds.
    propensities: dict[int, pd.DataFrame] = {}
    fitted, calibration = fit_calibrated(
        store,
        X,
        y,
        fs,
        catalogue,
        C,
        thresholds,
        propensities,
        progress=lambda f, m: progress(0.3 + (0.45 - 0.3) * f, m),
    )
    fit_seconds = time.monotonic() - t0
    fingerprint = data_fingerprint(X[["round_id", "household_id", *fs.all]], y)
    # The recalibration is part of the recipe: the same data trained the old way keeps its old id.
    params = {"C": C, "model": "LogisticRegression", "random_state": RANDOM_STATE, "calibration": calibration["method"]}
    version = artifacts.make_version(fingerprint, fs, params)
    progress(0.45, f"검증 차수 {from_id(test).code} 평가 중")
    weights = strong_weights(X, y, fs)
    del X  # the backtest refits other folds; this fold's training rows are done with
    # The reasons' base: the test round's whole population, not the visited training rows
    # (importance, computed with the predictions below, depends on it).
    progress(0.45, f"설명 기준값: {from_id(test).code} 전체 가구")
    base = set_population_base(
        fitted, from_id(test).code, feature_batches(store, test, catalogue, sgg_batches(store, test))
    )
    rows = round_rows(
        store,
        fitted,
        test,
        catalogue,
        progress=lambda f, m: progress(0.45 + 0.25 * f, m),
        weights=weights,
        whatif=True,
    )
    metrics = evaluate(store, fitted, test, catalogue, weights=weights, rows=rows)
    whatif_tables = rows.whatif
    # Imported here: the backtest reuses this module's round_rows and headline.
    from blindspot.model.backtest import run_backtest

    progress(0.7, "차수별 검증 (백테스트)")
    t0 = time.monotonic()
    backtest = run_backtest(
        store,
        C=C,
        thresholds=thresholds,
        catalogue=catalogue,
        reuse=(test, train_rounds, rows),
        propensities=propensities,
        progress=lambda f, m: progress(0.7 + 0.25 * f, m),
    )
    backtest["seconds"] = round(time.monotonic() - t0, 1)
    del rows
    meta_db = store.meta()
    metadata = {
        "version": version,
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "estimator": "scikit-learn Pipeline(ColumnTransformer → LogisticRegression), "
        "log-odds recalibrated on the signalled population (listing_ipw_platt)",
        "params": params,
        "explanation_method": "exact log-odds decomposition of a linear model "
        "(coefficient × (value − column mean over explain.base_population), summed per feature)",
        "explain": base,
        "library_versions": artifacts.library_versions(),
        "feature_set": {
            "fingerprint": fs.fingerprint,
            **{k: list(getattr(fs, k)) for k in ("flags", "months", "amounts", "numeric", "categorical")},
        },
        "training": {
            "rounds": [from_id(r).code for r in train_rounds],
            "test_round": from_id(test).code,
            "label_channels": list(LABEL_CHANNELS),
            "rows": int(len(y)),
            "positives": int(y.sum()),
            "data_fingerprint": fingerprint,
            "fit_seconds": round(fit_seconds, 2),
            # Inverse listing-propensity weights and the recalibration they set (propensity.py).
            "calibration": calibration,
            "database": {k: meta_db.get(k) for k in ("data_kind", "generator_version", "seed", "scale", "built_at")},
        },
        "thresholds": asdict(thresholds),
        "metrics": {
            k: metrics[k]
            for k in (
                "round",
                "ground_truth",
                "capacity_share",
                "model",
                "baseline",
                "recall_ratio",
                "strong_baseline",
                "recall_ratio_strong",
                "audit_estimate",
            )
            if k in metrics
        },
        # The strong baseline's weights, from the training rows only (evaluate reuses them).
        "baselines": {"strong_baseline_weights": weights},
        "curves": metrics["curves"],
        "subgroups": metrics["subgroups"],
        "subgroup_gaps": metrics["subgroup_gaps"],
        "importance": metrics["importance"],
        "backtest": backtest,
        "seconds": round(time.monotonic() - started, 1),
    }
    progress(0.96, f"모델 저장 {version}")
    artifacts.save(models_dir, fitted, metadata, model_card(metadata), tables=_whatif_files(whatif_tables))
    if activate:
        artifacts.activate(store, models_dir, version, catalogue)
    progress(1.0, f"완료: 모델 {version}")
    return metadata


def _whatif_files(tables: tuple[pd.DataFrame, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    from blindspot.model import whatif

    return {} if tables is None else {whatif.AREAS_FILE: tables[0], whatif.PREFIX_FILE: tables[1]}


def _real_audit(store: Store, round_id: int, frame: pd.DataFrame, y: np.ndarray, covered: np.ndarray) -> dict | None:
    """On real data: the audit-sample estimate of the round's list, from its scores (위험 band,
    audit picks) and visit outcomes; None when the round's scores drew no audit sample."""
    from blindspot.model import auditsample

    scored = store.df(sql.LIST_AND_AUDIT, [round_id])
    if scored.empty or not scored["audit_pick"].any():
        return None
    m = frame[["household_id"]].merge(scored, on="household_id", how="left")
    return auditsample.from_outcomes(
        round_id,
        frame["household_id"].to_numpy(),
        frame["emd_code"].to_numpy(),
        frame["n_signals"].to_numpy() > 0,
        m["listed"].fillna(False).to_numpy(bool),
        m["audit_pick"].fillna(False).to_numpy(bool),
        y,
        covered,
    )
