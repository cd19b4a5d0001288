"""The operational store's casework tables (migration 0002), on SQLite and PostgreSQL: the
audit log's hash chain (verified, tamper-evident, refused UPDATE/DELETE, no fork when
processes append at once), entered outcomes (latest wins), briefing targets (upsert and
delete), loaded files, and the upgrade of a store made at revision 0001."""

import datetime as dt
import hashlib
import subprocess
import sys
import time

import pandas as pd
import pytest
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from blindspot.db import opcase, opstore

REFUSED = "감사 기록은 고치거나 지울 수 없습니다"
T0 = dt.datetime(2026, 3, 1, 9, 0, 0)


# The newest Alembic revision (blindspot/db/migrations/versions/): every new store reaches it.
HEAD = "0005"


def _record(**changes) -> dict:
    return {
        "happened_at": T0,
        "user_name": "kim",
        "role": "analyst",
        "action": "view_list",
        "scope": "11110",
        "filters": '{"round": 20243}',
        "row_count": 12,
        "purpose": "방문 계획",
        "file_hash": None,
        "detail": None,
    } | changes


def _store_with(ops_url, n: int) -> opstore.OpStore:
    store = opstore.open_ops(ops_url)
    for i in range(n):
        assert store.append_audit(_record(happened_at=T0 + dt.timedelta(seconds=i), detail=f"#{i + 1}")) == i + 1
    return store


def _drop_guard(store: opstore.OpStore) -> None:
    """What someone with the database's own rights could do: remove the append-only triggers."""
    with store.engine.begin() as con:
        if con.dialect.name == "postgresql":
            con.exec_driver_sql("DROP TRIGGER audit_log_no_change ON audit_log")
        else:
            con.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            con.exec_driver_sql("DROP TRIGGER audit_log_no_delete")


def _chain(store: opstore.OpStore) -> list[tuple[int, str, str]]:
    with store.engine.connect() as con:
        a = opcase.audit_log
        return [tuple(r) for r in con.execute(select(a.c.event_id, a.c.prev_hash, a.c.row_hash).order_by(a.c.event_id))]


def test_three_records_make_a_chain_that_verifies(ops_url):
    store = _store_with(ops_url, 3)
    chain = _chain(store)
    assert [r[0] for r in chain] == [1, 2, 3]
    assert chain[0][1] == "0" * 64
    assert chain[1][1] == chain[0][2] and chain[2][1] == chain[1][2]  # each links to the one before
    assert len({r[2] for r in chain}) == 3
    assert store.verify_audit() == {"ok": True, "records": 3, "first_broken": None, "reason": None}
    assert store.audit_count() == 3


def test_the_stored_hash_is_the_documented_one(ops_url):
    """SHA-256 of "0"*64, a newline and the compact JSON of the fields, computed by hand."""
    store = opstore.open_ops(ops_url)
    store.append_audit(_record(happened_at="2026-03-01 09:00:00", filters=None, purpose=None))
    canonical = '[1,"2026-03-01T09:00:00","kim","analyst","view_list","11110",null,12,null,null,null]'
    expected = hashlib.sha256(("0" * 64 + "\n" + canonical).encode("utf-8")).hexdigest()
    assert _chain(store)[0][2] == expected
    korean = _record(purpose="방문 계획")
    canonical = (
        '[7,"2026-03-01T09:00:00","kim","analyst","view_list","11110","{\\"round\\": 20243}",12,"방문 계획",null,null]'
    )
    row = {"event_id": 7, **opcase.audit_values(korean)}
    assert opcase.chain_hash("a" * 64, row) == hashlib.sha256(("a" * 64 + "\n" + canonical).encode()).hexdigest()


def test_the_database_refuses_to_change_or_delete_a_record(ops_url):
    store = _store_with(ops_url, 2)
    for sql in ("UPDATE audit_log SET purpose = '점검' WHERE event_id = 1", "DELETE FROM audit_log WHERE event_id = 2"):
        with pytest.raises(DBAPIError, match=REFUSED), store.engine.begin() as con:
            con.execute(text(sql))
    if store.engine.dialect.name == "postgresql":  # TRUNCATE passes row triggers by: it has its own
        with pytest.raises(DBAPIError, match=REFUSED), store.engine.begin() as con:
            con.execute(text("TRUNCATE audit_log"))
    assert store.audit_count() == 2
    assert store.audit_frame()["purpose"].tolist() == ["방문 계획", "방문 계획"]
    assert store.verify_audit()["ok"] is True


