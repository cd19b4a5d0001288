"""Every public function of ``blindspot`` that takes a store and a scope, under every role
with hypothesis-drawn scopes and filters: no out-of-scope row, region code or pseudonymous
id escapes, no count between 1 and k - 1 is shown to a presenter, household rows are
refused to a presenter, addresses go only to district officials, the audit log only to
admins.

``test_every_scoped_function_is_covered`` introspects the package: a new public function
with ``store`` and ``scope`` parameters fails it until a runner is added to ``RUNNERS``.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops import audit_count, audit_rows

import blindspot
from blindspot import access
from blindspot.access import Scope, scope_for, scope_text
from blindspot.casework import audit, exports, lists, outcomes
from blindspot.casework.audit import PurposeRequired
from blindspot.db import queries
from blindspot.db.store import Store
from blindspot.errors import AccessDenied
from blindspot.geo import regions as geography
from blindspot.ingest import exchange
from blindspot.maps import counts as mapcounts
from blindspot.maps import data as mapdata
from blindspot.maps import hexgrid, hotspots
from blindspot.maps import render as maps
from blindspot.model import features, scoring

SGG = ["29110", "29140", "29155", "29170", "29200", "36110"]
ROUNDS = [20236, 20241, 20242, 20243]
STREAMLIT_MODULES = {
    "app.cache",
    "app.data",
    "app.lonely",
    "app.zonedata",
    "app.login",
    "app.widgets",
    "app.serve",
    "__main__",
}


@pytest.fixture(scope="module")
def db(modelled, tmp_path_factory):
    path = tmp_path_factory.mktemp("scope") / "scope.duckdb"
    shutil.copy(modelled[0], path)
    store = Store(path)
    yield store
    store.close()


@pytest.fixture(scope="module")
def owners(db) -> tuple[dict, dict]:
    """pseudo_id → 시군구 and household_id → 시군구 of every household (the ground truth)."""
    df = db.df("SELECT household_id, pseudo_id, sgg_code FROM households")
    return dict(zip(df["pseudo_id"], df["sgg_code"], strict=False)), dict(
        zip(df["household_id"], df["sgg_code"], strict=False)
    )


# --- strategies ---------------------------------------------------------------------------


@st.composite
def scopes(draw) -> Scope:
    role = draw(st.sampled_from(["admin", "analyst", "district", "presenter"]))
    codes = draw(st.lists(st.sampled_from(SGG + ["11110"]), min_size=1, max_size=3, unique=True))
    return scope_for(role, f"u-{role}", codes, min_count=draw(st.integers(2, 40)))


areas = st.sampled_from([None, "29", "36", *SGG, "2911051000", "11"])
rounds = st.sampled_from(ROUNDS)
list_filters = st.builds(
    lists.ListFilters,
    round_id=st.sampled_from([20242, 20243]),
    area=areas,
    bands=st.sampled_from([("high",), ("high", "medium"), ("high", "medium", "low", "none")]),
    household_type=st.sampled_from(list(lists.HOUSEHOLD_TYPES)),
    age_band=st.sampled_from(list(lists.AGE_BANDS)),
    new_only=st.booleans(),
    not_visited=st.booleans(),
    capacity=st.sampled_from([None, 0.008, 0.05]),
)
PROPERTY = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))


# --- checks -------------------------------------------------------------------------------


def in_scope(scope: Scope, code) -> bool:
    """A 2-digit code must touch the scope's 시도; 5- and 10-digit codes their 시군구."""
    code = str(code)
    if scope.is_national or code == "00":
        return True
    if len(code) == 2:
        return code in scope.sido_codes
    return code[:5] in scope.sgg_codes


def check_codes(scope: Scope, values) -> None:
    bad = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v)) and not in_scope(scope, v)]
    assert not bad, f"out-of-scope codes {bad[:5]} for {scope_text(scope)}"


def check_frame(scope: Scope, df: pd.DataFrame, owners=None, counts=()) -> None:
    for col in ("code", "sgg_code", "emd_code", "parent_code", "sido_code"):
        if col in df:
            check_codes(scope, df[col].dropna().astype(str))
    if owners is not None and "pseudo_id" in df:
        check_codes(scope, [owners[0][p] for p in df["pseudo_id"]])
    check_counts(scope, df, counts)


def check_counts(scope: Scope, df: pd.DataFrame, counts, k: int | None = None) -> None:
    k = scope.min_count if k is None else k
    if k <= 1:
        return
    for col in counts:
        if col in df:
            shown = pd.to_numeric(df[col], errors="coerce").dropna()
            small = shown[(shown > 0) & (shown < k)]
            assert small.empty, f"{col}: small counts {small.tolist()[:5]} shown with k={k}"


