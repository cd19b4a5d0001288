"""``followups_ms`` of ``bench --json``: measured in a child on a throwaway operational store."""

from ops import audit_count

from blindspot.followup.bench import followup_timing


def test_followup_timing_measures_one_sgg_without_touching_the_store(modelled):
    out = followup_timing(modelled[0], "29110")
    assert set(out) == {"followups_ms", "followups_sgg", "followups_cases", "followups_due", "followups_sync_seconds"}
    assert out["followups_sgg"] == "29110" and out["followups_cases"] > 20
    assert 0 < out["followups_due"] < out["followups_cases"] and out["followups_ms"] > 0
    assert audit_count() == 0  # the child's records stayed in its own store
