"""``python -m blindspot followups --sgg CODE --due-by DATE [--json]``: one 시군구's due list
for analysts, the same rows as the page "후속 관리" (cases brought up to the latest scored
round first).  Household-level: it leaves one ``view_followups`` audit record with its purpose
(``--purpose``, default 사례관리) and user (``--user``, default the login name).
"""

from __future__ import annotations

import datetime as dt
import json
import os

from blindspot import config
from blindspot.access import Scope
from blindspot.casework import audit
from blindspot.db.store import Store
from blindspot.errors import BlindspotError
from blindspot.followup import cadence, cases
from blindspot.glossary import round_label


def _date(text: str | None, default: dt.date) -> dt.date:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BlindspotError(
            f"--due-by 날짜를 읽을 수 없습니다: {text[:20]!r}. YYYY-MM-DD 로 쓰세요 (예: 2025-10-12)."
        ) from None


def as_json(view: cases.DueList) -> dict:
    """The due list as plain values: dates ISO text, codes as stored.

    Example: ``{"sgg": "29110", "due_by": "2025-10-12", "round": 20243, "cases": 212, "due": 31, "rows": [...]}``.
    """
    rows = []
    for row in view.rows.to_dict("records"):
        out = {}
        for key, value in row.items():
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif value is None or (isinstance(value, float) and value != value):
                value = None
            elif hasattr(value, "item"):  # numpy scalars
                value = value.item()
            out[key] = value
        rows.append(out)
    return {
        "sgg": view.sgg_code,
        "due_by": view.due_by.isoformat(),
        "today": view.today.isoformat(),
        "round": view.round_id,
        "cases": view.cases,
        "due": len(view.rows),
        "overdue": int(sum(bool(r["overdue"]) for r in rows)),
        "rows": rows,
    }


def run(args) -> int:
    """The command: bring the 시군구's cases up to date, list the due ones, print them."""
    today = dt.date.today()
    due_by = _date(args.due_by, cadence.week_end(today))
    try:
        purpose = audit.check_purpose(args.purpose or "사례관리")
    except audit.PurposeRequired as exc:
        raise BlindspotError(f"--purpose: {exc}") from None
    # The command line runs with the database file's own rights (as export-round): all areas.
    scope = Scope.all_areas(user=args.user or os.environ.get("USER") or "cli", role="admin")
    st = Store(config.db_path(args.db), read_only=True)
    try:
        synced = cases.sync_cases(st, scope, args.sgg, today=today)
        view = cases.due_list(st, scope, args.sgg, due_by, purpose, today=today, owner=getattr(args, "owner", "all"))
    finally:
        st.close()
    if args.json:
        print(json.dumps(as_json(view) | {"opened": synced["opened"], "moved": synced["moved"]}, ensure_ascii=False))
        return 0
    band_round = round_label(view.round_id) if view.round_id else "점수 없음"
    print(
        f"{args.sgg} 후속 관리: 사례 {view.cases:,}건, "
        f"{cadence.korean_date(due_by)}까지 연락 대상 {len(view.rows):,}건 "
        f"(기한 지남 {int(view.rows['overdue'].sum()) if len(view.rows) else 0:,}건; 등급 기준 {band_round})"
    )
    shown = cases.display(view.rows)
    for row in shown.itertuples(index=False):
        print(
            f"  {row.case_id:>6}  {row.pseudo_id}  {row.tier}  {row.due_on}  {row.task}  마지막 결과 {row.last_outcome}"
        )
    return 0