def household_call(scope: Scope, call, check):
    """Household-level functions: refused to presenters; refused when the area is outside
    the scope; otherwise checked."""
    try:
        result = call()
    except AccessDenied:
        return None
    assert scope.household_level, "household rows returned to an aggregates-only scope"
    check(result)
    return result


def allowed_or_denied(call):
    try:
        return call()
    except AccessDenied:
        return None


# --- runners: one per public scoped function ------------------------------------------------
COUNT_COLUMNS = [
    "households",
    "one_person",
    "one_person_20_39",
    "one_person_40_64",
    "one_person_65_plus",
    "signal_any",
    "visited",
    "confirmed",
    "supported",
    "at_risk",
]


def run_households_by_region(db, owners, data):
    scope, level, r = data.draw(scopes()), data.draw(st.sampled_from(["sido", "sgg", "emd"])), data.draw(rounds)
    df = queries.households_by_region(db, scope, level, r)
    check_frame(scope, df, counts=["households", "one_person"])


def run_overview(db, owners, data):
    scope = data.draw(scopes())
    out = queries.overview(db, scope, data.draw(rounds))
    check_frame(scope, out["by_region"], counts=["households", "one_person"])
    check_counts(scope, pd.DataFrame([out]), ["households", "one_person"])


def run_band_counts(db, owners, data):
    scope = data.draw(scopes())
    out = queries.band_counts(db, scope, data.draw(rounds))
    if out is not None:
        check_counts(scope, pd.DataFrame([out]), list(out))


def run_regions(db, owners, data):
    scope = data.draw(scopes())
    check_frame(scope, geography.regions(db, scope, data.draw(st.sampled_from(["sido", "sgg", "emd"]))))


def run_region(db, owners, data):
    scope = data.draw(scopes())
    row = geography.region(db, scope, data.draw(st.sampled_from(["29", "36", *SGG, "2911051000", "11110"])))
    if row is not None:
        check_codes(scope, [row["code"]])


def run_find_regions(db, owners, data):
    scope = data.draw(scopes())
    check_frame(scope, geography.find_regions(db, scope, data.draw(st.sampled_from(["동구", "광주", "세종", "동"]))))


def run_children(db, owners, data):
    scope = data.draw(scopes())
    check_frame(scope, geography.children(db, scope, data.draw(st.sampled_from(["29", "36", *SGG]))))


def run_region_geometries(db, owners, data):
    scope = data.draw(scopes())
    check_frame(scope, geography.region_geometries(db, scope, data.draw(st.sampled_from(["sido", "sgg", "emd"]))))


def run_layer_geometries(db, owners, data):
    scope = data.draw(scopes())
    check_codes(scope, maps.layer_geometries(db, scope, data.draw(st.sampled_from(["sido", "sgg", "emd"])))["codes"])


def run_narrow(db, owners, data):
    scope = data.draw(scopes())
    view = allowed_or_denied(lambda: access.narrow(db, scope, data.draw(areas)))
    if view is not None and view.sgg_codes is not None:
        check_codes(scope, view.sgg_codes)


def run_region_counts(db, owners, data):
    scope = data.draw(scopes())
    df = mapcounts.region_counts(
        db, scope, data.draw(st.sampled_from(["nation", "sido", "sgg", "emd"])), data.draw(rounds)
    ).reset_index()
    check_frame(scope, df, counts=[c for c in df.columns if c in COUNT_COLUMNS or c.startswith("domain_")])


def run_protected_counts(db, owners, data):
    scope, r = data.draw(scopes()), data.draw(rounds)
    df = mapcounts.protected_counts(db, scope, r).reset_index()
    check_frame(scope, df, counts=COUNT_COLUMNS)
    assert set(df["level"]) <= {"nation", "sido", "sgg", "emd"}


def run_region_measures(db, owners, data):
    scope = data.draw(scopes())
    df = allowed_or_denied(
        lambda: mapdata.region_measures(
            db, scope, data.draw(st.sampled_from(["sido", "sgg", "emd"])), data.draw(rounds), area=data.draw(areas)
        )
    )
    if df is not None:
        check_frame(scope, df, counts=COUNT_COLUMNS)


