"""The one module of ``blindspot`` that imports streamlit: cached wrappers, sign-in, and
shared page furniture (synthetic-data banner, attribution footer).

``cache_resource`` holds only the thread-safe store (one connection; each session
thread gets its own cursor).  ``cache_data`` results are keyed by plain values (the
database path and its build stamp, the scope's fields, the round) and expire after
ten minutes; :func:`clear_caches` drops them when data changes.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from blindspot import config
from blindspot.model import artifacts
from blindspot.casework import audit
from blindspot.app import auth
from blindspot.casework import exports
from blindspot.geo import regions as geography
from blindspot.maps import hexgrid
from blindspot.maps import hotspots
from blindspot.casework import lists
from blindspot.maps import data as mapdata
from blindspot.maps import render as maps
from blindspot.casework import outcomes
from blindspot.db import queries
from blindspot.app import webguard
from blindspot.access import ROLES, Scope
from blindspot.db.store import Store, open_store

TTL = 600


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return open_store(path)


def store() -> Store:
    return _store(str(config.db_path()))


def current_scope() -> Scope:
    """The signed-in user's scope (set at sign-in, :func:`require_login`); a page reached without
    one shows nothing."""
    scope = st.session_state.get("scope")
    if not isinstance(scope, Scope):
        st.error("로그인이 필요합니다.")
        st.stop()
    return scope


def settings() -> dict:
    """Settings of the account file (timeout, k, capacity) loaded at login."""
    from blindspot.app.auth import DEFAULT_SETTINGS

    return {**DEFAULT_SETTINGS, **st.session_state.get("settings", {})}


def _scope_key(scope: Scope) -> tuple:
    return (tuple(sorted(scope.sgg_codes)) if scope.sgg_codes else None, scope.household_level, scope.min_count,
            scope.role)


def _scope_from_key(key: tuple) -> Scope:
    codes, household_level, min_count, role = key
    return Scope(frozenset(codes) if codes else None, household_level, min_count, role=role)


@st.cache_data(ttl=TTL, show_spinner=False)
def _data_info(path: str) -> dict:
    return queries.data_info(_store(path))


def data_info() -> dict:
    return _data_info(str(config.db_path()))


@st.cache_data(ttl=TTL, show_spinner=False)
def _rounds(path: str, built_at: str) -> pd.DataFrame:
    return queries.rounds(_store(path))


def rounds() -> pd.DataFrame:
    return _rounds(str(config.db_path()), data_info().get("built_at", ""))


@st.cache_data(ttl=TTL, show_spinner="집계 중…")
def _overview(path: str, built_at: str, scope_key: tuple, round_id: int) -> dict:
    return queries.overview(_store(path), _scope_from_key(scope_key), round_id)


def overview(scope: Scope, round_id: int) -> dict:
    return _overview(str(config.db_path()), data_info().get("built_at", ""), _scope_key(scope), int(round_id))


@st.cache_data(ttl=TTL, show_spinner=False)
def _band_counts(path: str, built_at: str, scope_key: tuple, round_id: int, version: str | None):
    return queries.band_counts(_store(path), _scope_from_key(scope_key), round_id)


def band_counts(scope: Scope, round_id: int) -> dict | None:
    """Households per risk band; keyed by the model in service so rescoring shows at once."""
    return _band_counts(str(config.db_path()), data_info().get("built_at", ""), _scope_key(scope),
                        int(round_id), artifacts.in_service(store()))


def models_dir() -> str:
    return str(config.models_dir())


@st.cache_data(ttl=TTL, show_spinner=False)
def _model_metadata(path: str, built_at: str, models: str, version: str | None) -> dict | None:
    if not version:
        return None
    return artifacts.read_metadata(Path(models), version)


def model_metadata() -> dict | None:
    """Metadata of the model in service, or None when no model is in service."""
    version = artifacts.in_service(store())
    return _model_metadata(str(config.db_path()), data_info().get("built_at", ""), models_dir(), version)


@st.cache_data(ttl=TTL, show_spinner=False)
def _model_card(models: str, version: str) -> str:
    return (Path(models) / version / artifacts.CARD_FILE).read_text(encoding="utf-8")


def model_card(version: str) -> str:
    return _model_card(models_dir(), version)


def clear_caches() -> None:
    st.cache_data.clear()


def synthetic_banner() -> None:
    if data_info().get("synthetic"):
        st.warning(
            "**합성 데이터 (synthetic)** — 화면의 가구와 위기정보는 실제 행정구역·인구 통계에 맞춰 "
            "생성한 가상의 자료입니다. 실제 가구가 아닙니다.", icon="⚠️")


def footer() -> None:
    st.divider()
    info = data_info()
    lines = list(config.ATTRIBUTION)
    if info.get("synthetic"):
        lines.append(f"가구·위기정보: 합성 데이터 (seed {info.get('seed')}, 규모 {info.get('scale')})")
    st.caption("  \n".join(lines))


def round_picker(label: str = "차수", key: str = "round") -> int:
    """A select box of loaded rounds, latest first; returns the round id."""
    df = rounds()
    options = df["round_id"].tolist()[::-1]
    labels = dict(zip(df["round_id"], df["label"]))
    return st.selectbox(label, options, format_func=lambda r: labels[r], key=key)


# --- maps and hotspots ---
# Layers are not cached here: blindspot.maps.render keeps the simplified geometry in memory, and
# cache_data would copy (pickle) megabytes of GeoJSON on every rerun.

def _stamp() -> tuple[str, str]:
    return str(config.db_path()), data_info().get("built_at", "")


@st.cache_data(ttl=TTL, show_spinner=False)
def _measure_catalogue(path: str, built_at: str, bands: tuple) -> list:
    return mapdata.measure_catalogue(_store(path), bands)


def measure_catalogue(bands: tuple = mapdata.DEFAULT_BANDS) -> list:
    return _measure_catalogue(*_stamp(), tuple(bands))


@st.cache_data(ttl=TTL, show_spinner=False)
def _has_scores(path: str, built_at: str, round_id: int) -> bool:
    return mapdata.has_scores(_store(path), round_id)


def has_scores(round_id: int) -> bool:
    return _has_scores(*_stamp(), int(round_id))


@st.cache_data(ttl=TTL, show_spinner=False)
def _regions(path: str, built_at: str, scope_key: tuple, level: str) -> pd.DataFrame:
    return geography.regions(_store(path), _scope_from_key(scope_key), level)


def regions(scope: Scope, level: str) -> pd.DataFrame:
    return _regions(*_stamp(), _scope_key(scope), level)


@st.cache_data(ttl=TTL, show_spinner="지도 집계 중…")
def _map_view(path: str, built_at: str, scope_key: tuple, round_id: int, level: str, area: str | None,
              measure: str, change: bool, bands: tuple) -> pd.DataFrame:
    return mapdata.map_view(_store(path), _scope_from_key(scope_key), level, round_id, measure, area, change, bands)


def map_view(scope: Scope, level: str, area: str | None, round_id: int, measure: str, change: bool = False,
             bands: tuple = mapdata.DEFAULT_BANDS) -> pd.DataFrame:
    return _map_view(*_stamp(), _scope_key(scope), int(round_id), level, area, measure, bool(change), tuple(bands))


def region_layer(scope: Scope, level: str, area: str | None) -> dict:
    """Simplified layer geometry of the view (memory-cached in :mod:`blindspot.maps.render`)."""
    st_ = store()
    return maps.layer_geometries(st_, mapdata.narrow(st_, scope, area), level)


@st.cache_data(ttl=TTL, show_spinner="지역 상세 집계 중…")
def _region_profile(path: str, built_at: str, scope_key: tuple, code: str, round_id: int, bands: tuple) -> dict:
    return mapdata.region_profile(_store(path), _scope_from_key(scope_key), code, round_id, bands)


def region_profile(scope: Scope, code: str, round_id: int, bands: tuple = mapdata.DEFAULT_BANDS) -> dict:
    return _region_profile(*_stamp(), _scope_key(scope), str(code), int(round_id), tuple(bands))


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
    return _once("view_map_households", scope, {"area": str(code), "round": int(round_id)}, purpose,
                 lambda: mapdata.top_households(store(), scope, str(code), int(round_id), purpose))


@st.cache_data(ttl=TTL, show_spinner="핫스팟 분석 중 (순열 999회)…")
def _hotspots(path: str, built_at: str, scope_key: tuple, round_id: int, measure: str, area: str | None,
              method: str) -> pd.DataFrame:
    return hotspots.hotspots(_store(path), _scope_from_key(scope_key), round_id, measure, area, method)


def hotspot_table(scope: Scope, round_id: int, measure: str, area: str | None, method: str = "gi") -> pd.DataFrame:
    return _hotspots(*_stamp(), _scope_key(scope), int(round_id), measure, area, method)


@st.cache_data(ttl=TTL, show_spinner="차수별 추세 분석 중…")
def _emerging(path: str, built_at: str, scope_key: tuple, round_id: int, measure: str, area: str | None) -> pd.DataFrame:
    return hotspots.emerging_hotspots(_store(path), _scope_from_key(scope_key), round_id, measure, area)


def emerging_hotspots(scope: Scope, round_id: int, measure: str, area: str | None) -> pd.DataFrame:
    return _emerging(*_stamp(), _scope_key(scope), int(round_id), measure, area)


@st.cache_data(ttl=TTL, show_spinner=False)
def _hex_cells(path: str, built_at: str, scope_key: tuple, sgg_code: str, round_id: int, resolution: int,
               k: int) -> pd.DataFrame:
    return hexgrid.hex_cells(_store(path), _scope_from_key(scope_key), sgg_code, round_id, resolution, k)


def hex_cells(scope: Scope, sgg_code: str, round_id: int, resolution: int, k: int) -> pd.DataFrame:
    return _hex_cells(*_stamp(), _scope_key(scope), str(sgg_code), int(round_id), int(resolution), int(k))


def sgg_names(scope: Scope, sido: str | None = None) -> dict:
    """{시군구 code: full name} the scope may see, within one 시도 if given."""
    df = regions(scope, "sgg")
    if sido:
        df = df[df["sido_code"] == sido]
    return dict(zip(df["code"], df["full_name"]))


def area_picker(scope: Scope, level: str, key: str) -> str | None:
    """The area a map shows: 전국, one 시도, or (읍면동 maps) one 시군구; returns its code or None."""
    if level == "sido":
        return None
    sido = regions(scope, "sido")
    sido_codes = [None] + sido["code"].tolist()
    sido_names = dict(zip(sido["code"], sido["name"]))
    chosen = st.selectbox("시도", sido_codes, format_func=lambda c: "전국" if c is None else sido_names[c],
                          key=f"{key}_sido")
    if level != "emd" or chosen is None:
        return chosen
    sgg = regions(scope, "sgg")
    sgg = sgg[sgg["sido_code"] == chosen]
    sgg_names = dict(zip(sgg["code"], sgg["name"]))
    return st.selectbox("시군구", [None] + sgg["code"].tolist(),
                        format_func=lambda c: "시도 전체" if c is None else sgg_names[c], key=f"{key}_sgg") or chosen


def legend(rows: pd.DataFrame, title: str | None = None) -> None:
    """A legend as coloured squares and ranges (markdown, no images)."""
    lines = [f"<span style='display:inline-block;width:14px;height:14px;background:{c};"
             f"border:1px solid #999;margin-right:6px;vertical-align:middle'></span>{r}"
             for c, r in zip(rows["colour"], rows["range"])]
    st.markdown((f"**{title}**<br/>" if title else "") + "<br/>".join(lines), unsafe_allow_html=True)


# --- council briefing ---

def briefing_area_picker(scope: Scope, key: str) -> str:
    """시도 or 시군구 of a briefing (전국 when the scope is national); returns its code."""
    sido = regions(scope, "sido")
    options = (["00"] if scope.is_national else []) + sido["code"].tolist()
    names = {"00": "전국", **dict(zip(sido["code"], sido["name"]))}
    chosen = st.selectbox("시도", options, format_func=names.get, key=f"{key}_sido")
    if chosen == "00":
        return chosen
    sgg = regions(scope, "sgg")
    sgg = sgg[sgg["sido_code"] == chosen]
    sgg_names = dict(zip(sgg["code"], sgg["name"]))
    picked = st.selectbox("시군구", [None] + sgg["code"].tolist(), key=f"{key}_sgg",
                          format_func=lambda c: "시도 전체" if c is None else sgg_names[c])
    return picked or chosen


@st.cache_data(ttl=TTL, show_spinner="브리핑 집계 중…")
def _briefing(path: str, built_at: str, scope_key: tuple, area: str, round_id: int, version: str | None,
              saved_at: float):
    from blindspot.briefing import data as briefing

    return briefing.build(_store(path), _scope_from_key(scope_key), area, round_id)


def briefing(scope: Scope, area: str, round_id: int):
    return _briefing(str(config.db_path()), data_info().get("built_at", ""), _scope_key(scope), area,
                     int(round_id), artifacts.in_service(store()), st.session_state.get("targets_saved_at", 0.0))


def can_set_targets(scope: Scope, area: str) -> bool:
    """Whether the page offers the target form (the package refuses the rest anyway)."""
    from blindspot.access import can

    return can(scope, "set_targets", area)


def save_targets(scope: Scope, area: str, values: dict) -> int:
    import time

    from blindspot.briefing import data as briefing_mod

    changed = briefing_mod.save_targets(store(), scope, area, values, scope.user)
    st.session_state["targets_saved_at"] = time.time()  # new cache key: the table shows the new targets
    return changed


@st.cache_data(ttl=TTL, show_spinner="브리핑 자료(PDF·PNG) 만드는 중…", max_entries=8)
def _briefing_pack(path: str, built_at: str, scope_key: tuple, area: str, round_id: int, version: str | None,
                   saved_at: float) -> tuple[bytes, bytes]:
    from blindspot.briefing import pack as briefpack

    scope = _scope_from_key(scope_key)
    b = _briefing(path, built_at, scope_key, area, round_id, version, saved_at)
    pdf, pngs = briefpack.render(_store(path), scope, b)
    return pdf, briefpack.zip_pngs(pngs)


def briefing_pack(scope: Scope, area: str, round_id: int) -> tuple[bytes, bytes]:
    """(PDF bytes, ZIP of PNGs) of the briefing pack."""
    return _briefing_pack(str(config.db_path()), data_info().get("built_at", ""), _scope_key(scope), area,
                          int(round_id), artifacts.in_service(store()),
                          st.session_state.get("targets_saved_at", 0.0))


PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header {display: none !important;}
.block-container {max-width: 100% !important; padding-top: 1rem !important;}
html, body, [data-testid="stMarkdownContainer"] p {font-size: 1.35rem !important;}
[data-testid="stMetricValue"] {font-size: 3.2rem !important;}
[data-testid="stMetricLabel"] p {font-size: 1.4rem !important;}
h1 {font-size: 3rem !important;}
</style>"""


