"""Spatial statistics on hand-built grids (blindspot.maps.spatial): Gi* against a hand
computation and esda, FDR, islands, Moran quadrants, emerging trends."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from blindspot.maps import spatial

# A 3 x 3 lattice, cells numbered row by row:
#   0 1 2
#   3 4 5
#   6 7 8
# with rook neighbours (shared edge), and one high value in the corner.
CODES = [f"c{i}" for i in range(9)]
Y = pd.Series([1.0, 1, 1, 1, 1, 1, 1, 1, 10], index=CODES)


def _rook_pairs(n=3):
    pairs = []
    for r in range(n):
        for c in range(n):
            i = r * n + c
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < n and 0 <= cc < n:
                    pairs.append((f"c{i}", f"c{rr * n + cc}"))
    return pairs


def test_gi_star_matches_hand_computation():
    # n = 9, mean 2, S² = (8·1 + 100)/9 − 4 = 8, S = 2√2.
    # cell 8 (10 with neighbours 5, 7): Σwx = 12, Σw = 3 → (12 − 6) / (2√2 · √((27 − 9)/8)) = √2
    # cell 5 (1 with 2, 4, 8):          Σwx = 13, Σw = 4 → (13 − 8) / (2√2 · √((36 − 16)/8)) = √5/2
    # cell 4 (centre, 1 with 1, 3, 5, 7): Σwx = 5, Σw = 5 → (5 − 10) / (2√2 · √((45 − 25)/8)) = −√5/2
    # cell 0 (1 with 1, 3):              Σwx = 3, Σw = 3 → (3 − 6) / (3√2) = −1/√2
    res = spatial.getis_ord(Y, _rook_pairs(), permutations=99, seed=1).set_index("code")
    assert res.loc["c8", "z"] == pytest.approx(math.sqrt(2))
    assert res.loc["c5", "z"] == pytest.approx(math.sqrt(5) / 2)
    assert res.loc["c7", "z"] == pytest.approx(math.sqrt(5) / 2)
    assert res.loc["c4", "z"] == pytest.approx(-math.sqrt(5) / 2)
    assert res.loc["c0", "z"] == pytest.approx(-1 / math.sqrt(2))


def test_gi_star_z_agrees_with_esda_binary_form():
    # esda's analytical Gi* z equals the textbook one for binary weights with self-weight 1.
    from esda import G_Local
    from libpysal.weights import lat2W

    y = np.array([3.0, 8, 1, 4, 9, 2, 7, 5, 6])
    w = lat2W(3, 3, rook=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = G_Local(y, w, transform="B", star=True, permutations=0)
    nb = [w.neighbors[i] for i in range(9)]
    assert spatial.gi_star_z(y, nb) == pytest.approx(g.Zs)


def test_permutation_inference_is_seeded_and_deterministic():
    y = pd.Series([3.0, 8, 1, 4, 9, 2, 7, 5, 6], index=CODES)
    a = spatial.getis_ord(y, _rook_pairs(), permutations=199, seed=7)
    b = spatial.getis_ord(y, _rook_pairs(), permutations=199, seed=7)
    c = spatial.getis_ord(y, _rook_pairs(), permutations=199, seed=8)
    assert a["p_sim"].tolist() == b["p_sim"].tolist()
    assert a["p_sim"].tolist() != c["p_sim"].tolist()
    # esda folds the pseudo p-value to one side: between 1/(permutations + 1) and 0.5.
    assert a["p_sim"].between(1 / 200 - 1e-12, 0.5 + 1e-12).all()


def test_fdr_turns_a_raw_pass_into_a_fail():
    # Five tests: 0.04 passes at 95 % on its own; BH multiplies the smallest p by 5/1 → 0.2.
    p = np.array([0.04, 0.5, 0.6, 0.7, 0.8])
    adjusted = spatial.fdr(p)
    assert adjusted[0] == pytest.approx(0.2)
    assert spatial.gi_class(2.5, p[0]) == "hot_95"
    assert spatial.gi_class(2.5, adjusted[0]) == "not_significant"
    # BH keeps monotone order and never lowers a p-value.
    q = spatial.fdr([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    assert q.tolist() == pytest.approx([0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0846, 0.205], abs=1e-4)


def test_classes_use_fdr_adjusted_p(monkeypatch):
    res = spatial.getis_ord(Y, _rook_pairs(), permutations=99, seed=3)
    assert (res["p_fdr"].dropna() >= res["p_sim"].dropna() - 1e-12).all()
    expected = [spatial.gi_class(z, p) for z, p in zip(res["z"], res["p_fdr"], strict=False)]
    assert res["cls"].tolist() == expected


def test_islands_and_missing_values_are_not_tested():
    y = pd.concat([Y, pd.Series({"island": 50.0, "gap": np.nan})])
    pairs = _rook_pairs() + [("gap", "c0"), ("c0", "gap")]
    res = spatial.getis_ord(y, pairs, permutations=99, seed=1).set_index("code")
    assert res.loc["island", "cls"] == "not_tested" and np.isnan(res.loc["island", "z"])
    assert res.loc["gap", "cls"] == "not_tested"
    # The island is left out of the mean, so the lattice results are unchanged.
    assert res.loc["c8", "z"] == pytest.approx(math.sqrt(2))
    moran = spatial.local_moran(y, pairs, permutations=99, seed=1).set_index("code")
    assert moran.loc["island", "cls"] == "not_tested"
    assert set(moran["cls"]) <= set(spatial.MORAN_CLASSES)


def test_all_islands_never_raise():
    y = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    assert (spatial.getis_ord(y, []).cls == "not_tested").all()
    assert (spatial.local_moran(y, []).cls == "not_tested").all()


def test_local_moran_quadrants():
    # A block of high values in the left column: its cells are high among high neighbours.
    y = pd.Series([9.0, 1, 1, 9, 1, 1, 9, 1, 1], index=CODES)
    res = spatial.local_moran(y, _rook_pairs(), permutations=99, seed=1).set_index("code")
    # c3 = 9 with neighbours 9, 1, 9: lag 6.33 above the mean 3.67 → HH; c2 = 1 among 1s → LL.
    assert res.loc["c3", "quadrant"] == "HH" and res.loc["c3", "I"] > 0
    assert res.loc["c2", "quadrant"] == "LL" and res.loc["c2", "I"] > 0
    # The lone 10 in Y (mean 2): c8 is high among lows (HL), c5 = 1 beside it has lag 4 (LH).
    res = spatial.local_moran(Y, _rook_pairs(), permutations=99, seed=1).set_index("code")
    assert res.loc["c8", "quadrant"] == "HL" and res.loc["c8", "I"] < 0
    assert res.loc["c5", "quadrant"] == "LH" and res.loc["c5", "I"] < 0
    assert res.loc["c0", "quadrant"] == "LL"


def test_emerging_trend():
    z = pd.DataFrame(
        {
            "r1": [-0.5, 1.0, 0.3],
            "r2": [0.1, 0.9, 0.2],
            "r3": [0.4, 1.1, 0.4],
            "r4": [0.9, 0.8, 0.1],
            "r5": [1.5, 1.0, 0.3],
            "r6": [2.2, 0.9, 0.2],
        },
        index=["rising", "flat", "noise"],
    )
    res = spatial.emerging(z).set_index("code")
    # Strictly rising over 6 rounds: tau = 1 and the exact one-sided p = 1/6! = 1/720.
    assert res.loc["rising", "tau"] == pytest.approx(1.0)
    assert res.loc["rising", "p"] == pytest.approx(1 / 720)
    assert res["emerging"].to_dict() == {"rising": True, "flat": False, "noise": False}
