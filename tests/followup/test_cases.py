"""Follow-up cases in the operational store (SQLite and PostgreSQL): opened from the bands,
carried across rounds, contacted, re-tiered (audited), listed when due, counted for the
briefing, and refused outside the official's 시군구."""

import datetime as dt
import json
import shutil

import pandas as pd
import pytest
from ops import audit_rows
from sqlalchemy import select, update

from blindspot.access import Scope
from blindspot.casework.audit import PurposeRequired
from blindspot.db import opstore
from blindspot.db.store import Store
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.followup import cases, entries, sql

D = dt.date
SGG = "29110"
OPENED = D(2025, 9, 26)  # a Friday: the week after is 개천절 and 추석


@pytest.fixture(scope="module")
def db(modelled, tmp_path_factory):
    """The modelled world without the 시군구's loaded visits: every case's clock starts the day it
    opens, so the cadence arithmetic below is hand-computable (loaded visits: their own test)."""
    path = tmp_path_factory.mktemp("followup") / "followup.duckdb"
    shutil.copy(modelled[0], path)
    writable = Store(path)
    writable.run("DELETE FROM visits WHERE sgg_code = ?", [SGG])
    writable.close()
    store = Store(path, read_only=True)
    yield store
    store.close()


def test_a_loaded_visit_starts_the_case_clock(modelled, tmp_path, ops_url):
    """Visits loaded from extraction files set the case's last contact and visit to the latest
    one (its outcome too): such a case runs from that day, not from the day it opened."""
    path = tmp_path / "visited.duckdb"
    shutil.copy(modelled[0], path)
    store = Store(path, read_only=True)
    try:
        r = cases.latest_scored_round(store)
        visits = store.df(
            "SELECT h.pseudo_id, max(v.recorded_at)::DATE AS on_, arg_max(v.outcome, v.recorded_at) AS outcome "
            "FROM visits v JOIN households h ON h.household_id = v.household_id "
            "AND h.valid_from_round <= v.round_id AND (h.valid_to_round IS NULL OR h.valid_to_round >= v.round_id) "
            "WHERE v.sgg_code = ? AND v.round_id <= ? GROUP BY 1",
            [SGG, r],
        ).set_index("pseudo_id")
        cases.sync_cases(store, official(), SGG, today=OPENED)
    finally:
        store.close()
    stored = case_rows()
    visited = [p for p in stored if p in visits.index]
    assert visited and len(visited) < len(stored)
    for p in visited:
        row, want = stored[p], visits.loc[p]
        on = pd.Timestamp(want["on_"]).date().isoformat()
        assert (row.last_contact_on, row.last_visit_on, row.last_outcome, row.last_method) == (
            on,
            on,
            want["outcome"],
            "visit",
        )
    assert all(stored[p].last_contact_on is None for p in stored if p not in visits.index)


def official(user="kim", sgg=SGG):
    return Scope.district([sgg], user=user)


def bands(db, r):
    df = db.df(
        "SELECT h.pseudo_id, s.band FROM scores s JOIN households h USING (household_id) "
        "WHERE s.round_id = ? AND s.sgg_code = ?",
        [r, SGG],
    )
    return dict(zip(df["pseudo_id"], df["band"], strict=True))


def case_rows():
    c = sql.followup_cases
    with opstore.open_ops().connect() as con:
        return {r.pseudo_id: r for r in con.execute(select(c).where(c.c.sgg_code == SGG)).all()}


def test_cases_open_from_the_bands_once_per_round(db, ops_url):
    r = cases.latest_scored_round(db)
    truth = bands(db, r)
    at_risk = {p: b for p, b in truth.items() if b in ("high", "medium")}
    out = cases.sync_cases(db, official(), SGG, today=OPENED)
    assert out == {"round": r, "opened": len(at_risk), "moved": 0, "already": False}
    assert len(at_risk) > 20
    stored = case_rows()
    assert {p: row.tier for p, row in stored.items()} == at_risk
    assert {row.opened_on for row in stored.values()} == {"2025-09-26"}
    assert {row.tier_source for row in stored.values()} == {"band"}
    assert cases.sync_cases(db, official(), SGG, today=OPENED)["already"] is True
    assert len(case_rows()) == len(at_risk)