def presentation_mode(on: bool) -> None:
    """Wide, large type, no sidebar: for the council room's projector."""
    if on:
        st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)


# --- risk lists, exports, audit ---

def purpose_picker(key: str) -> str | None:
    """Why the user looks at household rows: a listed purpose or typed text for 기타;
    None (and a note) until one is given."""
    choice = st.selectbox("열람 목적 (필수)", audit.PURPOSES, index=None, placeholder="목적을 고르세요",
                          key=f"{key}_choice")
    typed = st.text_input("기타 목적", key=f"{key}_typed") if choice == "기타" else ""
    try:
        return audit.check_purpose(choice, typed)
    except audit.PurposeRequired as exc:
        st.info(str(exc))
        return None


def risk_list(scope: Scope, filters: lists.ListFilters, purpose: str) -> pd.DataFrame:
    return _once("view_list", scope, filters.as_dict(), purpose,
                 lambda: lists.risk_list(store(), scope, filters, purpose))


def export_risk_list(scope: Scope, filters: lists.ListFilters, purpose: str, fmt: str) -> exports.ExportFile:
    return exports.export_risk_list(store(), scope, filters, purpose, fmt)


@st.cache_data(ttl=TTL, show_spinner=False)
def _risk_summary(path: str, built_at: str, scope_key: tuple, filters: str, level: str, k: int):
    return lists.risk_summary(_store(path), _scope_from_key(scope_key), lists.ListFilters.from_text(filters), level, k)


