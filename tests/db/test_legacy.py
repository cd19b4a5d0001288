"""An analytical file from before the operational store: its audit log, targets, ingest
history and entered outcomes move to the operational store when it becomes the first
snapshot version (blindspot/db/legacy.py)."""

import datetime as dt
import json
import shutil

from ops import audit_rows

from blindspot.db import opstore, snapshots
from blindspot.db.store import Store

T = 20243


def test_a_pre_snapshot_file_moves_its_operational_rows_once(small_db, tmp_path):
    db = tmp_path / "old.duckdb"
    shutil.copy(small_db, db)
    st = Store(db)
    pid, hid = st.rows(
        "SELECT h.pseudo_id, h.household_id FROM visits v JOIN households h USING (household_id) "
        "WHERE v.round_id = ? AND h.sgg_code = '29110' ORDER BY h.pseudo_id LIMIT 1",
        [T],
    )[0]
    # What the app of the old layout wrote into the analytical file:
    when = dt.datetime(2024, 6, 3, 14, 5)
    st.run(
        "UPDATE visits SET outcome = 'supported', support_type = '긴급지원', recorded_by = 'dong', recorded_at = ? "
        "WHERE round_id = ? AND household_id = ?",
        [when, T, hid],
    )
    st.run(
        "INSERT INTO audit_log (happened_at, user_name, role, action, scope, filters, row_count, purpose) VALUES "
        "(?, 'dong', 'district', 'view_list', 'district:29110', '{}', 20, '방문 계획'), "
        "(?, 'dong', 'district', 'record_outcome', 'district:29110', ?, 1, '방문 결과 입력')",
        [when, when, json.dumps({"round": T, "pseudo_id": pid, "outcome": "supported"})],
    )
    st.run("INSERT INTO briefing_targets VALUES ('29110', 'contact_rate', 0.8, 'dong', ?)", [when])
    st.checkpoint()
    st.close()

    with snapshots.loader(db, "stats"):
        pass
    log = audit_rows()
    assert log["action"].tolist() == ["view_list", "record_outcome", "import_legacy"]
    assert log["happened_at"].iloc[0] == when and log["row_count"].tolist()[:2] == [20, 1]
    assert "감사 기록 2건" in log["detail"].iloc[2] and "입력한 방문 결과 1건" in log["detail"].iloc[2]
    ops = opstore.open_ops()
    assert ops.verify_audit()["ok"] and ops.targets("29110") == {"contact_rate": 0.8}
    entered = ops.outcomes_frame(T)
    assert entered[["pseudo_id", "outcome", "support_type", "recorded_by"]].values.tolist() == [
        [pid, "supported", "긴급지원", "dong"]
    ]
    # Only once: the next load finds a version, not a plain file.
    with snapshots.loader(db, "stats"):
        pass
    assert len(audit_rows()) == 3
    # A copy of that first version adopted elsewhere (or any later version, which keeps its
    # loads) moves nothing a second time: the rows are in the operational store already.
    copy = tmp_path / "elsewhere" / "copy.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(snapshots.active_file(db), copy)
    with snapshots.loader(copy, "stats"):
        pass
    assert len(audit_rows()) == 3 and ops.verify_audit()["ok"]


def test_a_copied_version_with_loads_already_recorded_adopts_cleanly(small_db, tmp_path):
    db = tmp_path / "v.duckdb"
    shutil.copy(small_db, db)
    st = Store(db)
    st.run(
        "INSERT INTO ingest_loads VALUES ('2024-R3-households-abc', ?, 'households', 'h.csv', 'abc', 10, 'kim', "
        "?, FALSE, 1.5)",
        [T, dt.datetime(2026, 1, 5, 9, 0)],
    )
    st.checkpoint()
    st.close()
    ops = opstore.open_ops()
    # The ingest that made this version recorded its load in the operational store too.
    ops.add_load(
        {
            "load_id": "2024-R3-households-abc",
            "round_id": T,
            "kind": "households",
            "file_name": "h.csv",
            "file_sha256": "abc",
            "rows": 10,
            "loaded_by": "kim",
            "loaded_at": dt.datetime(2026, 1, 5, 9, 0),
            "replaced": False,
            "seconds": 1.5,
            "snapshot": "v0002",
        }
    )
    with snapshots.loader(db, "stats"):  # adopting the plain copy
        pass
    assert ops.loads_frame()["load_id"].tolist() == ["2024-R3-households-abc"]
    assert "import_legacy" not in audit_rows()["action"].tolist()