def test_the_due_list_this_week_and_a_contact_moves_the_date(db, ops_url):
    r = cases.latest_scored_round(db)
    cases.sync_cases(db, official(), SGG, today=OPENED)
    high = sorted(p for p, b in bands(db, r).items() if b == "high")
    # By Sunday 12 October: every 위험 case (7 days from 26 September → 3 October, 개천절, then
    # 추석 to 한글날 → Friday 10 October); 주의 cases are due on 27 October (26 is a Sunday).
    view = cases.due_list(db, official(), SGG, D(2025, 10, 12), "사례관리", today=D(2025, 10, 6))
    assert sorted(view.rows["pseudo_id"]) == high
    assert set(view.rows["due_on"]) == {"2025-10-10"}
    assert set(view.rows["task"]) == {"contact"} and not view.rows["overdue"].any()
    assert set(view.rows["next_visit_on"]) == {"2025-10-27"}
    assert view.cases == len(case_rows()) and view.round_id == r
    assert view.rows["address"].str.endswith("(합성 주소)").all()
    assert cases.case_history(view, int(view.rows["case_id"].iloc[0]))["what"].tolist() == ["사례 시작: 위험"]
    log = audit_rows()
    assert log["action"].tolist() == ["view_followups"]
    assert (log.iloc[0]["row_count"], log.iloc[0]["purpose"]) == (len(high), "사례관리")

    target = int(view.rows["case_id"].iloc[0])
    done = entries.record_contact(
        official(), target, D(2025, 10, 2), "phone", "contacted", shown=view.rows["case_id"], today=D(2025, 10, 6)
    )
    assert done["next_due_on"] == D(2025, 10, 10)  # 2 + 7 = 9 October, 한글날 → Friday
    visit = entries.record_contact(
        official(), target, D(2025, 10, 10), "visit", "need_confirmed", today=D(2025, 10, 10)
    )
    # contact due 17 October; the visit 30 days later is 9 November, a Sunday → 10 November
    assert visit["next_due_on"] == D(2025, 10, 17)
    after = cases.due_list(db, official(), SGG, D(2025, 10, 12), "사례관리", today=D(2025, 10, 10))
    assert target not in set(after.rows["case_id"]) and len(after.rows) == len(high) - 1
    later = cases.due_list(db, official(), SGG, D(2025, 11, 30), "사례관리", today=D(2025, 10, 10))
    row = later.rows.set_index("case_id").loc[target]
    assert (row["last_contact_on"], row["last_outcome"], row["contact_count"]) == ("2025-10-10", "need_confirmed", 2)
    assert row["next_visit_on"] == "2025-11-10"
    history = cases.case_history(later, target)["what"].tolist()
    assert history == ["방문: 욕구 확인", "전화: 접촉·상담(지원 불필요)", "사례 시작: 위험"]
    actions = audit_rows()["action"].tolist()
    assert actions == ["view_followups", "record_contact", "record_contact", "view_followups", "view_followups"]


def test_a_first_visit_entered_on_the_list_starts_the_case_clock(db, ops_url):
    """An official's first-visit outcome (위험 가구 목록) sets the case's last contact and visit to
    that day in the outcome's own transaction: no contact row, no second audit record."""
    from blindspot.casework import outcomes

    r = cases.latest_scored_round(db)
    cases.sync_cases(db, official(), SGG, today=OPENED)
    pid = sorted(p for p, b in bands(db, r).items() if b == "high")[0]
    before = case_rows()[pid]
    assert before.last_contact_on is None and before.last_visit_on is None
    outcomes.record_outcome(db, official(), pid, r, "need_confirmed", overwrite=True)
    after = case_rows()[pid]
    today = dt.date.today().isoformat()
    assert (after.last_contact_on, after.last_visit_on, after.last_outcome, after.last_method) == (
        today,
        today,
        "need_confirmed",
        "visit",
    )
    assert after.contact_count == 0  # first visits are the round's outcomes, not follow-up contacts
    assert audit_rows()["action"].tolist() == ["record_outcome"]
    # Another household's case is untouched.
    other = sorted(p for p, b in bands(db, r).items() if b == "high")[1]
    assert case_rows()[other].last_contact_on is None