def risk_summary(scope: Scope, filters: lists.ListFilters, level: str, k: int) -> pd.DataFrame:
    return _risk_summary(*_stamp(), _scope_key(scope), audit.filters_text(filters.as_dict()), level, int(k))


def export_summary(scope: Scope, filters: lists.ListFilters, level: str, k: int, fmt: str) -> exports.ExportFile:
    return exports.export_summary(store(), scope, filters, level, k, fmt)


@st.cache_data(ttl=TTL, show_spinner=False)
def _indicators(path: str, built_at: str) -> pd.DataFrame:
    return lists.indicators(_store(path))


def indicator_options() -> dict:
    """{filter value: Korean label}: None, every domain ("domain:<d>") and indicator ("indicator:<code>")."""
    options = {None: "전체 (지표·영역 무관)"}
    options.update({f"domain:{d}": f"영역: {name}" for d, name in mapdata.domain_list(store())})
    df = _indicators(*_stamp())
    options.update({f"indicator:{c}": f"지표: {n}" for c, n in zip(df["code"], df["name_ko"])})
    return options


def record_outcome(scope: Scope, pseudo_id: str, filters: lists.ListFilters, outcome: str,
                   support_type: str | None, shown: list[str], overwrite: bool = False) -> dict:
    """Record a visit outcome for a household of the list shown (``filters``, ``shown``:
    its pseudonymous ids); raises :class:`blindspot.casework.outcomes.OutcomeExists` until the
    official confirmed an overwrite.  Maps read it at once (caches dropped).

    The list on screen is the same view as before (same user, filters, purpose), already
    audited once: its rows held in this session get the household's 방문 여부 updated in
    place instead of being read (and audited) again, so a save gives exactly one record.
    """
    result = outcomes.record_outcome(store(), scope, pseudo_id, int(filters.round_id), outcome, support_type,
                                     filters=filters, shown=shown, overwrite=overwrite)
    clear_caches()
    held = st.session_state.get("_audited_view_list")
    if held is not None and "visited" in held[1]:
        rows = held[1].copy()
        rows.loc[rows["pseudo_id"] == pseudo_id, "visited"] = True
        st.session_state["_audited_view_list"] = (held[0], rows)
    return result


