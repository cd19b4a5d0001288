"""The audit trail survives rebuilds: the audit log, entered outcomes, briefing targets and
ingest history live in the operational store, so a demo rebuild through the command `make`
runs, `init-db --force` or `--force-replace-real` leave them exactly as they were (and the
hash chain verifies); a real database is never replaced by `make`."""

import datetime as dt
import hashlib
import shutil

import pandas as pd
import pytest
from conftest import SMALL
from ops import audit_rows

from blindspot import cli
from blindspot.access import Scope, scope_for
from blindspot.casework import audit, exports, lists, outcomes
from blindspot.db import opstore, snapshots
from blindspot.db.store import Store
from blindspot.demo import build
from blindspot.errors import BlindspotError
from blindspot.ingest import exchange
from blindspot.ingest import load as ingest
from blindspot.ingest import sql as ingest_sql

T = 20243
OFFICIAL = scope_for("district", "dong", ["29110"])
# What the Makefile's $(DB) rule runs, plus the small test configuration of the fixture.
MAKE_ARGS = ["--skip-if-real"]
SMALL_ARGS = [
    "--seed",
    str(SMALL.seed),
    "--scale",
    str(SMALL.scale),
    "--rounds",
    str(SMALL.rounds),
    "--sido",
    *SMALL.sido,
    "--no-model",
]
ENTERED = (
    "SELECT v.round_id, h.pseudo_id, v.channel, v.outcome, v.support_type, v.recorded_at, v.recorded_by "
    "FROM visits_now v JOIN households h ON h.household_id = v.household_id AND h.valid_from_round <= v.round_id "
    "AND (h.valid_to_round IS NULL OR h.valid_to_round >= v.round_id) "
    "WHERE v.recorded_by <> 'synthetic' ORDER BY ALL"
)


