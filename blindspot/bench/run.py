"""``python -m blindspot bench``: build at a given scale and time the product's queries.

The build runs in a child process so that its peak memory (``ru_maxrss`` of the
child) is measured on its own.  Query timings are the median of repeated runs
after one warm-up run, through the product's own query functions.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blindspot import settings
from blindspot.access import Scope
from blindspot.bench import sql
from blindspot.bench.maps import map_timings
from blindspot.bench.reach import reach_timing
from blindspot.db import queries, snapshots
from blindspot.db import sql as db_sql
from blindspot.db.store import Store
from blindspot.indicators.catalogue import load_catalogue
from blindspot.zones.bench import zones_timing


def _median_ms(fn, repeat: int = 7) -> float:
    fn()  # warm-up: the first run pays for reading the file into DuckDB's buffer
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def build_in_child(db: Path, scale: float) -> tuple[float, float]:
    """Run ``build-demo`` in a child process; returns (seconds, peak RSS in MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "blindspot", "build-demo", "--scale", str(scale), "--db", str(db), "--no-model"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - t
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: this is the first and only one.
    return round(seconds, 1), round(max(peak_kb, before) / 1024, 1)


TRAIN_ROWS = 1_000_000


def _child(*args: str) -> tuple[dict, float]:
    """Run a model step of this module in a child process: (its JSON result, its own peak
    RSS in MB, which the child reports itself so that steps do not mask each other)."""
    import json

    out = subprocess.run(
        [sys.executable, "-m", "blindspot.bench.run", *args], check=True, stdout=subprocess.PIPE, text=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result, result.pop("peak_rss_mb")


def _train_step(db: str, models: str) -> dict:
    """Full `train` (features, fit, evaluation on the held-out round, artifact), then the
    fit alone on TRAIN_ROWS labelled rows (the build's labelled rows drawn with
    replacement up to that many, so the figure does not depend on the build's scale)."""
    import numpy as np

    from blindspot.model.features import feature_set
    from blindspot.model.pipeline import fit, plan_rounds, training_frame
    from blindspot.model.training import train

    st = Store(db)
    try:
        t = time.monotonic()
        # In service directly (activate=True): the bench times training and then scoring with
        # this model; the gate's extra evaluation and rescoring are not part of that figure.
        meta = train(st, Path(models), activate=True)
        total = time.monotonic() - t
        X, y = training_frame(st, plan_rounds(st)[0])
    finally:
        st.close()
    idx = np.random.default_rng(0).integers(0, len(y), TRAIN_ROWS)
    Xb, yb = X.iloc[idx].reset_index(drop=True), y[idx]
    t = time.monotonic()
    fit(Xb, yb, feature_set())
    return {
        "train_seconds": round(time.monotonic() - t, 1),
        "train_rows": TRAIN_ROWS,
        "train_labelled_rows": int(len(y)),
        "train_total_seconds": round(total, 1),
        "model_version": meta["version"],
        "recall_ratio": round(meta["metrics"]["recall_ratio"], 3),
        "model_pr_auc": round(meta["metrics"]["model"]["pr_auc"], 4),
        "baseline_pr_auc": round(meta["metrics"]["baseline"]["pr_auc"], 4),
        "model_ece": round(meta["metrics"]["model"]["ece"], 4),
    }


def _score_step(db: str, models: str) -> dict:
    from blindspot.model import artifacts
    from blindspot.model.scoring import score_round

    st = Store(db)
    try:
        version = artifacts.in_service(st)
        fitted, _ = artifacts.load(Path(models), version)
        t = time.monotonic()
        result = score_round(st, fitted, version, queries.latest_round(st))
        return {"score_seconds": round(time.monotonic() - t, 1), "scored_households": result["households"]}
    finally:
        st.close()


def model_timings(db: Path, models: Path) -> dict:
    """Train and score in separate children so each one's peak memory is its own; the
    model stays in ``models`` (in service in ``db``) for the round turnaround."""
    trained, train_peak = _child("train", str(db), str(models))
    scored, score_peak = _child("score", str(db), str(models))
    return {**trained, "train_peak_rss_mb": train_peak, **scored, "score_peak_rss_mb": score_peak}


def briefing_timing(store: Store, sido: str = "41") -> dict:
    """Seconds to make the briefing pack (aggregates, maps, PDF and PNGs) of one 시도;
    경기도 by default, the 시도 with the most households and 시군구."""
    from blindspot.briefing import data as briefing
    from blindspot.briefing import pack as briefpack

    scope = Scope.aggregates_only()
    round_id = queries.latest_round(store)
    t = time.perf_counter()
    b = briefing.build(store, scope, sido, round_id)
    pdf, pngs = briefpack.render(store, scope, b)
    return {
        "briefing_pdf_seconds": round(time.perf_counter() - t, 2),
        "briefing_pdf_bytes": len(pdf),
        "briefing_sido": sido,
    }


def query_timings(store: Store) -> dict:
    latest = queries.latest_round(store)
    one_sgg = _busiest_sgg(store)
    district = Scope.district([one_sgg])
    return {
        "q_emd_round_ms": _median_ms(lambda: queries.households_by_region(store, Scope.all_areas(), "emd", latest)),
        # no scope, no join: the yardstick for the product's own queries
        "q_bare_groupby_ms": _median_ms(lambda: store.df(sql.BARE_EMD_GROUPBY)),
        "q_one_sgg_ms": _median_ms(lambda: queries.households_by_region(store, district, "emd", latest)),
        "q_one_sgg_code": one_sgg,
    }


def _busiest_sgg(store: Store) -> str:
    by_sgg = queries.households_by_region(store, Scope.all_areas(), "sgg", queries.latest_round(store))
    return str(by_sgg.sort_values("households", ascending=False).iloc[0]["code"])


EXPORT_ROWS = 100_000


def export_seconds(rows: int = EXPORT_ROWS) -> float:
    """Seconds to write an XLSX risk list of ``rows`` rows (list columns, Korean text,
    metadata sheet) with :func:`blindspot.casework.exports.xlsx_bytes`; independent of the build."""
    import numpy as np
    import pandas as pd

    from blindspot.casework import exports

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "순위": np.arange(1, rows + 1),
            "가명 ID": [f"H{i:08X}" for i in rng.integers(0, 2**32, rows)],
            "시군구": "종로구",
            "읍면동": "청운효자동",
            "등급": rng.choice(["위험", "주의"], rows),
            "위기 확률": rng.random(rows),
            "읍면동 내 순위": rng.integers(1, 200, rows),
            "사유 1": "단전 (전기요금 체납 3개월)",
            "사유 2": "건강보험료 체납 6개월",
            "사유 3": "1인 가구",
            "가구 유형": "1인 가구",
            "세대주 연령대": "65세 이상",
            "이번 차수 신규": rng.random(rows) < 0.3,
            "방문 여부": rng.random(rows) < 0.1,
        }
    )
    t = time.perf_counter()
    exports.xlsx_bytes(frame, "위험 가구 목록", {"차수": "2024-R3", "행 수": rows, "보안": exports.CONFIDENTIAL})
    return round(time.perf_counter() - t, 2)