def audit_log(scope: Scope, **filters) -> pd.DataFrame:
    return exports.audit_frame(audit.audit_log(store(), scope, **filters))


def audit_users(scope: Scope) -> list[str]:
    return audit.audit_users(store(), scope)


def export_audit(scope: Scope, **filters) -> exports.ExportFile:
    return exports.export_audit(store(), scope, **filters)


def download_button(label: str, data: bytes, file_name: str, mime: str, key: str, where=None) -> None:
    """A download of ``data`` that only this signed-in session can fetch, once.

    The bytes go to Streamlit's file store only when the button is clicked (deferred
    data); the click writes a ``download_file`` audit record (file name and SHA-256) and tells the server gate (:mod:`blindspot.app.webguard`) the file's SHA-256
    for this session, and the gate serves that ``/media`` file once, to this browser.  A
    second click on the same file is refused: make the file again."""
    handed = st.session_state.setdefault("_handed_over", {})
    sid = _session_id()
    scope, db = st.session_state.get("scope"), str(config.db_path())

    def hand_over() -> bytes:  # runs on a worker thread when the button is clicked
        if handed.get(key) is data:
            raise RuntimeError("already downloaded")  # Streamlit shows "Failed to generate file"
        handed[key] = data
        digest = hashlib.sha256(data).hexdigest()
        if isinstance(scope, Scope):  # every download leaves a record: who, which file (hash)
            audit.record(_store(db), scope, "download_file", {"file": file_name}, None, None, digest,
                         detail=file_name)
        if sid:
            webguard.REGISTRY.expect_download(sid, digest)
        return data

    if handed.get(key) is data:
        (where or st).caption(f"{file_name}: 내려받았습니다. 다시 받으려면 파일을 다시 만드세요.")
        return
    (where or st).download_button(label, hand_over, file_name, mime, key=key, on_click="ignore")


