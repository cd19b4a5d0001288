"""Small-count suppression (blindspot.access): threshold, zero rule, complementary
suppression and the subtraction attacker, by hand-computed cases and by property."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.access import Scope, apply, disclosures, protect, subset, suppress, threshold


def test_threshold_is_the_largest_of_k_and_the_scope():
    assert threshold(Scope.aggregates_only(7)) == 7
    assert threshold(Scope.aggregates_only(7), 10) == 10
    assert threshold(Scope.all_areas(), 5) == 5
    assert threshold(Scope.all_areas()) == 1
    assert threshold(None, 0) == 1


def test_zero_is_shown_small_counts_hidden():
    assert [suppress(v, 5) for v in (0, 1, 4, 5, 6)] == [0, None, None, 5, 6]


def test_total_minus_shown_parts_hand_computed():
    # 시군구 100 = 읍면동 3 + 40 + 57: 3 is hidden; alone it is 100 - 40 - 57, so the
    # next-smallest (40) goes too; 3 + 40 = 43 >= 5 is safe.
    values = {"sgg": 100, "e1": 3, "e2": 40, "e3": 57}
    eq = [("sgg", ("e1", "e2", "e3"))]
    hide = protect(values, eq, 5)
    assert hide == {"e1", "e2"}
    assert disclosures(apply(values, hide), eq, 5) == []
    # Primary suppression alone gives it away.
    assert disclosures(apply(values, {"e1"}), eq, 5) == [("derived", "e1", 3)]


def test_two_small_siblings_are_not_enough_together():
    # 1 + 2 = 3 < 5 households in the two hidden cells together: one more goes.
    values = {"t": 60, "a": 1, "b": 2, "c": 27, "d": 30}
    eq = [("t", ("a", "b", "c", "d"))]
    hide = protect(values, eq, 5)
    assert hide == {"a", "b", "c"}
    assert disclosures(apply(values, {"a", "b"}), eq, 5) == [("group", ("a", "b"), 3)]


def test_difference_of_two_counts_funnel():
    # 발굴 20, 접촉 17: unreachable = 3.  접촉 is hidden; 발굴 stays.
    values = {"flagged": 20, "contacted": 17, "unreachable": 3, "confirmed": 12, "c_rest": 5}
    eqs = [subset("flagged", "contacted", "unreachable"), subset("contacted", "confirmed", "c_rest")]
    hide = protect(values, eqs, 5, implicit={"unreachable", "c_rest"})
    assert hide == {"contacted", "unreachable", "c_rest"}
    assert disclosures(apply(values, hide), eqs, 5) == []


def test_hierarchy_cascades_to_children():
    # 시도 200 = 시군구 4 + 96 + 100; 시군구 g1 = 읍면동 2 + 2, g2 = 50 + 46.
    # Primary: g1, e1, e2.  g1 = 200 - 96 - 100, so g2 (next-smallest) goes; but g2 =
    # e3 + e4 is still derived (96), which gives g1 again: g3 goes too.  Then g1 + g3 =
    # 104 is all that is known.
    values = {"sido": 200, "g1": 4, "g2": 96, "g3": 100, "e1": 2, "e2": 2, "e3": 50, "e4": 46}
    eqs = [("sido", ("g1", "g2", "g3")), ("g1", ("e1", "e2")), ("g2", ("e3", "e4"))]
    hide = protect(values, eqs, 5)
    assert hide == {"g1", "g2", "g3", "e1", "e2"}
    assert disclosures(apply(values, hide), eqs, 5) == []
    assert disclosures(apply(values, {"g1", "g2", "e1", "e2"}), eqs, 5) == [
        ("derived", "g1", 4),
        ("group", ("e1", "e2"), 4),
    ]


def test_fixed_cells_stay_and_others_go():
    values = {"t": 50, "a": 3, "b": 10, "c": 37}
    eq = [("t", ("a", "b", "c"))]
    hide = protect(values, eq, 5, fixed={"b"})
    assert hide == {"a", "c"}


# --- property: random hierarchies with subsets, per-level thresholds ------------------------


@st.composite
def systems(draw):
    k = draw(st.integers(2, 10))
    n_parents = draw(st.integers(1, 4))
    values, eqs, implicit = {}, [], set()
    top_parts = []
    for p in range(n_parents):
        kids = draw(st.lists(st.integers(0, 3 * k), min_size=1, max_size=5))
        names = [f"p{p}c{i}" for i in range(len(kids))]
        values.update(zip(names, kids, strict=False))
        values[f"p{p}"] = sum(kids)
        eqs.append((f"p{p}", tuple(names)))
        top_parts.append(f"p{p}")
        # a subset count per child (e.g. one-person of households) with its difference
        for name, v in zip(names, kids, strict=False):
            if draw(st.booleans()):
                part = draw(st.integers(0, v))
                values[f"{name}s"], values[f"{name}r"] = part, v - part
                eqs.append(subset(name, f"{name}s", f"{name}r"))
                implicit.add(f"{name}r")
    values["top"] = sum(values[p] for p in top_parts)
    eqs.append(("top", tuple(top_parts)))
    return values, eqs, implicit, k


@settings(max_examples=300, deadline=None)
@given(systems())
def test_no_subtraction_recovers_a_small_count(system):
    values, eqs, implicit, k = system
    hide = protect(values, eqs, k, implicit=implicit)
    shown = apply(values, hide)
    assert disclosures(shown, eqs, k) == []
    assert implicit <= hide
    # zero rule: a true zero is never hidden; nothing shown is 1..k-1
    assert all(v == values[c] for c, v in shown.items() if v is not None)
    assert not [c for c, v in values.items() if v == 0 and c in hide and c not in implicit]
    assert not [c for c, v in shown.items() if v is not None and 1 <= v < k]
