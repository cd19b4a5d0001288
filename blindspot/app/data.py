"""What the pages read and write, as calls of the signed-in user's scope.

Aggregates are cached (:func:`blindspot.app.cache.cached`).  Household rows are never
cached across sessions: they are fetched and audited once per view (:func:`_once`).
Writes (outcomes, targets, loads, rescoring) drop the caches so every page shows them.
Layers are not cached here: :mod:`blindspot.maps.render` keeps the simplified geometry in
memory, and ``cache_data`` would copy (pickle) megabytes of GeoJSON on every rerun.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from blindspot import config
from blindspot.access import Scope, narrow
from blindspot.app import jobs
from blindspot.app.cache import cached, clear_caches, store
from blindspot.app.login import current_scope
from blindspot.casework import audit, exports, lists, outcomes
from blindspot.db import queries, snapshots
from blindspot.db.store import Store
from blindspot.geo import regions as geography
from blindspot.maps import data as mapdata
from blindspot.maps import hexgrid, hotspots
from blindspot.maps import measures as mapmeasures
from blindspot.maps import render as maps
from blindspot.model import artifacts


def models_dir() -> str:
    return str(config.models_dir())


@cached()
def rounds(store: Store) -> pd.DataFrame:
    return queries.rounds(store)


@cached("집계 중…")
def overview(store: Store, scope: Scope, round_id: int) -> dict:
    return queries.overview(store, scope, int(round_id))


@cached(stamps=("build", "model"))
def band_counts(store: Store, scope: Scope, round_id: int) -> dict | None:
    """Households per risk band; keyed by the model in service so rescoring shows at once."""
    return queries.band_counts(store, scope, int(round_id))


@cached(stamps=("build", "model"))
def _model_metadata(store: Store, models: str) -> dict | None:
    version = artifacts.in_service(store)
    return artifacts.read_metadata(Path(models), version) if version else None


def model_metadata() -> dict | None:
    """Metadata of the model in service, or None when no model is in service."""
    return _model_metadata(models_dir())


@cached(stamps=())
def _model_card(store: Store, models: str, version: str) -> str:
    return (Path(models) / version / artifacts.CARD_FILE).read_text(encoding="utf-8")


def model_card(version: str) -> str:
    return _model_card(models_dir(), version)


# --- maps and hotspots ---------------------------------------------------------------------


@cached()
def measure_catalogue(store: Store, bands: tuple = mapmeasures.DEFAULT_BANDS) -> list:
    return mapmeasures.measure_catalogue(store, tuple(bands))


@cached()
def has_scores(store: Store, round_id: int) -> bool:
    return mapmeasures.has_scores(store, int(round_id))


@cached()
def regions(store: Store, scope: Scope, level: str) -> pd.DataFrame:
    return geography.regions(store, scope, level)


@cached("지도 집계 중…")
def map_view(
    store: Store,
    scope: Scope,
    level: str,
    area: str | None,
    round_id: int,
    measure: str,
    change: bool = False,
    bands: tuple = mapmeasures.DEFAULT_BANDS,
) -> pd.DataFrame:
    return mapdata.map_view(store, scope, level, int(round_id), measure, area, bool(change), tuple(bands))


def region_layer(scope: Scope, level: str, area: str | None) -> dict:
    """Simplified layer geometry of the view (memory-cached in :mod:`blindspot.maps.render`)."""
    st_ = store()
    return maps.layer_geometries(st_, narrow(st_, scope, area), level)


@cached("지역 상세 집계 중…")
def region_profile(
    store: Store, scope: Scope, code: str, round_id: int, bands: tuple = mapmeasures.DEFAULT_BANDS
) -> dict:
    return mapdata.region_profile(store, scope, str(code), int(round_id), tuple(bands))


@cached("핫스팟 분석 중 (순열 999회)…")
def hotspot_table(
    store: Store, scope: Scope, round_id: int, measure: str, area: str | None, method: str = "gi"
) -> pd.DataFrame:
    return hotspots.hotspots(store, scope, int(round_id), measure, area, method)


@cached("차수별 추세 분석 중…")
def emerging_hotspots(store: Store, scope: Scope, round_id: int, measure: str, area: str | None) -> pd.DataFrame:
    return hotspots.emerging_hotspots(store, scope, int(round_id), measure, area)


@cached()
def hex_cells(store: Store, scope: Scope, sgg_code: str, round_id: int, resolution: int, k: int) -> pd.DataFrame:
    return hexgrid.hex_cells(store, scope, str(sgg_code), int(round_id), int(resolution), int(k))


@cached("발굴 격차 집계 중…")
def reach_gap(store: Store, scope: Scope, level: str, area: str | None, round_id: int) -> pd.DataFrame:
    from blindspot.reach import figures as reach

    return reach.reach_gap(store, scope, level, int(round_id), area)


@cached("발굴 격차 추세 집계 중…")
def reach_trend(store: Store, scope: Scope, round_id: int, area: str | None) -> pd.DataFrame:
    from blindspot.reach import figures as reach

    return reach.reach_trend(store, scope, int(round_id), area)


@cached("발굴 격차 핫스팟 분석 중 (순열 999회)…")
def reach_hotspots(store: Store, scope: Scope, round_id: int, area: str | None) -> pd.DataFrame:
    from blindspot.reach import figures as reach

    return reach.gap_hotspots(store, scope, int(round_id), area)


def sgg_names(scope: Scope, sido: str | None = None) -> dict:
    """{시군구 code: full name} the scope may see, within one 시도 if given."""
    df = regions(scope, "sgg")
    if sido:
        df = df[df["sido_code"] == sido]
    return dict(zip(df["code"], df["full_name"], strict=False))


# --- household rows: audited once per view --------------------------------------------------


def _once(action: str, scope: Scope, filters: dict, purpose: str, fetch):
    """Household rows fetched (and audited) once per view: a rerun with the same user,
    filters and purpose reuses this session's rows instead of writing a second record."""
    key = audit.view_key(scope, action, filters, purpose)
    slot = f"_audited_{action}"
    held = st.session_state.get(slot)
    if held is not None and held[0] == key:
        return held[1]
    rows = fetch()
    st.session_state[slot] = (key, rows)
    return rows


