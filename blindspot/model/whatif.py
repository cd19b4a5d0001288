"""What-if of visit capacity for analysts: "with this staff or this allocation rule, how many
crisis households would the lists have reached, and how even would recall be across regions?"

Answered from the backtest's latest fold, the model's own test round (a round it never saw in
training), without refitting or rescoring: ``train`` keeps, per 읍면동, the running sums of
the crises and of the calibrated probabilities down the model's ranking (:func:`build`), and
any capacity per 읍면동 then reads off what its top-k holds (:func:`simulate`).  Two tables are
saved beside the model (:data:`AREAS_FILE`, :data:`PREFIX_FILE`); at national scale the prefix
holds ≈ 1.2 million rows (:data:`DEPTH` × the national share of 24 million households).

Figures:

* ``crises_reached``: households of the test round in crisis (the evaluation's ground truth:
  the synthetic world's, or confirmed need on real data) inside the 읍면동's capacity;
* ``expected_reached``: the sum of the calibrated probabilities inside capacity — what the model
  itself expects the visits to find;
* ``recall``: crises reached ÷ all crises; ``sido_ratio``: the lowest 시도 recall ÷ the highest;
  ``rural_ratio``: recall in 읍·면 ÷ recall in 동 (1 = even).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from blindspot.model.capacity import Plan, emd_capacities
from blindspot.model.evaluation import rank_within

AREAS_FILE = "whatif_areas.parquet"
PREFIX_FILE = "whatif_prefix.parquet"
# How deep each 읍면동's ranking is kept, as a multiple of its national-share capacity: a need
# allocation moves visits towards needy 읍면동, rarely beyond six times their flat share; deeper
# capacities read the last kept row and are counted in ``capped``.
DEPTH = 6


def build(
    emd: np.ndarray,
    sgg: np.ndarray,
    rural: np.ndarray,
    p: np.ndarray,
    y: np.ndarray,
    share: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two what-if tables of one test round, from every household's 읍면동 and 시군구 code
    (integers), whether its 읍면동 is an 읍·면 (``rural``), its calibrated probability ``p`` and
    its label ``y`` (1 = crisis; 0 also where no ground truth exists).

    ``areas``: one row per 읍면동 (emd_code, sgg_code, rural, households, expected = Σp,
    crises = Σy, depth = rows kept).  ``prefix``: per 읍면동 and rank k = 1…depth of the model's
    ranking, ``cum_y`` and ``cum_p`` (crises and probability among its top k).

    >>> a, pre = build(np.array([1, 1, 1, 2]), np.array([11110] * 4), np.array([False] * 3 + [True]),
    ...               np.array([0.2, 0.9, 0.5, 0.4]), np.array([0, 1, 1, 0]), share=0.1)
    >>> a[["emd_code", "households", "crises", "depth"]].values.tolist()
    [[1, 3, 2, 3], [2, 1, 0, 1]]
    >>> pre[["emd_code", "k", "cum_y"]].values.tolist(), [round(float(v), 2) for v in pre["cum_p"]]
    ([[1, 1, 1], [1, 2, 2], [1, 3, 2], [2, 1, 0]], [0.9, 1.4, 1.6, 0.4])
    """
    emd = np.asarray(emd)
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    codes, first, inverse, counts = np.unique(emd, return_index=True, return_inverse=True, return_counts=True)
    flat = np.maximum(1, np.rint(counts * share)).astype(np.int64)
    depth = np.minimum(counts, np.maximum(flat * DEPTH, 1))
    areas = pd.DataFrame(
        {
            "emd_code": codes,
            "sgg_code": np.asarray(sgg)[first],
            "rural": np.asarray(rural, dtype=bool)[first],
            "households": counts.astype(np.int64),
            "expected": np.bincount(inverse, weights=p, minlength=len(codes)),
            "crises": np.bincount(inverse, weights=y, minlength=len(codes)).astype(np.int64),
            "depth": depth.astype(np.int64),
        }
    )
    rank = rank_within(emd, p)
    keep = np.flatnonzero(rank <= depth[inverse])
    order = keep[np.lexsort((rank[keep], inverse[keep]))]
    group = inverse[order]
    # Running sums within each 읍면동: the global running sum minus its value before the group.
    cy, cp = np.cumsum(y[order]), np.cumsum(p[order])
    starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    before_y = np.repeat(np.r_[0, cy[starts[1:] - 1]], np.diff(np.r_[starts, len(order)]))
    before_p = np.repeat(np.r_[0.0, cp[starts[1:] - 1]], np.diff(np.r_[starts, len(order)]))
    prefix = pd.DataFrame(
        {
            "emd_code": codes[group],
            "k": rank[order].astype(np.int32),
            "cum_y": (cy - before_y).astype(np.int32),
            "cum_p": (cp - before_p).astype(np.float32),
        }
    )
    return areas, prefix


