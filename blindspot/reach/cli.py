"""``python -m blindspot reach-gap --level {sgg,emd} --round R [--json]``: the reach gap of
every 시군구 or 읍면동 of one round for analysts, read-only from the active snapshot version.

The command line runs with the database file's own rights, as an analyst of the whole
country (no small-count suppression: the same figures an analyst's page shows).
"""

from __future__ import annotations

import json
import math
import os

import pandas as pd

from blindspot import config, settings
from blindspot.access import Scope
from blindspot.db.queries import loaded_round
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.maps.measures import has_scores
from blindspot.reach import figures, present
from blindspot.rounds import from_id

AREA_KEYS = (
    "code",
    "name",
    "full_name",
    "households",
    "expected",
    "found",
    "supported",
    "gap",
    "gap_rate",
    "ratio",
    "ratio_low",
    "ratio_high",
    "relative",
    "cls",
)


def _plain(value):
    """A JSON value: NaN is null, whole floats of counts stay floats (expected is a sum).

    >>> _plain(float("nan")), _plain(3.0), _plain("x"), _plain(True)
    (None, 3.0, 'x', True)
    """
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _plain(value.item())
    return value


def report(store: Store, scope: Scope, level: str, round_id: int) -> dict:
    """The command's JSON: round, level, the interval's confidence, the gap limit, the
    scope's totals and reference ratio, the number of areas per class and every area."""
    frame = figures.reach_gap(store, scope, level, round_id)
    total = figures.reach_trend(store, scope, round_id, since=round_id).iloc[0]
    return {
        "round": from_id(round_id).code,
        "round_id": int(round_id),
        "level": level,
        "confidence": figures.CONFIDENCE,
        "reach_gap_ratio": float(settings.get("reach_gap_ratio")),
        "reference_ratio": _plain(float(frame["reference"].iloc[0])) if len(frame) else None,
        "totals": {k: _plain(total[k]) for k in ("households", "expected", "found", "supported", "gap", "ratio")}
        | {"ratio_low": _plain(total["ratio_low"]), "ratio_high": _plain(total["ratio_high"])},
        "classes": {c: int((frame["cls"] == c).sum()) for c in figures.CLASSES},
        "areas": [{k: _plain(v) for k, v in zip(AREA_KEYS, row, strict=True)} for row in frame[list(AREA_KEYS)].values],
    }


def run(args) -> int:
    """Run the command (``args``: level, round, json, db); prints JSON or a table, exit 0."""
    store = Store(config.db_path(args.db), read_only=True)
    try:
        round_id = loaded_round(store, args.round)
        if not has_scores(store, round_id):
            raise BlindspotError(
                f"차수 {args.round} 에는 위기 점수가 없어 예상 위기 가구를 셀 수 없습니다. "
                f"먼저 점수를 계산하세요: python -m blindspot score --round {args.round}"
            )
        scope = Scope.analyst(user=os.environ.get("USER") or "cli")
        out = report(store, scope, args.level, round_id)
        table = None if args.json else present.area_table(figures.reach_gap(store, scope, args.level, round_id))
    finally:
        store.close()
    if table is None:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    t = out["totals"]
    print(
        f"{out['round']} 전체: {present.EXPECTED} {present.count_text(t['expected'])}, {present.FOUND} "
        f"{present.count_text(t['found'])}, {present.SUPPORTED} {present.count_text(t['supported'])}, "
        f"{present.RATIO} {present.ratio_text(t['ratio'])} ({present.INTERVAL} "
        f"{present.interval_text(t['ratio_low'], t['ratio_high'])})"
    )
    print(", ".join(f"{figures.CLASSES[c]} {n:,}곳" for c, n in out["classes"].items() if n))
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.unicode.east_asian_width", True):
        print(table.to_string(index=False))
    return 0
