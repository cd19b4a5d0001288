"""Loading one round of a real extraction: validated, atomic, idempotent.

``prepare`` reads and validates the households file (and optionally an outcomes file)
without touching the database; ``load`` writes a prepared round in one transaction.
``ingest`` does both and raises :class:`IngestError` with the full report when the
files have problems.

Rules (docs/ingest-format.md):

- the same households file (same SHA-256) for a round that was last loaded from it
  changes nothing: "이미 적재됨";
- a round that already exists (from any source) is replaced only with ``replace=True``
  (CLI ``--replace``, a confirmation box in the UI); replacing removes the round's
  signals, visits, scores and synthetic ground truth and cuts every household version
  around the round, so that afterwards the round's households are exactly the file's;
- every loaded file leaves a row in ``ingest_loads`` (file name, hash, rows, who, when).

Internal ids: ``households.household_id`` is an INTEGER the product joins on; the file
carries a pseudonymous id.  A pseudonymous id seen before (in any round) keeps its
household_id, so a household's rounds line up for the model's history features; new
ids are numbered after the largest in use, in pseudonymous-id order.  No separate
mapping table is needed: ``households`` holds (pseudo_id, household_id) for every version.

Why over 500 lines: prepare and load share the round's rules (scope, replace, ids,
entered outcomes) and their Korean messages; the load is one transaction, read top to
bottom in one place.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from blindspot import config, rounds
from blindspot.db import aggregates as stats
from blindspot.db import opstore, schema
from blindspot.db import sql as db_sql
from blindspot.db.queries import round_coverage, sgg_codes
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.indicators.catalogue import Catalogue, load_catalogue
from blindspot.ingest import sql
from blindspot.ingest.points import household_table
from blindspot.ingest.readers import Problem, ReadError, echo, read_table
from blindspot.ingest.report import finish_report, problem_rows, problems_frame, summary
from blindspot.ingest.validation import Checked
from blindspot.progress import ProgressFn, silent


class IngestError(BlindspotError):
    """Files with problems: nothing was loaded.  ``report`` lists every problem."""

    def __init__(self, report: pd.DataFrame) -> None:
        self.report = report
        super().__init__(summary(report))


@dataclass
class FileInfo:
    kind: str
    name: str
    sha256: str
    size: int
    rows: int = 0


@dataclass
class Prepared:
    round: rounds.Round
    files: list[FileInfo]
    households: Checked | None = None
    outcomes: Checked | None = None
    report: pd.DataFrame = field(default_factory=lambda: problems_frame([]))
    households_rows: np.ndarray | None = None  # file row of each household (for scope problems)
    already_loaded: bool = False
    round_exists: bool = False
    scope: list[str] | None = None  # 시군구 the load covers when it is partial (None = national)
    # What a replace takes away (households, sgg, observations, visits, scores): set when the round exists.
    replaces: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        return self.report.empty


def sha256(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes.

    >>> sha256(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def _file_problems(file: str, column: str, values, message: str) -> pd.DataFrame:
    """Report rows of a problem with the whole file (no row number), one per value."""
    return problems_frame([Problem(file, None, column, value, message) for value in values])


# The share of a whole ingest (check, then load) that the check takes; a page that only checks
# scales its bar by it so that "검사 완료" shows a full bar.
CHECK_DONE = 0.35
# Where a bad round comes from: what the user typed (the page's box, --round), never the file.
ROUND_INPUT = "차수 입력값"


def _round(round_code: str, file: str) -> rounds.Round:
    """The round typed for ``file``; a bad one is reported against the typed value
    (:data:`ROUND_INPUT`), since the file is not at fault."""
    try:
        r = rounds.parse_round(round_code)
    except BlindspotError:
        message = (
            f"차수 형식이 잘못되었습니다: {echo(round_code, 20)!r}. 'YYYY-Rn' 형식(n은 1~6, 예: 2024-R3)으로 쓰세요. "
            f"파일({Path(file).name})은 아직 읽지 않았습니다."
        )
        raise IngestError(_file_problems(ROUND_INPUT, "round", [round_code], message)) from None
    lo, hi = config.ROUND_YEARS
    if not lo <= r.year <= hi:
        message = f"차수의 연도({r.year}년)가 받을 수 있는 범위({lo}~{hi}년) 밖입니다. 추출 기준 연도를 확인하세요."
        raise IngestError(_file_problems(ROUND_INPUT, "round", [round_code], message))
    return r


def _scope_problems(store: Store, prepared: Prepared, raw_file: str, sgg: list[str] | None) -> list[pd.DataFrame]:
    """A file covering fewer 시군구 than the round it replaces or creates needs a declared
    scope; rows outside a declared scope are refused."""
    hh = prepared.households.households
    file_sgg = hh["emd_code"].astype(str).str[:5]
    covered = set(file_sgg.unique())
    all_sgg = sgg_codes(store)
    if sgg is None:
        reference = (
            set(round_coverage(store, prepared.round.round_id)["sgg"]) if prepared.round_exists else set(all_sgg)
        )
        if not reference or covered >= reference:
            return []
        what = f"차수 {prepared.round.code} 의 기존 자료" if prepared.round_exists else "전국"
        message = (
            f"이 파일은 시군구 {len(covered):,}곳만 담고 있습니다 ({what}: {len(reference):,}곳). "
            "일부 지역 차수로 적재하려면 범위를 밝히세요: 명령에는 "
            f"--sgg {' '.join(sorted(covered)[:5])}{' …' if len(covered) > 5 else ''} 옵션을 "
            "붙이고, 화면에서는 '일부 지역' 범위를 고르세요. "
            "일부 지역 차수는 전국으로 표시되지 않습니다."
        )
        return [_file_problems(raw_file, "sgg", [None], message)]
    parts = []
    declared = set(sgg)
    unknown = sorted(declared - all_sgg)
    if unknown:
        message = "적재 범위로 밝힌 시군구 코드가 행정구역에 없습니다 (5자리 시군구 코드, 예: 11110 종로구)."
        parts.append(_file_problems(raw_file, "sgg", unknown, message))
    outside = ~file_sgg.isin(declared).to_numpy()
    if outside.any():
        rows = prepared.households_rows[outside]
        parts.append(
            problem_rows(
                raw_file,
                rows,
                "emd_code",
                hh["emd_code"].to_numpy()[outside],
                f"밝힌 적재 범위(시군구 {', '.join(sorted(declared))}) 밖의 읍면동입니다. "
                "범위에 넣거나 이 행을 빼세요.",
            )
        )
    empty = sorted((declared & all_sgg) - covered)
    if empty:
        message = "적재 범위로 밝힌 시군구에 가구가 한 곳도 없습니다. 범위에서 빼거나 그 시군구의 자료를 넣으세요."
        parts.append(_file_problems(raw_file, "sgg", empty, message))
    return parts


def _same_as_last(store: Store, round_id: int, files: list[FileInfo]) -> bool:
    for f in files:
        last = store.rows(sql.INGEST_LAST_LOAD, [round_id, f.kind])
        if not last or last[0][0] != f.sha256:
            return False
    return True


def replaced_content(store: Store, round_id: int) -> dict[str, int]:
    """What a replace of ``round_id`` takes away: households, 시군구 (``sgg``), crisis signals
    (``observations``), loaded visits and risk scores, as counts.  Outcomes entered on the
    screen live in the operational store and are not removed.

    Example: on the demo, ``replaced_content(store, 20243)["households"]`` is the round's
    household count.
    """
    row = store.df(sql.INGEST_ROUND_CONTENT, {"t": int(round_id)}).iloc[0]
    return {k: int(row[k]) for k in ("households", "sgg", "observations", "visits", "scores")}


def emd_codes(store: Store) -> frozenset[str]:
    return frozenset(c for (c,) in store.rows(db_sql.REGION_CODES_AT_LEVEL, ["emd"]))


def prepare(
    store: Store,
    round_code: str,
    households: tuple[str, bytes],
    outcomes: tuple[str, bytes] | None = None,
    catalogue: Catalogue | None = None,
    progress: ProgressFn = silent,
    sgg: list[str] | tuple[str, ...] | None = None,
) -> Prepared:
    """Read and validate the files of one round (the database is only read).

    ``households`` and ``outcomes`` are (file name, bytes); the format comes from the
    name.  ``sgg`` declares a partial load (the 시군구 the file covers); it is needed when
    the file covers fewer 시군구 than the round it replaces or creates.
    Example: ``prepare(st, "2024-R4", ("가구.csv", data), sgg=["11110"])``; ``.report`` lists
    every problem, ``.already_loaded`` is True when these exact files were the round's last load.

    Never raises for a bad file: anything unexpected while reading becomes one report
    line naming the file (no traceback reaches a user).
    """
    try:
        return _prepare(store, round_code, households, outcomes, catalogue, progress, sgg)
    except (IngestError, BlindspotError):
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence for hostile files
        name = Path(households[0]).name
        return Prepared(
            _round(round_code, name),
            [FileInfo("households", name, sha256(households[1]), len(households[1]))],
            report=problems_frame(
                [
                    Problem(
                        name,
                        None,
                        None,
                        None,
                        (
                            f"파일을 검사하는 중 예상하지 못한 문제가 생겼습니다 ({type(exc).__name__}). 아무것도 "
                            "적재하지 않았습니다. 파일을 'CSV UTF-8(쉼표로 분리)' 로 다시 저장해 보고, 그래도 같으면 "
                            "이 메시지를 관리자에게 알리세요."
                        ),
                    )
                ]
            ),
        )


def _prepare(store: Store, round_code, households, outcomes, catalogue, progress, sgg) -> Prepared:
    catalogue = catalogue or load_catalogue()
    scope = sorted({str(c).strip() for c in sgg}) if sgg else None
    hh_name, hh_data = households
    r = _round(round_code, hh_name)
    files = [FileInfo("households", Path(hh_name).name, sha256(hh_data), len(hh_data))]
    if outcomes is not None:
        files.append(FileInfo("outcomes", Path(outcomes[0]).name, sha256(outcomes[1]), len(outcomes[1])))
    prepared = Prepared(r, files, round_exists=bool(store.scalar(sql.INGEST_ROUND_EXISTS, [r.round_id])), scope=scope)
    if prepared.round_exists:
        prepared.replaces = replaced_content(store, r.round_id)
    if (
        prepared.round_exists
        and _same_as_last(store, r.round_id, files)
        and (scope == round_coverage(store, r.round_id)["declared"])
    ):
        prepared.already_loaded = True
        return prepared
    progress(0.02, f"{files[0].name} 읽고 검사하는 중")
    parts = []
    try:
        prepared.households = checked = _check_households(
            hh_data, files[0].name, emd_codes(store), catalogue, lambda f, m: progress(0.02 + 0.28 * f, m)
        )
    except ReadError as exc:
        prepared.report = problems_frame(exc.problems)
        return prepared
    files[0].rows = checked.rows
    parts.append(checked.report)
    if checked.households is not None:
        prepared.households_rows = checked.household_rows
        parts += _scope_problems(store, prepared, files[0].name, scope)
    if outcomes is not None:
        progress(0.3, f"{files[1].name} 읽는 중")
        from blindspot.ingest.validation import check_outcomes

        try:
            raw_o = read_table(outcomes[1], files[1].name)
            ids = checked.households["pseudo_id"] if checked.households is not None else None
            prepared.outcomes = check_outcomes(raw_o, ids)
            files[1].rows = prepared.outcomes.rows
            parts.append(prepared.outcomes.report)
        except ReadError as exc:
            parts.append(problems_frame(exc.problems))
    prepared.report = finish_report(parts)
    progress(CHECK_DONE, "검사 완료" if prepared.ok else f"문제 {len(prepared.report):,}건")
    return prepared


def _check_households(data, name, codes, catalogue, progress):
    # Imported on first use: pandera (through validation) is slow to import and only loads need it.
    from blindspot.ingest.pieces import check_households_file

    return check_households_file(data, name, codes, catalogue, progress=progress)


# --- writing ------------------------------------------------------------------------------------


def load(
    store: Store, prepared: Prepared, replace: bool = False, loaded_by: str | None = None, progress: ProgressFn = silent
) -> dict:
    """Write a validated round in one transaction; returns what was loaded.

    ``status`` is ``'already_loaded'`` (nothing changed) or ``'loaded'``.  Raises
    :class:`IngestError` for files with problems and :class:`BlindspotError` for an
    existing round without ``replace``.
    """
    r = prepared.round
    if prepared.already_loaded:
        progress(1.0, f"이미 적재됨: {r.code} ({prepared.files[0].name}) — 바뀐 것이 없습니다")
        return {
            "status": "already_loaded",
            "round": r.code,
            "message": "이미 적재됨",
            "files": [f.name for f in prepared.files],
        }
    if not prepared.ok:
        raise IngestError(prepared.report)
    exists = bool(store.scalar(sql.INGEST_ROUND_EXISTS, [r.round_id]))
    if exists and not replace:
        raise BlindspotError(
            f"이미 데이터베이스에 있는 차수입니다: {r.code} (다른 파일 또는 합성 데이터). 이 파일로 바꾸려면 "
            "명령에 --replace 를 붙이거나, 화면에서 '기존 자료를 이 파일로 교체' 를 확인하세요. 기존 차수의 가구·"
            "위기정보·방문 결과·점수가 이 파일의 내용으로 바뀝니다."
        )
    loaded_by = loaded_by or getpass.getuser()
    started = time.monotonic()
    hh = prepared.households
    progress(0.4, f"가구 {len(hh.households):,}곳의 지도 좌표 계산 중")
    hh_table = household_table(store, hh.households)
    obs = pa.Table.from_pandas(hh.observations, preserve_index=False)
    names = {"t": r.round_id, "prev": r.prev().round_id, "next": r.next().round_id}
    at = dt.datetime.now()
    # Outcomes entered in the app live in the operational store and outlive a replace.
    entered = opstore.open_ops().outcomes_frame(r.round_id)[["pseudo_id"]] if exists else pd.DataFrame()
    loads = []
    with store.transaction():
        progress(0.5, f"트랜잭션 시작: 차수 {r.code} 적재 중")
        if not exists:
            store.run(db_sql.INSERT_ROUND, [r.round_id, r.code, r.year, r.seq, r.start, r.end, "ingest"])
        for statement in sql.INGEST_CLEAR_ROUND:
            store.run(statement, {"t": r.round_id})
        store.run_with(sql.INGEST_STAGE_HOUSEHOLDS, hh_table)
        store.run(sql.INGEST_KEEP_VERSIONS, {"t": r.round_id})
        for statement in sql.INGEST_CUT_VERSIONS:
            store.run(statement, {k: names[k] for k in ("t", "prev", "next") if f"${k}" in statement})
        store.run(sql.INGEST_EXTEND_VERSIONS, {"t": r.round_id, "prev": names["prev"]})
        store.run(sql.INGEST_INSERT_HOUSEHOLDS, {"t": r.round_id})
        progress(0.7, f"가구 적재 {len(hh.households):,}곳 (트랜잭션 안, 아직 확정 전)")
        store.run_with(sql.INGEST_INSERT_OBSERVATIONS, obs, {"t": r.round_id})
        progress(0.85, f"위기정보 적재 {len(hh.observations):,}건")
        n_visits = 0
        if prepared.outcomes is not None:
            visits = pa.Table.from_pandas(prepared.outcomes.outcomes, preserve_index=False)
            store.run_with(sql.INGEST_INSERT_VISITS, visits, {"t": r.round_id, "at": at, "by": loaded_by})
            n_visits = visits.num_rows
        missing = 0
        if len(entered):
            cur = store.cursor()
            cur.register("_src", entered)
            try:
                missing = int(cur.execute(sql.INGEST_ENTERED_MISSING.format(relation="_src")).fetchall()[0][0])
            finally:
                cur.unregister("_src")
        if missing:
            # Raised inside the transaction: nothing of this load is kept.
            raise BlindspotError(
                f"{r.code} 차수를 이 파일로 바꾸면 담당자가 화면에서 입력한 방문 결과 {missing:,}건이 사라집니다: "
                "그 가구가 새 파일에 없습니다. 그 가구를 파일에 넣거나, 기존 자료를 그대로 두세요. "
                "아무것도 바뀌지 않았습니다."
            )
        kept = len(entered)  # they stay in the operational store and show on the new rows
        for statement in sql.INGEST_DROP_STAGE:
            store.run(statement)
        # Household versions of the neighbouring rounds may have been cut too.
        loaded = {rid for (rid,) in store.rows(db_sql.ROUND_IDS)}
        for rid in (names["prev"], r.round_id, names["next"]):
            if rid in loaded:
                stats.refresh(store, rid)
        seconds = time.monotonic() - started
        for f in prepared.files:
            row = [
                f"{r.code}-{f.kind}-{uuid.uuid4().hex[:12]}",
                r.round_id,
                f.kind,
                f.name,
                f.sha256,
                f.rows,
                loaded_by,
                at,
                exists,
                round(seconds, 2),
            ]
            # The snapshot keeps which files made it; the history of loads is operational
            # (record_loads, once the snapshot is published).
            store.run(sql.INGEST_INSERT_LOAD, row)
            loads.append(dict(zip(LOAD_FIELDS, row, strict=True)))
        if prepared.scope:
            store.set_meta(f"round_scope:{r.round_id}", json.dumps(prepared.scope))
        else:
            store.run(schema.META_DELETE, [f"round_scope:{r.round_id}"])
        meta = store.meta()
        if "data_kind" not in meta:
            store.set_meta("data_kind", "real")
        store.set_meta("last_ingest_at", at.isoformat(timespec="seconds"))
        progress(0.95, "확정(commit) 중")
    progress(
        1.0,
        f"완료: 차수 {r.code} 가구 {len(hh.households):,}, 위기정보 {len(hh.observations):,}건, "
        f"방문 결과 {n_visits:,}건",
    )
    return {
        "status": "loaded",
        "round": r.code,
        "households": len(hh.households),
        "scope": prepared.scope or "national",
        "observations": len(hh.observations),
        "visits": n_visits,
        "replaced": exists,
        "entered_outcomes_kept": kept,
        "layout": hh.layout,
        "seconds": round(time.monotonic() - started, 2),
        "files": [{"kind": f.kind, "name": f.name, "sha256": f.sha256, "rows": f.rows} for f in prepared.files],
        "loads": loads,
    }


LOAD_FIELDS = (
    "load_id",
    "round_id",
    "kind",
    "file_name",
    "file_sha256",
    "rows",
    "loaded_by",
    "loaded_at",
    "replaced",
    "seconds",
)


def record_loads(result: dict, snapshot: str | None) -> None:
    """Add a published load's files to the ingest history (operational store), with the
    snapshot version they went into.  Called after the publish: a load that never became
    visible is not history."""
    ops = opstore.open_ops()
    with ops.begin() as con:
        for row in result.get("loads", []):
            ops.add_load({**row, "snapshot": snapshot}, con=con)


def ingest(
    store: Store,
    round_code: str,
    households: tuple[str, bytes],
    outcomes: tuple[str, bytes] | None = None,
    replace: bool = False,
    loaded_by: str | None = None,
    progress: ProgressFn = silent,
    sgg: list[str] | tuple[str, ...] | None = None,
) -> dict:
    """Validate and load one round; raises :class:`IngestError` (nothing loaded) on any problem.
    ``sgg`` declares a partial load (see :func:`prepare`)."""
    prepared = prepare(store, round_code, households, outcomes, progress=lambda f, m: progress(f, m), sgg=sgg)
    if not prepared.ok:
        raise IngestError(prepared.report)
    return load(store, prepared, replace=replace, loaded_by=loaded_by, progress=progress)


def ingest_paths(store: Store, round_code: str, path: Path, outcomes: Path | None = None, **kwargs) -> dict:
    """:func:`ingest` for files on disk."""

    def read(p: Path) -> tuple[str, bytes]:
        p = Path(p)
        # A symlink or device could point at a system file: refuse it without reading it,
        # so none of its contents can be echoed back.
        try:
            info = p.lstat()
        except OSError:
            raise BlindspotError(f"파일이 없습니다: {echo(p.name)}.") from None
        if stat.S_ISLNK(info.st_mode):
            raise BlindspotError(f"바로가기(심볼릭 링크)입니다: {echo(p.name)}. 링크가 아닌 실제 추출 파일을 주세요.")
        if not stat.S_ISREG(info.st_mode):
            raise BlindspotError(f"일반 파일이 아닙니다 (폴더·장치·파이프): {echo(p.name)}. 추출 파일을 주세요.")
        max_bytes = config.ingest_limit("BLINDSPOT_INGEST_MAX_FILE_BYTES")
        if info.st_size > max_bytes:
            raise BlindspotError(
                f"{echo(p.name)} 의 크기 {info.st_size:,}바이트가 한도 {max_bytes:,}바이트를 넘습니다 "
                "(BLINDSPOT_INGEST_MAX_FILE_BYTES)."
            )
        return p.name, p.read_bytes()

    return ingest(store, round_code, read(path), read(outcomes) if outcomes else None, **kwargs)


def history(store: Store) -> pd.DataFrame:
    """Every load, newest first: when, round, kind, file, rows, who, replaced, seconds, hash
    (operational store: the history outlives rebuilds; round codes from ``store``)."""
    loads = opstore.open_ops().loads_frame()
    codes = dict(store.rows(db_sql.ROUND_CODES)) if len(loads) else {}
    loads["round_code"] = [codes.get(int(r), str(r)) for r in loads["round_id"]]
    columns = ["loaded_at", "round_code", "kind", "file_name", "rows", "loaded_by", "replaced", "seconds"]
    return loads[[*columns, "file_sha256", "load_id"]].reset_index(drop=True)


def rescore(store: Store, round_code: str, models_dir: Path, progress: ProgressFn = silent) -> dict:
    """Score a (loaded) round with the model in service; says how to train when there is none."""
    from blindspot.model import artifacts
    from blindspot.model.capacity import current_plan
    from blindspot.model.pipeline import ModelError
    from blindspot.model.scoring import score_round

    version = artifacts.in_service(store)
    if not version:
        raise ModelError(
            "서비스 중인 모델이 없어 점수를 계산하지 않았습니다. `python -m blindspot train` 으로 "
            "모델을 학습하면 서비스 모델이 되고, 그다음 `python -m blindspot score --round 차수` 로 "
            "점수를 계산할 수 있습니다."
        )
    fitted, meta = artifacts.load(Path(models_dir), version)
    round_id = rounds.parse_round(round_code).round_id
    plan = current_plan(fitted.thresholds.capacity_share)
    return score_round(
        store, fitted, version, round_id, progress=progress, reference=meta.get("drift_reference"), plan=plan
    )