def simulate(areas: pd.DataFrame, prefix: pd.DataFrame, plan: Plan) -> dict:
    """What the model's lists reach when each 읍면동 visits what ``plan`` gives it
    (:func:`blindspot.model.capacity.emd_capacities`).

    Returns {"visits", "crises", "crises_reached", "expected_reached", "recall",
    "sido_recall_min", "sido_recall_max", "sido_ratio", "rural_ratio", "capped"} (counts in
    households; a ratio None where its denominator is 0).

    >>> a, pre = build(np.array([1, 1, 1, 2]), np.array([11110] * 4), np.array([False] * 3 + [True]),
    ...               np.array([0.2, 0.9, 0.5, 0.4]), np.array([0, 1, 1, 0]), share=0.1)
    >>> r = simulate(a, pre, Plan(share=0.1, rule="flat"))     # one visit each: 읍면동 1 finds 1 of 2
    >>> r["visits"], r["crises_reached"], r["recall"], round(r["expected_reached"], 2)
    (2, 1, 0.5, 1.3)
    >>> simulate(a, pre, Plan(share=0.1, rule="need"))["crises_reached"]   # both visits to 읍면동 1
    2
    """
    cap = emd_capacities(
        areas["households"].to_numpy(), areas["expected"].to_numpy(), areas["sgg_code"].to_numpy(), plan
    )
    depth = areas["depth"].to_numpy()
    k = np.minimum(cap, depth)
    # Row of (읍면동 i, rank k) in the prefix, which is sorted by 읍면동 then rank: offset + k − 1.
    offset = np.r_[0, np.cumsum(depth)[:-1]]
    cum_y = prefix["cum_y"].to_numpy()
    cum_p = prefix["cum_p"].to_numpy(np.float64)
    at = offset + k - 1
    reached_y = np.where(k > 0, cum_y[np.maximum(at, 0)], 0) if len(cum_y) else np.zeros(len(k))
    reached_p = np.where(k > 0, cum_p[np.maximum(at, 0)], 0.0) if len(cum_p) else np.zeros(len(k))
    crises = areas["crises"].to_numpy()
    sido = areas["sgg_code"].to_numpy() // 1000
    per_sido = pd.DataFrame({"sido": sido, "hit": reached_y, "all": crises}).groupby("sido")[["hit", "all"]].sum()
    per_sido = per_sido[per_sido["all"] > 0]
    sido_recall = per_sido["hit"] / per_sido["all"]
    rural = areas["rural"].to_numpy()

    def recall(mask: np.ndarray) -> float | None:
        total = crises[mask].sum()
        return float(reached_y[mask].sum() / total) if total else None

    r_rural, r_urban = recall(rural), recall(~rural)
    top = float(sido_recall.max()) if len(sido_recall) else None
    low = float(sido_recall.min()) if len(sido_recall) else None
    return {
        "visits": int(cap.sum()),
        "crises": int(crises.sum()),
        "crises_reached": int(reached_y.sum()),
        "expected_reached": float(reached_p.sum()),
        "recall": recall(np.ones(len(crises), dtype=bool)),
        "sido_recall_min": low,
        "sido_recall_max": top,
        "sido_ratio": low / top if top and low is not None else None,
        "rural_ratio": r_rural / r_urban if r_rural is not None and r_urban else None,
        "capped": int((cap > depth).sum()),
    }


def load(model_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The what-if tables saved with a model (``models/<version>/``), None for a model trained
    before they existed."""
    a, p = Path(model_dir) / AREAS_FILE, Path(model_dir) / PREFIX_FILE
    if not (a.is_file() and p.is_file()):
        return None
    return pd.read_parquet(a), pd.read_parquet(p)


# Korean row labels of :func:`compare`, in the order shown.
FIGURES = (
    ("visits", "방문 가구 (용량 합)"),
    ("crises_reached", "찾은 위기 가구"),
    ("expected_reached", "모델이 예상한 위기 가구"),
    ("recall", "재현율"),
    ("sido_ratio", "시도 재현율 격차 (최저 ÷ 최고)"),
    ("rural_ratio", "읍·면 재현율 ÷ 동 재현율"),
)


def compare(areas: pd.DataFrame, prefix: pd.DataFrame, plans: dict[str, Plan]) -> pd.DataFrame:
    """One column per named plan, one row per figure (:data:`FIGURES`): the what-if table an
    analyst reads.  Values stay numbers (the page formats them).

    >>> a, pre = build(np.array([1, 1, 2]), np.array([11110] * 3), np.array([False, False, True]),
    ...               np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0]), share=0.1)
    >>> t = compare(a, pre, {"현재": Plan(share=0.1), "필요 비례": Plan(share=0.1, rule="need")})
    >>> t.loc["재현율"].tolist()   # flat: one visit each; need: both to 읍면동 1
    [0.5, 1.0]
    """
    results = {name: simulate(areas, prefix, plan) for name, plan in plans.items()}
    return pd.DataFrame(
        {name: [r[key] for key, _ in FIGURES] for name, r in results.items()},
        index=pd.Index([label for _, label in FIGURES], name="항목"),
    )


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare`'s table as the page shows it: households with thousands separators,
    recall in %, ratios to two decimals, a missing figure as the glossary's 자료 없음.

    >>> t = pd.DataFrame({"현재": [12345, 100, 98.6, 0.25, 0.5, None]}, index=[label for _, label in FIGURES])
    >>> shown(t)["현재"].tolist()
    ['12,345', '100', '99', '25.0%', '0.50', '자료 없음']
    """
    from blindspot.glossary import NO_DATA

    kinds = {"recall": "{:.1%}", "sido_ratio": "{:.2f}", "rural_ratio": "{:.2f}"}
    out = table.astype(object).copy()
    for key, label in FIGURES:
        pattern = kinds.get(key, "{:,.0f}")
        # ``v != v``: NaN (a ratio pandas stored as float) is the one value unequal to itself.
        out.loc[label] = [NO_DATA if v is None or v != v else pattern.format(v) for v in table.loc[label]]
    return out
