"""No count 1..k-1 can be recovered by subtraction from what a
presenter sees on one page or in one file, and a true zero is shown as 0.

The attacker here is the test's own (it does not reuse blindspot.access.disclosures): it
takes only the numbers an output shows, the relations a reader knows (a total is the sum
of its parts, a count of a subset leaves a difference, a rate times its denominator is
its numerator), and subtracts to a fixed point.  It runs on the real small test database
(Sejong + Gwangju, trained model, latest round scored) for every presenter output: the
map at every level with its parent totals, the hexagons of each 시군구 with the map's
totals, the briefing (tiles, funnel, channels, rates, evaluation table, trend) and its
pack table, the overview, the per-area summary export, and the reach gap (its page, trend,
command and briefing page share one function).

With primary suppression only (no complementary suppression) 13 of these 15 tests fail
(run against commit 105edee): e.g. a hidden 읍면동 at-risk count of 2 came back as its
시군구's total minus the 읍면동 shown; a 채널's hidden 욕구 확인 count of 3 as the total minus
the other channels; 욕구 확인 − 지원 연계 = 7 with k = 12; hexagon cells showed households and
one-person households 3 or 4 apart; a 읍면동's hidden 주의 count of 3 in the summary export
came back from its 시군구 total.
"""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest

from blindspot.access import scope_for
from blindspot.briefing import data as briefing
from blindspot.casework import exports, lists
from blindspot.db import queries
from blindspot.db.store import Store
from blindspot.maps import counts as mapcounts
from blindspot.maps import data as mapdata
from blindspot.maps import hexgrid
from blindspot.rounds import parse_round

T = 20243
BANDS = ("one_person_20_39", "one_person_40_64", "one_person_65_plus")


@pytest.fixture(scope="module")
def db(modelled, tmp_path_factory):
    path = tmp_path_factory.mktemp("diff") / "diff.duckdb"
    shutil.copy(modelled[0], path)
    store = Store(path)
    yield store
    store.close()


# --- the attacker ---------------------------------------------------------------------------


def attack(shown: dict, equations: list, k: int, thresholds: dict | None = None) -> list:
    """Counts 1..k-1 recovered from ``shown`` (cell -> value or None) by subtraction along
    ``equations`` [(total, [parts])]: a single unknown in an equation is solved, repeatedly;
    the unknown parts of an equation with a known total are added up (a group count)."""
    val = {c: (None if v is None or v != v else round(float(v))) for c, v in shown.items()}
    for total, parts in equations:
        for c in (total, *parts):
            val.setdefault(c, None)
    th = thresholds or {}
    found, progress = [], True
    while progress:
        progress = False
        for total, parts in equations:
            unknown = [c for c in (total, *parts) if val[c] is None]
            if len(unknown) != 1:
                continue
            c = unknown[0]
            val[c] = sum(val[p] for p in parts) if c == total else val[total] - sum(val[p] for p in parts if p != c)
            progress = True
            if 1 <= val[c] < th.get(c, k):
                found.append(("derived", c, val[c]))
    for total, parts in equations:
        hidden = [p for p in parts if val[p] is None]
        if val[total] is not None and len(hidden) >= 2:
            rest = val[total] - sum(val[p] for p in parts if val[p] is not None)
            if 1 <= rest < th.get(total, k):
                found.append(("group", tuple(hidden), rest))
    return found


def sub(whole, part):
    """whole = part + (whole - part): the difference is a cell never shown."""
    return (whole, [part, ("diff", whole, part)])


def no_small_shown(values, k, what):
    small = [v for v in values if v is not None and v == v and 1 <= v < k]
    assert not small, f"{what}: counts {small[:5]} shown with k={k}"


PRESENTERS = [scope_for("presenter", "pre", min_count=5), scope_for("presenter", "pre", min_count=12)]


# --- maps -------------------------------------------------------------------------------------


def map_cells(db, scope, round_id):
    """Everything the map page can show a presenter: counts per region at each level."""
    shown, levels = {}, {}
    for level in ("nation", "sido", "sgg", "emd"):
        counts = mapcounts.region_counts(db, scope, level, round_id)
        for code, row in counts.iterrows():
            levels[code] = level
            for col, v in row.items():
                if col != "mean_probability":
                    shown[(code, col)] = v
    return shown, levels