def run_map_view(db, owners, data):
    scope = data.draw(scopes())
    measure = data.draw(st.sampled_from(["households", "one_person", "visited", "at_risk", "one_person_share"]))
    df = allowed_or_denied(
        lambda: mapdata.map_view(
            db, scope, data.draw(st.sampled_from(["sido", "sgg", "emd"])), data.draw(rounds), measure, data.draw(areas)
        )
    )
    if df is not None:
        check_frame(scope, df, counts=["value"] if measure != "one_person_share" else [])


def run_region_profile(db, owners, data):
    scope = data.draw(scopes())
    out = allowed_or_denied(
        lambda: mapdata.region_profile(db, scope, data.draw(st.sampled_from(["29", *SGG])), data.draw(rounds))
    )
    if out is not None:
        check_codes(scope, [out["region"]["code"]])
        kpis = out["kpis"]
        check_counts(scope, kpis[kpis["unit"] == "count"], ["value", "parent"])
        check_counts(scope, out["bands"], ["count"])
        check_counts(scope, out["trend"], COUNT_COLUMNS)


def run_top_households(db, owners, data):
    scope = data.draw(scopes())
    code = data.draw(st.sampled_from(SGG + ["2911051000"]))
    household_call(
        scope, lambda: mapdata.top_households(db, scope, code, 20243, "점검"), lambda df: check_frame(scope, df, owners)
    )


def run_hex_cells(db, owners, data):
    scope = data.draw(scopes())
    k = data.draw(st.integers(5, 30))
    df = allowed_or_denied(
        lambda: hexgrid.hex_cells(db, scope, data.draw(st.sampled_from(SGG)), data.draw(rounds), 8, k)
    )
    if df is not None:
        assert (df["households"] >= max(k, scope.min_count)).all()
        check_counts(scope, df, ["one_person", "at_risk"])


def run_adjacency(db, owners, data):
    scope = data.draw(scopes())
    pairs = hotspots.adjacency(db, scope)
    check_codes(scope, [a for a, _ in pairs] + [b for _, b in pairs])


def run_emd_values(db, owners, data):
    scope = data.draw(scopes())
    df = allowed_or_denied(lambda: hotspots.emd_values(db, scope, data.draw(rounds), "households", data.draw(areas)))
    if df is not None:
        check_frame(scope, df, counts=["value"])


def run_hotspots(db, owners, data):
    scope = data.draw(scopes())
    df = allowed_or_denied(
        lambda: hotspots.hotspots(
            db,
            scope,
            20243,
            "one_person_share",
            data.draw(areas),
            data.draw(st.sampled_from(["gi", "moran"])),
            permutations=99,
        )
    )
    if df is not None:
        check_frame(scope, df)


def run_emerging_hotspots(db, owners, data):
    scope = data.draw(scopes())
    df = allowed_or_denied(lambda: hotspots.emerging_hotspots(db, scope, 20243, "one_person_share", data.draw(areas)))
    if df is not None:
        check_frame(scope, df)


def _check_list(scope, owners):
    def check(df):
        check_frame(scope, df, owners)
        assert ("address" in df) == (scope.role == "district")
        assert "household_id" not in df

    return check


def run_risk_list(db, owners, data):
    scope, filters = data.draw(scopes()), data.draw(list_filters)
    household_call(scope, lambda: lists.risk_list(db, scope, filters, "점검"), _check_list(scope, owners))


def run_risk_summary(db, owners, data):
    scope, filters, k = data.draw(scopes()), data.draw(list_filters), data.draw(st.integers(1, 20))
    df = allowed_or_denied(
        lambda: lists.risk_summary(db, scope, filters, data.draw(st.sampled_from(["sgg", "emd"])), k)
    )
    if df is not None:
        check_frame(scope, df)
        check_counts(scope, df, ["scored", "high", "medium", "low", "visited_at_risk"], max(k, scope.min_count))


def run_export_risk_list(db, owners, data):
    scope, filters = data.draw(scopes()), data.draw(list_filters)

    def check(f):
        back = pd.read_csv(io.BytesIO(f.data), encoding="utf-8-sig", dtype=str)
        check_codes(scope, [owners[0][p] for p in back["가명 ID"]])
        assert ("주소" in back) == (scope.role == "district")

    try:
        household_call(scope, lambda: exports.export_risk_list(db, scope, filters, "점검", "csv"), check)
    except exports.EmptyExport:  # no file only when the list itself is empty
        assert scope.household_level and lists.risk_list(db, scope, filters, "점검").empty