def test_a_rewritten_record_is_named(ops_url):
    store = _store_with(ops_url, 3)
    _drop_guard(store)
    with store.engine.begin() as con:
        con.execute(text("UPDATE audit_log SET purpose = '점검' WHERE event_id = 2"))
    result = store.verify_audit()
    assert result["ok"] is False and result["first_broken"] == 2 and result["records"] == 2
    assert result["reason"] == "기록 내용이 해시와 맞지 않습니다 (기록이 고쳐졌습니다)."


def test_a_record_rewritten_with_a_new_hash_breaks_the_next_link(ops_url):
    store = _store_with(ops_url, 3)
    _drop_guard(store)
    prev_hash = _chain(store)[1][1]
    forged = {"event_id": 2, **opcase.audit_values(_record(happened_at=T0 + dt.timedelta(seconds=1), purpose="점검"))}
    with store.engine.begin() as con:
        con.execute(
            text("UPDATE audit_log SET purpose = '점검', row_hash = :h WHERE event_id = 2"),
            {"h": opcase.chain_hash(prev_hash, forged | {"detail": "#2"})},
        )
    result = store.verify_audit()
    assert (result["ok"], result["first_broken"], result["records"]) == (False, 3, 3)
    assert result["reason"].startswith("앞 기록의 해시와 이어지지 않습니다")


@pytest.mark.parametrize(
    ("deleted", "broken", "reason"),
    [
        ([3], 4, "3번 기록이 없습니다 (지워진 기록)."),
        ([1], 2, "1번 기록이 없습니다 (지워진 기록)."),
        ([2, 3], 4, "2번부터 3번까지 기록이 없습니다 (지워진 기록)."),
    ],
)
def test_a_deleted_record_is_a_gap(ops_url, deleted, broken, reason):
    store = _store_with(ops_url, 5)
    _drop_guard(store)
    with store.engine.begin() as con:
        for event_id in deleted:
            con.execute(text("DELETE FROM audit_log WHERE event_id = :id"), {"id": event_id})
    assert store.verify_audit() == {
        "ok": False,
        "records": broken - 1 - len(deleted) + 1,
        "first_broken": broken,
        "reason": reason,
    }


def test_the_log_is_read_newest_first_and_filtered(ops_url):
    store = opstore.open_ops(ops_url)
    store.append_audit(_record(user_name="lee", action="export_list", file_hash="f" * 64, row_count=None))
    store.append_audit(_record(happened_at=T0 + dt.timedelta(seconds=1)))
    store.append_audit(_record(happened_at="2026-03-01T09:00:02", user_name="박", detail="updated"))
    frame = store.audit_frame()
    assert list(frame.columns) == list(opcase.AUDIT_FIELDS)
    assert frame["event_id"].tolist() == [3, 2, 1]
    assert frame["happened_at"].tolist() == [
        pd.Timestamp("2026-03-01 09:00:02"),
        pd.Timestamp(T0 + dt.timedelta(seconds=1)),
        pd.Timestamp(T0),
    ]
    assert pd.api.types.is_datetime64_any_dtype(frame["happened_at"])
    assert frame["row_count"].tolist()[1:] == [12, pd.NA] and frame.loc[2, "file_hash"] == "f" * 64
    assert store.audit_frame(user="lee")["event_id"].tolist() == [1]
    assert store.audit_frame(action="view_list")["event_id"].tolist() == [3, 2]
    after, before = T0 + dt.timedelta(seconds=1), T0 + dt.timedelta(seconds=2)
    assert store.audit_frame(since=after, until=before)["event_id"].tolist() == [2]  # until is exclusive
    assert store.audit_frame(limit=1)["event_id"].tolist() == [3]
    assert store.audit_frame(user="nobody").empty
    assert store.audit_users() == ["kim", "lee", "박"]