def map_equations(shown, levels):
    cols = sorted({c for _, c in shown})
    parent = {"sido": lambda c: "00", "sgg": lambda c: c[:2], "emd": lambda c: c[:5]}
    eqs, kids = [], {}
    for code, level in levels.items():
        if level in parent:
            kids.setdefault(parent[level](code), []).append(code)
    for p, children in kids.items():
        for col in cols:
            eqs.append(((p, col), [(c, col) for c in children]))
    pairs = [
        ("households", "one_person"),
        ("households", "signal_any"),
        ("households", "visited"),
        ("visited", "confirmed"),
        ("confirmed", "supported"),
        ("households", "at_risk"),
    ]
    pairs += [("one_person", b) for b in BANDS] + [("signal_any", c) for c in cols if c.startswith("domain_")]
    for code in levels:
        for whole, part in pairs:
            if whole in cols and part in cols:
                eqs.append(sub((code, whole), (code, part)))
        eqs.append(((code, "one_person"), [(code, b) for b in BANDS] + [("diff", code, "bands")]))
    return eqs


@pytest.mark.parametrize("round_id", [T, 20242])
@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_map_offers_no_subtraction_to_a_small_count(db, scope, round_id):
    shown, levels = map_cells(db, scope, round_id)
    k = scope.min_count
    no_small_shown(shown.values(), k, "map")
    assert attack(shown, map_equations(shown, levels), k) == []
    # zero rule: a true zero is 0, everything shown is exact
    raw, _ = map_cells(db, scope_for("admin", "a"), round_id)
    for cell, v in shown.items():
        if raw[cell] == 0 and cell[1] != "at_risk":
            assert v == 0, cell
        if v == v:
            assert v == raw[cell], cell
    # the suppression is real in this fixture: small counts exist and are hidden
    assert any(1 <= raw[c] < k and not shown[c] == shown[c] for c in raw)


@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_map_rates_only_from_shown_counts_and_views_agree(db, scope):
    full = mapdata.region_measures(db, scope, "emd", T).set_index("code")
    for rate, num, den in (
        ("one_person_share", "one_person", "households"),
        ("visited_rate", "visited", "households"),
        ("confirmed_rate", "confirmed", "visited"),
        ("supported_rate", "supported", "visited"),
        ("at_risk_rate", "at_risk", "households"),
    ):
        hidden = full[num].isna() | full[den].isna()
        assert full.loc[hidden, rate].isna().all(), rate  # rate x denominator cannot give a hidden count
    # a view of one 시도 or 시군구 hides exactly what the whole map hides
    for area in ("29", "29110", "36"):
        part = mapdata.region_measures(db, scope, "emd", T, area=area).set_index("code")
        pd.testing.assert_frame_equal(
            part[["households", "visited", "confirmed", "supported"]],
            full.loc[part.index, ["households", "visited", "confirmed", "supported"]],
        )
    profile = mapdata.region_profile(db, scope, "29110", T)
    sgg = mapcounts.region_counts(db, scope, "sgg", T)
    kp = profile["kpis"].set_index("measure")
    for col in ("households", "visited", "confirmed", "supported"):
        a, b = kp.loc[col, "value"], sgg.loc["29110", col]
        assert (a != a and b != b) or a == b, col


