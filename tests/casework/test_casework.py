"""Household-level casework: which outcome entries are refused and audited, the
confirmation before an earlier outcome is replaced, one audit record per save, and what a
typed purpose must look like."""

import shutil

import pandas as pd
import pytest
from ops import audit_rows

from blindspot.access import scope_for
from blindspot.casework import audit, exports, lists, outcomes
from blindspot.casework.audit import PurposeRequired, check_purpose
from blindspot.casework.outcomes import OutcomeExists, OutcomeRefused
from blindspot.db.store import Store
from blindspot.errors import AccessDenied

T = 20243
OFFICIAL = scope_for("district", "dong", ["29110"])


@pytest.fixture()
def db(modelled, tmp_path):
    path = tmp_path / "casework.duckdb"
    shutil.copy(modelled[0], path)
    store = Store(path)
    yield store
    store.close()


def _audit(store) -> pd.DataFrame:
    return audit_rows()


def _visits(store) -> list:
    return store.rows("SELECT * FROM visits_now ORDER BY ALL")


def _listed(store, filters=None) -> pd.DataFrame:
    return lists._masked_rows(store, OFFICIAL, filters or lists.ListFilters(T), "점검")[0]


def _pid(store, band: str, sgg: str = "29110", visited: bool | None = None) -> str:
    cond = {
        None: "",
        True: "AND s.household_id IN (SELECT household_id FROM visits_now WHERE round_id = $t)",
        False: "AND s.household_id NOT IN (SELECT household_id FROM visits_now WHERE round_id = $t)",
    }[visited]
    return store.scalar(
        "SELECT h.pseudo_id FROM scores s JOIN households h USING (household_id) "
        f"WHERE s.round_id = $t AND s.sgg_code = $sgg AND s.band = $band {cond} "
        "ORDER BY s.probability DESC LIMIT 1",
        {"t": T, "sgg": sgg, "band": band},
    )


def _refused(store, scope, pid, reason, **kwargs):
    visits, before = _visits(store), len(_audit(store))
    with pytest.raises(OutcomeRefused) as info:
        outcomes.record_outcome(store, scope, pid, T, "contacted", **kwargs)
    assert info.value.reason == reason and str(info.value) == outcomes.REFUSALS[reason]
    assert isinstance(info.value, AccessDenied)
    assert _visits(store) == visits  # nothing written
    log = _audit(store)
    assert len(log) == before + 1  # exactly one record of the refused attempt
    rec = log.iloc[-1]
    assert (rec["action"], rec["user_name"], rec["row_count"], rec["detail"]) == (
        "refused_outcome",
        scope.user,
        0,
        reason,
    )
    assert f'"pseudo_id": "{pid}"' in rec["filters"]


def test_id_not_on_the_list_shown_is_refused_and_audited(db):
    shown = _listed(db)["pseudo_id"].tolist()
    _refused(db, OFFICIAL, shown[0], "not_shown", shown=shown[1:])
    # A household of the official's own area that the list (these filters) does not hold:
    low = _pid(db, "low")
    assert low not in shown
    _refused(db, OFFICIAL, low, "not_listed")
    # Trimmed by capacity: on the untrimmed list, not on the list shown.
    untrimmed = _listed(db, lists.ListFilters(T, capacity=None))["pseudo_id"]
    trimmed_out = next(p for p in untrimmed if p not in shown)
    _refused(db, OFFICIAL, trimmed_out, "not_listed", shown=shown + [trimmed_out])  # a page cannot vouch for it
    _refused(db, OFFICIAL, "H-NO-SUCH", "outside_scope")


def test_household_outside_the_scope_is_refused_even_if_the_page_lists_it(db):
    other = _pid(db, "high", sgg="29140")
    _refused(db, OFFICIAL, other, "outside_scope", shown=[other])
    for scope in (scope_for("analyst", "ana"), scope_for("admin", "adm"), scope_for("presenter", "pre")):
        _refused(db, scope, _pid(db, "high"), "role")


def test_band_none_household_is_refused_even_on_a_list_of_band_none(db):
    filters = lists.ListFilters(T, bands=("none",), capacity=None)
    listed = _listed(db, filters)["pseudo_id"].tolist()
    assert listed
    _refused(db, OFFICIAL, listed[0], "band_none", filters=filters, shown=listed)


def test_an_audit_draw_of_band_none_takes_its_outcome(db):
    """A household of the random audit sample is visited whatever its band: its outcome is taken
    (one record), while a band-none household that was not drawn stays refused."""
    row = db.df(
        "SELECT h.pseudo_id, s.sgg_code FROM scores s JOIN households h USING (household_id) "
        "WHERE s.round_id = ? AND s.audit_pick AND s.band = 'none' ORDER BY h.pseudo_id LIMIT 1",
        [T],
    )
    assert len(row) == 1
    pid, sgg = row.iloc[0]
    official = scope_for("district", "dong", [sgg])
    shown = lists._masked_rows(db, official, lists.ListFilters(T), "점검")[0]
    assert shown.set_index("pseudo_id").loc[pid, "selection"] == lists.AUDIT_PICK
    done = outcomes.record_outcome(db, official, pid, T, "contacted", shown=shown["pseudo_id"])
    assert done["action"] == "inserted" and _audit(db)["action"].tolist() == ["record_outcome"]