INGEST_ROWS = 1_000_000


def ingest_timing() -> dict:
    """Validate and load a valid 1,000,000-row CSV (every 읍면동) into an empty database."""
    from blindspot.demo.build import build_empty
    from blindspot.ingest import exchange
    from blindspot.ingest import load as ingest

    tmpdir = Path(tempfile.mkdtemp(prefix="blindspot-bench-ingest-", dir=settings.get("bench_dir")))
    path = tmpdir / "ingest.duckdb"
    try:
        build_empty(path)
        st = Store(path)
        try:
            data = exchange.bench_file(INGEST_ROWS, [c for (c,) in st.rows(db_sql.REGION_CODES_AT_LEVEL, ["emd"])])
            t = time.monotonic()
            ingest.ingest(st, "2024-R3", ("bench.csv", data))
            return {"ingest_1m_seconds": round(time.monotonic() - t, 1), "ingest_rows": INGEST_ROWS}
        finally:
            st.close()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def run_bench(
    scale: float = 1.0,
    db: str | None = None,
    keep: bool = False,
    model: bool = True,
    serving: bool = True,
    sessions: tuple[int, ...] = (),
    pages: bool = True,
) -> dict:
    """Every figure of ``bench --json``; ``serving`` adds the snapshot publication and the
    round turnaround into a running app (:mod:`blindspot.bench.turnaround`), on a copy when
    ``db`` is given (they write new versions); ``sessions`` (counts, e.g. (10, 20, 50)) adds
    the concurrent-session walk of :mod:`blindspot.bench.sessions` for 1 and 2 processes;
    ``pages`` the server-side run time of every page (:mod:`blindspot.app.pagebench`)."""
    result: dict = {"scale": scale}
    tmpdir = Path(tempfile.mkdtemp(prefix="blindspot-bench-", dir=settings.get("bench_dir")))
    models = tmpdir / "models"
    if db:
        path = Path(db)
        result["build_seconds"] = None
        result["build_peak_rss_mb"] = None
    else:
        path = tmpdir / "bench.duckdb"
        result["build_seconds"], result["build_peak_rss_mb"] = build_in_child(path, scale)
    try:
        st = Store(path, read_only=True)
        try:
            result["households"] = queries.table_counts(st)["households"]
            result["db_size_mb"] = round(path.stat().st_size / 2**20, 1)
            result.update(query_timings(st))
            result.update(map_timings(st))
            result.update(briefing_timing(st))
        finally:
            st.close()
        if model:
            result.update(model_timings(path, models))
        # After the model: a freshly built world has no scores until model_timings writes them,
        # and the reach gap and the follow-up cases start from scores.
        st = Store(path, read_only=True)
        try:
            result.update(reach_timing(st))
            result.update(zones_timing(st))
            sgg = _busiest_sgg(st)
        finally:
            st.close()
        # One 시군구's follow-up due list, in a child with a throwaway operational store.
        from blindspot.followup.bench import followup_timing

        result.update(followup_timing(path, sgg))
        if pages:
            from blindspot.app.pagebench import page_timings  # runs in child processes (Streamlit)

            result["pages"] = page_timings(str(path), str(models) if model else None, sgg)
        result["export_100k_seconds"] = export_seconds()
        result.update(ingest_timing())
        if serving:
            from blindspot.bench.turnaround import publish_timing, round_turnaround

            served = path
            if db:  # never a new version or a bench round in the caller's database
                served = tmpdir / "served.duckdb"
                shutil.copyfile(snapshots.active_file(path), served)
            result.update(publish_timing(served))
            result.update(round_turnaround(served, models if model else None))
        if sessions:
            from blindspot.bench.sessions import sessions_bench

            result["sessions"] = sessions_bench(path, models if model else None, (1, 2), sessions)
    finally:
        if keep and not db:
            print(f"측정용 데이터베이스를 남겼습니다: {path}", file=sys.stderr)
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return result


