"""``python -m blindspot zones --round R [--level sgg|emd] [--sgg CODE] [--weight KEY=W ...]
[--xlsx PATH] [--json]``: the special support zone ranking — index, components, rank and rank
interval of every 시군구 (national) or of the 읍면동 of one 시군구, read-only from the active
snapshot version.

The command line runs with the database file's own rights, as an analyst of the whole country
(no small-count suppression: the figures an analyst's page shows).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from blindspot import config
from blindspot.access import Scope
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.rounds import from_id, parse_round
from blindspot.zones import export, present
from blindspot.zones import figures as zones
from blindspot.zones.index import CONFIDENCE


def _plain(value):
    """A JSON value: NaN and NA are null, numpy scalars plain.

    >>> _plain(float("nan")), _plain(pd.NA), _plain(3.0), _plain("x")
    (None, None, 3.0, 'x')
    """
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def parse_weights(items: list[str] | None) -> dict[str, float] | None:
    """``KEY=W`` texts over the default weights; None when none is given.

    >>> parse_weights(["crisis=0.5", "elderly=0"])["crisis"], parse_weights(None)
    (0.5, None)
    """
    if not items:
        return None
    weights = zones.default_weights()
    for item in items:
        key, _, value = item.partition("=")
        if key not in weights:
            raise BlindspotError(f"--weight: 알 수 없는 성분 {key!r} (가능: {', '.join(weights)})")
        try:
            weights[key] = float(value)
        except ValueError:
            raise BlindspotError(f"--weight {item}: 가중치는 수여야 합니다 (예: crisis=0.3)") from None
    return weights


def report(ranking: zones.Ranking) -> dict:
    """The command's JSON: how the ranking was made (rounds, weights, formula, replicates,
    seed) and every area with its index, rank, rank interval and components."""
    used = ranking.components
    total = sum(ranking.weights[c.key] for c in used)
    areas = []
    for r in ranking.table.to_dict("records"):
        areas.append(
            {
                **{k: _plain(r[k]) for k in ("code", "name", "full_name", "households")},
                **{k: _plain(r[k]) for k in ("index", "rank", "rank_low", "rank_high", "top_share", "status")},
                "components": {c.key: _plain(r[c.key]) for c in zones.COMPONENTS},
                "z": {c.key: _plain(r[f"z_{c.key}"]) for c in used},
            }
        )
    return {
        "round": from_id(ranking.round_id).code,
        "level": ranking.level,
        "area": ranking.area,
        "rounds": [from_id(r).code for r in ranking.rounds],
        "formula": present.FORMULA,
        "weights": {c.key: ranking.weights[c.key] for c in zones.COMPONENTS},
        "weights_relative": {c.key: ranking.weights[c.key] / total for c in used},
        "components": [
            {"key": c.key, "label": c.label, "unit": c.unit, "needs_scores": c.needs_scores, "why": c.why}
            for c in zones.COMPONENTS
        ],
        "replicates": ranking.replicates,
        "seed": ranking.seed,
        "confidence": CONFIDENCE,
        "designate": ranking.designate,
        "areas": areas,
    }


def write_private(path: Path, data: bytes) -> None:
    """Write a file the owner alone may read (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def run(args) -> int:
    """Run the command (``args``: round, level, sgg, weight, xlsx, json, db); exit 0."""
    try:
        round_id = parse_round(args.round).round_id
    except ValueError as exc:
        raise BlindspotError(f"--round: {exc}") from None
    level = args.level or ("emd" if args.sgg else "sgg")
    if level == "emd" and not args.sgg:
        raise BlindspotError("--level emd 에는 --sgg CODE (시군구 5자리) 가 필요합니다.")
    weights = parse_weights(args.weight)
    store = Store(config.db_path(args.db), read_only=True)
    try:
        scope = Scope.analyst(user=os.environ.get("USER") or "cli")
        try:
            ranking = zones.zone_ranking(
                store, scope, level, round_id, area=args.sgg if level == "emd" else None, weights=weights
            )
        except ValueError as exc:
            raise BlindspotError(str(exc)) from None
        out = report(ranking)
        if args.xlsx:
            write_private(Path(args.xlsx), export.ranking_xlsx(ranking, scope))
    finally:
        store.close()
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(
        f"특별지원구역 순위 ({out['round']}, 차수 {', '.join(out['rounds'])}, 부트스트랩 {out['replicates']:,}회, "
        f"시드 {out['seed']})"
    )
    print(present.formula_text(ranking))
    with pd.option_context("display.max_rows", None, "display.width", 250, "display.unicode.east_asian_width", True):
        print(present.ranking_table(ranking).to_string(index=False))
    return 0