# --- hexagons -------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", [8, 9])
def test_hexagons_with_the_map_totals_offer_no_subtraction(db, resolution):
    scope = PRESENTERS[0]
    totals = mapcounts.region_counts(db, scope, "sgg", T)
    k_hex, k = hexgrid.DEFAULT_K, scope.min_count
    checked = 0
    for sgg in totals.index:
        cells = hexgrid.hex_cells(db, scope, sgg, T, resolution)
        shown, eqs, th = {}, [], {}
        # every cell of the 시군구, drawn or not (an attacker knows the grid)
        pts = db.df(
            "SELECT lon, lat FROM households WHERE sgg_code = ? AND valid_from_round <= ? "
            "AND (valid_to_round IS NULL OR valid_to_round >= ?)",
            [sgg, T, T],
        )
        all_cells = set(
            hexgrid.h3.latlng_to_cell(la, lo, resolution) for lo, la in zip(pts["lon"], pts["lat"], strict=False)
        )
        drawn = cells.set_index("cell")
        for col in ("households", "one_person", "at_risk"):
            shown[("sgg", col)] = totals.loc[sgg, col]
            eqs.append((("sgg", col), [(c, col) for c in sorted(all_cells)]))
            for c in all_cells:
                shown[(c, col)] = drawn.loc[c, col] if c in drawn.index else None
                th[(c, col)] = k_hex if col == "households" else k
        for c in all_cells:
            eqs += [sub((c, "households"), (c, "one_person")), sub((c, "households"), (c, "at_risk"))]
        no_small_shown(cells["households"], k_hex, "hex households")
        no_small_shown(cells["one_person"], k, "hex one-person")
        assert attack(shown, eqs, k, th) == [], sgg
        checked += len(cells)
    assert checked > 0


# --- briefing and its pack ------------------------------------------------------------------


def briefing_cells(b):
    shown = {
        ("T", key): b.kpis.get(key)
        for key in ("flagged", "contacted", "confirmed", "supported", "households", "one_person", "at_risk")
    }
    labels = list(b.channels["경로"])
    for _, row in b.channels.iterrows():
        for key, col in (("flagged", "발굴"), ("confirmed", "욕구 확인"), ("supported", "지원 연계")):
            shown[(row["경로"], key)] = row[col]
    eqs = [
        sub(("T", "flagged"), ("T", "contacted")),
        sub(("T", "contacted"), ("T", "confirmed")),
        sub(("T", "confirmed"), ("T", "supported")),
        sub(("T", "households"), ("T", "one_person")),
        sub(("T", "households"), ("T", "flagged")),
        sub(("T", "households"), ("T", "at_risk")),
    ]
    for key in ("flagged", "confirmed", "supported"):
        eqs.append((("T", key), [(c, key) for c in labels]))
    for c in labels:
        eqs += [sub((c, "flagged"), (c, "confirmed")), sub((c, "confirmed"), (c, "supported"))]
    return shown, eqs


AREAS = ["00", "29", "36", "29110", "29155", "29170", "36110"]
# The briefing's area counts that the map page also shows (briefing key -> map column).
MAP_CELLS = {
    "households": "households",
    "one_person": "one_person",
    "flagged": "visited",
    "confirmed": "confirmed",
    "supported": "supported",
    "at_risk": "at_risk",
}


@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_briefing_offers_no_subtraction_to_a_small_count(db, scope):
    for area in AREAS:
        for round_id in (T, 20242):
            b = briefing.build(db, scope, area, round_id)
            k = b.k
            shown, eqs = briefing_cells(b)
            no_small_shown(shown.values(), k, f"briefing {area}")
            no_small_shown(b.funnel["가구"], k, "funnel")
            no_small_shown(list(b.trend["발굴"]) + list(b.trend["지원 연계"]), k, "trend")
            # with the map's figures for the same area (another page a presenter sees)
            level = "nation" if area == "00" else ("sido" if len(area) == 2 else "sgg")
            m = mapcounts.region_counts(db, scope, level, round_id).loc[area]
            for key, col in MAP_CELLS.items():
                if col in m.index and shown.get(("T", key)) is None:
                    shown[("T", key)] = m[col]
            assert attack(shown, eqs, k) == [], (area, round_id)
            # rates: shown only when both counts are (rate x 발굴 would give a hidden count)
            kp = b.kpis
            for rate, num, den in (
                ("contact_rate", "contacted", "flagged"),
                ("supported_rate", "supported", "flagged"),
                ("one_person_share", "one_person", "households"),
                ("at_risk_rate", "at_risk", "households"),
            ):
                if kp.get(num) is None or kp.get(den) is None:
                    assert kp.get(rate) is None, (area, rate)
            # the evaluation table and trend show the same numbers as the tiles
            actual = dict(zip(b.table["key"], b.table["실적 B"], strict=False))
            for key in briefing.INDICATOR_KEYS:
                a, v = actual[key], kp.get(key)
                assert (v is None and (a is None or a != a)) or a == v, (area, key)
            row = b.trend.set_index("차수").loc[parse_round(b.round_code).short_ko]
            hidden = row["발굴"] is None or row["발굴"] != row["발굴"]  # None or NaN: 비공개
            assert (hidden and kp["flagged"] is None) or row["발굴"] == kp["flagged"]


