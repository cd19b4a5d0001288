"""Every page × role, rendered: no "None" or "nan" in what a person reads, no raw class codes,
no English column keys as table headers (issue 15: one Korean vocabulary, formatted values)."""

import json
import re
import shutil

import pyarrow as pa
import pytest
from apptest import _app

from blindspot.access import pages_for
from blindspot.app.pages import PAGE_FILES

USERS = {"admin": "admin", "analyst": "analyst", "district": "dong", "presenter": "presenter"}
# What must never reach a reader: Python's missing values, and codes that have Korean words.
BAD_WORD = re.compile(r"(?<![A-Za-z])(None|nan|NaN|NaT|True|False)(?![A-Za-z])")
RAW_CODE = re.compile(r"\b(hot|cold)_(90|95|99)\b|\b(high|medium|low)\b(?=\s*$)")
# One name per thing (blindspot/glossary.py): a round is 차수, never 회차.
OTHER_NAME = re.compile(r"회차")
ENGLISH_KEY = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^(code|name|value|share|parent|group|n)$")


@pytest.fixture(scope="module")
def words_db(modelled, tmp_path_factory):
    path = tmp_path_factory.mktemp("words") / "app.duckdb"
    shutil.copy(modelled[0], path)
    return path


def _headers(df_element) -> list[str]:
    """The table's headers as shown: a column's configured label, else its name; hidden
    columns and those outside ``column_order`` left out."""
    config = json.loads(df_element.proto.columns or "{}")

    def conf(name) -> dict:
        return config.get(str(name)) or config.get(f"name:{name}") or {}

    names = [str(n) for n in df_element.value.columns]
    order = list(df_element.proto.column_order) or names
    return [conf(n).get("label") or n for n in order if n in names and not conf(n).get("hidden")]


def _texts(at) -> list[str]:
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        out += [str(m.label), str(m.value), str(m.proto.delta or "")]
    for box in [*at.selectbox, *at.radio, *at.multiselect]:
        out += [str(box.label), *map(str, box.options)]
    return out


def _chart_words(at) -> list[str]:
    """What a chart shows as words: its axis titles and its series names (the legend)."""
    out = []
    for chart in at.get("vega_lite_chart"):
        encoding = json.loads(chart.proto.spec).get("encoding", {})
        out += [str(encoding[a]["title"]) for a in ("x", "y") if a in encoding and encoding[a].get("title")]
        for ds in chart.proto.datasets:
            table = pa.ipc.open_stream(ds.data.data).read_all()
            series = [c for c in table.column_names if c.startswith("color --")]
            out += [str(v) for c in series for v in set(table.column(c).to_pylist())]
    return out


def _problems(at) -> list[str]:
    found = [
        f"text: {t[:80]!r}" for t in _texts(at) if BAD_WORD.search(t) or RAW_CODE.search(t) or OTHER_NAME.search(t)
    ]
    found += [f"chart: {w!r}" for w in _chart_words(at) if ENGLISH_KEY.match(w) or BAD_WORD.search(w)]
    for df in at.dataframe:
        found += [f"header: {h!r}" for h in _headers(df) if ENGLISH_KEY.match(h)]
        frame = df.value
        for col in frame.columns:
            if frame[col].dtype == object:
                cells = frame[col].dropna().astype(str)
                bad = cells[cells.str.fullmatch(r"None|nan|NaN|True|False|(hot|cold)_\d+")]
                found += [f"cell {col}: {v!r}" for v in bad.unique()[:3]]
    return found


@pytest.mark.parametrize("role", list(USERS))
def test_every_page_reads_in_korean_without_missing_values(role, words_db, modelled, env_db, monkeypatch):
    monkeypatch.setenv("BLINDSPOT_MODELS", str(modelled[1]))
    at = _app(env_db, words_db, user=USERS[role])
    problems = {}
    for page in pages_for(role):
        at.switch_page(PAGE_FILES[page]).run()
        if page == "risk_list":
            at.selectbox(key="rl_purpose_choice").select("방문 계획").run()
        if page == "region_map":  # a region's profile: its tables and charts
            at.selectbox(key="map_focus").select_index(1).run()
            assert len(at.get("vega_lite_chart")) >= 3  # the profile's charts are there to check
        assert not at.exception, (page, at.exception)
        found = _problems(at)
        if found:
            problems[page] = found
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