def top_households(scope: Scope, code: str, round_id: int, purpose: str) -> pd.DataFrame:
    """The map drill-down's household list (audited once per view; not cached across sessions)."""
    return _once(
        "view_map_households",
        scope,
        {"area": str(code), "round": int(round_id)},
        purpose,
        lambda: mapdata.top_households(store(), scope, str(code), int(round_id), purpose),
    )


def risk_list(scope: Scope, filters: lists.ListFilters, purpose: str) -> pd.DataFrame:
    return _once(
        "view_list", scope, filters.as_dict(), purpose, lambda: lists.risk_list(store(), scope, filters, purpose)
    )


def export_risk_list(scope: Scope, filters: lists.ListFilters, purpose: str, fmt: str) -> exports.ExportFile:
    return exports.export_risk_list(store(), scope, filters, purpose, fmt)


@cached()
def _risk_summary(store: Store, scope: Scope, filters: str, level: str, k: int) -> pd.DataFrame:
    return lists.risk_summary(store, scope, lists.ListFilters.from_text(filters), level, int(k))


def risk_summary(scope: Scope, filters: lists.ListFilters, level: str, k: int) -> pd.DataFrame:
    return _risk_summary(scope, audit.filters_text(filters.as_dict()), level, int(k))


def export_summary(scope: Scope, filters: lists.ListFilters, level: str, k: int, fmt: str) -> exports.ExportFile:
    return exports.export_summary(store(), scope, filters, level, k, fmt)


@cached()
def _indicators(store: Store) -> pd.DataFrame:
    return lists.indicators(store)


def indicator_options() -> dict:
    """{filter value: Korean label}: None, every domain ("domain:<d>") and indicator ("indicator:<code>")."""
    options = {None: "전체 (지표·영역 무관)"}
    options.update({f"domain:{d}": f"영역: {name}" for d, name in mapmeasures.domain_list(store())})
    df = _indicators()
    options.update({f"indicator:{c}": f"지표: {n}" for c, n in zip(df["code"], df["name_ko"], strict=False)})
    return options


def record_outcome(
    scope: Scope,
    pseudo_id: str,
    filters: lists.ListFilters,
    outcome: str,
    support_type: str | None,
    shown: list[str],
    overwrite: bool = False,
) -> dict:
    """Record a visit outcome for a household of the list shown (``filters``, ``shown``:
    its pseudonymous ids); raises :class:`blindspot.casework.outcomes.OutcomeExists` until the
    official confirmed an overwrite.  Maps read it at once (caches dropped).

    The list on screen is the same view as before (same user, filters, purpose), already
    audited once: its rows held in this session get the household's 방문 여부 updated in
    place instead of being read (and audited) again, so a save gives exactly one record.
    """
    result = outcomes.record_outcome(
        store(),
        scope,
        pseudo_id,
        int(filters.round_id),
        outcome,
        support_type,
        filters=filters,
        shown=shown,
        overwrite=overwrite,
    )
    clear_caches()
    held = st.session_state.get("_audited_view_list")
    if held is not None and "visited" in held[1]:
        rows = held[1].copy()
        rows.loc[rows["pseudo_id"] == pseudo_id, "visited"] = True
        st.session_state["_audited_view_list"] = (held[0], rows)
    return result


