"""``followups_ms`` of ``bench --json``: one 시군구's due list against a realistic number of cases.

Runs in a child process with an operational store of its own (a temporary SQLite file named by
``BLINDSPOT_OPS_URL`` in the child's environment), so the bench never writes cases or audit
records into the real store.  The child opens a case for every 위험·주의 household of the
시군구 (:func:`~blindspot.followup.cases.sync_cases`, timed as ``followups_sync_seconds``),
backdates them as an office that keeps to the cadence with one case in ten lapsed
(:func:`_backdate`) — then times :func:`~blindspot.followup.cases.due_list` (the median of
repeated runs after one warm-up, each run with its audit record), as the page and the command do.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import bindparam, select, update

from blindspot.access import Scope
from blindspot.db import opstore
from blindspot.db.store import Store
from blindspot.followup import cadence, cases, sql

REPEAT = 7
_SPREAD_DAYS = 182  # cases opened up to half a year ago
_LAPSE_DAYS = 30  # and at least a month ago
_LAPSED = 0.1  # the share never contacted since opening


def _backdate(sgg: str, today: dt.date) -> None:
    """An office that keeps to the cadence, with some lapses: each case opened up to half a year
    ago, last contacted a uniform share of its tier's cadence ago (위험 also visited within the
    visit cadence); one case in ten never contacted since it opened (overdue)."""
    c = sql.followup_cases
    ops = opstore.open_ops()
    with ops.connect() as con:
        found = con.execute(select(c.c.case_id, c.c.tier).where(c.c.sgg_code == sgg)).all()
    rng = np.random.default_rng(0)
    rows = []
    for cid, tier in found:
        start = today - dt.timedelta(days=int(rng.integers(_LAPSE_DAYS, _SPREAD_DAYS)))
        lapsed = rng.random() < _LAPSED
        last = None if lapsed else today - dt.timedelta(days=int(rng.integers(0, cadence.cadence_days(tier))))
        visit = (
            None if lapsed or tier != "high" else today - dt.timedelta(days=int(rng.integers(0, cadence.visit_days())))
        )
        rows.append(
            {
                "cid": cid,
                "opened_on": start.isoformat(),
                "last_contact_on": last and last.isoformat(),
                "last_visit_on": visit and visit.isoformat(),
                "last_outcome": "contacted" if last else None,
                "contact_count": 0 if last is None else 1,
            }
        )
    if not rows:  # no scored round, no cases: nothing to date
        return
    with ops.begin() as con:
        con.execute(
            update(c)
            .where(c.c.case_id == bindparam("cid"))
            .values(
                opened_on=bindparam("opened_on"),
                last_contact_on=bindparam("last_contact_on"),
                last_visit_on=bindparam("last_visit_on"),
                last_outcome=bindparam("last_outcome"),
                contact_count=bindparam("contact_count"),
            ),
            rows,
        )


def measure(db: str, sgg: str) -> dict:
    """The child's work (its own operational store is already named by the environment)."""
    store = Store(db, read_only=True)
    scope = Scope.district([sgg], user="bench")
    today = dt.date.today()
    try:
        t = time.perf_counter()
        synced = cases.sync_cases(store, scope, sgg, today=today)
        sync_s = time.perf_counter() - t
        _backdate(sgg, today)
        due_by = today + dt.timedelta(days=6 - today.weekday())
        view = cases.due_list(store, scope, sgg, due_by, "점검", today=today)  # warm-up
        times = []
        for _ in range(REPEAT):
            t = time.perf_counter()
            cases.due_list(store, scope, sgg, due_by, "점검", today=today)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        store.close()
    return {
        "followups_ms": round(statistics.median(times), 1),
        "followups_sgg": sgg,
        "followups_cases": int(synced["opened"]),
        "followups_due": len(view.rows),
        "followups_sync_seconds": round(sync_s, 2),
    }


def followup_timing(db: Path | str, sgg: str) -> dict:
    """Run :func:`measure` in a child process on a throwaway operational store."""
    with tempfile.TemporaryDirectory(prefix="blindspot-bench-followups-") as tmp:
        env = {**os.environ, "BLINDSPOT_OPS_URL": f"sqlite:///{Path(tmp) / 'ops.sqlite'}"}
        out = subprocess.run(
            [sys.executable, "-m", "blindspot.followup.bench", str(db), sgg],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