def run_export_summary(db, owners, data):
    scope, filters = data.draw(scopes()), data.draw(list_filters)
    try:
        f = allowed_or_denied(lambda: exports.export_summary(db, scope, filters, "emd", 5, "csv"))
    except exports.EmptyExport:  # no file only when the summary itself is empty
        assert lists.risk_summary(db, scope, filters, "emd", 5).empty
        return
    if f is not None:
        back = pd.read_csv(io.BytesIO(f.data), encoding="utf-8-sig", dtype={"지역 코드": str})
        check_codes(scope, back["지역 코드"])
        check_counts(
            scope, back, ["점수 산출 가구", "위험", "주의", "관심", "방문한 위험군 가구"], max(5, scope.min_count)
        )


def _admin_only(scope, call):
    try:
        out = call()
    except AccessDenied:
        assert scope.role != "admin"
        return None
    assert scope.role == "admin", "audit log shown to a non-admin"
    return out


def run_audit_log(db, owners, data):
    scope = data.draw(scopes())
    _admin_only(scope, lambda: audit.audit_log(scope, user=data.draw(st.sampled_from([None, "u-district"]))))


def run_audit_users(db, owners, data):
    scope = data.draw(scopes())
    _admin_only(scope, lambda: audit.audit_users(scope))


def run_export_audit(db, owners, data):
    scope = data.draw(scopes())
    try:
        _admin_only(scope, lambda: exports.export_audit(scope))
    except exports.EmptyExport:  # no file only when an admin's log is empty
        assert scope.role == "admin" and audit.audit_log(scope).empty


def run_record(db, owners, data):
    scope = data.draw(scopes())
    event = audit.record(scope, "view_list", {"round": 20243}, 1, "점검")
    log = audit_rows()
    row = tuple(log.loc[log["event_id"] == event, ["user_name", "role", "scope"]].iloc[0])
    assert row == (scope.user, scope.role, scope_text(scope))


def run_record_outcome(db, owners, data):
    scope = data.draw(scopes())
    sgg = data.draw(st.sampled_from(SGG))
    pid = db.scalar(
        "SELECT h.pseudo_id FROM scores s JOIN households h USING (household_id) "
        "WHERE s.round_id = 20243 AND s.sgg_code = ? ORDER BY s.probability DESC LIMIT 1",
        [sgg],
    )
    try:
        outcomes.record_outcome(db, scope, pid, 20243, "contacted", overwrite=True)
    except AccessDenied:
        assert not (scope.role == "district" and scope.allows_sgg(sgg))
        return
    assert scope.role == "district" and scope.allows_sgg(sgg)


def run_build_features(db, owners, data):
    scope = data.draw(scopes())
    df = features.build_features(db, data.draw(st.sampled_from([20242, 20243])), scope)
    check_codes(scope, [owners[1][h] for h in df["household_id"].tolist()[:2000]])


def run_sgg_batches(db, owners, data):
    scope = data.draw(scopes())
    check_codes(scope, [c for batch in scoring.sgg_batches(db, 20243, scope) for c in batch])


BRIEF_AREAS = ["29", "36", "29110", "29155", "36110", "11110"]


def _brief(db, scope, area, r):
    from blindspot.briefing import data as briefing

    return allowed_or_denied(lambda: briefing.build(db, scope, area, r))


def _check_brief(scope, b):
    check_frame(scope, b.ranking)
    counts = pd.DataFrame(
        [
            {
                k: v
                for k, v in b.kpis.items()
                if k in ("households", "one_person", "flagged", "contacted", "confirmed", "supported", "at_risk")
            }
        ]
    )
    check_counts(scope, counts, list(counts.columns), k=b.k)
    check_counts(scope, b.funnel, ["가구"], k=b.k)
    check_counts(scope, b.channels, ["발굴", "욕구 확인", "지원 연계"], k=b.k)
    assert b.k >= max(5, scope.min_count)


def run_briefing_build(db, owners, data):
    scope = data.draw(scopes())
    b = _brief(db, scope, data.draw(st.sampled_from(BRIEF_AREAS)), data.draw(rounds))
    if b is not None:
        assert b.area["code"] == "00" or in_scope(scope, b.area["code"])
        _check_brief(scope, b)


def run_save_targets(db, owners, data):
    from blindspot.briefing import data as briefing

    scope, area = data.draw(scopes()), data.draw(st.sampled_from(BRIEF_AREAS))
    value = float(data.draw(st.integers(1, 500)))
    saved = allowed_or_denied(lambda: briefing.save_targets(db, scope, area, {"flagged": value}, scope.user) or True)
    if saved:
        # targets: an admin, or the district official for a 시군구 of their own
        assert scope.role == "admin" or (scope.role == "district" and area in scope.sgg_codes)
        assert briefing.targets(db, area)["flagged"] == value
    else:
        assert not (scope.role == "admin" or (scope.role == "district" and area in scope.sgg_codes))