def test_an_outcome_and_its_audit_record_commit_or_fail_together(ops_url):
    store = opstore.open_ops(ops_url)
    with pytest.raises(RuntimeError, match="after both"), store.begin() as con:
        store.add_outcome(20243, "p1", "visited", None, T0, "kim", con=con)
        store.append_audit(_record(action="record_outcome"), con=con)
        raise RuntimeError("after both")
    assert (store.outcomes_version(), store.audit_count()) == ((0, 0), 0)
    with store.begin() as con:
        entry = store.add_outcome(20243, "p1", "visited", None, T0, "kim", con=con)
        event = store.append_audit(_record(action="record_outcome"), con=con)
    assert store.latest_outcome(20243, "p1")["entry_id"] == entry
    assert event == store.audit_count() and store.verify_audit()["ok"]


def test_the_latest_outcome_wins(ops_url):
    store = opstore.open_ops(ops_url)
    assert store.outcomes_version() == (0, 0) and store.latest_outcome(20243, "p1") is None
    assert store.outcomes_frame().empty and list(store.outcomes_frame().columns) == list(opcase.OUTCOME_COLUMNS)
    store.add_outcome(20243, "p1", "absent", None, T0, "kim")
    store.add_outcome(20243, "p2", "visited", "긴급지원", "2026-03-01T10:00:00", "lee")
    store.add_outcome(20244, "p1", "refused", None, T0, "kim")
    v = store.outcomes_version()
    assert v == (3, 3)
    assert store.add_outcome(20243, "p1", "visited", "기초생활보장", T0 + dt.timedelta(hours=1), "park") == 4
    assert store.outcomes_version() == (4, 4) != v
    frame = store.outcomes_frame()
    assert frame[["round_id", "pseudo_id", "outcome", "recorded_by"]].values.tolist() == [
        [20243, "p1", "visited", "park"],
        [20243, "p2", "visited", "lee"],
        [20244, "p1", "refused", "kim"],
    ]
    assert frame["recorded_at"].iloc[0] == pd.Timestamp("2026-03-01 10:00:00")
    assert store.outcomes_frame(20243)["entry_id"].tolist() == [4, 2]
    assert store.latest_outcome(20243, "p1") == {
        "entry_id": 4,
        "round_id": 20243,
        "pseudo_id": "p1",
        "outcome": "visited",
        "support_type": "기초생활보장",
        "recorded_at": dt.datetime(2026, 3, 1, 10, 0, 0),
        "recorded_by": "park",
    }
    # Another kind of entry (a follow-up contact) does not replace the visit outcome.
    store.add_outcome(20243, "p1", "phoned", None, T0 + dt.timedelta(hours=2), "park", kind="followup")
    assert store.latest_outcome(20243, "p1")["outcome"] == "visited"
    assert store.outcomes_frame(20243, kind="followup")["outcome"].tolist() == ["phoned"]
    assert store.outcomes_version() == (5, 5)


def test_targets_are_set_replaced_and_removed(ops_url):
    store = opstore.open_ops(ops_url)
    assert store.targets("11110") == {} and store.targets_version("11110") == ()
    store.set_target("11110", "visit_rate", 0.8, "kim", T0)
    store.set_target("11110", "reach", 120, "kim", T0)
    store.set_target("11140", "visit_rate", 0.5, "lee", T0)
    v1 = store.targets_version("11110")
    assert store.targets("11110") == {"visit_rate": 0.8, "reach": 120.0}
    with store.begin() as con:  # a replacement within the same second still changes the stamp
        store.set_target("11110", "visit_rate", 0.9, "park", T0, con=con)
    assert store.targets("11110") == {"visit_rate": 0.9, "reach": 120.0}
    assert store.targets_version("11110") == (
        ("reach", 120.0, "kim", "2026-03-01T09:00:00"),
        ("visit_rate", 0.9, "park", "2026-03-01T09:00:00"),
    )
    assert store.targets_version("11110") != v1
    store.set_target("11110", "reach", None, "park", T0)
    store.set_target("11110", "never_set", None, "park", T0)  # removing what is not there is no error
    assert store.targets("11110") == {"visit_rate": 0.9}
    assert store.targets("11140") == {"visit_rate": 0.5}


