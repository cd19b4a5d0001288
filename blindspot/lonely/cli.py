"""``python -m blindspot lonely --sgg CODE --round R [--json]``: the lonely-death lens of one
시군구 and round, read-only from the active snapshot version: one-person households per life
stage and for 중장년 1인 남성, those with a lonely-death signal and their rate per 1,000, and
the one-person households per 고독사 위험 grade.

The command line runs with the database file's own rights, as the official of that 시군구
(exact counts, the same figures that official's page shows).  Described in docs/lonely.md.
"""

from __future__ import annotations

import json
import math
import os

from blindspot import config, glossary
from blindspot.access import Scope
from blindspot.db.queries import loaded_round
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.lonely import figures
from blindspot.lonely.stages import MEN_KEY, keys, life_stages, stage_name
from blindspot.rounds import from_id


def _count(value) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def _rate(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 1)


def report(store: Store, scope: Scope, sgg: str, round_id: int) -> dict:
    """The command's JSON: round, 시군구, one row per life stage and the named group (one-person
    households, those with a lonely-death signal, per 1,000), the totals and the grade counts."""
    bands = life_stages()
    counts = figures.stage_counts(store, scope, "sgg", round_id, bands)
    if sgg not in counts.index:
        raise BlindspotError(f"시군구 {sgg} 에 차수 {from_id(round_id).code} 의 1인 가구가 없습니다.")
    row = figures.add_rates(counts, bands).loc[sgg]
    groups = [
        {
            "group": stage_name(b),
            "key": k,
            "one_person": _count(row[f"one_person_{k}"]),
            "lonely": _count(row[f"lonely_{k}"]),
            "lonely_per_1000": _rate(row[f"lonely_{k}_rate"]),
        }
        for b, k in zip(bands, keys(bands), strict=True)
    ]
    groups.append(
        {
            "group": glossary.MIDDLE_AGED_MEN,
            "key": MEN_KEY,
            "one_person": _count(row[MEN_KEY]),
            "lonely": _count(row[f"{MEN_KEY}_lonely"]),
            "lonely_per_1000": _rate(row[f"{MEN_KEY}_lonely_rate"]),
        }
    )
    return {
        "round": from_id(round_id).code,
        "round_id": int(round_id),
        "sgg": sgg,
        "life_stages": [list(b) for b in bands],
        "groups": groups,
        "total": {
            "one_person": _count(row["one_person"]),
            "lonely": _count(row["lonely_any"]),
            "lonely_per_1000": _rate(row["lonely_any_rate"]),
        },
        "grades": figures.grade_counts(store, scope, round_id, bands),
    }


def run(args) -> int:
    """Run the command (``args``: sgg, round, json, db); prints JSON or a table, exit 0."""
    store = Store(config.db_path(args.db), read_only=True)
    try:
        round_id = loaded_round(store, args.round)
        try:
            scope = Scope.district([args.sgg], user=os.environ.get("USER") or "cli")
        except ValueError as exc:
            raise BlindspotError(f"--sgg: {exc}") from None
        out = report(store, scope, args.sgg, round_id)
    finally:
        store.close()
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"{out['sgg']} {glossary.round_label(round_id)} {glossary.LONELY_RISK}")
    for g in [*out["groups"], {"group": "1인 가구 전체", **out["total"]}]:
        rate = "비공개" if g["lonely_per_1000"] is None else f"{g['lonely_per_1000']:,.1f}"
        print(f"  {g['group']}: 1인 가구 {g['one_person']:,}, 고독사 위기정보 {g['lonely']:,} (천 가구당 {rate})")
    print("  등급: " + ", ".join(f"{k} {v:,}" for k, v in out["grades"].items()))
    return 0