def audit_log(scope: Scope, **filters) -> pd.DataFrame:
    return exports.audit_frame(audit.audit_log(scope, **filters))


def audit_users(scope: Scope) -> list[str]:
    return audit.audit_users(scope)


def export_audit(scope: Scope, **filters) -> exports.ExportFile:
    return exports.export_audit(scope, **filters)


# --- council briefing ------------------------------------------------------------------------


@cached("브리핑 집계 중…", stamps=("build", "model", "targets"))
def briefing(store: Store, scope: Scope, area: str, round_id: int):
    from blindspot.briefing import data as briefing_data

    return briefing_data.build(store, scope, area, int(round_id))


def can_set_targets(scope: Scope, area: str) -> bool:
    """Whether the page offers the target form (the package refuses the rest anyway)."""
    from blindspot.access import can

    return can(scope, "set_targets", area)


def save_targets(scope: Scope, area: str, values: dict) -> int:
    from blindspot.briefing import data as briefing_data

    changed = briefing_data.save_targets(store(), scope, area, values, scope.user)
    st.session_state["targets_saved_at"] = time.time()  # new cache key: the table shows the new targets
    return changed


@cached("지도 그리는 중…", stamps=("build", "model"))
def briefing_map(store: Store, scope: Scope, area: str, round_id: int) -> bytes:
    """The area's one-person map (PNG) for the presentation screen, as the pack prints it."""
    from blindspot.briefing import pack as briefpack

    return briefpack.map_png(store, scope, briefing(scope, area, round_id))


@cached("브리핑 자료(PDF·PNG) 만드는 중…", stamps=("build", "model", "targets"))
def briefing_pack(store: Store, scope: Scope, area: str, round_id: int) -> tuple[bytes, bytes]:
    """(PDF bytes, ZIP of PNGs) of the briefing pack."""
    from blindspot.briefing import pack as briefpack

    pdf, pngs = briefpack.render(store, scope, briefing(scope, area, round_id))
    return pdf, briefpack.zip_pngs(pngs)


# --- data management: ingest of extraction files ---------------------------------------------
# Nothing here is cached: the page changes the data, and history must show a load at once.


def prepare_ingest(round_code: str, households, outcomes=None, progress=None, sgg=None):
    """Validate uploaded files (Streamlit UploadedFile objects) for one round; ``sgg``
    declares a partial load (the 시군구 the file covers)."""
    from blindspot.app.widgets import release_uploads
    from blindspot.ingest import load as ingest

    files = [(f.name, f.getvalue()) if f is not None else None for f in (households, outcomes)]
    bar = progress or (lambda f, m: None)
    try:
        return ingest.prepare(
            store(),
            round_code,
            files[0],
            files[1],
            # The check is the first CHECK_DONE of an ingest: here it is the whole bar.
            progress=lambda f, m: bar(min(1.0, f / ingest.CHECK_DONE), m),
            sgg=sgg or None,
        )
    finally:
        release_uploads(households, outcomes)


def _load(db: Path, prepared, replace: bool, user: str, progress) -> dict:
    """Load a validated round into the next snapshot version and publish it (every app
    process switches to it on its next page run); refused at once while another loader runs."""
    from blindspot.ingest import load as ingest

    with snapshots.loader(db, f"ingest {prepared.round.code} (데이터 관리 화면)", user) as draft:
        result = ingest.load(draft.store, prepared, replace=replace, loaded_by=user, progress=progress)
        draft.keep = result["status"] == "loaded"
    if draft.published:
        ingest.record_loads(result, draft.published)
        result["snapshot"] = draft.published
    result.pop("loads", None)
    return result


def _rescore(db: Path, models: Path, round_code: str, user: str, progress) -> dict:
    from blindspot.ingest import load as ingest

    with snapshots.loader(db, f"score {round_code} (데이터 관리 화면)", user) as draft:
        result = ingest.rescore(draft.store, round_code, models, progress=progress)
    result["snapshot"] = draft.published
    return result


