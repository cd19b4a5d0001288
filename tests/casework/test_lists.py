"""위험 가구 목록, exports, audit records and outcome entry against hand counts on the
modelled fixture (광주 and 세종, round 2024-R3 scored)."""

import io
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pytest
from ops import audit_rows

from blindspot import vocab
from blindspot.access import Scope, scope_for
from blindspot.casework import audit, exports, lists, outcomes
from blindspot.casework.audit import PurposeRequired
from blindspot.db.store import Store
from blindspot.demo import calibration
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.maps import counts as mapcounts

T, PREV = 20243, 20242
OFFICIAL = scope_for("district", "dong", ["29110"])
ANALYST = scope_for("analyst", "ana")


@pytest.fixture()
def db(modelled, tmp_path):
    """A writable copy of the modelled database (views and exports write audit records)."""
    path = tmp_path / "lists.duckdb"
    shutil.copy(modelled[0], path)
    store = Store(path)
    yield store
    store.close()


def _audit(store) -> pd.DataFrame:
    return audit_rows()


def _expected_list(store, sgg: str | None, bands=("high", "medium"), share=0.008) -> pd.DataFrame:
    """The trimmed list computed independently in pandas from the raw tables."""
    hh = store.df("SELECT household_id, pseudo_id, emd_code, sgg_code FROM households")
    sc = store.df("SELECT household_id, probability, band, audit_pick FROM scores WHERE round_id = ?", [T])
    df = sc.merge(hh, on="household_id")
    if sgg:
        df, hh = df[df["sgg_code"] == sgg], hh[hh["sgg_code"] == sgg]
    size = hh.groupby("emd_code").size()
    cap = np.maximum(1, np.floor(size * share + 0.5)).astype(int)
    # The random audit sample is on the list besides the bands, never trimmed, ranked apart.
    df = df[df["band"].isin(bands) | df["audit_pick"]].sort_values(
        ["probability", "pseudo_id"], ascending=[False, True]
    )
    df["r"] = df.groupby(["emd_code", "audit_pick"]).cumcount() + 1
    return df[(df["r"] <= df["emd_code"].map(cap)) | df["audit_pick"]]


def test_the_audit_sample_is_marked_on_the_list(db):
    """Households of the random audit sample are on the list, marked 무작위 점검, beyond the
    읍면동's capacity; the others are marked 명단 and stay within it."""
    rows = lists.risk_list(db, ANALYST, lists.ListFilters(T, area="29"), "점검")
    picks = db.df(
        "SELECT h.pseudo_id FROM scores s JOIN households h USING (household_id) "
        "WHERE s.round_id = ? AND s.sgg_code LIKE '29%' AND s.audit_pick",
        [T],
    )["pseudo_id"]
    assert len(picks) > 0
    marked = rows[rows["selection"] == lists.AUDIT_PICK]
    assert sorted(marked["pseudo_id"]) == sorted(picks)
    assert set(rows["selection"]) == {lists.LISTED, lists.AUDIT_PICK}
    without = lists.risk_list(db, ANALYST, lists.ListFilters(T, area="29", audit=False), "점검")
    # Without the sample only its households leave (a pick in the bands stays, still marked).
    gone = set(rows["pseudo_id"]) - set(without["pseudo_id"])
    assert gone and gone <= set(picks) and set(without["pseudo_id"]) <= set(rows["pseudo_id"])


def test_official_list_is_trimmed_scoped_and_addressed(db):
    rows = lists.risk_list(db, OFFICIAL, lists.ListFilters(T), "방문 계획")
    expected = _expected_list(db, "29110")
    assert len(rows) == len(expected) > 0
    assert rows["pseudo_id"].tolist() == expected["pseudo_id"].tolist()
    assert set(rows["sgg_code"]) == {"29110"}
    assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
    assert rows["probability"].is_monotonic_decreasing
    assert set(rows["band"]) <= {"위험", "주의"}
    assert (rows.groupby("emd_code")["rank_listed"].max() <= rows.groupby("emd_code")["rank_listed"].size()).all()
    assert rows["reason_1"].notna().all() and rows["reason_1"].str.contains("[가-힣]").all()
    # Address: the official's own area, synthetic and deterministic.
    first = rows.iloc[0]
    full = db.scalar("SELECT full_name FROM regions WHERE code = ?", [first["emd_code"]])
    assert first["address"] == lists.synthetic_address(full, first["pseudo_id"])
    assert first["address"].startswith(full) and first["address"].endswith("(합성 주소)")
    assert "household_id" not in rows