def test_briefing_on_screen_and_in_the_pack_says_비공개_and_0(db):
    import matplotlib.pyplot as plt

    from blindspot.briefing import pack as briefpack

    scope = PRESENTERS[0]
    seen_hidden = seen_zero = False
    for area in AREAS:
        b = briefing.build(db, scope, area, T)
        text = briefing.as_text(b.channels, ["발굴", "욕구 확인", "지원 연계"])
        for col in ("발굴", "욕구 확인", "지원 연계"):
            for raw, shown in zip(b.channels[col], text[col], strict=False):
                assert shown != "None"
                if raw is None or raw != raw:
                    assert shown == "비공개"
                    seen_hidden = True
                elif raw == 0:
                    assert shown == "0"
                    seen_zero = True
        fig = briefpack.page_table(b)
        cells = [t.get_text().get_text() for ax in fig.axes for tab in ax.tables for t in tab.get_celld().values()]
        plt.close(fig)
        assert "None" not in cells and "nan" not in cells
        for value in b.table["실적 B"]:
            if value is None or value != value:
                assert "비공개" in cells or "점수 없음" in cells
        fig = briefpack.chart_funnel(b)
        labels = [t.get_text().strip() for t in fig.axes[0].texts]
        plt.close(fig)
        assert labels == [briefpack._fmt(v) for v in list(b.funnel["가구"])[::-1]]
        assert all(lab == "비공개" for lab, v in zip(labels, list(b.funnel["가구"])[::-1], strict=False) if v is None)
    assert seen_hidden and seen_zero


# --- overview and summary export ------------------------------------------------------------


@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_overview_offers_no_subtraction(db, scope):
    over = queries.overview(db, scope, T)
    sido = over["by_region"]
    bands = queries.band_counts(db, scope, T)
    shown = {("00", "households"): over["households"], ("00", "one_person"): over["one_person"]}
    for code, h, o, hidden in zip(
        sido["code"], sido["households"], sido["one_person"], sido["suppressed"], strict=False
    ):
        if not hidden and h != h:  # no data at all (not generated): the attacker knows it is empty
            h = o = 0
        shown[(code, "households")], shown[(code, "one_person")] = h, o
    for band, v in bands.items():
        shown[("band", band)] = v
    eqs = [(("00", c), [(s, c) for s in sido["code"]]) for c in ("households", "one_person")]
    eqs += [sub((s, "households"), (s, "one_person")) for s in ["00", *sido["code"]]]
    scored = db.scalar("SELECT count(*) FROM scores WHERE round_id = ?", [T])
    shown[("band", "scored")] = scored  # about the households shown
    eqs.append((("band", "scored"), [("band", b) for b in ("high", "medium", "low", "none")]))
    no_small_shown(shown.values(), scope.min_count, "overview")
    assert attack(shown, eqs, scope.min_count) == []


@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_summary_export_offers_no_subtraction(db, scope):
    for area, level in ((None, "sgg"), ("29", "emd"), ("29110", "emd"), ("36", "emd")):
        f = exports.export_summary(db, scope, lists.ListFilters(T, area=area), level, fmt="csv")
        table = pd.read_csv(io.BytesIO(f.data), encoding="utf-8-sig", dtype={"코드": str})
        named = {v: k for k, v in exports.SUMMARY_COLUMNS.items()}
        table = table.rename(columns=named)
        k = max(5, scope.min_count)
        cols = ["scored", "high", "medium", "low", "visited_at_risk"]
        shown, eqs = {}, []
        for _, row in table.iterrows():
            c = str(row["code"])
            for col in cols:
                shown[(c, col)] = None if pd.isna(row[col]) else row[col]
            eqs.append(((c, "scored"), [(c, "high"), (c, "medium"), (c, "low"), (c, "none")]))
            eqs.append(((c, "at_risk"), [(c, "high"), (c, "medium")]))
            eqs.append(sub((c, "at_risk"), (c, "visited_at_risk")))
            # the map publishes 위험·주의 per area; the exact totals per 시군구 are known elsewhere
        raw = lists.risk_summary(db, scope_for("admin", "a"), lists.ListFilters(T, area=area), level, k=1)
        groups = {"all": list(raw["code"])}
        if level == "emd":
            for c in raw["code"]:
                groups.setdefault(c[:5], []).append(c)
        for g, members in groups.items():
            for col in cols:
                total = int(raw.loc[raw["code"].isin(members), col].sum())
                shown[(g, col)] = None if 1 <= total < k else total
                eqs.append(((g, col), [(c, col) for c in members]))
        no_small_shown([v for (c, _), v in shown.items() if c not in groups], k, "summary")
        assert attack(shown, eqs, k) == [], area
        # zero rule in the file: a true zero is 0
        exact = raw.set_index("code")
        for _, row in table.iterrows():
            for col in cols:
                if exact.loc[str(row["code"]), col] == 0:
                    assert row[col] == 0


