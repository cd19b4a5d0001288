"""Building a database: schema, geography, catalogue, rounds and synthetic data.

A build writes a new snapshot version and publishes it only when everything succeeded
(:func:`blindspot.db.snapshots.building`), so an interrupted or failed build leaves the
active version exactly as it was, and running apps switch to the new one on their next
page run.

A rebuild never touches the audit trail: the audit log, the outcomes officials entered,
the briefing targets and the ingest history live in the operational store
(:mod:`blindspot.db.opstore`), not in the snapshot.  Entered outcomes name households by
pseudonymous id and round, so they show again on a rebuild with the same settings.
When the target already exists, :func:`inspect_existing` tells a demo database from a
real one (made by ``init-db``, holding ingested rounds, or not this program's file): a
**real** database is not replaced unless ``replace_real=True`` (``--force-replace-real``);
either way one audit record says what was replaced.  The replaced version stays among the
kept versions (``python -m blindspot snapshots activate`` brings it back).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

from blindspot import config, rounds
from blindspot.access import Scope
from blindspot.casework import audit
from blindspot.db import aggregates as stats
from blindspot.db import schema, snapshots
from blindspot.db import sql as db_sql
from blindspot.db import store as store_mod
from blindspot.db.store import Store
from blindspot.demo import sql
from blindspot.demo.synthetic import GENERATOR_VERSION, BuildReport, SyntheticConfig, generate
from blindspot.errors import BlindspotError
from blindspot.geo.regions import GeoData, import_geo, load_geo
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.model.pipeline import ModelError
from blindspot.progress import ProgressFn, silent


@contextlib.contextmanager
def _building(target: Path, command: str, user: str | None):
    """A new, empty store published as the next version of ``target`` when the block succeeds."""
    with snapshots.building(target, command, user) as draft:
        yield draft.store
        draft.store.checkpoint()


@dataclass(frozen=True)
class Existing:
    """What a database about to be replaced holds (counts of rows worth keeping)."""

    path: Path
    ours: bool  # this program's database (has a meta table)
    data_kind: str | None
    loads: int = 0  # ingest_loads rows
    real_rounds: int = 0  # rounds not made by the generator
    audit_rows: int = 0
    targets: int = 0
    entered: int = 0  # visit outcomes entered by officials (not the generator's)
    meta: dict | None = None

    @property
    def is_demo(self) -> bool:
        """A synthetic database that never had a round ingested."""
        return self.ours and self.data_kind == "synthetic" and not self.loads and not self.real_rounds

    def why_real(self) -> str:
        if not self.ours:
            return "이 프로그램의 데이터베이스가 아닙니다"
        if self.loads or self.real_rounds:
            return f"적재된 실데이터 파일 {self.loads:,}건"
        return "init-db 로 만든 실데이터용 파일입니다"


# The schema version that brought the audit log, briefing targets and ingest history.
FACTS_SINCE_VERSION = 3


def inspect_existing(target: Path) -> Existing | None:
    """What the database at ``target`` holds, or None when there is none (or it is not a
    DuckDB file at all, which a build simply replaces, as before).  Reads it read-only."""
    target = Path(target)
    if not target.exists():
        return None
    try:
        old = store_mod.Store(target, read_only=True, check_schema=False)
    except store_mod.StoreError as exc:
        if "다른 프로그램" in str(exc):
            raise
        return None
    try:
        if not old.scalar(schema.HAS_META_TABLE):
            return Existing(target, False, None)
        meta = old.meta()
        version = int(meta.get("schema_version", 0))
        if version < FACTS_SINCE_VERSION:
            # Opened read-only and unmigrated here: the tables read below would be missing.
            raise BlindspotError(
                f"{target} 의 스키마 버전({version})은 옛 버전입니다. "
                f"`python -m blindspot info --db {target}` 로 한 번 열어 업그레이드한 뒤 다시 하세요."
            )
        facts = dict(
            zip(
                ("loads", "real_rounds", "audit_rows", "targets", "entered"),
                old.rows(sql.OLD_DB_FACTS)[0],
                strict=False,
            )
        )
        return Existing(target, True, meta.get("data_kind"), meta=meta, **{k: int(v) for k, v in facts.items()})
    finally:
        old.close()


def _same_config(meta: dict, cfg: SyntheticConfig) -> bool:
    want = {
        "seed": str(cfg.seed),
        "scale": str(cfg.scale),
        "rounds": str(cfg.rounds),
        "sido": ",".join(cfg.sido) if cfg.sido else "all",
    }
    return all(meta.get(k) == v for k, v in want.items())


def _config_text(meta: dict) -> str:
    sido = meta.get("sido", "all")
    return f"--seed {meta.get('seed')} --scale {meta.get('scale')} --rounds {meta.get('rounds')}" + (
        "" if sido == "all" else f" --sido {sido.replace(',', ' ')}"
    )


def check_replaceable(existing: Existing | None, cfg: SyntheticConfig | None, replace_real: bool) -> None:
    """Refuse (before any long work) a build that would lose data: a real database without
    ``replace_real``, or entered outcomes that a differently configured demo cannot hold."""
    if existing is None:
        return
    if not existing.is_demo:
        if not replace_real:
            raise BlindspotError(
                f"실데이터 데이터베이스입니다: {existing.path} ({existing.why_real()}). 데모 구축은 이 자료를 "
                "바꾸지 않습니다. 데모는 --db 로 다른 파일에 만드세요. 정말 데모로 바꾸려면 --force-replace-real 을 "
                "붙이세요: 실데이터 가구·위기정보·방문 결과는 새 판에서 빠지고(이전 판은 되돌리기용으로 남음), 감사 "
                "기록·입력한 방문 결과·브리핑 목표·적재 이력은 운영 저장소에 그대로 있습니다."
            )
        return
    if cfg is not None and existing.entered and not _same_config(existing.meta or {}, cfg):
        raise BlindspotError(
            f"{existing.path} 에 담당자가 입력한 방문 결과 {existing.entered:,}건이 있어 같은 설정으로만 다시 만들 수 "
            f"있습니다 ({_config_text(existing.meta or {})}). 다른 설정의 데모는 --db 로 다른 파일에 만들거나, 기존 "
            "파일의 이름을 바꿔 보관한 뒤 만드세요."
        )


def _record_rebuild(existing: Existing | None, user: str | None, demo_rebuild: bool) -> None:
    """One audit record of replacing an existing database: what was dropped (the replaced
    version stays among the kept snapshot versions)."""
    if existing is None or not existing.ours:
        return
    detail = (
        "데모 다시 만듦 (감사 기록·입력한 방문 결과·브리핑 목표·적재 이력은 운영 저장소에 그대로)"
        if demo_rebuild
        else f"지움: 기존 가구·위기정보, 적재 방문 결과 {existing.entered:,}건, 적재 이력 {existing.loads:,}건"
    )
    audit.record(
        Scope.all_areas(user=user or "cli"),
        "rebuild_demo" if demo_rebuild else "replace_database",
        {"db": str(existing.path)},
        None,
        None,
        detail=detail,
    )


def write_catalogue(store: Store, catalogue: Catalogue) -> None:
    for d in catalogue.domains:
        store.run(sql.INSERT_DOMAIN, [d.code, d.name_ko, d.name_en, d.sort_order])
    for order, i in enumerate(catalogue.indicators):
        store.run(
            sql.INSERT_INDICATOR,
            [i.code, i.name_ko, i.name_en, i.domain, i.institution, i.kind, i.lonely_death, i.reason_ko, order],
        )


def write_rounds(store: Store, round_list: list[rounds.Round], source: str) -> None:
    for r in round_list:
        store.run(db_sql.INSERT_ROUND, [r.round_id, r.code, r.year, r.seq, r.start, r.end, source])


SCORED_ROUNDS = 3


def train_and_score(st: Store, models_dir: Path, progress: ProgressFn = silent, user: str | None = None) -> dict:
    """Train the risk model on the database, put it in service through the gate
    (:func:`blindspot.model.registry.promote`: a new database has no model in service, so
    the first model passes, recorded as such in the audit log) and score the latest
    ``SCORED_ROUNDS`` rounds (enough for the maps' change and trend views; `score --round`
    scores others), with their drift against the model's test round.
    """
    import os

    from blindspot.model import artifacts, registry
    from blindspot.model.scoring import score_round
    from blindspot.model.training import train

    meta = train(st, models_dir, activate=False, progress=lambda f, m: progress(0.45 * f, m))
    promoted = registry.promote(
        st,
        models_dir,
        meta["version"],
        user=user or os.environ.get("USER") or "build-demo",
        progress=lambda f, m: progress(0.45 + 0.05 * f, m),
    )
    version = artifacts.in_service(st)
    if version is None:  # cannot happen on a new database (first model); say so if it does
        raise ModelError("모델이 관문을 통과하지 못했습니다: " + " / ".join(promoted["gate"]["reasons"]))
    fitted, served = artifacts.load(models_dir, version)
    round_ids = [r for (r,) in st.rows(db_sql.ROUND_IDS)][1:][-SCORED_ROUNDS:]
    for k, r in enumerate(round_ids):
        score_round(
            st,
            fitted,
            version,
            r,
            progress=lambda f, m, k=k: progress(0.5 + 0.5 * (k + f) / len(round_ids), m),
            reference=served.get("drift_reference"),
        )
    return {
        "version": version,
        "recall_ratio": meta["metrics"]["recall_ratio"],
        "gate": promoted["gate"],
        "scored_rounds": [rounds.from_id(r).code for r in round_ids],
    }


def build_demo(
    target: Path,
    cfg: SyntheticConfig,
    geo_dir: Path | None = None,
    progress: ProgressFn = silent,
    models_dir: Path | None = None,
    *,
    replace_real: bool = False,
    user: str | None = None,
) -> BuildReport:
    """Build a complete synthetic database at ``target`` (atomically); with
    ``models_dir``, also train the risk model and score the rounds before the swap.

    The audit log, entered outcomes, briefing targets and ingest history are untouched
    (operational store); a real database is refused unless ``replace_real``.  ``user``
    names who rebuilt it in the audit record."""
    cfg.validate()
    target = Path(target)
    existing = inspect_existing(target)
    check_replaceable(existing, cfg, replace_real)
    started = time.monotonic()
    progress(0.0, "행정구역 자료 읽는 중")
    geo: GeoData = load_geo(config.geo_dir(geo_dir))
    catalogue = load_catalogue()
    with _building(target, "build-demo", user) as st:
        st.run(schema.memory_limit_sql("build_memory_limit"))
        st.create_schema()
        progress(0.01, "행정구역 적재 중")
        adjacency = import_geo(st, geo)
        write_catalogue(st, catalogue)
        write_rounds(st, rounds.last_n(cfg.rounds, cfg.latest_round), "synthetic")
        # One transaction: a commit per block would cost a WAL sync each (≈20 ms × 500).
        with st.transaction():
            report = generate(
                st,
                geo,
                catalogue,
                adjacency,
                cfg,
                progress=lambda f, m: progress(0.02 + (0.56 if models_dir else 0.94) * f, m),
            )
            progress(0.58 if models_dir else 0.96, "지도용 읍면동 집계 중")
            stats.refresh_all(st)
        _record_rebuild(existing, user, existing is not None and existing.is_demo)
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
    progress(1.0, f"완료: 가구 {report.households:,}, 위기정보 {report.observations:,}건, 방문 {report.visits:,}건")
    return report


def build_empty(
    target: Path, geo_dir: Path | None = None, progress: ProgressFn = silent, user: str | None = None
) -> None:
    """A database for real data: schema, geography and catalogue, no rounds or households
    (load rounds with ``python -m blindspot ingest``).  Written atomically like a demo build.
    Replacing an existing database (``init-db --force``) keeps its audit log and briefing
    targets and records what was dropped."""
    target = Path(target)
    existing = inspect_existing(target)
    progress(0.0, "행정구역 자료 읽는 중")
    geo: GeoData = load_geo(config.geo_dir(geo_dir))
    with _building(target, "init-db", user) as st:
        st.create_schema()
        progress(0.2, "행정구역 적재 중")
        import_geo(st, geo)
        write_catalogue(st, load_catalogue())
        st.set_meta("data_kind", "real")
        st.set_meta("built_at", dt.datetime.now().isoformat(timespec="seconds"))
        # Whatever the old file held besides its audit log and targets is gone, and recorded.
        _record_rebuild(existing, user, demo_rebuild=False)
    progress(1.0, f"완료: 빈 데이터베이스 {target} (행정구역·지표 목록만)")