@pytest.mark.parametrize("scope", [ANALYST, scope_for("admin", "adm")])
def test_national_roles_see_no_address(db, scope):
    rows = lists.risk_list(db, scope, lists.ListFilters(T, area="29"), "점검")
    assert "address" not in rows
    assert len(rows) == len(_expected_list(db, None).query("sgg_code.str.startswith('29')", engine="python"))


def test_presenter_and_missing_purpose_are_refused_without_record(db):
    before = len(_audit(db))
    with pytest.raises(AccessDenied):
        lists.risk_list(db, scope_for("presenter", "pre"), lists.ListFilters(T), "점검")
    with pytest.raises(PurposeRequired):
        lists.risk_list(db, ANALYST, lists.ListFilters(T), "  ")
    with pytest.raises(PurposeRequired):
        lists.risk_list(db, ANALYST, lists.ListFilters(T), "기타")  # 기타 needs typed text
    with pytest.raises(AccessDenied):
        lists.risk_list(db, OFFICIAL, lists.ListFilters(T, area="29140"), "점검")  # outside the scope
    assert len(_audit(db)) == before


def test_each_view_leaves_exactly_one_record(db):
    filters = lists.ListFilters(T, household_type="one_person")
    rows = lists.risk_list(db, OFFICIAL, filters, audit.check_purpose("기타", "민원 확인"))
    log = _audit(db)
    assert len(log) == 1
    rec = log.iloc[0]
    assert (rec["user_name"], rec["role"], rec["action"], rec["scope"]) == (
        "dong",
        "district",
        "view_list",
        "district:29110",
    )
    assert rec["row_count"] == len(rows) and rec["purpose"] == "기타: 민원 확인" and rec["file_hash"] is None
    assert '"household_type": "one_person"' in rec["filters"] and '"round_id": 20243' in rec["filters"]


def test_filters_match_raw_tables(db):
    base = dict(round_id=T, area="29110", bands=("high", "medium", "low", "none"), capacity=None)
    one = lists.risk_list(db, ANALYST, lists.ListFilters(**base, household_type="one_person"), "점검")
    sizes = db.df("SELECT pseudo_id, household_size, head_age FROM households").set_index("pseudo_id")
    assert len(one) == int(
        db.scalar(
            "SELECT count(*) FROM scores s JOIN households h USING (household_id) "
            "WHERE s.round_id = ? AND h.sgg_code = '29110' AND h.household_size = 1",
            [T],
        )
    )
    assert (sizes.loc[one["pseudo_id"], "household_size"] == 1).all()
    old = lists.risk_list(db, ANALYST, lists.ListFilters(**base, age_band="65_200"), "점검")
    assert len(old) > 0 and (sizes.loc[old["pseudo_id"], "head_age"] >= 65).all()

    new = lists.risk_list(db, ANALYST, lists.ListFilters(**base, new_only=True), "점검")
    expected_new = set(
        db.df(
            "SELECT DISTINCT h.pseudo_id FROM observations o JOIN households h USING (household_id) "
            "WHERE o.round_id = ? AND o.sgg_code = '29110' AND NOT EXISTS (SELECT 1 FROM observations p "
            "WHERE p.round_id = ? AND p.household_id = o.household_id AND p.indicator_code = o.indicator_code)",
            [T, PREV],
        )["pseudo_id"]
    )
    assert set(new["pseudo_id"]) == expected_new and new["new_signal"].all()

    unvisited = lists.risk_list(db, ANALYST, lists.ListFilters(**base, not_visited=True), "점검")
    visited = set(
        db.df(
            "SELECT h.pseudo_id FROM visits_now v JOIN households h USING (household_id) "
            "WHERE v.round_id = ? AND v.sgg_code = '29110'",
            [T],
        )["pseudo_id"]
    )
    assert visited and not (set(unvisited["pseudo_id"]) & visited) and not unvisited["visited"].any()

    code = db.scalar(
        "SELECT indicator_code FROM observations WHERE round_id = ? AND sgg_code = '29110' "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        [T],
    )
    by_ind = lists.risk_list(db, ANALYST, lists.ListFilters(**base, indicator=code), "점검")
    expected_ind = set(
        db.df(
            "SELECT h.pseudo_id FROM observations o JOIN households h USING (household_id) "
            "WHERE o.round_id = ? AND o.sgg_code = '29110' AND o.indicator_code = ?",
            [T, code],
        )["pseudo_id"]
    )
    assert set(by_ind["pseudo_id"]) == expected_ind
    health = lists.risk_list(db, ANALYST, lists.ListFilters(**base, domain="health"), "점검")
    assert 0 < len(health) < len(lists.risk_list(db, ANALYST, lists.ListFilters(**base), "점검"))