def test_protected_counts_are_remembered_until_the_round_changes(modelled, tmp_path):
    path = tmp_path / "memo.duckdb"
    shutil.copy(modelled[0], path)
    db = Store(path)  # a copy: this test writes a visit
    scope = PRESENTERS[0]
    before = mapcounts.protected_counts(db, scope, T).loc["00", "visited"]
    assert mapcounts.protected_counts(db, scope, T).loc["00", "visited"] == before  # from the memo
    hid, sgg, emd = db.rows(
        "SELECT household_id, sgg_code, emd_code FROM households h WHERE NOT EXISTS "
        "(SELECT 1 FROM visits v WHERE v.round_id = ? AND v.household_id = h.household_id) "
        "AND valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?) LIMIT 1",
        [T, T, T],
    )[0]
    db.run("INSERT INTO visits VALUES (?, ?, ?, ?, 'local', 'contacted', NULL, now(), 'test')", [T, hid, sgg, emd])
    after = mapcounts.protected_counts(db, scope, T).loc["00", "visited"]
    db.close()
    assert after == before + 1


def test_map_text_says_비공개_for_hidden_and_자료_없음_for_no_data(db):
    from blindspot.maps import render as maps

    scope = PRESENTERS[0]
    view = mapdata.map_view(db, scope, "emd", T, "visited", area="29")
    hidden = view[view["suppressed"]]
    assert len(hidden) and hidden["value"].isna().all()
    assert (view.loc[view["value"] == 0, "suppressed"] == False).all()  # noqa: E712 (a true zero)
    layer = {"codes": list(view["code"]), "geometries": [None] * len(view)}
    fc = maps.feature_collection(view, layer, [[0, 0, 0, 0]] * len(view), "방문 가구 수", "count", False)
    texts = {f["properties"]["code"]: f["properties"]["value_text"] for f in fc["features"]}
    assert all(texts[c] == "비공개" for c in hidden["code"])
    assert all(texts[c] == "0가구" for c in view.loc[view["value"] == 0, "code"])
    sido = mapdata.map_view(db, scope, "sido", T, "households")
    assert not sido.loc[sido["code"] == "11", "suppressed"].any()  # Seoul: no data, not hidden
    code = hidden["code"].iloc[0]
    rows = maps.kpi_rows(mapdata.region_profile(db, scope, code, T)["kpis"]).set_index("지표")
    assert rows.loc["방문 가구 수", "이 지역"] == "비공개"


# --- reach gap (발굴 격차): page, trend, command and briefing page share one function -------------