def test_loads_round_trip_newest_first(ops_url):
    store = opstore.open_ops(ops_url)
    assert store.loads_frame().empty and list(store.loads_frame().columns) == list(opcase.LOAD_COLUMNS)
    first = {
        "load_id": "L1",
        "round_id": 20243,
        "kind": "households",
        "file_name": "가구_2024_3.csv",
        "file_sha256": "a" * 64,
        "rows": 24_000_000_000,  # beyond 32 bits: BIGINT
        "loaded_by": "kim",
        "loaded_at": T0,
        "replaced": False,
        "seconds": 12.5,
        "snapshot": "v0007",
    }
    store.add_load(first)
    with store.begin() as con:
        store.add_load(first | {"load_id": "L2", "loaded_at": "2026-03-02T08:00:00", "replaced": True}, con=con)
    store.add_load(
        {k: v for k, v in first.items() if k not in ("seconds", "snapshot")}
        | {"load_id": "L0", "loaded_at": T0 - dt.timedelta(days=1)}
    )
    frame = store.loads_frame()
    assert frame["load_id"].tolist() == ["L2", "L1", "L0"]
    row = frame.iloc[1].to_dict()
    assert row == first | {"loaded_at": pd.Timestamp(T0)}
    assert frame["replaced"].tolist() == [True, False, False]
    assert pd.isna(frame.iloc[2]["snapshot"]) and pd.isna(frame.iloc[2]["seconds"])


APPEND_SCRIPT = """
import os, sys, time
from blindspot.db import opstore
url, who, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = opstore.open_ops(url)
while not os.path.exists(go):  # all four start appending at the same moment
    time.sleep(0.01)
for i in range(n):
    store.append_audit({"happened_at": "2026-03-01T09:00:00", "user_name": who, "role": "analyst",
                        "action": "view_list", "scope": "all", "filters": "{}", "row_count": 1,
                        "purpose": "점검", "file_hash": None, "detail": str(i)})
"""


def test_four_processes_appending_at_once_keep_one_chain(ops_url, tmp_path):
    """Four OS processes (as four app servers would) append 50 records each at once."""
    opstore.open_ops(ops_url)  # migrated here: the children race on the chain, not on the schema
    go = tmp_path / "go"
    workers = [
        subprocess.Popen([sys.executable, "-c", APPEND_SCRIPT, ops_url, f"p{k}", "50", str(go)], stderr=subprocess.PIPE)
        for k in range(4)
    ]
    time.sleep(1.0)
    go.touch()
    errors = [w.communicate(timeout=180)[1].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], errors
    store = opstore.open_ops(ops_url)
    frame = store.audit_frame()
    assert len(frame) == store.audit_count() == 200
    assert sorted(frame["event_id"]) == list(range(1, 201))
    assert sorted(zip(frame["user_name"], frame["detail"], strict=True)) == sorted(
        (f"p{k}", str(i)) for k in range(4) for i in range(50)
    )
    assert len({prev for _, prev, _ in _chain(store)}) == 200
    assert store.verify_audit() == {"ok": True, "records": 200, "first_broken": None, "reason": None}


def test_a_store_at_revision_0001_is_upgraded_keeping_its_rows(ops_url):
    from alembic import command
    from alembic.config import Config

    engine = create_engine(ops_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(opstore.MIGRATIONS))
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.upgrade(cfg, "0001")
        con.execute(
            insert(opstore.login_failures).values(kind="account", subject="kim", failures=4, last_failure_at=2.0)
        )
    assert set(inspect(engine).get_table_names()) == {"alembic_version", "login_failures"}
    engine.dispose()
    store = opstore.open_ops(ops_url)
    with store.engine.connect() as con:
        assert con.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
    # Every table the code declares, made by the migrations (none left to create_all).
    assert set(inspect(store.engine).get_table_names()) == {"alembic_version", *opstore.metadata.tables}
    assert {"audit_log", "entered_outcomes", "briefing_targets", "ingest_loads", "sgg_staff"} <= set(
        opstore.metadata.tables
    )
    assert store.failures("account", "kim") == (4, 2.0)
    assert store.add_failure("account", "kim", 3.0) == 5
    assert store.append_audit(_record()) == 1
    with pytest.raises(DBAPIError, match=REFUSED), store.engine.begin() as con:  # the triggers came too
        con.execute(text("DELETE FROM audit_log"))
