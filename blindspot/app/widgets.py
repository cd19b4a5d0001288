"""Page furniture shared by the pages: banners, pickers, legend, downloads, progress.

Every widget reads through :mod:`blindspot.app.data` and the signed-in session
(:mod:`blindspot.app.login`); none runs SQL itself.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from blindspot import config
from blindspot.access import Scope
from blindspot.app import webguard
from blindspot.app.cache import data_info
from blindspot.app.data import regions, rounds
from blindspot.app.login import session_id
from blindspot.casework import audit
from blindspot.vocab import LEVELS


def synthetic_banner() -> None:
    if data_info().get("synthetic"):
        st.warning(
            "**합성 데이터 (synthetic)** — 화면의 가구와 위기정보는 실제 행정구역·인구 통계에 맞춰 "
            "생성한 가상의 자료입니다. 실제 가구가 아닙니다."
        )


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
    labels = dict(zip(df["round_id"], df["label"], strict=False))
    return st.selectbox(label, options, format_func=lambda r: labels[r], key=key)


def area_picker(scope: Scope, level: str, key: str, *, nation_code: str | None = None) -> str | None:
    """The area a view shows: 전국, one 시도 or one 시군구; returns its code (``nation_code``
    for 전국).

    Maps pass their level: a 시도 map is always national, a 시군구 map picks a 시도, an
    읍면동 map a 시도 and optionally a 시군구.  The briefing passes ``level="emd"`` and
    ``nation_code="00"``.  전국 is offered only to a national scope; an official starts on
    their own 시도 and, with one 시군구, on it.
    """
    if level == "sido":
        return nation_code
    sido = regions(scope, "sido")
    # 전국 only for a national scope: for an official it would be their own area under the
    # country's name, and the map would open wider than their work.
    nation = [nation_code] if scope.is_national else []
    names = {nation_code: "전국", **dict(zip(sido["code"], sido["name"], strict=False))}
    chosen = st.selectbox("시도", nation + sido["code"].tolist(), format_func=names.get, key=f"{key}_sido")
    if level != "emd" or chosen == nation_code:
        return chosen
    sgg = regions(scope, "sgg")
    sgg = sgg[sgg["sido_code"] == chosen]
    sgg_names = dict(zip(sgg["code"], sgg["name"], strict=False))
    # An official of one 시군구 gets that 시군구 and nothing wider, so no figure of theirs is
    # named after the 시도; with several, "담당 지역 전체" (not "시도 전체": it is not the 시도).
    whole = [] if not scope.is_national and len(sgg) == 1 else [None]
    picked = st.selectbox(
        "시군구",
        whole + sgg["code"].tolist(),
        key=f"{key}_sgg",
        format_func=lambda c: ("시도 전체" if scope.is_national else "담당 지역 전체") if c is None else sgg_names[c],
    )
    return picked or chosen


def map_levels(scope: Scope) -> list[str]:
    """The map levels a scope is offered, its own level first: 읍면동 only for one 시군구,
    시군구 and 읍면동 for several in one 시도, every level otherwise (a 시도 painted with one
    시군구's figure would misname it)."""
    order = list(LEVELS)
    return order[order.index(scope.home_level) :]


def map_choices(scope: Scope, prefix: str, columns) -> tuple[str, str | None, int]:
    """The map pages' first three choices, one per column of ``columns``: level (the scope's own
    first, :func:`map_levels`), area and round; widget keys ``<prefix>_level|_area|_round``."""
    from blindspot.vocab import LEVELS

    with columns[0]:
        level = st.radio("단계", map_levels(scope), format_func=LEVELS.get, horizontal=True, key=f"{prefix}_level")
    with columns[1]:
        area = area_picker(scope, level, key=f"{prefix}_area")
    with columns[2]:
        round_id = round_picker(key=f"{prefix}_round")
    return level, area, round_id


def area_title(scope: Scope, area: str | None) -> str:
    """What a map page calls the area it shows.  A scoped figure is never named after a wider
    area: an official's 시도 view is "담당 지역 전체", a national one's whole view "전국"."""
    from blindspot.app import data

    if area is None or (len(area) == 2 and not scope.is_national):
        return "전국" if scope.is_national else "담당 지역 전체"
    sido = data.regions(scope, "sido")
    names = {**dict(zip(sido["code"], sido["name"], strict=False)), **data.sgg_names(scope)}
    return names.get(area, scope.label)


def legend(rows: pd.DataFrame, title: str | None = None) -> None:
    """A legend as coloured squares and ranges (markdown, no images)."""
    lines = [
        f"<span style='display:inline-block;width:14px;height:14px;background:{c};"
        f"border:1px solid #999;margin-right:6px;vertical-align:middle'></span>{r}"
        for c, r in zip(rows["colour"], rows["range"], strict=False)
    ]
    st.markdown((f"**{title}**<br/>" if title else "") + "<br/>".join(lines), unsafe_allow_html=True)


PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header {display: none !important;}
.block-container {max-width: 100% !important; padding-top: 1rem !important;}
html, body, [data-testid="stMarkdownContainer"] p {font-size: 1.35rem !important;}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  font-size: 3.2rem !important; line-height: 1.2 !important;
}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p {font-size: 1.3rem !important;}
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] *,
[data-testid="stMetricDelta"] [data-testid="stMarkdownContainer"] p {font-size: 1.3rem !important;}
[data-testid="stDataFrame"], [data-testid="stTable"] {font-size: 1.2rem !important;}
h1 {font-size: 2.4rem !important; padding: 0 !important;}
[data-testid="stAlert"] p {font-size: 0.95rem !important;}
[data-testid="stAlert"] {padding: 0.2rem 0.6rem !important;}
</style>"""


def presentation_mode(on: bool) -> None:
    """Wide, large type, no sidebar: for the council room's projector."""
    if on:
        st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)