@pytest.mark.parametrize("round_id", [T, 20242])
@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_reach_gap_offers_no_subtraction_to_a_small_count(db, scope, round_id):
    from blindspot.reach import figures as reach

    k = scope.min_count
    shown, levels = map_cells(db, scope, round_id)  # the map's figures: a presenter sees them too
    exact = {lvl: mapcounts.region_counts(db, scope_for("admin", "a"), lvl, round_id) for lvl in set(levels.values())}
    seen_hidden = 0
    for level in ("nation", "sido", "sgg", "emd"):
        frame = reach.reach_gap(db, scope, level, round_id)
        frame = frame[frame["has_data"]].set_index("code")
        for code, row in frame.iterrows():
            # found and supported are the map's cells (욕구 확인, 지원 연계), hidden where it hides them,
            # so the map's equations already cover every subtraction they offer
            for col, cell in (("found", "confirmed"), ("supported", "supported"), ("households", "households")):
                a, b = row[col], shown[(code, cell)]
                assert (a != a and b != b) or a == b, (level, code, col)
            # a figure built on found never gives back a hidden one: gap = expected - found,
            # ratio x expected = found, the interval's ends are functions of found and expected
            derived = ("gap", "gap_rate", "ratio", "ratio_low", "ratio_high", "relative")
            if row["found"] != row["found"] or row["expected"] != row["expected"]:
                assert row[list(derived)].isna().all(), (level, code)
                seen_hidden += 1
            else:
                assert round(row["expected"] - row["gap"]) == row["found"]
                assert round(row["ratio"] * row["expected"]) == row["found"]
            if row["households"] != row["households"]:
                assert row["expected"] != row["expected"], (level, code)  # expected only where households show
        # the expected figures of hidden areas, taken together by subtraction from their parent,
        # describe 0 or at least k households (the map's protection of the households)
        if level != "nation":
            parent = reach.reach_gap(db, scope, {"sido": "nation", "sgg": "sido", "emd": "sgg"}[level], round_id)
            parent = parent[parent["has_data"]].set_index("code")
            cut = {"sido": 0, "sgg": 2, "emd": 5}[level]
            for p, prow in parent.iterrows():
                if prow["expected"] != prow["expected"]:
                    continue
                kids = frame[(frame.index.str[:cut] == p) if cut else slice(None)]
                hidden = kids.index[kids["expected"].isna()]
                n = int(exact[level].loc[hidden, "households"].sum()) if len(hidden) else 0
                assert n == 0 or n >= k, (level, p, n)
    assert seen_hidden > 0  # the suppression is real in this fixture
    assert attack(shown, map_equations(shown, levels), k) == []
    # the trend of an area shows that round's map cells of the area, round by round
    for area in ("29", "29110", "36110"):
        trend = reach.reach_trend(db, scope, round_id, area).set_index("round_id")
        for r in trend.index:
            level = "sido" if len(area) == 2 else "sgg"
            cells = mapcounts.region_counts(db, scope, level, int(r)).loc[area]
            for col, cell in (("found", "confirmed"), ("supported", "supported")):
                a, b = trend.loc[r, col], cells[cell]
                assert (a != a and b != b) or a == b, (area, r, col)


# --- special support zones (특별지원구역): the ranking shows the map's cells and rates only -------


@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_zone_ranking_offers_no_subtraction_to_a_small_count(db, scope):
    from blindspot.zones import figures as zones

    k = scope.min_count
    shown, levels = map_cells(db, scope, T)  # the map's figures: a presenter sees them too
    rankings = [zones.zone_ranking(db, scope, "sgg", T, replicates=20)]
    rankings += [
        zones.zone_ranking(db, scope, "emd", T, area=sgg, replicates=20)
        for sgg in ("29110", "29140", "29155", "29170", "29200", "36110")
    ]
    unranked = 0
    for r in rankings:
        level = r.level
        measures = mapdata.region_measures(db, scope, level, T, area=r.area).set_index("code")
        no_small_shown(r.table["households"].tolist(), k, "zones")
        for row in r.table.itertuples(index=False):
            # the only count on the page and in the files is the map's households cell
            a, b = row.households, shown.get((row.code, "households"), float("nan"))
            assert (a != a and b != b) or a == b, (level, row.code)
            if row.status != "ranked":
                unranked += row.status == "hidden"
                assert row.index != row.index and row.rank is pd.NA, (level, row.code)
                continue
            # a ranked area's rates are the map's rates of the rounds used (shown, so both counts shown)
            if r.rounds == [T]:
                assert row.crisis == pytest.approx(measures.loc[row.code, "signal_any"])
                assert row.alone_young == pytest.approx(measures.loc[row.code, "one_person_20_39_share"])
                assert row.at_risk == pytest.approx(measures.loc[row.code, "at_risk_rate"])
    assert unranked > 0  # the suppression is real in this fixture
    assert attack(shown, map_equations(shown, levels), k) == []