def _run_briefpack(fn_name):
    def run(db, owners, data):
        import matplotlib.pyplot as plt

        from blindspot.briefing import pack as briefpack

        # Rendering costs seconds: every other example only builds (the data is what is scoped).
        scope = data.draw(scopes())
        b = _brief(db, scope, data.draw(st.sampled_from(BRIEF_AREAS)), 20243)
        if b is None or not data.draw(st.booleans()):
            return
        out = getattr(briefpack, fn_name)(db, scope, b)
        if fn_name == "render":
            from pypdf import PdfReader

            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(out[0])).pages)
            assert not any(pid in text for pid in list(owners[0])[:2000])
        elif fn_name == "map_png":  # the same map as map_one_person, as PNG bytes
            assert out[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            plt.close(out)

    return run


def run_round_frames(db, owners, data):
    scope = data.draw(scopes())
    frames = household_call(
        scope,
        lambda: exchange.round_frames(db, scope, "2024-R3", data.draw(st.booleans())),
        lambda out: [check_frame(scope, frame, owners) for frame in out],
    )
    if frames is not None and scope.is_national:
        assert len(frames[0]) > 0


def run_export_round(db, owners, data):
    import tempfile

    scope = data.draw(scopes())
    with tempfile.TemporaryDirectory() as out:
        result = household_call(scope, lambda: exchange.export_round(db, scope, "2024-R3", out, "csv"), lambda r: None)
        if result is not None:
            written = pd.read_csv(result["households_file"], dtype=str)
            check_frame(scope, written, owners)


def run_export_round_audited(db, owners, data):
    import stat
    import tempfile

    scope = data.draw(scopes())
    before = audit_count()
    with tempfile.TemporaryDirectory() as out:
        result = household_call(
            scope,
            lambda: exchange.export_round_audited(db, scope, "2024-R3", out, "csv", False, "점검"),
            lambda r: None,
        )
        if result is None:
            assert audit_count() == before  # refused: nothing written, nothing logged
            return
        check_frame(scope, pd.read_csv(result["households_file"], dtype=str), owners)
        assert stat.S_IMODE(Path(result["households_file"]).stat().st_mode) == 0o600
    assert audit_count() == before + 1


def run_round_aggregates(db, owners, data):
    scope = data.draw(scopes())
    out = household_call(scope, lambda: exchange.round_aggregates(db, scope, 20243), lambda r: None)
    if out is not None:
        for frame in out.values():
            check_frame(scope, frame)


REACH_COUNTS = ["households", "found", "supported"]


def run_reach_gap(db, owners, data):
    from blindspot.reach import figures as reach

    scope = data.draw(scopes())
    level = data.draw(st.sampled_from(["nation", "sido", "sgg", "emd"]))
    df = allowed_or_denied(lambda: reach.reach_gap(db, scope, level, data.draw(rounds), data.draw(areas)))
    if df is not None:
        check_frame(scope, df, counts=REACH_COUNTS)
        hidden = df["found"].isna() | df["expected"].isna()
        assert df.loc[hidden, ["gap", "ratio", "ratio_low", "ratio_high"]].isna().all().all()


def run_gap_rate(db, owners, data):
    from blindspot.reach import figures as reach

    scope = data.draw(scopes())
    level = data.draw(st.sampled_from(["sgg", "emd"]))
    rate = allowed_or_denied(lambda: reach.gap_rate(db, scope, level, data.draw(rounds), data.draw(areas)))
    if rate is not None:
        check_codes(scope, rate.index)


def run_reach_trend(db, owners, data):
    from blindspot.reach import figures as reach

    scope = data.draw(scopes())
    df = allowed_or_denied(lambda: reach.reach_trend(db, scope, data.draw(rounds), data.draw(areas)))
    if df is not None:
        check_counts(scope, df, REACH_COUNTS)


def run_gap_hotspots(db, owners, data):
    from blindspot.reach import figures as reach

    scope = data.draw(scopes())
    df = allowed_or_denied(lambda: reach.gap_hotspots(db, scope, 20243, data.draw(areas), permutations=99))
    if df is not None:
        check_frame(scope, df)


def run_reach_report(db, owners, data):
    from blindspot.reach import cli as reach_cli

    scope = data.draw(scopes())
    out = reach_cli.report(db, scope, data.draw(st.sampled_from(["sgg", "emd"])), 20243)
    areas = pd.DataFrame(out["areas"])
    check_frame(scope, areas[areas["cls"] != "no_data"], counts=REACH_COUNTS)
    check_counts(scope, pd.DataFrame([out["totals"]]), REACH_COUNTS)


def run_map_reach_gap(db, owners, data):
    import matplotlib.pyplot as plt

    from blindspot.reach.briefpage import map_reach_gap

    scope = data.draw(scopes())
    b = _brief(db, scope, data.draw(st.sampled_from(BRIEF_AREAS)), 20243)
    if b is None or not data.draw(st.booleans()):
        return
    fig = map_reach_gap(db, scope, b)
    text = " ".join(t.get_text() for t in fig.texts)
    plt.close(fig)
    assert "None" not in text and "nan" not in text


def _zone_ranking(db, scope, data, replicates=20):
    from blindspot.zones import figures as zones

    level = data.draw(st.sampled_from(["sgg", "emd"]))
    choices = SGG + ["11110"] if level == "emd" else [None, "29", "36", "11"]
    area = data.draw(st.sampled_from(choices))
    try:
        return zones.zone_ranking(db, scope, level, 20243, area, replicates=replicates)
    except (AccessDenied, zones.ZonesError):
        return None


def run_zone_ranking(db, owners, data):
    scope = data.draw(scopes())
    ranking = _zone_ranking(db, scope, data)
    if ranking is not None:
        check_frame(scope, ranking.table, counts=["households"])
        assert ranking.k == access.threshold(scope)


def run_zone_round_components(db, owners, data):
    from blindspot.zones import figures as zones

    scope = data.draw(scopes())
    level = data.draw(st.sampled_from(["sgg", "emd"]))
    df = allowed_or_denied(lambda: zones.round_components(db, scope, level, data.draw(rounds), data.draw(areas)))
    if df is not None:
        check_frame(scope, df.reset_index(), counts=["households"])


def run_zone_elderly_share(db, owners, data):
    from blindspot.zones import figures as zones

    scope = data.draw(scopes())
    share = zones.elderly_share(db, scope, data.draw(st.sampled_from(["sgg", "emd"])))
    check_codes(scope, share.index)
    assert ((share.dropna() >= 0) & (share.dropna() <= 1)).all()  # an unpopulated 읍면동 has none


def _run_zone_brief(fn_name):
    def run(db, owners, data):
        import matplotlib.pyplot as plt

        from blindspot.zones import brief

        scope = data.draw(scopes())
        ranking = _zone_ranking(db, scope, data)
        # Drawing costs seconds: every other example only ranks (the data is what is scoped).
        if ranking is None or not data.draw(st.booleans()):
            return
        out = getattr(brief, fn_name)(db, scope, ranking)
        if fn_name == "render":
            from pypdf import PdfReader

            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(out)).pages)
        else:
            text = " ".join(t.get_text() for t in out.texts)
            plt.close(out)
        assert "None" not in text and "nan" not in text
        assert not any(pid in text for pid in list(owners[0])[:2000])

    return run