def purpose_picker(key: str) -> str | None:
    """Why the user looks at household rows: a listed purpose or typed text for 기타;
    None (and a note) until one is given."""
    choice = st.selectbox(
        "열람 목적 (필수)", audit.PURPOSES, index=None, placeholder="목적을 고르세요", key=f"{key}_choice"
    )
    typed = st.text_input("기타 목적", key=f"{key}_typed") if choice == "기타" else ""
    try:
        return audit.check_purpose(choice, typed)
    except audit.PurposeRequired as exc:
        st.info(str(exc))
        return None


def keep_made(key: str, inputs, made) -> None:
    """Keep a made file together with the inputs it was made from (see :func:`made_for`)."""
    st.session_state[key] = (inputs, made)


def made_for(key: str, inputs):
    """The file kept under ``key`` if it was made from exactly ``inputs``; otherwise None, and a
    file made from other inputs (earlier filters, another round or purpose) is dropped, so a page
    never offers a download of rows it no longer shows."""
    kept = st.session_state.get(key)
    if kept is None:
        return None
    if kept[0] != inputs:
        del st.session_state[key]
        return None
    return kept[1]


def download_button(label: str, data: bytes, file_name: str, mime: str, key: str, where=None) -> None:
    """A download of ``data`` that only this signed-in session can fetch, once.

    The bytes go to Streamlit's file store only when the button is clicked (deferred
    data); the click writes a ``download_file`` audit record (file name and SHA-256) and tells the
    server gate (:mod:`blindspot.app.webguard`) the file's SHA-256
    for this session, and the gate serves that ``/media`` file once, to this browser.  A
    second click on the same file is refused: make the file again."""
    handed = st.session_state.setdefault("_handed_over", {})
    sid = session_id()
    scope = st.session_state.get("scope")

    def hand_over() -> bytes:  # runs on a worker thread when the button is clicked
        if handed.get(key) is data:
            raise RuntimeError("already downloaded")  # Streamlit shows "Failed to generate file"
        handed[key] = data
        digest = hashlib.sha256(data).hexdigest()
        if isinstance(scope, Scope):  # every download leaves a record: who, which file (hash)
            audit.record(scope, "download_file", {"file": file_name}, None, None, digest, detail=file_name)
        if sid:
            webguard.REGISTRY.expect_download(sid, digest)
        return data

    if handed.get(key) is data:
        (where or st).caption(f"{file_name}: 내려받았습니다. 다시 받으려면 파일을 다시 만드세요.")
        return
    (where or st).download_button(label, hand_over, file_name, mime, key=key, on_click="ignore")


def progress_bar(text: str):
    """A ``progress(fraction, message)`` callback drawing one st.progress bar."""
    bar = st.progress(0.0, text=text)

    def update(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return update


def release_uploads(*uploaded) -> None:
    """Drop uploaded files from the server's memory once they have been read: Streamlit would
    otherwise hold them for the whole session.  (To check a file again, choose it again.)"""
    from streamlit import runtime

    sid = session_id()
    if sid is None or not runtime.exists():
        return
    manager = runtime.get_instance().uploaded_file_mgr
    for f in uploaded:
        if f is not None:
            manager.remove_file(sid, f.file_id)
