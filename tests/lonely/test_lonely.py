"""The lonely-death lens: counts per life stage and for 중장년 1인 남성 against a direct count of
the households, the grade's rule by hand, the grade never reading the ground truth, its
measurement against the general score, the command, and the risk list's grade columns."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from clirun import own_copy, run_cli
from ops import audit_count

from blindspot import settings
from blindspot.access import Scope
from blindspot.casework import lists
from blindspot.db.store import Store
from blindspot.lonely import figures, grade
from blindspot.lonely.stages import life_stages, parse_bands
from blindspot.maps.counts import region_counts

T = 20243
BANDS = ((20, 39), (40, 64), (65, None))


@pytest.fixture(scope="module")
def db(modelled, tmp_path_factory):
    path = tmp_path_factory.mktemp("lonely") / "lonely.duckdb"
    shutil.copy(modelled[0], path)
    store = Store(path)
    yield store
    store.close()


def _households(db, round_id=T) -> pd.DataFrame:
    """One-person households of the round with whether they show a lonely-death signal,
    counted here without the package (the test's own reading of the tables)."""
    hh = db.df(
        "SELECT household_id, sgg_code, head_age, head_sex FROM households WHERE one_person "
        "AND valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?)",
        [round_id, round_id],
    )
    ld = db.df(
        "SELECT DISTINCT o.household_id FROM observations o JOIN indicators i ON i.code = o.indicator_code "
        "WHERE o.round_id = ? AND i.lonely_death",
        [round_id],
    )
    hh["lonely"] = hh["household_id"].isin(set(ld["household_id"]))
    return hh


def test_the_default_stages_are_the_domain_defaults():
    assert settings.default("life_stage_bands") == ["20-39", "40-64", "65-"]
    assert life_stages() == BANDS
    assert parse_bands("19-34,35-64") == ((19, 34), (35, 64))
    with pytest.raises(ValueError):
        parse_bands("청년")


def test_counts_per_stage_and_the_named_group_are_the_households(db):
    hh = _households(db)
    got = figures.stage_counts(db, Scope.analyst(), "sgg", T, BANDS)
    for sgg in ("29110", "36110"):
        h = hh[hh["sgg_code"] == sgg]
        row = got.loc[sgg]
        assert row["one_person"] == len(h) and row["lonely_any"] == h["lonely"].sum()
        for lo, hi, key in ((20, 39, "20_39"), (40, 64, "40_64"), (65, 200, "65_plus")):
            part = h[h["head_age"].between(lo, hi)]
            assert row[f"one_person_{key}"] == len(part) and row[f"lonely_{key}"] == part["lonely"].sum()
        men = h[(h["head_sex"] == "M") & h["head_age"].between(40, 64)]
        assert row["men_40_64"] == len(men) and row["men_40_64_lonely"] == men["lonely"].sum()
        assert 0 < row["men_40_64_lonely"] < row["men_40_64"] < row["one_person_40_64"]
    # the one-person counts per band are the map's
    maps = region_counts(db, Scope.analyst(), "sgg", T, BANDS)
    for col in ("one_person", "one_person_20_39", "one_person_40_64", "one_person_65_plus"):
        assert (got[col] == maps.loc[got.index, col]).all(), col
    # parents are sums of their children
    emd = figures.stage_counts(db, Scope.analyst(), "emd", T, BANDS)
    assert emd.groupby(emd.index.str[:5]).sum().loc["29110"].equals(got.loc["29110"])
    rates = figures.add_rates(got, BANDS).loc["29110"]
    assert rates["men_40_64_lonely_rate"] == pytest.approx(row_rate := 1000 * men_rate(hh, "29110"))
    assert row_rate > 0


def men_rate(hh, sgg):
    men = hh[(hh["sgg_code"] == sgg) & (hh["head_sex"] == "M") & hh["head_age"].between(40, 64)]
    return men["lonely"].sum() / len(men)


def test_other_bands_follow_the_setting(db):
    got = figures.stage_counts(db, Scope.analyst(), "sido", T, ((19, 34), (35, 64)))
    hh = _households(db)
    h = hh[hh["sgg_code"].str[:2] == "29"]
    assert got.loc["29", "one_person_19_34"] == h["head_age"].between(19, 34).sum()
    assert got.loc["29", "lonely_35_64"] == h.loc[h["head_age"].between(35, 64), "lonely"].sum()


def test_the_rule_by_hand():
    # a: 2 of 2 with the signal confirmed, rate (2 + 0.5)/(2 + 1) = 0.8333 against all (3 + 0.5)/(6 + 1) = 0.5
    w = grade.weights_from_labels(["a", "b"], [["a"], ["a"], ["b"], ["b"], [], []], [1, 1, 0, 1, 0, 0])
    assert w["a"] == pytest.approx(np.log(0.8333333 / 0.5), abs=1e-6) and w["b"] == 0.0
    w = {"mail_pileup": 0.29, "elec_arrears": 0.10, "no_phone_3days": 0.28}
    assert grade.grade(True, ["mail_pileup", "elec_arrears"], w, 0.35) == "high"  # 0.39
    assert grade.grade(True, ["mail_pileup", "no_phone_3days"], w, 0.35) == "high"  # 0.57
    assert grade.grade(True, ["mail_pileup"], w, 0.35) == "medium"  # 0.29
    assert grade.grade(True, [], w, 0.35) == "low"
    assert grade.grade(False, ["mail_pileup", "no_phone_3days"], w, 0.35) == "na"


def test_weights_come_from_earlier_visits_and_fall_back_without_them(db):
    w = grade.lonely_weights(db, T)
    assert set(w) == set(grade.lonely_indicators(db)) and len(w) == 15
    assert all(v >= 0 for v in w.values()) and max(w.values()) > 0
    first = int(db.scalar("SELECT min(round_id) FROM rounds"))
    half = settings.get("lonely_high_score") / 2
    assert grade.lonely_weights(db, first) == dict.fromkeys(w, half)  # no earlier visits: two signals make 높음


def test_weights_counted_in_the_database_equal_the_weights_from_rows(db):
    # The app counts the labels in SQL (sql.WEIGHT_COUNTS); the rows of the same labels
    # (sql.WEIGHT_ROWS) through the row formula give the same weights.
    grade._MEMO.clear()
    w = grade.lonely_weights(db, T)
    rows = db.df(grade.sql.WEIGHT_ROWS, {"t": T})
    assert 0 < rows["y"].sum() < len(rows)
    by_rows = grade.weights_from_labels(list(w), [list(c) for c in rows["codes"]], rows["y"].astype(int).to_numpy())
    assert w == pytest.approx(by_rows, abs=1e-12) and max(w.values()) > 0


@pytest.mark.parametrize(
    "scope",
    [Scope.analyst(), Scope.district(["29110"], user="dong"), Scope.district(["29110", "29140"], user="gwangju")],
    ids=["analyst", "district", "two"],
)
def test_grade_counts_in_the_database_equal_the_graded_households(db, scope):
    # grade_counts counts in SQL (nationally ~10 M households); the household rows graded one
    # by one in Python (grade.grade, the rule tested by hand above) give the same counts.
    graded = figures._graded_households(db, scope, T, BANDS)
    by_rows = {grade.GRADES[g]: int((graded["lonely_grade"] == g).sum()) for g in ("high", "medium", "low")}
    counted = figures.grade_counts(db, scope, T, BANDS)
    assert counted == by_rows
    assert sum(counted.values()) == int(graded["one_person"].sum()) > 0
    assert counted["높음"] > 0 and counted["보통"] > 0  # every grade occurs: the comparison bites


def test_the_grade_never_reads_the_ground_truth(modelled, tmp_path):
    path = tmp_path / "no-truth.duckdb"
    shutil.copy(modelled[0], path)
    before = Store(modelled[0], read_only=True)
    try:
        a = figures._graded_households(before, Scope.analyst(), T, BANDS)
    finally:
        before.close()
    st = Store(path)
    try:
        st.run("DELETE FROM synthetic_crisis")
        assert st.scalar("SELECT count(*) FROM synthetic_crisis") == 0
        grade._MEMO.clear()
        b = figures._graded_households(st, Scope.analyst(), T, BANDS)
    finally:
        st.close()
    pd.testing.assert_frame_equal(a, b)


def test_measured_against_the_general_score(db):
    ev = figures.evaluate_grade(db, T, BANDS).set_index("group")
    graded = figures._graded_households(db, Scope.analyst(), T, BANDS)
    truth = db.df("SELECT household_id FROM synthetic_crisis WHERE round_id = ?", [T])
    crisis = graded["household_id"].isin(set(truth["household_id"]))
    high = graded["lonely_grade"] == "high"
    total = ev.loc["1인 가구 전체"]
    assert total["households"] == len(graded) and total["crises"] == crisis.sum()
    assert total["grade_listed"] == high.sum() and total["grade_found"] == (high & crisis).sum()
    assert total["grade_recall"] == pytest.approx((high & crisis).sum() / crisis.sum())
    assert total["grade_precision"] == pytest.approx((high & crisis).sum() / high.sum())
    bands = db.df("SELECT household_id FROM scores WHERE round_id = ? AND band = 'high'", [T])
    in_band = graded["household_id"].isin(set(bands["household_id"]))
    assert total["band_listed"] == in_band.sum() and total["band_found"] == (in_band & crisis).sum()
    # the general model's top list is as long as 높음 in every group
    assert (ev["top_listed"] == ev["grade_listed"]).all()
    # stages partition the one-person households of 20 and over
    stages = ev.loc[["청년 (20–39세)", "중장년 (40–64세)", "노년 (65세 이상)"]]
    assert stages["grade_listed"].sum() == (high & (graded["head_age"] >= 20)).sum()
    men = ev.loc["중장년 1인 남성"]
    assert men["households"] == ((graded["head_sex"] == "M") & graded["head_age"].between(40, 64)).sum()
    assert 0 < total["grade_precision"] < 1 and 0 < total["grade_recall"] < 1


def test_command_json_and_text(modelled, db, tmp_path):
    path = own_copy(modelled[0], tmp_path)
    code, out = run_cli(["lonely", "--sgg", "29110", "--round", "2024-R3", "--json", "--db", str(path)])
    assert code == 0
    result = json.loads(out)
    row = figures.stage_counts(db, Scope.district(["29110"]), "sgg", T, BANDS).loc["29110"]
    assert (result["round"], result["sgg"], result["life_stages"]) == (
        "2024-R3",
        "29110",
        [[20, 39], [40, 64], [65, None]],
    )
    groups = {g["key"]: g for g in result["groups"]}
    assert list(groups) == ["20_39", "40_64", "65_plus", "men_40_64"]
    assert groups["men_40_64"]["group"] == "중장년 1인 남성"
    assert (
        groups["men_40_64"]["lonely"] == row["men_40_64_lonely"]
        and groups["40_64"]["one_person"] == row["one_person_40_64"]
    )
    assert groups["65_plus"]["lonely_per_1000"] == round(1000 * row["lonely_65_plus"] / row["one_person_65_plus"], 1)
    assert result["total"]["one_person"] == row["one_person"] == sum(result["grades"].values())
    graded = figures._graded_households(db, Scope.district(["29110"]), T, BANDS)
    assert result["grades"]["높음"] == (graded["lonely_grade"] == "high").sum()
    assert result["grades"]["보통"] + result["grades"]["높음"] <= result["total"]["lonely"]
    code, text = run_cli(["lonely", "--sgg", "29110", "--round", "2024-R3", "--db", str(path)])
    assert code == 0 and "중장년 1인 남성" in text and "None" not in text and "nan" not in text
    assert run_cli(["lonely", "--sgg", "29110", "--round", "2019-R1", "--db", str(path)])[0] == 2
    assert run_cli(["lonely", "--sgg", "2911", "--round", "2024-R3", "--db", str(path)])[0] == 2


def test_presenters_get_no_grade_counts(db):
    assert figures.grade_counts(db, Scope.aggregates_only(5), T) == {"높음": None, "보통": None, "낮음": None}


def test_the_risk_list_carries_the_grade_under_its_one_audit_record(db):
    before = audit_count()
    rows = lists.risk_list(
        db, Scope.district(["29110"]), lists.ListFilters(T, bands=("high", "medium", "low")), "방문 계획"
    )
    assert audit_count() == before + 1
    assert set(rows["lonely_grade"]) <= {"높음", "보통", "낮음", "해당 없음"} and "높음" in set(rows["lonely_grade"])
    one = rows["household_type"] == "1인 가구"
    assert (rows.loc[~one, "lonely_grade"] == "해당 없음").all() and (
        rows.loc[~one, "lonely_reasons"] == "1인 가구 아님"
    ).all()
    assert (rows.loc[one, "lonely_grade"] != "해당 없음").all()
    # the same grade as the lens gives the same household
    graded = figures._graded_households(db, Scope.district(["29110"]), T, BANDS)
    pseudo = db.df("SELECT household_id, pseudo_id FROM households WHERE sgg_code = '29110'")
    by_pid = dict(
        zip(
            graded.merge(pseudo, on="household_id")["pseudo_id"],
            graded.merge(pseudo, on="household_id")["lonely_grade"],
            strict=True,
        )
    )
    for pid, label in zip(rows.loc[one, "pseudo_id"], rows.loc[one, "lonely_grade"], strict=True):
        assert grade.GRADES[by_pid[pid]] == label
    assert lists.COLUMNS["lonely_grade"] == "고독사 위험"


def test_the_briefing_evaluation_table_has_the_lonely_kpi_with_a_target(db):
    from blindspot.briefing import data as briefing

    admin = Scope.all_areas(user="admin")
    b = briefing.build(db, admin, "29110", T)
    row = b.table.set_index("key").loc["lonely_rate"]
    # the briefing's safe scope (k = 5): the area's lonely-death one-person households per 1,000
    counts = figures.stage_counts(db, briefing.safe_scope(admin), "sgg", T, BANDS).loc["29110"]
    expected = round(1000 * counts["lonely_any"] / counts["one_person"], 1)
    hh = _households(db)
    h = hh[hh["sgg_code"] == "29110"]
    assert expected == round(1000 * h["lonely"].sum() / len(h), 1)  # nothing hidden at 시군구 level
    assert row["실적 B"] == expected and row["지표"] == "고독사 위기정보 1인 가구 (천 가구당)"
    assert "0.85" in row["산식"] and row["목표 A"] != row["목표 A"] or row["목표 A"] is None
    assert briefing.save_targets(db, admin, "29110", {"lonely_rate": 150.0}, "admin") == 1
    again = briefing.build(db, admin, "29110", T).table.set_index("key").loc["lonely_rate"]
    assert again["목표 A"] == 150.0 and again["달성률 (%)"] == round(100 * expected / 150.0, 1)