def start_load(prepared, replace: bool) -> str:
    """Start loading a validated round as a background job (:mod:`blindspot.app.jobs`);
    returns its id for the page to poll."""
    user, db = current_scope().user, config.db_path()
    return jobs.start("적재", user, lambda progress: _load(db, prepared, replace, user, progress)).id


def job(job_id: str | None):
    """A background job of this process by id (None when unknown, e.g. after a restart)."""
    return jobs.get(job_id)


def start_rescore(round_code: str) -> str:
    user, db, models = current_scope().user, config.db_path(), Path(models_dir())
    return jobs.start("점수 계산", user, lambda progress: _rescore(db, models, round_code, user, progress)).id


def ingest_history() -> pd.DataFrame:
    from blindspot.ingest import load as ingest

    return ingest.history(store())


# --- the model in service: drift, the model list, a change of model (admin) -------------------


@cached(stamps=("build", "model"))
def model_drift(store: Store) -> pd.DataFrame:
    """PSI per feature of the latest round with drift rows, largest first (:mod:`blindspot.model.drift`)."""
    from blindspot.model import drift

    return drift.drift_table(store)


@cached(stamps=("build", "model"))
def realised_precision(store: Store) -> pd.DataFrame:
    """Realised precision of each scored round's 위험 list (visited households, unreachable excluded)."""
    from blindspot.model import drift

    return drift.realised_precision(store)


def model_list() -> pd.DataFrame:
    """Every trained model with its last gate result and the one in service marked; not
    cached: a candidate trained on the command line shows at once."""
    from blindspot.model import registry

    rows = registry.list_models(Path(models_dir()), artifacts.in_service(store()))
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else ["version", "in_service"])


def _change_model(
    db: Path, models: Path, kind: str, version: str | None, reason: str, force: bool, user: str, progress
):
    """Activate ``version`` (through the gate, or overriding it with ``force``) or roll back,
    in the next snapshot version; a candidate the gate refuses publishes nothing."""
    from blindspot.model import registry
    from blindspot.model.pipeline import ModelError

    with snapshots.loader(db, f"models {kind} (모델 화면)", user) as draft:
        if kind == "activate":
            result = registry.promote(
                draft.store,
                models,
                str(version),
                user=user,
                reason=reason,
                force=force,
                snapshot=draft.name,
                action="activate",
                progress=progress,
            )
            if not result["promoted"] and not result.get("already"):
                raise ModelError(
                    "관문을 통과하지 못해 지정하지 않았습니다: "
                    + " / ".join(result["gate"]["reasons"])
                    + " — 그래도 지정하려면 '관문 미통과라도 지정'을 고르고 사유를 적으세요."
                )
            draft.keep = bool(result["promoted"])
        else:
            result = registry.rollback(
                draft.store, models, user=user, reason=reason, snapshot=draft.name, progress=progress
            )
    result["snapshot"] = draft.published
    return result


def start_model_change(kind: str, version: str | None, reason: str, force: bool = False) -> str:
    """Start activating a model (``kind`` "activate") or rolling back ("rollback") as a
    background job (:mod:`blindspot.app.jobs`); admins only, with a stated reason."""
    from blindspot.access import DENIED, may
    from blindspot.errors import AccessDenied
    from blindspot.model import registry

    scope = current_scope()
    if not may(scope.role, "manage_model"):
        raise AccessDenied(DENIED["manage_model"])
    reason = registry.check_reason(reason)
    user, db, models = scope.user, config.db_path(), Path(models_dir())
    label = "모델 지정" if kind == "activate" else "모델 되돌리기"
    return jobs.start(
        label, user, lambda progress: _change_model(db, models, kind, version, reason, force, user, progress)
    ).id


# --- follow-up cadence (후속 관리): not cached; the list is audited once per view ----------------


def sync_followups(scope: Scope, sgg: str) -> dict:
    """Bring the 시군구's cases up to the latest scored round (once per round; cheap after)."""
    from blindspot.followup import cases

    return cases.sync_cases(store(), scope, sgg)


def followup_due(scope: Scope, sgg: str, due_by, purpose: str, version: int = 0, owner: str = "all"):
    """The 시군구's due list (:func:`blindspot.followup.cases.due_list`), fetched and audited once
    per view; ``version`` is bumped by a save on the page, which makes the changed list a new view."""
    from blindspot.followup import cases

    filters = {"sgg": str(sgg), "due_by": due_by.isoformat(), "version": int(version), "owner": owner}
    return _once(
        "view_followups",
        scope,
        filters,
        purpose,
        lambda: cases.due_list(store(), scope, str(sgg), due_by, purpose, owner=owner),
    )
