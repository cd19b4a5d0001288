"""An outcome an official enters goes to the operational store (the snapshot is read-only)
and shows at once in every reader: the map counts, the per-area summary, the briefing's
funnel and the list's 방문 여부, in this process at once and in another within a second."""

import shutil
import subprocess
import sys
import textwrap
import time

from blindspot.access import scope_for
from blindspot.briefing import data as briefing
from blindspot.casework import lists, outcomes
from blindspot.db.store import ENTERED_CHECK_SECONDS, Store
from blindspot.maps import counts

T = 20243
OFFICIAL = scope_for("district", "dong", ["29110"])
ADMIN = scope_for("admin", "adm")


def _figures(st) -> dict:
    region = counts.region_counts(st, ADMIN, "sgg", T).loc["29110"]
    summary = lists.risk_summary(st, ADMIN, lists.ListFilters(T), "sgg", 1).set_index("code").loc["29110"]
    funnel = briefing.build(st, ADMIN, "29110", T, k=1).funnel.set_index("단계")["가구"]
    return {
        "visited": int(region["visited"]),
        "supported": int(region["supported"]),
        "summary_visited": int(summary["visited_at_risk"]),
        "funnel": {stage: int(n) for stage, n in funnel.items()},
    }


def test_an_entered_outcome_shows_at_once_everywhere_and_in_another_process(modelled, tmp_path):
    db = tmp_path / "ro.duckdb"
    shutil.copy(modelled[0], db)
    st = Store(db, read_only=True)  # as an app process opens it
    try:
        shown = lists.risk_list(st, OFFICIAL, lists.ListFilters(T), "방문 계획")
        pid = shown.loc[~shown["visited"], "pseudo_id"].iloc[0]
        before = _figures(st)
        outcomes.record_outcome(st, OFFICIAL, pid, T, "supported", "긴급지원", shown=shown["pseudo_id"])
        after = _figures(st)
        assert after["visited"] == before["visited"] + 1 and after["supported"] == before["supported"] + 1
        assert after["summary_visited"] == before["summary_visited"] + 1
        # The briefing's funnel counts visits: one more at every stage a support reaches.
        assert {s: after["funnel"][s] - before["funnel"][s] for s in before["funnel"]} == {
            "발굴": 1,
            "접촉·방문": 1,
            "욕구 확인": 1,
            "지원 연계": 1,
        }
        again = lists.risk_list(st, OFFICIAL, lists.ListFilters(T), "방문 계획")
        assert bool(again.loc[again["pseudo_id"] == pid, "visited"].iloc[0])
    finally:
        st.close()

    # Another process (another app server) opened before the entry sees it within a second.
    script = textwrap.dedent(
        f"""
        import sys, time
        from blindspot.db.store import Store
        st = Store({str(db)!r}, read_only=True)
        q = "SELECT count(*) FROM visits_now WHERE round_id = {T} AND recorded_by = 'dong'"
        print(st.scalar(q), flush=True)
        sys.stdin.readline()
        deadline = time.monotonic() + 10
        while st.scalar(q) == 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        print(st.scalar(q), round(10 - (deadline - time.monotonic()), 2), flush=True)
        """
    )
    other = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "1"
    st = Store(db, read_only=True)
    try:
        second = shown.loc[~shown["visited"] & (shown["pseudo_id"] != pid), "pseudo_id"].iloc[0]
        outcomes.record_outcome(st, OFFICIAL, second, T, "contacted", shown=shown["pseudo_id"])
        started = time.monotonic()
        other.stdin.write("go\n")
        other.stdin.flush()
        seen, waited = other.stdout.readline().split()
        assert seen == "2" and float(waited) <= ENTERED_CHECK_SECONDS + 0.5
        assert time.monotonic() - started < 5
    finally:
        st.close()
        other.wait(timeout=10)