def test_overwrite_needs_confirmation_and_each_save_is_one_record(db):
    pid = _pid(db, "high", visited=False)
    shown = _listed(db)["pseudo_id"].tolist()
    assert pid in shown
    first = outcomes.record_outcome(db, OFFICIAL, pid, T, "supported", "긴급지원", shown=shown)
    assert first["action"] == "inserted"
    assert _audit(db)["action"].tolist() == ["record_outcome"]
    visits = _visits(db)
    with pytest.raises(OutcomeExists) as info:
        outcomes.record_outcome(db, OFFICIAL, pid, T, "unreachable", shown=shown)
    earlier = info.value.earlier
    assert (earlier["outcome"], earlier["support_type"], earlier["channel"], earlier["recorded_by"]) == (
        "supported",
        "긴급지원",
        "local",
        "dong",
    )
    assert "지원 연계 (긴급지원)" in str(info.value) and "입력 dong" in str(info.value)
    assert _visits(db) == visits and len(_audit(db)) == 1  # the question writes nothing
    again = outcomes.record_outcome(db, OFFICIAL, pid, T, "unreachable", shown=shown, overwrite=True)
    assert again["action"] == "updated"
    row = db.rows(
        "SELECT v.outcome, v.support_type, v.channel, v.recorded_by FROM visits_now v JOIN households h "
        "USING (household_id) WHERE v.round_id = ? AND h.pseudo_id = ?",
        [T, pid],
    )
    assert row == [("unreachable", None, "local", "dong")]
    log = _audit(db)
    assert log["action"].tolist() == ["record_outcome", "record_outcome"]
    assert log["detail"].tolist() == ["inserted", "updated"]


def test_an_earlier_system_visit_is_shown_before_it_is_replaced(db):
    pid = next(
        p
        for p in _listed(db)["pseudo_id"]
        if db.scalar(
            "SELECT count(*) FROM visits_now v JOIN households h USING (household_id) "
            "WHERE v.round_id = ? AND h.pseudo_id = ?",
            [T, p],
        )
    )
    with pytest.raises(OutcomeExists, match="시스템 기록"):
        outcomes.record_outcome(db, OFFICIAL, pid, T, "contacted")
    assert _audit(db).empty


# --- purpose text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, message",
    [
        (".", "4자 이상 200자 이하"),
        ("가" * 100_000, "4자 이상 200자 이하"),
        ("민원" + "가" * 199, "4자 이상 200자 이하"),
        ("민원\x00확인", "제어 문자"),
        ("민원\n확인", "제어 문자"),
        ("민원\t확인", "제어 문자"),
        ("\u202e민원 확인", "제어 문자"),  # right-to-left override
        ("민원\u2028확인", "제어 문자"),
        ("1234", "2자 이상"),
        ("....!!??", "2자 이상"),
        ("ㅋㅋㅋㅋ", "2자 이상"),  # jamo alone are not words
        ("가 1234", "2자 이상"),
        ("aaaa", "되풀이"),
        ("가가가가가", "되풀이"),
        ("abab", "되풀이"),
    ],
)
def test_meaningless_purpose_is_refused(typed, message):
    with pytest.raises(PurposeRequired, match=message) as info:
        check_purpose("기타", typed)
    if len(typed.strip()) > 1:
        assert typed.strip() not in str(info.value)  # the text (perhaps personal data) is not echoed
    with pytest.raises(PurposeRequired, match=message):
        check_purpose(typed)  # the same text passed by an API or the command line


@pytest.mark.parametrize(
    "typed", ["민원 확인", "Case review", "민원 2건 확인", "  긴급 복지 상담 요청 ", "민원 상담 " * 33]
)
def test_sensible_purpose_is_kept(typed):
    checked = check_purpose("기타", typed)
    assert checked == f"기타: {typed.strip()}"
    assert check_purpose(checked) == checked  # re-checking a checked purpose keeps it


def test_listed_purposes_need_no_text():
    for choice in audit.PURPOSES[:-1]:
        assert check_purpose(choice) == choice and check_purpose(choice, "\x00") == choice


def test_list_and_export_refuse_a_meaningless_purpose_without_a_record(db):
    for purpose in (".", "x" * 100_000, "민원\x07확인", "기타: ."):
        with pytest.raises(PurposeRequired):
            lists.risk_list(db, OFFICIAL, lists.ListFilters(T), purpose)
        with pytest.raises(PurposeRequired):
            exports.export_risk_list(db, OFFICIAL, lists.ListFilters(T), purpose, "csv")
    assert _audit(db).empty


def test_export_round_refuses_a_meaningless_purpose(small_db, tmp_path):
    from blindspot import cli

    src = tmp_path / "src.duckdb"
    shutil.copy(small_db, src)
    code = cli.main(
        [
            "export-round",
            "--round",
            "2024-R3",
            "--out",
            str(tmp_path / "x"),
            "--sgg",
            "36110",
            "--db",
            str(src),
            "--purpose",
            ".",
        ]
    )
    assert code == 2 and not (tmp_path / "x").exists()