def test_summary_suppresses_small_counts(db):
    filters = lists.ListFilters(T, area="29110")
    open_ = lists.risk_summary(db, ANALYST, filters, "emd", k=1)
    hand = db.df(
        "SELECT emd_code AS code, count(*) FILTER (WHERE band = 'high') AS high FROM scores "
        "WHERE round_id = ? AND sgg_code = '29110' GROUP BY 1",
        [T],
    ).set_index("code")["high"]
    assert open_.set_index("code")["high"].astype(int).to_dict() == hand.to_dict()
    presenter = lists.risk_summary(db, scope_for("presenter", "pre", min_count=5), filters, "emd")
    for col in ("scored", "high", "medium", "low", "visited_at_risk"):
        shown = presenter[col].dropna()
        assert ((shown == 0) | (shown >= 5)).all()
    high = presenter.set_index("code")["high"]
    small = hand[(hand > 0) & (hand < 5)]
    assert len(small) > 0 and high.loc[small.index].isna().all()
    big = hand[hand >= 5]
    assert (high.loc[big.index] == big).all()


def test_csv_export_reads_back_and_is_audited(db):
    filters = lists.ListFilters(T, area="29110")
    before = len(_audit(db))
    f = exports.export_risk_list(db, OFFICIAL, filters, "사례관리", "csv")
    assert f.data[:3] == b"\xef\xbb\xbf" and f.file_name.endswith(".csv") and f.mime == "text/csv"
    back = pd.read_csv(io.BytesIO(f.data), encoding="utf-8-sig", dtype={"가명 ID": str})
    expected = exports.list_frame(lists._masked_rows(db, OFFICIAL, filters, "사례관리")[0])
    assert back.columns.tolist() == expected.columns.tolist() and "주소" in back.columns
    assert back["가명 ID"].tolist() == expected["가명 ID"].tolist()
    assert back["읍면동"].tolist() == expected["읍면동"].tolist()  # Korean intact
    assert back["위기 확률"].tolist() == pytest.approx(expected["위기 확률"].tolist())
    log = _audit(db)
    assert len(log) == before + 1
    rec = log.iloc[-1]
    assert (rec["action"], rec["row_count"], rec["purpose"], rec["file_hash"]) == (
        "export_list",
        f.rows,
        "사례관리",
        audit.sha256(f.data),
    )


