import shutil

import numpy as np
import pytest
from ops import audit_count, audit_rows

from blindspot.access import Scope
from blindspot.casework.audit import PurposeRequired
from blindspot.db.store import Store
from blindspot.errors import AccessDenied
from blindspot.maps import counts as mapcounts
from blindspot.maps import data as mapdata
from blindspot.maps import measures as mapmeasures

T = 20243
VALID = "valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?)"


def _count(store, where, params=()):
    return store.scalar(f"SELECT count(*) FROM households WHERE {VALID} AND {where}", [T, T, *params])


def test_measures_match_hand_counts(small_store):
    df = mapdata.region_measures(small_store, Scope.all_areas(), "sgg", T, area="29").set_index("code")
    row = df.loc["29110"]
    hh = _count(small_store, "sgg_code = '29110'")
    one = _count(small_store, "sgg_code = '29110' AND one_person")
    old = _count(small_store, "sgg_code = '29110' AND one_person AND head_age >= 65")
    young = _count(small_store, "sgg_code = '29110' AND one_person AND head_age BETWEEN 20 AND 39")
    assert (row["households"], row["one_person"], row["one_person_65_plus"], row["one_person_20_39"]) == (
        hh,
        one,
        old,
        young,
    )
    assert row["one_person_share"] == pytest.approx(one / hh)
    assert row["one_person_65_plus_share"] == pytest.approx(old / hh)
    health = small_store.scalar(
        "SELECT count(DISTINCT o.household_id) FROM observations o JOIN indicators i ON i.code = o.indicator_code "
        "WHERE o.round_id = ? AND o.sgg_code = '29110' AND i.domain = 'health'",
        [T],
    )
    assert row["domain_health"] == pytest.approx(health / hh * 1000)
    outcomes = dict(
        small_store.rows(
            "SELECT outcome, count(*) FROM visits_now WHERE round_id = ? AND sgg_code = '29110' GROUP BY 1", [T]
        )
    )
    visited = sum(outcomes.values())
    confirmed = outcomes.get("need_confirmed", 0) + outcomes.get("supported", 0)
    assert (row["visited"], row["confirmed"], row["supported"]) == (visited, confirmed, outcomes["supported"])
    assert row["visited_rate"] == pytest.approx(visited / hh * 1000)
    assert row["confirmed_rate"] == pytest.approx(confirmed / visited)
    assert np.isnan(row["at_risk"]) and np.isnan(row["mean_probability"])  # the fixture has no scores


def test_domains_add_up_to_signal_rate_bounds(small_store):
    df = mapdata.region_measures(small_store, Scope.all_areas(), "emd", T, area="36")
    domains = df[[c for c in df.columns if c.startswith("domain_")]]
    assert len(domains.columns) == 6
    # A household with signals in two domains counts once in signal_any and twice in the domains.
    assert (domains.max(axis=1) <= df["signal_any"] + 1e-9).all()
    assert (domains.sum(axis=1) >= df["signal_any"] - 1e-9).all()


def test_configurable_bands(small_store):
    bands = ((19, 34), (35, None))
    df = mapdata.region_measures(small_store, Scope.all_areas(), "sido", T, bands=bands).set_index("code")
    assert df.loc["36", "one_person_19_34"] == _count(
        small_store, "sido_code = '36' AND one_person AND head_age BETWEEN 19 AND 34"
    )
    assert df.loc["36", "one_person_35_plus"] == _count(
        small_store, "sido_code = '36' AND one_person AND head_age >= 35"
    )
    assert "one_person_65_plus" not in df


@pytest.mark.parametrize("level", ["sido", "sgg", "emd"])
def test_district_scope_sees_only_its_own_sgg(small_store, level):
    scope = Scope.district(["29110"])
    df = mapdata.region_measures(small_store, scope, level, T)
    if level == "sido":
        assert df["code"].tolist() == ["29"]
        assert df["households"].iloc[0] == _count(small_store, "sgg_code = '29110'")  # not all of 광주
    else:
        assert (df["code"].str[:5] == "29110").all() and len(df) > 0
    with pytest.raises(AccessDenied):
        mapdata.region_measures(small_store, scope, level, T, area="29140")


