"""Handing a follow-up case to a named colleague (SQLite and PostgreSQL): the owner changes with
one ``assign_followup`` record (old and new owner) in the same transaction; a receiver who is not
an official of the case's 시군구 — another 시군구's, an analyst, a presenter, no account at all —
and a case not on the list are refused with one ``refused_followup`` record and nothing else."""

import datetime as dt
import json

import pytest
from ops import audit_rows
from sqlalchemy import select

from blindspot.access import Scope
from blindspot.app import auth
from blindspot.db import opstore
from blindspot.followup import cases, colleagues, entries, sql

SGG = "29110"
OPENED = dt.date(2025, 9, 26)
# The account file of these tests: two officials of 29110 (one also of 29140), one of 29140
# only, and one account of each national role.
ACCOUNTS = [
    ("dong", "광주 동구 담당", "district", ["29110"]),
    ("gwangju", "광주 동구·서구 담당", "district", ["29110", "29140"]),
    ("dong2", "광주 동구 주무관", "district", ["29110"]),
    ("seo", "광주 서구 담당", "district", ["29140"]),
    ("analyst", "분석가", "analyst", None),
    ("presenter", "발표자", "presenter", None),
    ("admin", "관리자", "admin", None),
]


@pytest.fixture(scope="module")
def db(modelled_store):
    return modelled_store


@pytest.fixture()
def accounts(tmp_path, monkeypatch):
    """This test's account file, named by BLINDSPOT_AUTH as the app names it."""
    path = tmp_path / "auth.yaml"
    auth.write_accounts(path, [(*a, f"pw-{a[0]}-시험-길게") for a in ACCOUNTS], rounds=4)
    monkeypatch.setenv("BLINDSPOT_AUTH", str(path))
    return auth.load(path)


def official(user, *sgg):
    return Scope.district(list(sgg) or [SGG], user=user)


def owner(case_id):
    c = sql.followup_cases
    with opstore.open_ops().connect() as con:
        return con.execute(select(c.c.assigned_to).where(c.c.case_id == case_id)).scalar_one()


def first_cases(db, n=2):
    cases.sync_cases(db, official("dong"), SGG, today=OPENED)
    c = sql.followup_cases
    with opstore.open_ops().connect() as con:
        rows = con.execute(select(c.c.case_id, c.c.pseudo_id).where(c.c.sgg_code == SGG).order_by(c.c.case_id)).all()
    assert len(rows) > 20
    return rows[:n]


def test_the_colleagues_of_a_sgg_are_its_officials_only(accounts):
    assert colleagues.colleagues(official("dong"), SGG) == {
        "dong2": "광주 동구 주무관 (dong2)",
        "gwangju": "광주 동구·서구 담당 (gwangju)",
    }
    # The official of two 시군구 sees each one's own officials, never the other's.
    assert list(colleagues.colleagues(official("gwangju", "29110", "29140"), "29140")) == ["seo"]
    assert list(colleagues.colleagues(official("gwangju", "29110", "29140"), SGG)) == ["dong", "dong2"]
    # No list for a 시군구 the user may not enter in, nor for a national role.
    assert colleagues.colleagues(official("dong"), "29140") == {}
    assert colleagues.colleagues(Scope.analyst("analyst"), SGG) == {}
    assert colleagues.colleagues(Scope.all_areas("admin"), SGG) == {}
    assert [colleagues.receives(u, SGG) for u in ("dong", "seo", "analyst", "presenter", "admin", "ghost")] == [
        True,
        False,
        False,
        False,
        False,
        False,
    ]