def test_a_tier_change_is_audited_and_outlives_the_next_round(db, ops_url):
    r = cases.latest_scored_round(db)
    cases.sync_cases(db, official(), SGG, today=OPENED)
    stored = case_rows()
    pid_official, pid_band = sorted(p for p, row in stored.items() if row.tier == "high")[:2]
    changed = entries.set_tier(official(), stored[pid_official].case_id, "low")
    assert changed == {"case_id": stored[pid_official].case_id, "old": "high", "new": "low", "changed": True}
    record = audit_rows().iloc[-1]
    assert (record["action"], record["detail"], record["user_name"]) == ("set_followup_tier", "high->low", "kim")
    # A household scored "none" this round whose case still follows the model.
    none_pid = next(p for p, b in sorted(bands(db, r).items()) if b == "none")
    c, s = sql.followup_cases, sql.followup_syncs
    with opstore.open_ops().begin() as con:
        # As if the previous round had given pid_band 관심 and an earlier one opened none_pid.
        con.execute(update(c).where(c.c.pseudo_id == pid_band).values(tier="low"))
        con.execute(
            c.insert().values(
                sgg_code=SGG,
                pseudo_id=none_pid,
                tier="medium",
                tier_source="band",
                opened_on="2025-05-02",
                opened_round=r - 1,
                band_round=r - 1,
                contact_count=0,
                updated_at="2025-05-02T09:00:00",
            )
        )
        con.execute(update(s).where(s.c.sgg_code == SGG).values(round_id=r - 1))
    out = cases.sync_cases(db, official(), SGG, today=D(2025, 11, 3))
    assert (out["opened"], out["moved"]) == (0, 2)
    now = case_rows()
    assert (now[pid_band].tier, now[pid_band].tier_source) == ("high", "band")  # follows the new band
    assert (now[none_pid].tier, now[none_pid].opened_on) == ("closed", "2025-05-02")  # 종결, still followed
    assert (now[pid_official].tier, now[pid_official].tier_source) == ("low", "official")  # the official's tier stays
    assert audit_rows()["action"].tolist() == ["set_followup_tier"]  # the model's moves are history, not audit
    view = cases.due_list(db, official(), SGG, D(2026, 12, 31), "점검", today=D(2025, 11, 3))
    history = cases.case_history(view, now[none_pid].case_id)["what"].tolist()
    assert history == ["등급 변경 (모델 등급): 주의 → 종결"]
    shown = cases.display(view.rows)
    assert set(shown.loc[view.rows["pseudo_id"] == none_pid, "tier"]) == {"종결"}
    assert "None" not in shown.to_string() and "nan" not in shown.to_string()


def test_scope_and_refusals(db, ops_url):
    cases.sync_cases(db, official(), SGG, today=OPENED)
    case_id = next(iter(case_rows().values())).case_id
    with pytest.raises(AccessDenied):
        cases.sync_cases(db, official(sgg="29140"), SGG)
    with pytest.raises(AccessDenied):
        cases.due_list(db, official(sgg="29140"), SGG, D(2026, 1, 1), "점검")
    with pytest.raises(AccessDenied):
        cases.due_list(db, Scope.aggregates_only(), SGG, D(2026, 1, 1), "점검")
    with pytest.raises(PurposeRequired):
        cases.due_list(db, official(), SGG, D(2026, 1, 1), "")
    with pytest.raises(AccessDenied):  # a history belongs to a case of the list on screen
        cases.case_history(cases.DueList(SGG, OPENED, OPENED, None, 0, cases.pd.DataFrame({"case_id": []})), case_id)
    assert audit_rows().empty  # refused views show nothing and record nothing
    analyst = cases.due_list(db, Scope.analyst("lee"), SGG, D(2026, 1, 1), "점검", today=OPENED)
    assert "address" not in analyst.rows.columns and len(analyst.rows) > 0
    for scope, reason in ((Scope.analyst("lee"), "role"), (official("park", "29140"), "unknown")):
        with pytest.raises(entries.FollowupRefused) as refused:
            entries.record_contact(scope, case_id, OPENED, "phone", "contacted", today=OPENED)
        assert refused.value.reason == reason
    with pytest.raises(entries.FollowupRefused, match="목록에 없습니다"):
        entries.set_tier(official(), case_id, "closed", shown=[case_id + 100_000])
    with pytest.raises(BlindspotError, match="오늘"):
        entries.record_contact(official(), case_id, D(2025, 10, 1), "phone", "contacted", today=OPENED)
    with pytest.raises(BlindspotError, match="지원 종류"):
        entries.record_contact(official(), case_id, OPENED, "phone", "supported", today=OPENED)
    log = audit_rows()
    assert log["action"].tolist() == ["view_followups", "refused_followup", "refused_followup", "refused_followup"]
    assert log["detail"].tolist()[1:] == ["role", "unknown", "not_shown"]


def test_the_briefing_counts_follow_up_contacts_apart_and_hides_small_ones(db, ops_url):
    cases.sync_cases(db, official(), SGG, today=OPENED)
    ids = [row.case_id for row in case_rows().values()][:6]
    for n, case_id in enumerate(ids[:3]):
        entries.record_contact(official(), case_id, D(2025, 9, 27 + n), "phone", "contacted", today=D(2025, 10, 2))
    r = 20255  # 2025-R5: September–October
    assert cases.followup_contacts(db, official(), SGG, r) == 3
    assert cases.followup_contacts(db, official(sgg="29140"), "29140", r) == 0
    assert cases.followup_contacts(db, Scope.aggregates_only(5), SGG, r) is None
    assert cases.followup_contacts(db, Scope.aggregates_only(5), "29", r) is None  # 29110's 3 would show by subtraction
    assert cases.followup_contacts(db, Scope.aggregates_only(5), "29", 20256) == 0
    for case_id in ids[3:5]:
        entries.record_contact(official(), case_id, D(2025, 10, 1), "visit", "contacted", today=D(2025, 10, 2))
    assert cases.followup_contacts(db, Scope.aggregates_only(5), "29", r) == 5
    assert cases.followup_contacts(db, Scope.aggregates_only(5), "00", r) == 5