if __name__ == "__main__":  # the model steps of model_timings, one per child process
    import json

    step, db_arg, models_arg = sys.argv[1:4]
    out = {"train": _train_step, "score": _score_step}[step](db_arg, models_arg)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def layout_comparison(db: str) -> dict:
    """Long (one row per signal) versus wide (one column per indicator) observations.

    Builds the wide table from the long one in a temporary copy and times the two
    queries the product runs most: indicator prevalence per 읍면동 for a round, and all
    signals of one 시군구 for a round.  Sizes are on-disk bytes after compression.
    """
    codes = load_catalogue().codes
    tmpdir = Path(tempfile.mkdtemp(prefix="blindspot-layout-"))
    copy = tmpdir / "layout.duckdb"
    shutil.copy(db, copy)
    st = Store(copy)
    try:
        latest = queries.latest_round(st)
        sgg = _busiest_sgg(st)
        columns = ", ".join(f"max(value) FILTER (WHERE indicator_code = '{c}') AS {c}" for c in codes)
        t = time.perf_counter()
        st.run(sql.LAYOUT_MAKE_WIDE.format(columns=columns))
        st.checkpoint()
        pivot_s = time.perf_counter() - t
        counts = ", ".join(f"count({c}) AS {c}" for c in codes)
        return {
            "rows_long": st.scalar("SELECT count(*) FROM observations"),
            "rows_wide": st.scalar("SELECT count(*) FROM obs_wide"),
            "bytes_long": int(st.scalar(sql.LAYOUT_BLOCK_BYTES.format(table="observations"))),
            "bytes_wide": int(st.scalar(sql.LAYOUT_BLOCK_BYTES.format(table="obs_wide"))),
            "prevalence_long_ms": _median_ms(lambda: st.rows(sql.LAYOUT_LONG_PREVALENCE, [latest]), 5),
            "prevalence_wide_ms": _median_ms(
                lambda: st.rows(sql.LAYOUT_WIDE_PREVALENCE.format(counts=counts), [latest]), 5
            ),
            "one_sgg_long_ms": _median_ms(lambda: st.df(sql.LAYOUT_LONG_SGG, [latest, sgg]), 5),
            "one_sgg_wide_ms": _median_ms(lambda: st.df(sql.LAYOUT_WIDE_SGG, [latest, sgg]), 5),
            "pivot_seconds": round(pivot_s, 1),
        }
    finally:
        st.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