# --- data management: ingest of extraction files ---
# Nothing here is cached: the page changes the data, and history must show a load at once.

def progress_bar(text: str):
    """A ``progress(fraction, message)`` callback drawing one st.progress bar."""
    bar = st.progress(0.0, text=text)

    def update(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return update


def prepare_ingest(round_code: str, households, outcomes=None, progress=None, sgg=None):
    """Validate uploaded files (Streamlit UploadedFile objects) for one round; ``sgg``
    declares a partial load (the 시군구 the file covers)."""
    from blindspot.ingest import load as ingest

    files = [(f.name, f.getvalue()) if f is not None else None for f in (households, outcomes)]
    try:
        return ingest.prepare(store(), round_code, files[0], files[1], progress=progress or (lambda f, m: None),
                              sgg=sgg or None)
    finally:
        release_uploads(households, outcomes)


def release_uploads(*uploaded) -> None:
    """Drop uploaded files from the server's memory once they have been read: Streamlit would
    otherwise hold them for the whole session.  (To check a file again, choose it again.)"""
    from streamlit import runtime

    sid = _session_id()
    if sid is None or not runtime.exists():
        return
    manager = runtime.get_instance().uploaded_file_mgr
    for f in uploaded:
        if f is not None:
            manager.remove_file(sid, f.file_id)


def load_ingest(prepared, replace: bool, progress=None) -> dict:
    from blindspot.ingest import load as ingest

    result = ingest.load(store(), prepared, replace=replace, loaded_by=current_scope().user,
                         progress=progress or (lambda f, m: None))
    clear_caches()
    return result


def rescore_round(round_code: str, progress=None) -> dict:
    from blindspot.ingest import load as ingest

    result = ingest.rescore(store(), round_code, Path(models_dir()), progress=progress or (lambda f, m: None))
    clear_caches()
    return result


def ingest_history() -> pd.DataFrame:
    from blindspot.ingest import load as ingest

    return ingest.history(store())


# --- sign-in ------------------------------------------------------------------------------
# Password login is a form here, checked against the bcrypt hashes of the account file
# (:func:`blindspot.app.auth.check_password`).  Failed attempts are counted per account (the
# name typed) and per client address in the operational store that every server process
# shares (:mod:`blindspot.db.opstore`), so a reload or a second browser does not reset them:
# after ``free_failures`` (per address ``free_failures_address``) the next attempt waits
# with exponential backoff, and while it waits even the right password is not accepted.
#
# A sign-in belongs to one browser: it is recorded with a digest of that browser's secret
# cookie (``webguard.COOKIE``, HttpOnly, set by the server gate; without the gate, the
# token of Streamlit's XSRF cookie) and checked on every run.  A client that presents the
# session id without the cookie (a taken-over session) finds it signed out.  The server
# gate reads the same record (``webguard.REGISTRY``) to decide on uploads and downloads.
#
# When ``.streamlit/secrets.toml`` has an ``[auth]`` section, an OIDC button (``st.login``)
# is offered as well; the identity's e-mail must belong to an account of the file.
#
# Tests sign in the same way as people: they write an account file with known
# passwords, point ``BLINDSPOT_AUTH`` at it and fill in the form (see ``tests/test_app_access.py``).

LOGIN_KEYS = ("login_username", "login_password")


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _browser_secret() -> str | None:
    """Digest of what only this browser holds: the gate's cookie, else Streamlit's XSRF token."""
    cookies = st.context.cookies
    own, xsrf = (_text(cookies.get(name)) for name in (webguard.COOKIE, webguard.XSRF_COOKIE))
    return webguard.digest(own or webguard.xsrf_token(xsrf))


def _text(value) -> str | None:
    # Outside a real server (AppTest) the client context is a stand-in: only text counts.
    return value if isinstance(value, str) and value else None


def client_address(settings: dict) -> str | None:
    """The client's address for the login counter: as the server gate saw it, else the
    WebSocket peer (None for localhost and in tests)."""
    headers = st.context.headers
    seen = _text(headers.get(webguard.CLIENT_HEADER))
    if seen:
        return seen
    return webguard.client_address(_text(st.context.ip_address), _text(headers.get("X-Forwarded-For")),
                                   settings.get("trusted_proxies") or ())


def _clear_session() -> None:
    sid = _session_id()
    if sid:
        webguard.REGISTRY.sign_out(sid)
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def _sign_in(data: dict, username: str, now: float) -> None:
    scope = auth.scope_of(data, username)
    st.session_state["scope"] = scope
    st.session_state["settings"] = dict(data["settings"])
    st.session_state["display_name"] = auth.account(data, username).name
    st.session_state["last_seen"] = now
    st.session_state["browser"] = _browser_secret()
    sid = _session_id()
    if sid:
        webguard.REGISTRY.sign_in(sid, scope.user, scope.role, st.session_state["browser"],
                                  ttl=float(data["settings"]["session_timeout_minutes"]) * 60 or 86400.0, now=now)


def _ops():
    from blindspot.db import opstore

    return opstore.open_ops()


def require_login() -> Scope:
    """The signed-in user's scope; otherwise draws the login form and stops the run."""
    data = auth.load()
    settings = data["settings"]
    now = time.time()
    ss = st.session_state
    if isinstance(ss.get("scope"), Scope):
        if ss.get("browser") != _browser_secret():
            # The session id came back from a client without this sign-in's browser secret.
            _clear_session()
        elif not auth.session_expired(ss.get("last_seen"), now, float(settings["session_timeout_minutes"])):
            ss["last_seen"] = now
            sid = _session_id()
            if sid:
                webguard.REGISTRY.touch(sid, now)
            return ss["scope"]
        else:
            oidc = ss.get("via_oidc")
            _clear_session()
            ss["expired"] = True
            if oidc:
                st.logout()
    st.title("복지사각지대 지도")
    if ss.pop("expired", False):
        st.info("세션이 만료되었습니다. 다시 로그인하세요.")
    if _oidc_configured():
        _oidc(data, now)
    ops = _ops()
    address = client_address(settings)
    wait = auth.address_wait(ops, settings, address, now)
    if wait > 0:
        _locked(wait)
    with st.form("login"):
        st.subheader("로그인")
        username = st.text_input("아이디", key=LOGIN_KEYS[0], autocomplete="username")
        password = st.text_input("비밀번호", type="password", key=LOGIN_KEYS[1], autocomplete="current-password")
        submitted = st.form_submit_button("로그인")
    if not submitted:
        st.stop()
    wait = auth.account_wait(ops, settings, username, now)
    if wait > 0:
        _locked(wait)  # the password is not even checked while the account waits
    if auth.check_password(data, username, password):
        auth.record_success(ops, username)
        _sign_in(data, username, now)
        st.rerun()
    auth.record_failure(ops, settings, username, address, now)
    st.error(auth.FAILED_LOGIN)
    wait = max(auth.account_wait(ops, settings, username, now), auth.address_wait(ops, settings, address, now))
    if wait > 0:
        st.warning(f"로그인 실패가 많아 {math.ceil(wait)}초 뒤에 다시 시도할 수 있습니다.")
    st.stop()


def _locked(wait: float) -> None:
    st.error(auth.FAILED_LOGIN)
    st.warning(f"로그인 실패가 많아 {math.ceil(wait)}초 뒤에 다시 시도할 수 있습니다.")
    st.stop()


def _oidc(data: dict, now: float) -> None:
    if not st.user.is_logged_in:
        st.button("기관 계정으로 로그인 (OIDC)", on_click=st.login)
        st.caption("또는 아이디·비밀번호로 로그인")
        return
    username = auth.account_by_email(data, st.user.get("email"))
    if username is None:
        st.error("이 기관 계정에는 이 앱의 권한이 없습니다. 관리자에게 계정 등록을 요청하세요.")
        st.button("로그아웃", on_click=st.logout)
        st.stop()
    _sign_in(data, username, now)
    st.session_state["via_oidc"] = True
    st.rerun()


def sidebar(scope: Scope) -> None:
    """Who is signed in, with what scope, and a logout button."""
    with st.sidebar:
        st.markdown(f"**{st.session_state.get('display_name', scope.user)}** ({ROLES.get(scope.role, scope.role)})")
        st.caption(f"권한 범위: {scope.label}" + ("" if scope.household_level else f" · {scope.min_count} 미만 비공개"))
        if st.button("로그아웃", key="logout"):
            oidc = st.session_state.get("via_oidc")
            _clear_session()
            if oidc:
                st.logout()
            st.rerun()


# --- serving (python -m blindspot serve) ----------------------------------------------------------

def serve(address: str, port: int) -> None:
    """Run the app behind the server gate (:class:`blindspot.app.webguard.Guard`): uploads and
    downloads only for signed-in sessions with their browser's cookie, security headers,
    no metrics without an admin.  Blocks until stopped.  Refuses to start (AuthConfigError)
    when the account file is unusable, e.g. demo accounts in production mode."""
    from starlette.middleware import Middleware
    from streamlit import config as st_config
    from streamlit import runtime

    settings = auth.load()["settings"]
    upload_mb = max(1, min(int(settings["max_upload_mb"]), int(st_config.get_option("server.maxUploadSize"))))

    def held(session_id: str) -> int:
        if not runtime.exists():
            return 0
        return len(runtime.get_instance().uploaded_file_mgr.file_storage.get(session_id, {}))

    def sweep() -> None:
        # Streamlit keeps a closed tab's uploads until its stored session is next looked up,
        # which may be never: drop the files of every session that is not connected.
        while True:
            time.sleep(5)
            if runtime.exists():
                rt = runtime.get_instance()
                manager = rt.uploaded_file_mgr
                for sid in list(manager.file_storage):
                    if not rt.is_active_session(sid):
                        manager.remove_session_files(sid)

    threading.Thread(target=sweep, name="blindspot-upload-sweep", daemon=True).start()
    guard = webguard.GuardSettings(max_upload_bytes=upload_mb * 2**20,
                                   trusted_proxies=tuple(settings.get("trusted_proxies") or ()),
                                   secure_cookie=bool(settings.get("secure_cookie")), held_uploads=held,
                                   script_hashes=webguard.inline_script_hashes(
                                       (Path(st.__file__).parent / "static" / "index.html").read_text("utf-8")))
    app = st.App(str(config.PROJECT_DIR / "app.py"), middleware=[Middleware(webguard.Guard, settings=guard)])
    app.run(config={"server.address": address, "server.port": int(port), "server.headless": True,
                    "server.maxUploadSize": upload_mb, "client.showErrorDetails": "none"})
