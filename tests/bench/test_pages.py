"""`bench --json` → `pages`: every page of both roles timed server-side, in child processes."""

from blindspot.access import pages_for
from blindspot.app.pagebench import TARGET_MS, page_timings


def test_every_page_of_both_roles_is_timed_cold_and_warm(modelled):
    db, models, _ = modelled
    out = page_timings(str(db), str(models), "29110")
    assert out["district_sgg"] == "29110" and out["target_ms"] == TARGET_MS
    for role in ("district", "analyst"):
        timed = out["pages"][role]
        assert list(timed) == list(pages_for(role))  # every page the role may open, in order
        assert all(t["ok"] and t["cold_ms"] > 0 and t["warm_ms"] > 0 for t in timed.values()), timed
    warm = [t["warm_ms"] for by in out["pages"].values() for t in by.values()]
    assert out["slowest_warm_ms"] == max(warm)
    # The summary names exactly the pages over their target.
    over = {
        f"{r}/{p}"
        for r, by in out["pages"].items()
        for p, t in by.items()
        if t["warm_ms"] > TARGET_MS.get(p, TARGET_MS["default"])
    }
    assert set(out["over_target"]) == over and out["all_meet_target"] == (not over)