def test_xlsx_export_reads_back_with_metadata(db, modelled):
    filters = lists.ListFilters(T, area="29")
    f = exports.export_risk_list(db, ANALYST, filters, "점검", "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(f.data), read_only=True)
    assert wb.sheetnames == ["위험 가구 목록", "정보"]
    meta = {k: v for k, v in wb["정보"].iter_rows(min_row=2, values_only=True)}
    assert meta["차수"] == "2024-R3" and meta["모델 버전"] == modelled[2]["version"]
    assert meta["행 수"] == f.rows and meta["보안"] == exports.CONFIDENTIAL
    assert meta["내보낸 사람"] == "ana (분석가)" and meta["목적"] == "점검" and "지역 코드: 29" in meta["필터"]
    assert "차수: 2024년 3차" in meta["필터"] and "{" not in meta["필터"]  # Korean words, not JSON
    table = pd.read_excel(io.BytesIO(f.data), sheet_name="위험 가구 목록")
    expected = exports.list_frame(lists._masked_rows(db, ANALYST, filters, "점검")[0])
    assert len(table) == f.rows == len(expected)
    assert table["가명 ID"].tolist() == expected["가명 ID"].tolist()
    assert table["사유 1"].tolist() == expected["사유 1"].tolist()
    assert "주소" not in table.columns
    assert _audit(db).iloc[-1]["file_hash"] == audit.sha256(f.data)


def test_zero_row_export_gives_no_file_and_no_record(db):
    before = len(_audit(db))
    empty = lists.ListFilters(T, area="29110", household_type="one_person", age_band="20_39", indicator="NO_SUCH")
    for fmt in ("csv", "xlsx"):
        with pytest.raises(exports.EmptyExport, match="파일을 만들지 않았습니다"):
            exports.export_risk_list(db, ANALYST, empty, "점검", fmt)
    assert len(_audit(db)) == before


def test_summary_export_says_it_suppresses(db):
    f = exports.export_summary(db, scope_for("presenter", "pre"), lists.ListFilters(T, area="29110"), "emd", fmt="xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(f.data), read_only=True)
    meta = {k: v for k, v in wb["정보"].iter_rows(min_row=2, values_only=True)}
    assert "k = 5" in meta["소수 억제"]
    table = pd.read_excel(io.BytesIO(f.data), sheet_name="지역별 집계")
    assert (table.loc[table["위험"].isna(), "비고"] == "5 미만은 비공개 (소수 억제)").all()
    assert table["위험"].isna().any()
    csv = pd.read_csv(
        io.BytesIO(exports.export_summary(db, ANALYST, lists.ListFilters(T, area="29110"), fmt="csv").data),
        encoding="utf-8-sig",
    )
    assert csv["지역"].str.startswith("광주광역시 동구").all()
    with pytest.raises(exports.EmptyExport):
        exports.export_summary(db, ANALYST, lists.ListFilters(20236, area="29110"))  # round not scored


def test_outcome_entry_feeds_maps_and_labels(db):
    target = db.df(
        "SELECT h.household_id, h.pseudo_id, s.emd_code FROM scores s JOIN households h USING (household_id) "
        "WHERE s.round_id = ? AND s.sgg_code = '29110' AND household_id NOT IN "
        "(SELECT household_id FROM visits_now WHERE round_id = ?) ORDER BY s.probability DESC LIMIT 1",
        [T, T],
    ).iloc[0]
    before = mapcounts.region_counts(db, Scope.all_areas(), "emd", T).loc[target["emd_code"], "visited"]
    result = outcomes.record_outcome(db, OFFICIAL, target["pseudo_id"], T, "supported", "긴급지원")
    assert result["action"] == "inserted" and result["channel"] == "local"
    row = db.df("SELECT * FROM visits_now WHERE round_id = ? AND household_id = ?", [T, int(target["household_id"])])
    assert len(row) == 1
    assert (row.loc[0, "channel"], row.loc[0, "outcome"], row.loc[0, "support_type"], row.loc[0, "recorded_by"]) == (
        "local",
        "supported",
        "긴급지원",
        "dong",
    )
    after = mapcounts.region_counts(db, Scope.all_areas(), "emd", T).loc[target["emd_code"], "visited"]
    assert after == before + 1
    labels = db.df(
        "SELECT household_id, label FROM visits_now v, LATERAL (SELECT (outcome IN "
        "('need_confirmed', 'supported', 'refused'))::INT AS label) WHERE round_id = ?",
        [T],
    )
    from blindspot.model import sql as model_sql

    chan = db.df(model_sql.CHANNEL_LABELS, {"t": T, "channels": ["system", "local"]}).set_index("household_id")
    assert chan.loc[int(target["household_id"]), "label"] == 1 and len(labels) > 0
    # A second entry replaces the first: still one visit row.
    again = outcomes.record_outcome(db, OFFICIAL, target["pseudo_id"], T, "unreachable", overwrite=True)
    assert again["action"] == "updated"
    assert (
        db.scalar(
            "SELECT count(*) FROM visits_now WHERE round_id = ? AND household_id = ?", [T, int(target["household_id"])]
        )
        == 1
    )
    log = _audit(db)
    assert log["action"].tolist() == ["record_outcome", "record_outcome"]


@pytest.mark.parametrize(
    "scope",
    [scope_for("district", "west", ["29140"]), ANALYST, scope_for("admin", "adm"), scope_for("presenter", "pre")],
)
def test_outcome_outside_scope_is_refused_and_audited(db, scope):
    pid = db.scalar(
        "SELECT h.pseudo_id FROM scores s JOIN households h USING (household_id) "
        "WHERE s.round_id = ? AND s.sgg_code = '29110' LIMIT 1",
        [T],
    )
    visits = db.scalar("SELECT count(*) FROM visits_now")
    with pytest.raises(AccessDenied):
        outcomes.record_outcome(db, scope, pid, T, "contacted")
    assert db.scalar("SELECT count(*) FROM visits_now") == visits
    rec = _audit(db).iloc[-1]
    assert (rec["action"], rec["user_name"], rec["row_count"]) == ("refused_outcome", scope.user, 0)
    assert pid in rec["filters"]


def test_outcome_needs_support_type_and_known_outcome(db):
    pid = db.scalar(
        "SELECT h.pseudo_id FROM scores s JOIN households h USING (household_id) "
        "WHERE s.round_id = ? AND s.sgg_code = '29110' LIMIT 1",
        [T],
    )
    with pytest.raises(BlindspotError, match="지원 종류"):
        outcomes.record_outcome(db, OFFICIAL, pid, T, "supported")
    with pytest.raises(BlindspotError, match="방문 결과는"):
        outcomes.record_outcome(db, OFFICIAL, pid, T, "visited")


def test_audit_log_is_admin_only_and_filters(db):
    lists.risk_list(db, OFFICIAL, lists.ListFilters(T), "방문 계획")
    exports.export_risk_list(db, ANALYST, lists.ListFilters(T, area="29110"), "점검", "csv")
    admin = scope_for("admin", "adm")
    assert len(audit.audit_log(admin)) == 2
    only = audit.audit_log(admin, user="ana")
    assert only["action"].tolist() == ["export_list"] and only["file_hash"].str.len().tolist() == [64]
    assert audit.audit_log(admin, action="view_list")["user_name"].tolist() == ["dong"]
    assert audit.audit_users(admin) == ["ana", "dong"]
    for scope in (ANALYST, OFFICIAL, scope_for("presenter", "pre")):
        with pytest.raises(AccessDenied):
            audit.audit_log(scope)


def test_vocab_support_types_match_generator():
    assert vocab.SUPPORT_TYPES == calibration.SUPPORT_TYPES


def test_xlsx_round_trips_types_and_korean():
    frame = pd.DataFrame(
        {
            "이름": ["이○○", "김<&>", None],
            "수": [1, 2, 3],
            "확률": [0.25, np.nan, 1.0],
            "방문": [True, False, True],
            "빈칸": ["", "a\x01b", "끝"],
        }
    )
    data = exports.xlsx_bytes(frame, "표", {"보안": exports.CONFIDENTIAL, "행 수": 3})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    rows = list(wb["표"].iter_rows(values_only=True))
    assert rows[0] == ("이름", "수", "확률", "방문", "빈칸")
    assert rows[1] == ("이○○", 1, 0.25, True, "")  # an empty text stays an (empty) text cell
    assert rows[2][:4] == ("김<&>", 2, None, False) and rows[2][4] == "ab"  # control characters dropped
    assert rows[3][0] is None and rows[3][1:4] == (3, 1.0, True)
    assert list(wb["정보"].iter_rows(values_only=True)) == [
        ("항목", "값"),
        ("보안", exports.CONFIDENTIAL),
        ("행 수", 3),
    ]
    back = pd.read_excel(io.BytesIO(data), sheet_name="표")
    assert back["수"].tolist() == [1, 2, 3] and back["이름"].iloc[0] == "이○○"


def test_export_100k_rows_within_budget():
    from blindspot.bench.run import export_seconds

    assert export_seconds(100_000) <= 20.0