@pytest.mark.parametrize("due_by", [D(2025, 1, 26), D(2025, 1, 31), D(2025, 10, 5), D(2025, 10, 12), D(2025, 3, 2)])
def test_the_sql_filter_is_exactly_the_cadence(db, due_by):
    """The due list reads only due cases (a condition in SQL); it must pick exactly the cases
    whose next date, on the working calendar, is on or before ``due_by`` — around 설날, 추석
    and a 대체공휴일, with every tier, contacted or not, visited or not."""
    import numpy as np

    from blindspot.followup import cadence

    cases.sync_cases(db, official(), SGG, today=D(2024, 6, 1))
    c = sql.followup_cases
    rng = np.random.default_rng(int(due_by.strftime("%Y%m%d")))
    with opstore.open_ops().begin() as con:
        ids = con.execute(select(c.c.case_id)).scalars().all()
        for cid in ids:
            start = due_by - dt.timedelta(days=int(rng.integers(0, 220)))
            last = None if rng.random() < 0.3 else start + dt.timedelta(days=int(rng.integers(0, 40)))
            visit = None if rng.random() < 0.5 else start + dt.timedelta(days=int(rng.integers(0, 40)))
            con.execute(
                update(c)
                .where(c.c.case_id == cid)
                .values(
                    tier=cadence.TIERS[int(rng.integers(0, 4))],
                    opened_on=start.isoformat(),
                    last_contact_on=last and last.isoformat(),
                    last_visit_on=visit and visit.isoformat(),
                )
            )
        every = con.execute(select(c)).all()
    import pandas as pd

    frame = pd.DataFrame([dict(r._mapping) for r in every])
    expected = set(frame.loc[cadence.due_dates(frame)["due_on"] <= pd.Timestamp(due_by), "case_id"])
    got = set(cases.due_list(db, official(), SGG, due_by, "점검", today=due_by).rows["case_id"])
    assert got == expected and 0 < len(got) < len(every)


def test_cases_have_owners_and_each_official_sees_theirs(db, ops_url):
    """Whoever first contacts a case takes it; an official's "mine" list is their own cases and
    the untaken ones; taking and releasing are audited with the old and new owner."""
    cases.sync_cases(db, official(), SGG, today=OPENED)
    everyone = cases.due_list(db, official(), SGG, D(2025, 12, 31), "사례관리", today=D(2025, 10, 6))
    first, second = (int(x) for x in everyone.rows["case_id"].iloc[:2])
    assert everyone.rows["assigned_to"].isna().all()
    entries.record_contact(official("kim"), first, D(2025, 10, 2), "phone", "contacted", today=D(2025, 10, 6))
    taken = entries.take(official("lee"), second)
    assert taken == {"case_id": second, "old": None, "new": "lee"}

    def ids(user, owner):
        view = cases.due_list(db, official(user), SGG, D(2025, 12, 31), "사례관리", today=D(2025, 10, 6), owner=owner)
        return set(int(x) for x in view.rows["case_id"]), view

    kim_mine, view = ids("kim", "mine")
    assert first in kim_mine and second not in kim_mine
    assert view.rows.set_index("case_id").loc[first, "assigned_to"] == "kim"
    lee_mine, _ = ids("lee", "mine")
    assert second in lee_mine and first not in lee_mine
    untaken, _ = ids("kim", "untaken")
    assert not {first, second} & untaken and len(untaken) == len(everyone.rows) - 2
    # Releasing puts it back among everyone's.
    assert entries.take(official("lee"), second, mine=False) == {"case_id": second, "old": "lee", "new": None}
    assert second in ids("kim", "mine")[0]
    log = audit_rows()
    assigns = log[log["action"] == "assign_followup"]
    assert [json.loads(f)["new"] for f in assigns["filters"]] == ["lee", None]
    assert cases.display(view.rows)["assigned_to"].isin(["kim", "미지정"]).all()
    with pytest.raises(BlindspotError):
        cases.due_list(db, official(), SGG, D(2025, 12, 31), "사례관리", owner="boss")