def test_make_rebuilds_through_the_guarded_command(tmp_path):
    """The Makefile's database rule runs exactly the command these tests run (MAKE_ARGS)."""
    import pathlib
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make 이 없습니다")
    root = pathlib.Path(__file__).resolve().parents[2]
    db = tmp_path / "x.duckdb"
    out = subprocess.run(
        ["make", "-n", "-W", "blindspot/db/sql.py", str(db), f"DB={db}"], cwd=root, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    recipe = [line for line in out.stdout.splitlines() if "build-demo" in line]
    assert recipe and recipe[-1].split()[-3:] == ["--db", str(db), *MAKE_ARGS]


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _records(log: pd.DataFrame) -> list[tuple]:
    """Audit rows as plain tuples (None for missing), to compare field by field."""
    return [tuple(None if pd.isna(v) else v for v in row) for row in log.itertuples(index=False, name=None)]


def _snapshot(path) -> dict:
    """What an office has done (operational store) and the entered outcomes as the active
    version shows them."""
    ops = opstore.open_ops()
    st = Store(path, read_only=True)
    try:
        return {
            "audit": audit_rows(),
            "visits": st.rows(ENTERED),
            "targets": ops.targets("29110"),
            "loads": ops.loads_frame()["load_id"].tolist(),
            "snapshot_loads": st.scalar("SELECT count(*) FROM ingest_loads"),
        }
    finally:
        st.close()


@pytest.fixture()
def worked_demo(modelled, tmp_path):
    """A demo database an office has worked with: views, an export, outcomes (one new, one
    replacing the generator's visit), a refusal and a briefing target."""
    path = tmp_path / "blindspot.duckdb"
    shutil.copy(modelled[0], path)
    st = Store(path)
    try:
        # The whole high/medium list, not trimmed to capacity: the fixture needs a household
        # that was visited, and whether the model's top 0.8 % overlaps the system's list in
        # one 시군구 is a property of the world, not of the audit trail tested here.
        shown = lists.ListFilters(T, capacity=None)
        rows = lists.risk_list(st, OFFICIAL, shown, "방문 계획")
        exports.export_risk_list(st, OFFICIAL, shown, "사례관리", "csv")
        fresh = rows.loc[~rows["visited"], "pseudo_id"].iloc[0]
        seen = rows.loc[rows["visited"], "pseudo_id"].iloc[0]
        outcomes.record_outcome(st, OFFICIAL, fresh, T, "supported", "긴급지원", filters=shown, shown=rows["pseudo_id"])
        outcomes.record_outcome(
            st, OFFICIAL, seen, T, "refused", filters=shown, shown=rows["pseudo_id"], overwrite=True
        )
        with pytest.raises(outcomes.OutcomeRefused):
            outcomes.record_outcome(st, OFFICIAL, "HNOSUCH", T, "contacted")
        opstore.open_ops().set_target("29110", "contact_rate", 0.75, "dong", dt.datetime(2024, 6, 1, 9))
    finally:
        st.close()
    return path


def test_demo_rebuild_keeps_audit_log_outcomes_and_targets(worked_demo):
    before = _snapshot(worked_demo)
    assert len(before["audit"]) == 5 and len(before["visits"]) == 2 and before["targets"] == {"contact_rate": 0.75}
    assert cli.main(["build-demo", "--db", str(worked_demo), *MAKE_ARGS, *SMALL_ARGS]) == 0
    after = _snapshot(worked_demo)
    # Every record, every field, the same event ids, then one record of the rebuild:
    assert _records(after["audit"].iloc[: len(before["audit"])]) == _records(before["audit"])
    rebuilt = after["audit"].iloc[len(before["audit"]) :]
    assert rebuilt["action"].tolist() == ["rebuild_demo"] and "운영 저장소에 그대로" in rebuilt["detail"].iloc[0]
    # The outcomes show on the new build's households (same pseudonymous ids and rounds).
    assert after["visits"] == before["visits"] and after["targets"] == before["targets"]
    assert opstore.open_ops().verify_audit()["ok"]
    # The data is new, a new version, and the one it replaced is kept for a rollback.
    assert [v.active for v in snapshots.versions(worked_demo)] == [False, True]
    event = audit.record(OFFICIAL, "view_list", {"round": T}, 0, "점검")
    assert event == int(after["audit"]["event_id"].max()) + 1


def test_rebuild_with_another_configuration_keeps_the_outcomes_for_a_rollback(worked_demo):
    """Another seed makes other households: the entered outcomes do not show on them, but
    they are not lost: they stay in the operational store, and activating the earlier
    version shows them again."""
    before = _snapshot(worked_demo)
    other = [
        "--seed",
        str(SMALL.seed + 1),
        "--scale",
        str(SMALL.scale),
        "--rounds",
        str(SMALL.rounds),
        "--sido",
        *SMALL.sido,
        "--no-model",
    ]
    assert cli.main(["build-demo", "--db", str(worked_demo), *MAKE_ARGS, *other]) == 0
    assert _snapshot(worked_demo)["visits"] == []
    assert len(opstore.open_ops().outcomes_frame()) == 2
    first = snapshots.versions(worked_demo)[0].name
    snapshots.activate(worked_demo, first)
    assert _snapshot(worked_demo)["visits"] == before["visits"]


@pytest.fixture()
def real_db(small_db, tmp_path):
    """A database made by init-db with one ingested round (Sejong's 2024-R3 of the demo)."""
    src = Store(small_db, read_only=True)
    files = exchange.export_round(src, Scope.district(["36110"]), "2024-R3", tmp_path / "files", "csv")
    src.close()
    path = tmp_path / "real.duckdb"
    build.build_empty(path)
    with snapshots.loader(path, "ingest 2024-R3") as draft:
        result = ingest.ingest_paths(
            draft.store, "2024-R3", files["households_file"], files["outcomes_file"], loaded_by="loader", sgg=["36110"]
        )
    ingest.record_loads(result, draft.published)
    audit.record(scope_for("analyst", "ana"), "view_list", {"round": T}, 3, "점검")
    return path


def test_build_demo_refuses_a_real_database(real_db, capsys):
    digest = _digest(real_db)
    assert (
        cli.main(["build-demo", "--db", str(real_db), "--scale", "0.01", "--sido", "36", "--rounds", "2", "--no-model"])
        == 2
    )
    err = capsys.readouterr().err
    assert "실데이터 데이터베이스" in err and "--force-replace-real" in err and "Traceback" not in err
    assert _digest(real_db) == digest
    # What make runs: nothing happens, the run goes on (exit 0), and it says why.
    assert (
        cli.main(
            [
                "build-demo",
                "--db",
                str(real_db),
                *MAKE_ARGS,
                "--scale",
                "0.01",
                "--sido",
                "36",
                "--rounds",
                "2",
                "--no-model",
            ]
        )
        == 0
    )
    assert "다시 만들지 않습니다" in capsys.readouterr().err
    assert _digest(real_db) == digest


def test_a_demo_with_an_ingested_round_counts_as_real(worked_demo, small_db, tmp_path):
    st = Store(worked_demo)
    st.run(
        ingest_sql.INGEST_INSERT_LOAD,
        ["x", T, "households", "h.csv", "0" * 64, 1, "loader", dt.datetime(2024, 6, 1), True, 1.0],
    )
    st.checkpoint()
    st.close()
    digest = _digest(worked_demo)
    assert not build.inspect_existing(worked_demo).is_demo
    assert cli.main(["build-demo", "--db", str(worked_demo), *SMALL_ARGS]) == 2
    assert _digest(worked_demo) == digest


def test_force_replace_real_keeps_the_audit_log_and_records_the_replacement(real_db):
    before = _snapshot(real_db)
    assert (
        cli.main(
            [
                "build-demo",
                "--db",
                str(real_db),
                "--force-replace-real",
                "--scale",
                "0.01",
                "--sido",
                "36",
                "--rounds",
                "2",
                "--no-model",
            ]
        )
        == 0
    )
    after = _snapshot(real_db)
    n = len(before["audit"])
    assert _records(after["audit"].iloc[:n]) == _records(before["audit"])
    last = after["audit"].iloc[-1]
    assert (
        last["action"] == "replace_database"
        and "지움: 기존 가구·위기정보" in last["detail"]
        and "적재 이력 2건" in last["detail"]
    )
    # The new version is a demo (no loads of its own); the history of loads is kept.
    assert after["snapshot_loads"] == 0 and build.inspect_existing(real_db).is_demo
    assert after["loads"] == before["loads"] and len(after["loads"]) == 2
    assert opstore.open_ops().verify_audit()["ok"]


def test_init_db_force_keeps_the_audit_log(worked_demo):
    before = _snapshot(worked_demo)
    assert cli.main(["init-db", "--db", str(worked_demo), "--force"]) == 0
    after = _snapshot(worked_demo)
    n = len(before["audit"])
    assert _records(after["audit"].iloc[:n]) == _records(before["audit"])
    assert after["audit"]["action"].iloc[-1] == "replace_database" and after["targets"] == before["targets"]
    assert opstore.open_ops().verify_audit() == {
        "ok": True,
        "records": n + 1,
        "first_broken": None,
        "reason": None,
    }


def test_an_unmigrated_old_database_is_refused_not_guessed(small_db, tmp_path):
    # Before schema v3 there was no audit log, targets or ingest history to count or carry.
    path = tmp_path / "old.duckdb"
    shutil.copy(small_db, path)
    st = Store(path)
    st.set_meta("schema_version", 2)
    st.checkpoint()
    st.close()
    with pytest.raises(BlindspotError, match=r"스키마 버전\(2\)은 옛 버전"):
        build.inspect_existing(path)
    digest = _digest(path)
    assert cli.main(["build-demo", "--db", str(path), *SMALL_ARGS]) == 2
    assert _digest(path) == digest