def run_sync_cases(db, owners, data):
    from blindspot.followup import cases

    scope, sgg = data.draw(scopes()), data.draw(st.sampled_from(SGG))
    out = household_call(scope, lambda: cases.sync_cases(db, scope, sgg), lambda r: None)
    if out is not None:
        assert scope.allows_sgg(sgg) and out["round"] == 20243


def run_due_list(db, owners, data):
    import datetime as dt

    from blindspot.followup import cases

    scope, sgg = data.draw(scopes()), data.draw(st.sampled_from(SGG))
    before = audit_count()

    def call():
        cases.sync_cases(db, scope, sgg)
        return cases.due_list(db, scope, sgg, dt.date.today() + dt.timedelta(days=400), "점검")

    def check(view):
        check_frame(scope, view.rows, owners)
        assert set(view.rows["pseudo_id"]) <= {p for p, s in owners[0].items() if s == sgg}
        assert ("address" in view.rows) == (scope.role == "district")
        if len(view.rows):
            first = int(view.rows["case_id"].iloc[0])
            assert set(cases.case_history(view, first)["case_id"]) == {first}

    if household_call(scope, call, check) is None:
        assert audit_count() == before  # refused: nothing shown, nothing recorded
    else:
        assert audit_count() == before + 1


def run_followup_contacts(db, owners, data):
    from blindspot.followup import cases

    scope, area = data.draw(scopes()), data.draw(st.sampled_from(["00", "29", "36", *SGG]))
    n = cases.followup_contacts(db, scope, area, 20243, data.draw(st.integers(0, 10)))
    assert n is None or n == 0 or n >= max(scope.min_count, 1)