def test_presenter_scope_suppresses_small_counts(small_store):
    k = 12
    scope = Scope.aggregates_only(min_count=k)
    shown = mapdata.region_measures(small_store, scope, "emd", T, area="29")
    raw = mapdata.region_measures(small_store, Scope.all_areas(), "emd", T, area="29")
    assert shown["code"].tolist() == raw["code"].tolist()
    for col in ("visited", "confirmed", "supported", "one_person_20_39", "households"):
        small = (raw[col] >= 1) & (raw[col] < k)
        assert shown.loc[small, col].isna().all(), col
        # zero rule: a true zero is shown as 0; whatever is shown is exact
        assert (shown.loc[raw[col] == 0, col] == 0).all(), col
        kept = shown[col].notna()
        assert (shown.loc[kept, col] == raw.loc[kept, col]).all(), col
    assert ((raw["visited"] >= 1) & (raw["visited"] < k)).any()  # the case actually occurs in the fixture
    # A rate built on a suppressed count is suppressed too.
    assert shown.loc[shown["visited"].isna(), "visited_rate"].isna().all()
    assert shown.loc[shown["confirmed"].isna() | shown["visited"].isna(), "confirmed_rate"].isna().all()
    assert (shown.loc[raw["visited"] == 0, "visited_rate"] == 0).all()


def test_change_since_previous_round_and_rank(small_store):
    view = mapdata.map_view(small_store, Scope.all_areas(), "emd", T, "signal_any", area="29110", change=True)
    now = mapdata.region_measures(small_store, Scope.all_areas(), "emd", T, area="29110").set_index("code")
    before = mapdata.region_measures(small_store, Scope.all_areas(), "emd", 20242, area="29110").set_index("code")
    v = view.set_index("code")
    assert v["value"].to_dict() == pytest.approx((now["signal_any"] - before["signal_any"]).to_dict())
    assert v["rank"].min() == 1 and v["rank"].max() <= v["siblings"].iloc[0] == len(v)
    top = v["value"].idxmax()
    assert v.loc[top, "rank"] == 1 and v.loc[top, "parent_name"] == "동구"
    first = mapdata.map_view(small_store, Scope.all_areas(), "emd", 20236, "signal_any", area="29110", change=True)
    assert first["value"].isna().all()  # the first loaded round has nothing to compare with


def test_rank_within_parent_restarts_per_parent(small_store):
    view = mapdata.map_view(small_store, Scope.all_areas(), "emd", T, "one_person_share", area="29")
    per_parent = view.groupby("parent_code")["rank"].agg(["min", "max", "count"])
    assert (per_parent["min"] == 1).all() and (per_parent["max"] <= per_parent["count"]).all()
    assert len(per_parent) == 5


def test_profile_compares_with_parent(small_store):
    p = mapdata.region_profile(small_store, Scope.all_areas(), "29110", T)
    assert p["parent"] == {"code": "29", "name": "광주광역시"}
    kpis = p["kpis"].set_index("measure")
    assert kpis.loc["households", "value"] == _count(small_store, "sgg_code = '29110'")
    assert kpis.loc["households", "parent"] == _count(small_store, "sido_code = '29'")
    assert p["trend"]["round_code"].tolist() == ["2023-R6", "2024-R1", "2024-R2", "2024-R3"]
    assert p["bands"]["label"].tolist() == ["전체", "20–39세", "40–64세", "65세 이상"]
    nation = mapdata.region_profile(small_store, Scope.all_areas(), "36", T)["kpis"].set_index("measure")
    assert nation.loc["households", "parent"] == small_store.scalar("SELECT count(*) FROM households")


