"""Visit capacity per 시군구 from staff, allocation by need, and the what-if read from the
backtest's test round: hand-computed cases, and the flat plan giving back the model's own
evaluation on the small world."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blindspot import settings
from blindspot.model import whatif
from blindspot.model.capacity import Plan, apportion, capacity_rows, emd_capacities
from blindspot.model.evaluation import capacity_of_rows


def test_apportion_sums_exactly_and_follows_weights():
    out = apportion(100, np.array([3.0, 1.0, 1.0, 0.0]))
    assert out.tolist() == [60, 20, 20, 0]
    assert apportion(5, np.array([0.0, 0.0])).tolist() == [3, 2]  # no need anywhere: evenly
    rng = np.random.default_rng(4)
    for _ in range(50):
        w = rng.random(rng.integers(1, 30))
        t = int(rng.integers(0, 500))
        got = apportion(t, w)
        assert got.sum() == t
        # Largest remainder: every share within one visit of its exact quota.
        assert np.all(np.abs(got - t * w / w.sum()) < 1)


def test_flat_plan_without_staff_is_the_old_rule_exactly():
    rng = np.random.default_rng(1)
    emd = rng.integers(0, 40, 5000)
    sgg = (emd // 8).astype(str)
    p = rng.random(5000)
    got = capacity_rows(emd, sgg, p, Plan(share=0.008, rule="flat"))
    assert np.array_equal(got, capacity_of_rows(emd, 0.008))


def test_staff_sets_the_district_total_and_need_moves_visits_to_need():
    h = np.array([1000, 1000, 2000])
    e = np.array([5.0, 45.0, 20.0])
    s = np.array(["11110", "11110", "11140"])
    # 2 officers × 100 visits = 200 visits for 11110, split 1000:1000 flat, 5:45 by need.
    flat = emd_capacities(h, e, s, Plan(share=0.008, rule="flat", officers={"11110": 2}, visits_per_officer=100))
    need = emd_capacities(h, e, s, Plan(share=0.008, rule="need", officers={"11110": 2}, visits_per_officer=100))
    assert flat.tolist() == [100, 100, 16]
    assert need.tolist() == [20, 180, 16]  # 11140 has one 읍면동: its 16 stay
    # Capacity never exceeds the households there are.
    tiny = emd_capacities(np.array([3, 500]), np.array([0.0, 1.0]), np.array(["1", "1"]), Plan(officers={"1": 50}))
    assert tiny.tolist() == [3, 500]


def test_plan_refuses_an_unknown_rule_and_reads_the_settings(monkeypatch):
    with pytest.raises(ValueError, match="capacity_allocation"):
        Plan(rule="equal")
    monkeypatch.setenv("BLINDSPOT_CAPACITY_ALLOCATION", "need")
    monkeypatch.setenv("BLINDSPOT_VISITS_PER_OFFICER", "80")
    plan = Plan.configured({"11110": 3.0})
    assert (plan.rule, plan.visits_per_officer, plan.share) == ("need", 80, settings.get("capacity_share"))
    assert plan.summary()["officers"] == 3.0


def test_simulate_hand_computed_regions():
    # Two 시도 (11, 26); 읍면동 3 is an 읍·면.  Probabilities rank the rows; y marks crises.
    emd = np.array([1, 1, 1, 1, 2, 2, 3, 3, 3, 3])
    sgg = np.array([11110] * 4 + [11110] * 2 + [26110] * 4)
    rural = np.array([False] * 6 + [True] * 4)
    p = np.array([0.9, 0.6, 0.3, 0.1, 0.8, 0.2, 0.7, 0.5, 0.4, 0.05])
    y = np.array([1, 0, 1, 0, 0, 1, 1, 1, 0, 0])
    areas, prefix = whatif.build(emd, sgg, rural, p, y, share=0.25)
    assert areas["households"].tolist() == [4, 2, 4] and areas["crises"].tolist() == [2, 1, 2]
    flat = whatif.simulate(areas, prefix, Plan(share=0.25, rule="flat"))
    # Capacities 1, 1 (rint 0.5 → 0, at least 1), 1: tops 0.9 (crisis), 0.8 (none), 0.7 (crisis).
    assert (flat["visits"], flat["crises_reached"], flat["crises"]) == (3, 2, 5)
    assert flat["recall"] == pytest.approx(0.4)
    # 시도 11: 1 of 3; 시도 26: 1 of 2.  읍·면 recall 0.5 ÷ 동 recall 1/3.
    assert flat["sido_recall_min"] == pytest.approx(1 / 3) and flat["sido_recall_max"] == pytest.approx(0.5)
    assert flat["sido_ratio"] == pytest.approx(2 / 3)
    assert flat["rural_ratio"] == pytest.approx(1.5)
    assert flat["expected_reached"] == pytest.approx(0.9 + 0.8 + 0.7)
    # Two officers' worth for 26110 at 2 visits each: its 4 households all visited.
    staffed = whatif.simulate(areas, prefix, Plan(share=0.25, officers={"26110": 2}, visits_per_officer=2))
    assert staffed["crises_reached"] == 3 and staffed["visits"] == 6


def test_what_if_tables_of_a_trained_model_give_back_its_recall(modelled):
    _, models, meta = modelled
    tables = whatif.load(Path(models) / meta["version"])
    assert tables is not None
    areas, prefix = tables
    share = meta["metrics"]["capacity_share"]
    flat = whatif.simulate(areas, prefix, Plan(share=share, rule="flat"))
    # The small world has ground truth for every household, so the flat plan is the evaluation.
    assert flat["recall"] == pytest.approx(meta["metrics"]["model"]["recall_at_capacity"], abs=1e-12)
    assert flat["capped"] == 0
    assert flat["crises"] == meta["metrics"]["model"]["positives"]
    need = whatif.simulate(areas, prefix, Plan(share=share, rule="need"))
    # Same visits per 시군구, moved to the 읍면동 the model expects more crises in.
    assert need["visits"] == flat["visits"]
    assert need["expected_reached"] >= flat["expected_reached"]
    # The prefix is complete to each 읍면동's depth and monotone.
    assert len(prefix) == int(areas["depth"].sum())
    assert (prefix.groupby("emd_code")["cum_y"].diff().dropna() >= 0).all()


def _band_counts(db, sgg):
    """Per 읍면동 of ``sgg`` in the latest scored round: households, those ≥ the 주의 probability,
    the 위험 band, and Σ probability."""
    from blindspot.db.store import Store

    st = Store(db, read_only=True)
    try:
        return st.df(
            "SELECT emd_code, count(*) AS households, sum((probability >= ?)::INT) AS medium_up, "
            "sum((band = 'high')::INT) AS high, sum(probability) AS expected FROM scores "
            "WHERE round_id = (SELECT max(round_id) FROM scores) AND sgg_code = ? GROUP BY 1 ORDER BY 1",
            [_THRESHOLDS["medium"], sgg],
        )
    finally:
        st.close()


_THRESHOLDS: dict = {}


def test_capacity_set_rescores_so_the_band_follows_the_staff(modelled, tmp_path):
    """``capacity set`` registers a 시군구's officers (audited) and rescores: its 위험 band is then
    exactly the top ``capacity`` of each 읍면동 among those at 주의 probability or above, with the
    시군구's officers × visits shared by households; ``--clear`` gives the old band back."""
    import json
    import shutil
    import subprocess
    import sys

    from ops import audit_rows

    db0, models0, meta = modelled
    db, models = tmp_path / "db.duckdb", tmp_path / "models"
    shutil.copy(db0, db)
    shutil.copytree(models0, models)
    _THRESHOLDS.update(meta["thresholds"])

    def run(*args):
        out = subprocess.run(
            [sys.executable, "-m", "blindspot", "capacity", *args, "--db", str(db), "--models", str(models)],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    from blindspot.db.store import Store

    st = Store(db, read_only=True)
    sgg = st.scalar("SELECT sgg_code FROM scores GROUP BY 1 ORDER BY count(DISTINCT emd_code) DESC, 1 LIMIT 1")
    st.close()
    before = _band_counts(db, sgg)
    assert len(before) > 1 and before["high"].sum() > 0
    out = json.loads(run("set", "--sgg", sgg, "--officers", "2"))
    assert out["officers"] == 2 and out["rescored_rounds"]
    after = _band_counts(db, sgg)
    cap = emd_capacities(
        after["households"].to_numpy(),
        after["expected"].to_numpy(),
        np.array([sgg] * len(after)),
        Plan(officers={sgg: 2}),
    )
    assert cap.sum() == 2 * settings.get("visits_per_officer")
    assert after["high"].tolist() == np.minimum(cap, after["medium_up"].to_numpy()).tolist()
    assert after["high"].sum() > before["high"].sum()
    listed = json.loads(run("list", "--json"))
    assert listed["staff"] == {sgg: {"officers": 2.0, "visits": 2 * settings.get("visits_per_officer")}}
    records = audit_rows()
    records = records[records["action"] == "set_staff"]
    assert json.loads(records["filters"].iloc[-1]) == {"officers": 2.0, "sgg": sgg}
    run("set", "--sgg", sgg, "--clear")
    assert _band_counts(db, sgg)["high"].tolist() == before["high"].tolist()