LONELY_COUNTS = [
    "one_person",
    "one_person_20_39",
    "one_person_40_64",
    "one_person_65_plus",
    "lonely_any",
    "lonely_20_39",
    "lonely_40_64",
    "lonely_65_plus",
    "men_40_64",
    "men_40_64_lonely",
]


def run_lonely_stage_counts(db, owners, data):
    from blindspot.lonely import figures as lonely

    scope = data.draw(scopes())
    level = data.draw(st.sampled_from(["nation", "sido", "sgg", "emd"]))
    df = allowed_or_denied(lambda: lonely.stage_counts(db, scope, level, data.draw(rounds), area=data.draw(areas)))
    if df is not None:
        check_frame(scope, df.reset_index(), counts=LONELY_COUNTS)


def run_lonely_region_frame(db, owners, data):
    from blindspot.lonely import figures as lonely

    scope = data.draw(scopes())
    level = data.draw(st.sampled_from(["sido", "sgg", "emd"]))
    df = allowed_or_denied(lambda: lonely.region_frame(db, scope, level, data.draw(rounds), data.draw(areas)))
    if df is not None:
        check_frame(scope, df, counts=LONELY_COUNTS)
        assert df.loc[df["lonely_any"].isna() | df["one_person"].isna(), "lonely_any_rate"].isna().all()


def run_lonely_grade_counts(db, owners, data):
    from blindspot.lonely import figures as lonely

    scope = data.draw(scopes())
    view = allowed_or_denied(lambda: access.narrow(db, scope, data.draw(areas)))
    if view is None:
        return
    counts = lonely.grade_counts(db, view, 20243)
    if not scope.household_level:
        assert set(counts.values()) == {None}
    graded = db.df(
        "SELECT count(*) FROM households WHERE one_person AND valid_from_round <= 20243 "
        "AND (valid_to_round IS NULL OR valid_to_round >= 20243) AND " + access.scope_sql(view, "sgg_code")[0],
        access.scope_sql(view, "sgg_code")[1],
    ).iloc[0, 0]
    if scope.household_level:
        assert sum(counts.values()) == graded  # the scope's one-person households, no other


def run_lonely_area_kpi(db, owners, data):
    from blindspot.lonely import figures as lonely

    scope = data.draw(scopes())
    area = data.draw(st.sampled_from(["00", "29", "36", *SGG]))
    value = allowed_or_denied(lambda: lonely.area_kpi(db, scope, area, 20243))
    if value is not None:
        own = scope.sgg_codes if len(area) == 5 else scope.sido_codes
        assert area == "00" or scope.is_national or area in own
        assert 0 <= value <= 1000


def run_lonely_report(db, owners, data):
    from blindspot.errors import BlindspotError
    from blindspot.lonely import cli as lonely_cli

    scope = data.draw(scopes())
    sgg = data.draw(st.sampled_from(SGG))
    try:
        out = lonely_cli.report(db, scope, sgg, 20243)
    except BlindspotError:
        assert not scope.allows_sgg(sgg) or sgg not in SGG
        return
    assert scope.allows_sgg(sgg)
    check_counts(scope, pd.DataFrame(out["groups"]), ["one_person", "lonely"])
    check_counts(scope, pd.DataFrame([out["total"]]), ["one_person", "lonely"])


