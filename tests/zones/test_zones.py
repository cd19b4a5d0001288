"""Special support zones (blindspot.zones): the index and the bootstrap rank interval by hand,
the components against the figures they come from, the weights and rounds used, scope and
suppression, the command line, the XLSX with its method sheet and the one-page briefing."""

from __future__ import annotations

import io
import json
import os
import shutil
from contextlib import redirect_stdout
from itertools import product

import numpy as np
import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from blindspot import cli
from blindspot.access import Scope, scope_for
from blindspot.db.store import Store
from blindspot.errors import AccessDenied
from blindspot.maps import data as mapdata
from blindspot.reach import figures as reach
from blindspot.zones import brief, export, present
from blindspot.zones import figures as zones
from blindspot.zones import index as zindex

T = 20243
ANALYST = Scope.analyst()
GWANGJU_AND_SEJONG = {"29110", "29140", "29155", "29170", "29200", "36110"}


@pytest.fixture(scope="module")
def db_path(modelled, tmp_path_factory):
    path = tmp_path_factory.mktemp("zones") / "zones.duckdb"
    shutil.copy(modelled[0], path)
    return path


@pytest.fixture(scope="module")
def db(db_path):
    store = Store(db_path, read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def ranking(db):
    return zones.zone_ranking(db, ANALYST, "sgg", T, replicates=200)


# --- the index and the interval, by hand -----------------------------------------------------


def test_standardise_composite_and_ranks_by_hand():
    # A = [1, 2, 3]: mean 2, sd sqrt(2/3); B = [3, 3, 0]: mean 2, sd sqrt(2).
    values = np.array([[1.0, 3.0], [2.0, 3.0], [3.0, 0.0]])
    z = zindex.standardise(values)
    assert z[:, 0].round(4).tolist() == [-1.2247, 0.0, 1.2247]
    assert z[:, 1].round(4).tolist() == [0.7071, 0.7071, -1.4142]
    # weights 3 : 1 -> (3 zA + zB) / 4
    index = zindex.composite(values, np.array([3.0, 1.0]))
    assert index.round(4).tolist() == [-0.7418, 0.1768, 0.5650]
    assert zindex.ranks(index).tolist() == [3, 2, 1]
    with pytest.raises(ValueError):
        zindex.composite(values, np.array([0.0, 0.0]))
    with pytest.raises(ValueError):
        zindex.composite(values, np.array([1.0, -1.0]))


def test_rank_interval_matches_the_enumerated_bootstrap():
    # Three rounds, two areas, one component.  Area 1 leads unless the draw holds round 3
    # at least twice... enumerate all 27 equally likely draws to get the exact chance.
    per_round = np.array([[[2.0], [1.0]], [[2.0], [1.0]], [[0.0], [4.0]]])
    wins = 0
    for draw in product(range(3), repeat=3):
        mean = per_round[list(draw)].mean(axis=0)[:, 0]
        wins += mean[0] > mean[1]
    exact = wins / 27  # draws with no round 3 (8) lead; any round 3 gives 4 vs 2 -> area 2 leads
    assert exact == pytest.approx(8 / 27)
    out = zindex.rank_intervals(per_round, np.array([1.0]), 20000, 11)
    assert out["top_share"][0] == pytest.approx(exact, abs=0.01)
    # mean over all rounds: area 1 = 4/3, area 2 = 2: area 2 first
    assert out["rank"].tolist() == [2, 1]
    assert out["rank_low"].tolist() == [1, 1] and out["rank_high"].tolist() == [2, 2]


def test_the_bootstrap_is_deterministic_for_a_seed():
    rng = np.random.default_rng(0)
    per_round = rng.normal(size=(4, 12, 3))
    a = zindex.rank_intervals(per_round, np.array([1.0, 2.0, 0.5]), 300, 5, top=3)
    b = zindex.rank_intervals(per_round, np.array([1.0, 2.0, 0.5]), 300, 5, top=3)
    for key in a:
        assert np.array_equal(a[key], b[key])
    assert (a["rank_low"] <= a["rank_high"]).all()
    # one round: every replicate is that round, so the interval is the rank itself
    one = zindex.rank_intervals(per_round[:1], np.array([1.0, 1.0, 1.0]), 50, 1)
    assert np.array_equal(one["rank_low"], one["rank"]) and np.array_equal(one["rank_high"], one["rank"])


# --- the components are the maps' and the reach gap's figures --------------------------------


def test_components_are_the_figures_of_the_map_and_the_reach_gap(db):
    comp = zones.round_components(db, ANALYST, "sgg", T)
    assert comp["has_data"].sum() == 6 and len(comp) == 252  # the fixture's households: 광주, 세종
    comp = comp[comp["has_data"]]
    m = mapdata.region_measures(db, ANALYST, "sgg", T).set_index("code")
    gap = reach.reach_gap(db, ANALYST, "sgg", T).set_index("code")
    assert set(comp.index) == GWANGJU_AND_SEJONG
    for code in comp.index:
        assert comp.loc[code, "crisis"] == pytest.approx(m.loc[code, "signal_any"])
        assert comp.loc[code, "at_risk"] == pytest.approx(m.loc[code, "at_risk_rate"])
        assert comp.loc[code, "alone_young"] == pytest.approx(m.loc[code, "one_person_20_39_share"])
        assert comp.loc[code, "alone_old"] == pytest.approx(m.loc[code, "one_person_65_plus_share"])
        assert comp.loc[code, "reach_gap"] == pytest.approx(gap.loc[code, "gap_rate"])
    # the elderly share from the registered population, recounted here
    pop = db.df("SELECT age_from, population FROM population_by_age WHERE level = 'sgg' AND code = '36110'")
    share = pop.loc[pop["age_from"] >= 65, "population"].sum() / pop["population"].sum()
    assert comp.loc["36110", "elderly"] == pytest.approx(share)
    assert 0.05 < share < 0.3


def test_the_index_is_the_weighted_mean_of_z_scores_of_the_table(ranking):
    assert set(ranking.table["status"]) == {"ranked", "no_data"}
    t = ranking.table[ranking.table["status"] == "ranked"]
    assert set(t["code"]) == GWANGJU_AND_SEJONG and ranking.table["status"].iloc[:6].eq("ranked").all()
    keys = [c.key for c in ranking.components]
    w = np.array([ranking.weights[k] for k in keys])
    values = t[keys].to_numpy()
    z = (values - values.mean(axis=0)) / values.std(axis=0)
    expected = z @ w / w.sum()
    assert t["index"].to_numpy() == pytest.approx(expected)
    assert t["rank"].tolist() == list(range(1, 7))  # sorted by rank, 1 = highest index
    assert t["index"].is_monotonic_decreasing
    assert (t["rank_low"] <= t["rank_high"]).all() and t["rank_high"].max() <= 6
    assert ((t["top_share"] >= 0) & (t["top_share"] <= 1)).all()


def test_rounds_used_follow_the_weights(db, ranking):
    scored = [int(r) for (r,) in db.rows("SELECT DISTINCT round_id FROM scores ORDER BY 1")]
    assert ranking.rounds == scored  # a score component is weighted: scored rounds only
    no_scores = {c.key: (1.0 if not c.needs_scores else 0.0) for c in zones.COMPONENTS}
    r = zones.zone_ranking(db, ANALYST, "sgg", T, weights=no_scores, n_rounds=3, replicates=50)
    assert r.rounds == [20241, 20242, 20243] and r.dropped == ["at_risk", "reach_gap"]
    with pytest.raises(zones.ZonesError):  # 2023-R6 has no scores before it
        zones.zone_ranking(db, ANALYST, "sgg", 20236, replicates=50)


def test_one_component_alone_ranks_by_that_component(db):
    r = zones.zone_ranking(db, ANALYST, "sgg", T, weights={"alone_old": 1.0}, replicates=50)
    t = r.table[r.table["status"] == "ranked"]
    assert t["code"].tolist() == t.sort_values("alone_old", ascending=False)["code"].tolist()


def test_emd_ranking_inside_one_sgg_and_scope(db):
    r = zones.zone_ranking(db, ANALYST, "emd", T, area="29110", replicates=50)
    assert r.table["code"].str[:5].eq("29110").all() and len(r.table) > 3
    official = Scope.district(["29110"])
    mine = zones.zone_ranking(db, official, "emd", T, area="29110", replicates=50)
    assert mine.table["code"].tolist() == r.table["code"].tolist()
    with pytest.raises(AccessDenied):
        zones.zone_ranking(db, official, "emd", T, area="29140", replicates=50)
    with pytest.raises(zones.ZonesError):
        zones.zone_ranking(db, ANALYST, "emd", T, area="29", replicates=50)
    # an official's 시군구 ranking holds their own 시군구 only
    assert set(zones.zone_ranking(db, official, "sgg", T, replicates=50).table["code"]) == {"29110"}


def test_presenter_ranks_only_areas_with_every_component_shown(db):
    presenter = scope_for("presenter", "p", min_count=5)
    r = zones.zone_ranking(db, presenter, "emd", T, area="29110", replicates=50)
    m = mapdata.region_measures(db, presenter, "emd", T, area="29110").set_index("code")
    t = r.table.set_index("code")
    for code, row in t.iterrows():
        hh = m.loc[code, "households"]
        assert (row["households"] != row["households"] and hh != hh) or row["households"] == hh
        if row["status"] == "ranked":
            assert all(row[c.key] == row[c.key] for c in r.components)
        else:
            assert row["index"] != row["index"] and row["rank"] is pd.NA
    assert r.k == 5


# --- texts, command line, workbook, briefing ------------------------------------------------


def test_texts_have_no_missing_values(db, ranking):
    presenter = scope_for("presenter", "p", min_count=5)
    hidden = zones.zone_ranking(db, presenter, "emd", T, area="29110", replicates=50)
    for r in (ranking, hidden):
        text = present.ranking_table(r)
        flat = set(text.astype(str).to_numpy().ravel())
        assert not flat & {"None", "nan", "<NA>", "True", "False"}
    assert present.weights_table(ranking)["상대 가중치"].tolist() == [
        "20.0%",
        "10.0%",
        "20.0%",
        "10.0%",
        "10.0%",
        "10.0%",
        "20.0%",
    ]


def test_command_json_and_xlsx(db_path, ranking, tmp_path):
    out = io.StringIO()
    xlsx = tmp_path / "z.xlsx"
    with redirect_stdout(out):
        code = cli.main(["zones", "--round", "2024-R3", "--db", str(db_path), "--json", "--xlsx", str(xlsx)])
    assert code == 0
    got = json.loads(out.getvalue())
    assert got["round"] == "2024-R3" and got["level"] == "sgg" and got["replicates"] == 1000 and got["seed"] == 2024
    assert [a["code"] for a in got["areas"]] == ranking.table["code"].tolist() and len(got["areas"]) == 252
    first = got["areas"][0]
    assert set(first) >= {"index", "rank", "rank_low", "rank_high", "components", "z"}
    assert first["index"] == pytest.approx(float(ranking.table["index"].iloc[0]))
    assert os.stat(xlsx).st_mode & 0o777 == 0o600
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["순위", "정보", "방법"]
    method = {r[0]: r[1] for r in wb["방법"].iter_rows(values_only=True) if r[0]}
    assert method["부트스트랩 반복"] == "1,000" and method["난수 시드"] == "2024"
    assert method["쓴 차수"] == ", ".join(got["rounds"])
    weights = {r[1]: r[3] for r in wb["방법"].iter_rows(values_only=True) if r[1] in zones.BY_KEY}
    assert weights == zones.default_weights()
    for ws in wb.worksheets:
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # emd needs a 시군구; a weight override goes through
    with redirect_stdout(io.StringIO()):
        assert cli.main(["zones", "--round", "2024-R3", "--level", "emd", "--db", str(db_path)]) == 2
    out = io.StringIO()
    with redirect_stdout(out):
        cli.main(
            ["zones", "--round", "2024-R3", "--sgg", "29110", "--weight", "crisis=1", "--db", str(db_path), "--json"]
        )
    got = json.loads(out.getvalue())
    assert got["level"] == "emd" and got["weights"]["crisis"] == 1.0
    assert all(a["code"].startswith("29110") for a in got["areas"])


def test_workbook_neutralises_a_formula_like_name(ranking):
    forged = zones.Ranking(**{**ranking.__dict__, "table": ranking.table.assign(full_name='=HYPERLINK("x")')})
    wb = openpyxl.load_workbook(io.BytesIO(export.ranking_xlsx(forged, ANALYST)))
    names = [r[2] for r in wb["순위"].iter_rows(min_row=2, values_only=True)]
    assert set(names) == {'\'=HYPERLINK("x")'}


def test_one_page_briefing(db, ranking):
    pdf = brief.render(db, ANALYST, ranking)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for name in ranking.table["full_name"].head(6):  # the six ranked 시군구 (the first 8 asked)
        assert name in text
    assert "합성 데이터" in text and "부트스트랩 200회" in text
    assert b"/FontFile2" in pdf  # TrueType embedded: the text stays text
