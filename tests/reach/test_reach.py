"""The reach gap (blindspot.reach): the exact interval by hand, the figures against the
records they come from, levels that add up, classes that follow the interval and the setting,
the trend, an entered outcome counted at once, Gi* with FDR on the gap, the page texts, the
command line and the briefing page."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from clirun import own_copy, run_cli

from blindspot.access import Scope, scope_for
from blindspot.casework import lists, outcomes
from blindspot.db.store import Store
from blindspot.maps import render, spatial
from blindspot.reach import figures as reach
from blindspot.reach import present

T = 20243
ANALYST = Scope.analyst()


@pytest.fixture(scope="module")
def db(modelled_store):
    return modelled_store


# --- the interval and the classes, by hand -------------------------------------------------


def test_exact_poisson_interval_hand_values():
    lo, hi = reach.poisson_interval([0, 1, 2, 10])
    # n = 0: e^-hi = 0.025; n = 1: e^-lo = 0.975 and e^-hi (1 + hi) = 0.025; n = 2:
    # e^-lo (1 + lo) = 0.975 and e^-hi (1 + hi + hi^2/2) = 0.025 (Garwood's table: 0.242, 7.225;
    # n = 10: 4.795, 18.390).
    assert lo.round(4).tolist() == [0.0, 0.0253, 0.2422, 4.7954]
    assert hi.round(3).tolist() == [3.689, 5.572, 7.225, 18.39]
    mu = hi[1]
    assert np.exp(-mu) * (1 + mu) == pytest.approx(0.025, abs=1e-9)


def test_ratio_interval_and_classes_by_hand():
    # 4 found where 100 were expected: 4 % (1.09 / 100 to 10.24 / 100).
    r, lo, hi = reach.ratio_interval([4.0, 4.0, np.nan], [100.0, 0.0, 10.0])
    assert r[0] == 0.04 and round(lo[0], 4) == 0.0109 and round(hi[0], 4) == 0.1024
    assert np.isnan(r[1:]).all() and np.isnan(hi[1:]).all()
    # Reference 0.2: 0.0109..0.1024 relative is 0.0545..0.512, below 0.8 -> a gap; below 0.5 -> not.
    assert reach.gap_class(lo[0] / 0.2, hi[0] / 0.2, 0.8) == "gap"
    assert reach.gap_class(lo[0] / 0.2, hi[0] / 0.2, 0.5) == "even"
    # The same ratio from 1 found in 25 expected is not a gap: its interval (0.1 %..22.3 %) is wide.
    _, lo1, hi1 = reach.ratio_interval([1.0], [25.0])
    assert round(hi1[0], 4) == 0.2229 and reach.gap_class(lo1[0] / 0.2, hi1[0] / 0.2, 0.8) == "even"


# --- the figures against the records ----------------------------------------------------------


def _records(db, round_id):
    scores = db.df(
        "SELECT emd_code, sum(probability) AS e, count(*) AS n FROM scores WHERE round_id = ? GROUP BY 1", [round_id]
    )
    visits = db.df(
        "SELECT emd_code, count(*) FILTER (WHERE outcome IN ('need_confirmed', 'supported')) AS f, "
        "count(*) FILTER (WHERE outcome = 'supported') AS s FROM visits WHERE round_id = ? GROUP BY 1",
        [round_id],
    )
    return scores.set_index("emd_code"), visits.set_index("emd_code")


def test_figures_are_the_sums_of_the_records(db):
    frame = reach.reach_gap(db, ANALYST, "emd", T).set_index("code")
    scores, visits = _records(db, T)
    shown = frame[frame["has_data"]]
    assert len(shown) == len(scores) > 100
    assert np.allclose(shown.loc[scores.index, "expected"], scores["e"])
    found = visits["f"].reindex(shown.index).fillna(0)
    supported = visits["s"].reindex(shown.index).fillna(0)
    assert (shown["found"] == found).all() and (shown["supported"] == supported).all()
    assert np.allclose(shown["gap"], shown["expected"] - shown["found"])
    assert np.allclose(shown["ratio"], shown["found"] / shown["expected"])
    assert np.allclose(shown["gap_rate"], shown["gap"] / shown["households"] * 1000)
    reference = visits["f"].sum() / scores["e"].sum()
    assert frame["reference"].iloc[0] == pytest.approx(reference)
    assert np.allclose(shown["relative_high"], shown["ratio_high"] / reference)
    # Every class is the interval's verdict at the configured limit (0.8).
    for row in shown.itertuples():
        assert row.cls == reach.gap_class(row.relative_low, row.relative_high, 0.8)


def test_levels_add_up_and_the_trend_is_the_scope_total(db):
    emd = reach.reach_gap(db, ANALYST, "emd", T).query("has_data")
    sgg = reach.reach_gap(db, ANALYST, "sgg", T).set_index("code")
    assert sgg.loc[~sgg["has_data"], "cls"].eq("no_data").all() and sgg["has_data"].sum() == 6
    by_sgg = emd.groupby(emd["code"].str[:5])[["expected", "found", "supported"]].sum()
    assert np.allclose(sgg.loc[by_sgg.index, ["expected", "found", "supported"]], by_sgg)
    trend = reach.reach_trend(db, ANALYST, T)
    assert trend["round_id"].tolist() == [20236, 20241, 20242, 20243]
    last = trend.iloc[-1]
    assert last["expected"] == pytest.approx(by_sgg["expected"].sum()) and last["found"] == by_sgg["found"].sum()
    scored = {r for (r,) in db.rows("SELECT DISTINCT round_id FROM scores")}
    for row in trend.itertuples():
        assert np.isnan(row.expected) == (row.round_id not in scored)
        _, visits = _records(db, row.round_id)
        assert row.found == visits["f"].sum() and row.supported == visits["s"].sum()


def test_an_area_view_and_the_setting(db, monkeypatch):
    whole = reach.reach_gap(db, ANALYST, "emd", T).set_index("code")
    part = reach.reach_gap(db, ANALYST, "emd", T, area="29110").set_index("code")
    assert set(part.index) == {c for c in whole.index if c.startswith("29110")}
    pd.testing.assert_frame_equal(part, whole.loc[part.index])  # the reference is the scope's, not the view's
    # The limit decides: just above the lowest interval's upper end, that area alone is a gap.
    lowest = whole.loc[whole["has_data"], "relative_high"].min()
    monkeypatch.setenv("BLINDSPOT_REACH_GAP_RATIO", repr(float(lowest)))
    assert (reach.reach_gap(db, ANALYST, "emd", T)["cls"] == "gap").sum() == 0
    monkeypatch.setenv("BLINDSPOT_REACH_GAP_RATIO", repr(float(lowest) + 1e-9))
    loose = reach.reach_gap(db, ANALYST, "emd", T).set_index("code")
    assert loose.index[loose["cls"] == "gap"].tolist() == whole.index[whole["relative_high"] == lowest].tolist()
    monkeypatch.setenv("BLINDSPOT_REACH_GAP_RATIO", "1.0")
    at_one = reach.reach_gap(db, ANALYST, "emd", T)
    assert (at_one.loc[at_one["cls"] == "gap", "relative_high"] < 1.0).all()
    assert (at_one.loc[at_one["has_data"] & (at_one["cls"] != "gap"), "relative_high"] >= 1.0).all()
    # A district official's reference is their own 시군구's ratio.
    own = reach.reach_gap(db, Scope.district(["29110"]), "emd", T)
    assert own["reference"].iloc[0] == pytest.approx(part["found"].sum() / part["expected"].sum())


def test_gap_rate_alone_is_the_reach_gaps_column(db):
    from blindspot.maps.counts import region_counts

    presenter = scope_for("presenter", "p", min_count=5)
    for scope, level, area in ((ANALYST, "sgg", None), (ANALYST, "emd", "29110"), (presenter, "emd", None)):
        full = reach.reach_gap(db, scope, level, T, area).set_index("code")
        rate = reach.gap_rate(db, scope, level, T, area)
        pd.testing.assert_series_equal(rate, full.loc[rate.index, "gap_rate"])
        assert set(rate.index) == set(full.index[full["has_data"]])
        if area is None:  # the counts a caller already read give the same figures
            counts = region_counts(db, scope, level, T)
            pd.testing.assert_series_equal(reach.gap_rate(db, scope, level, T, counts=counts), rate)
    assert full["gap_rate"].isna().sum() > full["gap_rate"].notna().sum() / 10  # the presenter's hide some


def test_an_unscored_round_has_no_expected_figure(db):
    frame = reach.reach_gap(db, ANALYST, "sgg", 20236)
    assert frame["expected"].isna().all() and set(frame["cls"]) <= {"no_scores", "no_data"}
    assert frame["found"].notna().sum() > 0
    table = present.area_table(frame)
    assert set(table[present.EXPECTED]) <= {"점수 없음", "자료 없음"}


def test_an_entered_outcome_counts_at_once(modelled, tmp_path):
    path = tmp_path / "entered.duckdb"
    shutil.copy(modelled[0], path)
    st = Store(path, read_only=True)
    official = scope_for("district", "dong", ["29110"])
    try:
        shown = lists.risk_list(st, official, lists.ListFilters(T), "방문 계획")
        pid = shown.loc[~shown["visited"], "pseudo_id"].iloc[0]
        emd = st.scalar("SELECT emd_code FROM households WHERE pseudo_id = ?", [pid])
        before = reach.reach_gap(st, official, "emd", T).set_index("code").loc[emd]
        trend_before = reach.reach_trend(st, official, T, "29110").iloc[-1]
        outcomes.record_outcome(st, official, pid, T, "supported", "긴급지원", shown=shown["pseudo_id"])
        after = reach.reach_gap(st, official, "emd", T).set_index("code").loc[emd]
        trend_after = reach.reach_trend(st, official, T, "29110").iloc[-1]
    finally:
        st.close()
    assert (after["found"], after["supported"]) == (before["found"] + 1, before["supported"] + 1)
    assert after["expected"] == before["expected"] and after["gap"] == pytest.approx(before["gap"] - 1)
    assert trend_after["found"] == trend_before["found"] + 1


def test_hotspots_of_the_gap_use_gi_with_fdr(db):
    hot = reach.gap_hotspots(db, ANALYST, T, area="29", permutations=99)
    frame = reach.reach_gap(db, ANALYST, "emd", T, area="29").set_index("code")
    assert len(hot) == len(frame) and set(hot["cls"]) <= set(spatial.GI_CLASSES)
    values = hot.set_index("code")["value"]
    assert np.allclose(values.dropna(), frame.loc[values.dropna().index, "gap_rate"])
    tested = hot["p_sim"].notna()
    assert tested.sum() > 10
    assert (hot.loc[tested, "p_fdr"] >= hot.loc[tested, "p_sim"] - 1e-12).all()  # BH never lowers a p-value
    assert np.allclose(hot.loc[tested, "p_fdr"], spatial.fdr(hot.loc[tested, "p_sim"]))


# --- what people read -------------------------------------------------------------------------


def test_texts_maps_and_trend_read_in_korean(db):
    presenter = scope_for("presenter", "p", min_count=5)
    frame = reach.reach_gap(db, presenter, "emd", T, area="29")
    table = present.area_table(frame)
    cells = set(table.to_numpy().ravel())
    assert not cells & {"None", "nan", "NaN"} and "비공개" in cells
    assert list(table.columns) == [
        "지역",
        "예상 위기 가구",
        "발견",
        "지원 연계",
        "미발견 추정",
        "발견률",
        "95% 구간",
        "판정",
    ]
    layer = {
        "codes": list(frame["code"]),
        "names": list(frame["name"]),
        "points": [[0.0, 0.0]] * len(frame),
        "geometries": [None] * len(frame),
        "bounds": (126.6, 35.0, 127.1, 35.3),
        "level": "emd",
    }
    deck, legend = present.class_map(frame, layer)
    spec = json.loads(deck.to_json())
    assert spec["mapStyle"] == render.NO_BASEMAP and "mapProvider" not in spec or not spec.get("mapProvider")
    features = spec["layers"][0]["data"]["features"]
    assert len(features) == len(frame)
    texts = " ".join(f["properties"]["figures_text"] + f["properties"]["ratio_text"] for f in features)
    assert "None" not in texts and "nan" not in texts and "비공개" in texts
    assert set(legend["range"]) <= set(reach.CLASSES.values())
    rate_deck, _ = present.gap_rate_map(frame, layer, "광주광역시")
    assert json.loads(rate_deck.to_json())["mapStyle"] == render.NO_BASEMAP
    trend = present.trend_table(reach.reach_trend(db, presenter, T, "29"))
    assert trend["차수"].tolist() == ["2023년 6차", "2024년 1차", "2024년 2차", "2024년 3차"]
    assert trend.iloc[0]["예상 위기 가구"] == "점수 없음"


# --- the command line -------------------------------------------------------------------------


def test_reach_gap_command_json_and_table(modelled, db, tmp_path):
    path = own_copy(modelled[0], tmp_path)
    code, out = run_cli(["reach-gap", "--level", "sgg", "--round", "2024-R3", "--json", "--db", str(path)])
    assert code == 0
    result = json.loads(out)
    frame = reach.reach_gap(db, ANALYST, "sgg", T)
    assert (result["round"], result["level"], result["confidence"], result["reach_gap_ratio"]) == (
        "2024-R3",
        "sgg",
        0.95,
        0.8,
    )
    assert len(result["areas"]) == len(frame) == 252  # every 시군구; those without households say so
    with_data = {a["code"][:2] for a in result["areas"] if a["cls"] != "no_data"}
    assert with_data == {"29", "36"} and result["classes"]["no_data"] == 246
    scores, visits = _records(db, T)
    assert result["totals"]["found"] == visits["f"].sum()
    assert result["totals"]["expected"] == pytest.approx(scores["e"].sum())
    assert sum(result["classes"].values()) == len(frame)
    first = next(a for a in result["areas"] if a["code"] == "29110")
    row = frame.set_index("code").loc["29110"]
    assert first["found"] == row["found"] and first["cls"] == row["cls"]
    code, text = run_cli(["reach-gap", "--level", "emd", "--round", "2024-R3", "--db", str(path)])
    assert code == 0 and "2024-R3 전체: 예상 위기 가구" in text and "95% 구간" in text
    assert run_cli(["reach-gap", "--level", "emd", "--round", "2023-R6", "--db", str(path)])[0] == 2  # no scores
    assert run_cli(["reach-gap", "--level", "emd", "--round", "2019-R1", "--db", str(path)])[0] == 2


def test_briefing_page_draws_the_classes(db):
    import matplotlib.pyplot as plt

    from blindspot.briefing import data as briefing
    from blindspot.reach.briefpage import map_reach_gap

    b = briefing.build(db, Scope.aggregates_only(), "29", T)
    fig = map_reach_gap(db, Scope.aggregates_only(), b)
    texts = [t.get_text() for t in fig.texts]
    plt.close(fig)
    assert any("예상 위기 가구" in t and "발견률" in t for t in texts)
    assert not any("None" in t or "nan" in t for t in texts)