def test_a_case_is_handed_to_a_colleague_with_one_audit_record(db, ops_url, accounts):
    (first, pid), (second, _) = first_cases(db)
    assert entries.take(official("dong"), first) == {"case_id": first, "old": None, "new": "dong"}
    before = len(audit_rows())
    done = entries.hand_over(official("dong"), first, "gwangju", shown=[first, second])
    assert done == {"case_id": first, "old": "dong", "new": "gwangju"}
    assert owner(first) == "gwangju" and owner(second) is None
    log = audit_rows()
    assert len(log) == before + 1
    record = log.iloc[-1]
    assert (record["action"], record["user_name"], record["detail"], record["row_count"]) == (
        "assign_followup",
        "dong",
        "dong->gwangju",
        1,
    )
    assert json.loads(record["filters"]) == {
        "case": first,
        "sgg": SGG,
        "pseudo_id": pid,
        "old": "dong",
        "new": "gwangju",
    }
    # The same fields as a take's record: only the values differ.
    take_record = log[log["action"] == "assign_followup"].iloc[0]
    assert set(json.loads(take_record["filters"])) == set(json.loads(record["filters"]))

    # The receiver's own list now holds the case; the giver's no longer does.
    def mine(user, *sgg):
        view = cases.due_list(
            db, official(user, *sgg), SGG, dt.date(2026, 12, 31), "사례관리", owner="mine", today=OPENED
        )
        return set(int(x) for x in view.rows["case_id"])

    assert first in mine("gwangju", "29110", "29140") and first not in mine("dong")
    # An untaken case handed over: the old owner is none; the receiver may hand it on.
    assert entries.hand_over(official("dong"), second, "dong2") == {"case_id": second, "old": None, "new": "dong2"}
    assert entries.hand_over(official("dong2"), second, "dong") == {"case_id": second, "old": "dong2", "new": "dong"}
    assigns = audit_rows().query("action == 'assign_followup'")
    assert assigns["detail"].tolist() == ["-->dong", "dong->gwangju", "-->dong2", "dong2->dong"]
    assert owner(second) == "dong"


def test_the_owner_and_its_record_commit_together(db, ops_url, accounts, monkeypatch):
    """If the audit record cannot be written the owner does not change."""
    ((case_id, _),) = first_cases(db, 1)
    real = entries.audit.record

    def failing(scope, action, *args, **kwargs):
        if action == "assign_followup":
            raise RuntimeError("audit store down")
        return real(scope, action, *args, **kwargs)

    monkeypatch.setattr(entries.audit, "record", failing)
    with pytest.raises(RuntimeError):
        entries.hand_over(official("dong"), case_id, "gwangju")
    assert owner(case_id) is None
    assert "assign_followup" not in audit_rows()["action"].tolist()


@pytest.mark.parametrize(
    ("scope", "to", "shown", "reason"),
    [
        (official("dong"), "seo", None, "colleague"),  # an official of another 시군구
        (official("dong"), "ghost", None, "no_account"),
        (official("dong"), "", None, "no_account"),
        (official("dong"), "presenter", None, "colleague"),
        (official("dong"), "analyst", None, "colleague"),
        (official("dong"), "admin", None, "colleague"),
        (official("dong"), "gwangju", "other", "not_shown"),  # a case not on the list shown
        (official("seo", "29140"), "gwangju", None, "unknown"),  # the giver of another 시군구
        (Scope.analyst("analyst"), "dong", None, "role"),
    ],
    ids=[
        "other-sgg",
        "no-account",
        "empty",
        "presenter",
        "analyst",
        "admin",
        "not-shown",
        "giver-elsewhere",
        "giver-role",
    ],
)
def test_a_hand_over_is_refused_with_one_record(db, ops_url, accounts, scope, to, shown, reason):
    ((case_id, _),) = first_cases(db, 1)
    entries.take(official("dong"), case_id)
    before = audit_rows()
    with pytest.raises(entries.FollowupRefused) as refused:
        entries.hand_over(scope, case_id, to, shown=[case_id + 100_000] if shown else None)
    assert refused.value.reason == reason and str(refused.value) == entries.REFUSALS[reason]
    assert owner(case_id) == "dong"
    log = audit_rows()
    assert len(log) == len(before) + 1
    record = log.iloc[-1]
    assert (record["action"], record["detail"], record["row_count"], record["user_name"]) == (
        "refused_followup",
        reason,
        0,
        scope.user,
    )
    assert json.loads(record["filters"]) == {"case": case_id, "to": to, "action": "hand_over"}
