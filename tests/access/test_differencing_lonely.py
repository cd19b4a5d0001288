"""No count 1..k-1 can be recovered by subtraction from what a presenter sees of the
고독사 위험 lens together with the map: one-person households per life stage (the map's cells),
those with a lonely-death signal per stage and in all, 중장년 1인 남성 and those of it with a
signal, at every level, with every subtraction the two outputs offer (a parent minus its shown
children, total one-person minus the shown life stages, a stage minus its lonely households,
one-person minus the named group, the named group minus its lonely ones, lonely in all minus
the stages' lonely).  The attacker is tests/access/test_differencing.py's own."""

from __future__ import annotations

import shutil

import pytest
from test_differencing import PRESENTERS, attack, map_cells, map_equations, no_small_shown, sub

from blindspot.access import scope_for
from blindspot.db.store import Store
from blindspot.lonely import figures

T = 20243
BANDS = ((20, 39), (40, 64), (65, None))
KEYS = ("20_39", "40_64", "65_plus")
MINE = ("lonely_any", *[f"lonely_{k}" for k in KEYS], "men_40_64", "men_40_64_lonely")


@pytest.fixture(scope="module")
def db(modelled, tmp_path_factory):
    path = tmp_path_factory.mktemp("diff-lonely") / "diff.duckdb"
    shutil.copy(modelled[0], path)
    store = Store(path)
    yield store
    store.close()


def lens_cells(db, scope, round_id):
    shown = {}
    for level in ("nation", "sido", "sgg", "emd"):
        counts = figures.stage_counts(db, scope, level, round_id, BANDS)
        for code, row in counts.iterrows():
            for col, v in row.items():
                shown[(code, col)] = v
    return shown


def lens_equations(levels):
    parent = {"sido": lambda c: "00", "sgg": lambda c: c[:2], "emd": lambda c: c[:5]}
    eqs, kids = [], {}
    for code, level in levels.items():
        if level in parent:
            kids.setdefault(parent[level](code), []).append(code)
    for p, children in kids.items():
        for col in MINE:
            eqs.append(((p, col), [(c, col) for c in children]))
    pairs = [("one_person", "lonely_any"), ("one_person", "men_40_64"), ("men_40_64", "men_40_64_lonely")]
    pairs += [("lonely_any", "men_40_64_lonely"), ("one_person_40_64", "men_40_64")]
    pairs += [("lonely_40_64", "men_40_64_lonely")] + [(f"one_person_{k}", f"lonely_{k}") for k in KEYS]
    for code in levels:
        for whole, part in pairs:
            eqs.append(sub((code, whole), (code, part)))
        eqs.append(((code, "lonely_any"), [(code, f"lonely_{k}") for k in KEYS] + [("diff", code, "lonely-bands")]))
    return eqs


@pytest.mark.parametrize("round_id", [T, 20242])
@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_lonely_lens_with_the_map_offers_no_subtraction_to_a_small_count(db, scope, round_id):
    k = scope.min_count
    maps, levels = map_cells(db, scope, round_id)
    lens = lens_cells(db, scope, round_id)
    # the lens shows the map's one-person cells exactly as the map does
    for cell, v in lens.items():
        if cell[1] == "one_person" or cell[1].startswith("one_person_"):
            assert (v != v and maps[cell] != maps[cell]) or v == maps[cell], cell
    shown = maps | lens
    no_small_shown(shown.values(), k, "lonely lens")
    assert attack(shown, map_equations(maps, levels) + lens_equations(levels), k) == []
    raw = lens_cells(db, scope_for("admin", "a"), round_id)
    for cell, v in lens.items():
        if raw[cell] == 0:
            assert v == 0, cell  # a true zero is 0
        if v == v:
            assert v == raw[cell], cell  # what is shown is exact
    # the suppression is real here: small counts of the lens exist and are hidden
    small = [c for c in raw if c[1] in MINE and 1 <= raw[c] < k]
    assert small and all(lens[c] != lens[c] for c in small)
    # and it is not all hidden: most lonely-death counts of k or more are shown
    large = [c for c in raw if c[1] in MINE and raw[c] >= k]
    assert sum(lens[c] == lens[c] for c in large) > 0.8 * len(large)


@pytest.mark.parametrize("scope", PRESENTERS, ids=["k5", "k12"])
def test_lonely_rates_only_from_shown_counts(db, scope):
    frame = figures.region_frame(db, scope, "emd", T, bands=BANDS)
    for rate, num, den in (
        ("lonely_any_rate", "lonely_any", "one_person"),
        ("men_40_64_lonely_rate", "men_40_64_lonely", "men_40_64"),
        *[(f"lonely_{k}_rate", f"lonely_{k}", f"one_person_{k}") for k in KEYS],
    ):
        hidden = frame[num].isna() | frame[den].isna()
        assert frame.loc[hidden, rate].isna().all(), rate
    # a view of one 시군구 hides exactly what the whole map hides
    part = figures.region_frame(db, scope, "emd", T, area="29110", bands=BANDS).set_index("code")
    whole = frame.set_index("code").loc[part.index]
    for col in MINE:
        assert ((part[col] == whole[col]) | (part[col].isna() & whole[col].isna())).all(), col
