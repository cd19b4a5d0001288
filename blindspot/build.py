"""Building a database: schema, geography, catalogue, rounds and synthetic data.

The build writes into ``<target>.tmp-<pid>`` and swaps it into place only when
everything succeeded, so an interrupted or failed build leaves the previous
database exactly as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from pathlib import Path

from blindspot import config, rounds, sql, stats, store as store_mod
from blindspot.geography import GeoData, import_geo, load_geo
from blindspot.indicators import Catalogue, load_catalogue
from blindspot.model import ModelError
from blindspot.progress import ProgressFn, silent
from blindspot.synthetic import GENERATOR_VERSION, BuildReport, SyntheticConfig, generate


@contextlib.contextmanager
def _building(target: Path):
    """A new database at ``<target>.tmp-<pid>``, swapped into ``target`` only when the block
    succeeds; on any failure (or interruption) the temporary file is removed and the
    previous database stays as it was."""
    tmp = store_mod.temp_path_for(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    store_mod.remove_db_files(tmp)
    st = store_mod.Store(tmp, create=True)
    try:
        yield st
    except BaseException:
        st.close()
        store_mod.remove_db_files(tmp)
        raise
    st.close()
    store_mod.swap_into_place(tmp, target)


def write_catalogue(store, catalogue: Catalogue) -> None:
    for d in catalogue.domains:
        store.run(sql.INSERT_DOMAIN, [d.code, d.name_ko, d.name_en, d.sort_order])
    for order, i in enumerate(catalogue.indicators):
        store.run(sql.INSERT_INDICATOR, [i.code, i.name_ko, i.name_en, i.domain, i.institution, i.kind,
                                         i.lonely_death, i.reason_ko, order])


def write_rounds(store, round_list: list[rounds.Round], source: str) -> None:
    for r in round_list:
        store.run(sql.INSERT_ROUND, [r.round_id, r.code, r.year, r.seq, r.start, r.end, source])


SCORED_ROUNDS = 3


def train_and_score(st, models_dir: Path, progress: ProgressFn = silent) -> dict:
    """Train the risk model on the database and score the latest ``SCORED_ROUNDS`` rounds
    (enough for the maps' change and trend views; `score --round` scores others).
    """
    from blindspot import artifacts
    from blindspot.scoring import score_round
    from blindspot.training import train

    meta = train(st, models_dir, progress=lambda f, m: progress(0.5 * f, m))
    fitted, _ = artifacts.load(models_dir, meta["version"])
    round_ids = [r for (r,) in st.rows(sql.ROUND_IDS)][1:][-SCORED_ROUNDS:]
    for k, r in enumerate(round_ids):
        score_round(st, fitted, meta["version"], r,
                    progress=lambda f, m, k=k: progress(0.5 + 0.5 * (k + f) / len(round_ids), m))
    return {"version": meta["version"], "recall_ratio": meta["metrics"]["recall_ratio"],
            "scored_rounds": [rounds.from_id(r).code for r in round_ids]}


def build_demo(target: Path, cfg: SyntheticConfig, geo_dir: Path | None = None,
               progress: ProgressFn = silent, models_dir: Path | None = None) -> BuildReport:
    """Build a complete synthetic database at ``target`` (atomically); with
    ``models_dir``, also train the risk model and score the rounds before the swap."""
    cfg.validate()
    target = Path(target)
    store_mod.assert_target_free(target)
    started = time.monotonic()
    progress(0.0, "행정구역 자료 읽는 중")
    geo: GeoData = load_geo(config.geo_dir(geo_dir))
    catalogue = load_catalogue()
    with _building(target) as st:
        st.run(sql.BUILD_SETTINGS)
        st.create_schema()
        progress(0.01, "행정구역 적재 중")
        adjacency = import_geo(st, geo)
        write_catalogue(st, catalogue)
        write_rounds(st, rounds.last_n(cfg.rounds, cfg.latest_round), "synthetic")
        # One transaction: a commit per block would cost a WAL sync each (≈20 ms × 500).
        with st.transaction():
            report = generate(st, geo, catalogue, adjacency, cfg,
                              progress=lambda f, m: progress(0.02 + (0.56 if models_dir else 0.94) * f, m))
            progress(0.58 if models_dir else 0.96, "지도용 읍면동 집계 중")
            stats.refresh_all(st)
        meta = {
            "data_kind": "synthetic",
            "generator_version": GENERATOR_VERSION,
            "seed": cfg.seed,
            "scale": cfg.scale,
            "rounds": cfg.rounds,
            "sido": ",".join(cfg.sido) if cfg.sido else "all",
            "built_at": dt.datetime.now().isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - started, 1),
            "calibration": json.dumps(report.calibration, ensure_ascii=False),
        }
        for key, value in meta.items():
            st.set_meta(key, value)
        if models_dir is not None:
            try:
                report.model = train_and_score(st, Path(models_dir), lambda f, m: progress(0.6 + 0.38 * f, m))
            except ModelError as exc:
                # Data without enough rounds for a model is still a valid database.
                report.model = {"skipped": str(exc)}
                progress(0.98, f"모델 학습을 건너뜁니다: {exc}")
        progress(0.99, "저장 중 (checkpoint)")
        st.checkpoint()
    progress(1.0, f"완료: 가구 {report.households:,}, 위기정보 {report.observations:,}건, 방문 {report.visits:,}건")
    return report


def build_empty(target: Path, geo_dir: Path | None = None, progress: ProgressFn = silent) -> None:
    """A database for real data: schema, geography and catalogue, no rounds or households
    (load rounds with ``python -m blindspot ingest``).  Written atomically like a demo build."""
    target = Path(target)
    store_mod.assert_target_free(target)
    progress(0.0, "행정구역 자료 읽는 중")
    geo: GeoData = load_geo(config.geo_dir(geo_dir))
    with _building(target) as st:
        st.create_schema()
        progress(0.2, "행정구역 적재 중")
        import_geo(st, geo)
        write_catalogue(st, load_catalogue())
        st.set_meta("data_kind", "real")
        st.set_meta("built_at", dt.datetime.now().isoformat(timespec="seconds"))
        st.checkpoint()
    progress(1.0, f"완료: 빈 데이터베이스 {target} (행정구역·지표 목록만)")