RUNNERS = {
    "db.queries.households_by_region": run_households_by_region,
    "db.queries.overview": run_overview,
    "db.queries.band_counts": run_band_counts,
    "geo.regions.regions": run_regions,
    "geo.regions.region": run_region,
    "geo.regions.find_regions": run_find_regions,
    "geo.regions.children": run_children,
    "geo.regions.region_geometries": run_region_geometries,
    "maps.render.layer_geometries": run_layer_geometries,
    "access.scope.narrow": run_narrow,
    "maps.counts.region_counts": run_region_counts,
    "maps.counts.protected_counts": run_protected_counts,
    "maps.data.region_measures": run_region_measures,
    "maps.data.map_view": run_map_view,
    "maps.data.region_profile": run_region_profile,
    "maps.data.top_households": run_top_households,
    "maps.hexgrid.hex_cells": run_hex_cells,
    "maps.hotspots.adjacency": run_adjacency,
    "maps.hotspots.emd_values": run_emd_values,
    "maps.hotspots.hotspots": run_hotspots,
    "maps.hotspots.emerging_hotspots": run_emerging_hotspots,
    "ingest.exchange.round_frames": run_round_frames,
    "ingest.exchange.export_round": run_export_round,
    "ingest.exchange.export_round_audited": run_export_round_audited,
    "ingest.exchange.round_aggregates": run_round_aggregates,
    "casework.lists.risk_list": run_risk_list,
    "casework.lists.risk_summary": run_risk_summary,
    "casework.exports.export_risk_list": run_export_risk_list,
    "casework.exports.export_summary": run_export_summary,
    "casework.exports.export_audit": run_export_audit,
    "casework.audit.audit_log": run_audit_log,
    "casework.audit.audit_users": run_audit_users,
    "casework.audit.record": run_record,
    "casework.outcomes.record_outcome": run_record_outcome,
    "followup.cases.sync_cases": run_sync_cases,
    "followup.cases.due_list": run_due_list,
    "followup.cases.followup_contacts": run_followup_contacts,
    "model.features.build_features": run_build_features,
    "model.scoring.sgg_batches": run_sgg_batches,
    "briefing.data.build": run_briefing_build,
    "briefing.data.save_targets": run_save_targets,
    "briefing.pack.map_one_person": _run_briefpack("map_one_person"),
    "briefing.pack.map_hotspots": _run_briefpack("map_hotspots"),
    "briefing.pack.render": _run_briefpack("render"),
    "briefing.pack.map_png": _run_briefpack("map_png"),
    "reach.figures.reach_gap": run_reach_gap,
    "reach.figures.reach_trend": run_reach_trend,
    "reach.figures.gap_rate": run_gap_rate,
    "reach.figures.gap_hotspots": run_gap_hotspots,
    "reach.cli.report": run_reach_report,
    "reach.briefpage.map_reach_gap": run_map_reach_gap,
    "lonely.figures.stage_counts": run_lonely_stage_counts,
    "lonely.figures.region_frame": run_lonely_region_frame,
    "lonely.figures.grade_counts": run_lonely_grade_counts,
    "lonely.cli.report": run_lonely_report,
    "lonely.figures.area_kpi": run_lonely_area_kpi,
    "zones.figures.zone_ranking": run_zone_ranking,
    "zones.figures.round_components": run_zone_round_components,
    "zones.figures.elderly_share": run_zone_elderly_share,
    "zones.brief.page": _run_zone_brief("page"),
    "zones.brief.render": _run_zone_brief("render"),
}


# Casework functions that take a scope but read nothing: they only format it.
PURE = {"casework.audit.view_key", "casework.exports.metadata"}


def scoped_functions() -> set[str]:
    """Public functions of every non-streamlit module that take a store and a scope, and
    every casework function that takes a scope (the audit log is in the operational store,
    so its functions take no analytical store), except :data:`PURE`."""
    found = set()
    for info in pkgutil.walk_packages(blindspot.__path__, prefix="blindspot."):
        mod_name = info.name.removeprefix("blindspot.")
        if mod_name in STREAMLIT_MODULES or info.ispkg:
            continue
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            params = inspect.signature(fn).parameters
            if (
                fn.__module__ == module.__name__
                and not name.startswith("_")
                and "scope" in params
                and ("store" in params or mod_name.startswith("casework."))
                and f"{mod_name}.{name}" not in PURE
            ):
                found.add(f"{mod_name}.{name}")
    return found


def test_every_scoped_function_is_covered():
    found = scoped_functions()
    assert found - set(RUNNERS) == set(), "add a runner to RUNNERS for these new scoped functions"
    assert set(RUNNERS) - found == set(), "RUNNERS names functions that no longer exist"


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_scope_holds(name, db, owners):
    runner = RUNNERS[name]

    @PROPERTY
    @given(data=st.data())
    def prop(data):
        runner(db, owners, data)

    prop()


@pytest.mark.parametrize("role", ["admin", "analyst", "district", "presenter"])
def test_household_functions_by_role(db, role):
    """The fixed matrix behind the properties: who gets household rows at all."""
    scope = scope_for(role, f"m-{role}", ["29110"])
    calls = {
        "risk_list": lambda: lists.risk_list(db, scope, lists.ListFilters(20243, area="29110"), "점검"),
        "top_households": lambda: mapdata.top_households(db, scope, "29110", 20243, "점검"),
        "export": lambda: exports.export_risk_list(db, scope, lists.ListFilters(20243, area="29110"), "점검", "csv"),
    }
    for name, call in calls.items():
        if role == "presenter":
            with pytest.raises(AccessDenied):
                call()
        else:
            result = call()
            assert (result.rows if name == "export" else len(result)) > 0, name
    with pytest.raises((PurposeRequired, AccessDenied)):
        lists.risk_list(db, scope, lists.ListFilters(20243), "")