@pytest.fixture()
def scored_store(small_db, tmp_path):
    """A copy of the small database with a hand-made scores table for one round."""
    path = tmp_path / "scored.duckdb"
    shutil.copy(small_db, path)
    store = Store(path)
    store.run(
        "CREATE OR REPLACE TABLE scores (round_id INTEGER, household_id INTEGER, sgg_code VARCHAR, emd_code VARCHAR, "
        "model_version VARCHAR, probability DOUBLE, band VARCHAR)"
    )
    hh = store.df(
        "SELECT household_id, sgg_code, emd_code FROM households WHERE sgg_code = '29110' "
        "ORDER BY household_id LIMIT 40"
    )
    bands = ["high"] * 5 + ["medium"] * 10 + ["low"] * 10 + ["none"] * 15
    probs = [0.9 - 0.02 * i for i in range(40)]
    scores = hh.assign(round_id=T, model_version="test", probability=probs, band=bands)
    store.run_with(
        "INSERT INTO scores SELECT round_id, household_id, sgg_code, emd_code, model_version, "
        "probability, band FROM {relation}",
        scores,
    )
    yield store
    store.close()


def test_risk_measures_from_scores(scored_store):
    assert mapmeasures.has_scores(scored_store, T) and not mapmeasures.has_scores(scored_store, 20242)
    df = mapdata.region_measures(scored_store, Scope.all_areas(), "sgg", T, area="29").set_index("code")
    assert df.loc["29110", "at_risk"] == 15
    assert df.loc["29110", "at_risk_rate"] == pytest.approx(15 / df.loc["29110", "households"] * 1000)
    assert df.loc["29110", "mean_probability"] == pytest.approx(np.mean([0.9 - 0.02 * i for i in range(40)]))
    assert df.drop(index="29110")["at_risk"].isna().all()
    presenter = mapdata.region_measures(scored_store, Scope.aggregates_only(20), "sgg", T, area="29")
    assert np.isnan(presenter.set_index("code").loc["29110", "at_risk"])  # 15 < 20


def test_top_households_by_pseudo_id(scored_store):
    before = audit_count()
    top = mapdata.top_households(scored_store, Scope.all_areas(user="kim"), "29110", T, "점검", limit=3)
    assert top.columns.tolist() == ["pseudo_id", "emd_name", "band", "probability", "reasons"]
    assert top["probability"].tolist() == pytest.approx([0.9, 0.88, 0.86])
    assert top["band"].tolist() == ["위험", "위험", "위험"]
    assert top["pseudo_id"].str.match(r"^H[0-9A-F]{8}$").all()
    # One audit record of the look, with who, where and why.
    log = audit_rows()[["user_name", "action", "row_count", "purpose", "filters"]]
    assert len(log) == before + 1
    last = log.iloc[-1]
    assert (last["user_name"], last["action"], last["row_count"], last["purpose"]) == (
        "kim",
        "view_map_households",
        3,
        "점검",
    )
    assert '"area": "29110"' in last["filters"]
    with pytest.raises(AccessDenied):
        mapdata.top_households(scored_store, Scope.aggregates_only(), "29110", T, "점검")
    with pytest.raises(AccessDenied):
        mapdata.top_households(scored_store, Scope.district(["29140"]), "29110", T, "점검")
    with pytest.raises(PurposeRequired):
        mapdata.top_households(scored_store, Scope.all_areas(), "29110", T, "")
    assert audit_count() == before + 1  # refusals show nothing
    assert mapdata.top_households(scored_store, Scope.all_areas(), "29110", 20242, "점검").empty


def test_measure_catalogue_keys(small_store):
    keys = [m.key for m in mapmeasures.measure_catalogue(small_store)]
    assert keys[:3] == ["households", "one_person", "one_person_share"]
    assert {"domain_economy", "domain_family", "at_risk_rate", "mean_probability"} <= set(keys)
    assert len(keys) == len(set(keys))


def test_bad_bands_are_refused():
    with pytest.raises(ValueError):
        mapmeasures.check_bands(((40, 20),))
    assert mapmeasures.check_bands(((19, 34), (20, 39))) == ((19, 34), (20, 39))


def test_national_level_row(small_store):
    counts = mapcounts.region_counts(small_store, Scope.all_areas(), "nation", T)
    assert counts.index.tolist() == ["00"]
    assert counts.loc["00", "households"] == small_store.scalar("SELECT count(*) FROM households")
    assert counts.loc["00", "one_person"] == _count(small_store, "one_person")
