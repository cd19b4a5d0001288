"""Follow-up cases: opened from the bands, kept across rounds in a tier, contacted on the
tier's cadence; the due list "이번 주 연락 대상"; the briefing's count of follow-up contacts.

A **case** is one household (pseudonymous id) of one 시군구 in the operational store, so it
outlives every snapshot.  :func:`sync_cases` brings a 시군구's cases up to the latest scored
round: a 위험·주의 household without a case gets one (tier = its band, opened today); a case
whose tier still follows the model (``tier_source`` "band") takes the new round's band (관심
for "low", 종결 when the household is no longer in 위험·주의·관심); a tier an official set stays.
Each change is a row of ``followup_tier_changes``; an official's change (:func:`set_tier`) is
also one audit record.

A **contact** (:func:`record_contact`) is a date, a method (전화, 방문, 문자) and an outcome
(:data:`blindspot.vocab.OUTCOMES`), entered by the district official of the case's 시군구; it
is kept apart from the round's first visit (``entered_outcomes``), so the funnel still counts
first visits and the briefing counts follow-up contacts on their own
(:func:`followup_contacts`).  Entries (a contact, an official's tier) are
:mod:`blindspot.followup.entries`.

:func:`due_list` is household-level: it needs a purpose and leaves one ``view_followups``
audit record; the address goes only to the area's official.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from blindspot import glossary
from blindspot.access import NATION_CODE, Scope, can, can_see_address, scope_sql_named, threshold
from blindspot.casework import audit, lists
from blindspot.db import opstore
from blindspot.db.opcase import iso_seconds
from blindspot.db.store import Store
from blindspot.errors import AccessDenied, BlindspotError
from blindspot.followup import cadence, sql
from blindspot.vocab import OUTCOMES, YES_NO

SYSTEM_USER = "system"  # who moves a tier that follows the model
SOURCES = glossary.TIER_SOURCES
_SGG_RE = re.compile(r"^\d{5}$")
# Any constant (opstore and opcase use the ones before), times 100,000 plus the 시군구 code: one
# sync of a 시군구 at a time on PostgreSQL (one bigint key; the two-key form takes 32-bit keys).
_PG_SYNC_LOCK = 0x626C696E66
_IN_CHUNK = 500  # ids per IN-list: far under SQLite's and PostgreSQL's parameter limits


@dataclass
class DueList:
    """One view of a 시군구's due list: ``rows`` (one per case due by ``due_by``, soonest
    first; a case's contacts and tier changes: :func:`case_history`), how many cases the 시군구
    has and the round whose bands the rows show."""

    sgg_code: str
    due_by: dt.date
    today: dt.date
    round_id: int | None
    cases: int
    rows: pd.DataFrame


def _require_sgg(scope: Scope, sgg: str) -> str:
    sgg = str(sgg)
    if not _SGG_RE.match(sgg):
        raise BlindspotError(f"시군구 코드는 5자리 숫자여야 합니다 (예: 29110): {sgg[:20]!r}")
    scope.require_household_level()
    if not can(scope, "view_households", sgg):
        raise AccessDenied(f"{sgg} 시군구의 사례를 볼 권한이 없습니다 (권한 범위: {scope.label}).")
    return sgg


def latest_scored_round(store: Store) -> int | None:
    """The latest round with scores, or None (the bands cases follow)."""
    value = store.scalar(sql.LATEST_SCORED_ROUND)
    return None if value is None else int(value)


def _now() -> str:
    return iso_seconds(dt.datetime.now())


def _upsert(con: Connection):
    return postgresql.insert if con.dialect.name == "postgresql" else sqlite.insert


def sync_cases(store: Store, scope: Scope, sgg: str, today: dt.date | None = None, round_id: int | None = None) -> dict:
    """Bring the 시군구's cases up to ``round_id`` (default the latest scored round): open a
    case (opened ``today``) for each 위험·주의 household without one, move the tiers that
    follow the model to the round's band.  Once per 시군구 and round (a second call returns
    ``already``); runs for anyone who may see the 시군구's households (it shows none).

    Example: ``sync_cases(store, Scope.district(["29110"]), "29110")`` →
    ``{"round": 20243, "opened": 212, "moved": 0, "already": False}``.
    """
    sgg = _require_sgg(scope, sgg)
    r = int(round_id) if round_id is not None else latest_scored_round(store)
    if r is None:
        return {"round": None, "opened": 0, "moved": 0, "already": False}
    today = today or dt.date.today()
    ops = opstore.open_ops()
    c, s = sql.followup_cases, sql.followup_syncs
    with ops.connect() as con:
        done = con.execute(select(s.c.round_id).where(s.c.sgg_code == sgg)).scalar()
        if done is not None and int(done) >= r:
            return {"round": r, "opened": 0, "moved": 0, "already": True}
        existing = con.execute(
            select(c.c.case_id, c.c.pseudo_id, c.c.tier, c.c.tier_source, c.c.band, c.c.emd_code).where(
                c.c.sgg_code == sgg
            )
        ).all()
    kept = [row.pseudo_id for row in existing]
    cond, params = scope_sql_named(scope, "s.sgg_code")
    bands = store.df(
        sql.FOLLOWUP_BANDS.format(scope=cond),
        {**params, "t": r, "sgg": sgg, "kept": kept, "opening": list(cadence.OPENING_BANDS)},
    )
    band_of = dict(zip(bands["pseudo_id"], bands["band"], strict=True))
    emd_of = dict(zip(bands["pseudo_id"], bands["emd_code"], strict=True))
    known = {row.pseudo_id for row in existing}
    new = [pid for pid, band in band_of.items() if band in cadence.OPENING_BANDS and pid not in known]
    moves, seen = [], []
    for case_id, pid, tier, source, band, emd in existing:
        target = cadence.TIER_OF_BAND[band_of.get(pid, "none")]
        if source == "band" and target != tier:
            moves.append({"cid": case_id, "old": tier, "new": target})
        if (band_of.get(pid), emd_of.get(pid, emd)) != (band, emd):
            seen.append({"cid": case_id, "b": band_of.get(pid), "e": emd_of.get(pid, emd)})
    # Loaded visits (extraction files) start a case's clock as an entered first visit does.
    vcond, vparams = scope_sql_named(scope, "v.sgg_code", prefix="v")
    loaded = store.df(
        sql.LOADED_VISITS.format(scope=vcond), {**vparams, "t": r, "sgg": sgg, "pids": sorted(known | set(new))}
    )
    # The day the cases were brought up (``today``) at this moment's time: history reads by it.
    now = iso_seconds(dt.datetime.combine(today, dt.datetime.now().time()))
    with ops.begin() as con:
        if con.dialect.name == "postgresql":
            con.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_SYNC_LOCK * 100_000 + int(sgg)})")
        done = con.execute(select(s.c.round_id).where(s.c.sgg_code == sgg)).scalar()
        if done is not None and int(done) >= r:  # another process did it meanwhile
            return {"round": r, "opened": 0, "moved": 0, "already": True}
        if new:
            rows = [
                {
                    "sgg_code": sgg,
                    "pseudo_id": pid,
                    "tier": cadence.TIER_OF_BAND[band_of[pid]],
                    "tier_source": "band",
                    "opened_on": today.isoformat(),
                    "opened_round": r,
                    "band_round": r,
                    "band": band_of[pid],
                    "emd_code": emd_of[pid],
                    "contact_count": 0,
                    "updated_at": now,
                }
                for pid in new
            ]
            con.execute(_upsert(con)(c).on_conflict_do_nothing(index_elements=[c.c.sgg_code, c.c.pseudo_id]), rows)
            opened = con.execute(
                select(c.c.case_id, c.c.tier).where(c.c.sgg_code == sgg, c.c.opened_round == r, c.c.updated_at == now)
            ).all()
            _changes(con, [(cid, None, tier) for cid, tier in opened], "band", r, now, SYSTEM_USER)
        if moves:
            con.execute(
                update(c)
                .where(c.c.case_id == bindparam("cid"))
                .values(tier=bindparam("new"), band_round=r, updated_at=now),
                moves,
            )
            _changes(con, [(m["cid"], m["old"], m["new"]) for m in moves], "band", r, now, SYSTEM_USER)
        if seen:  # the band (and 읍면동) each case's household has this round, for the due list
            con.execute(
                update(c).where(c.c.case_id == bindparam("cid")).values(band=bindparam("b"), emd_code=bindparam("e")),
                seen,
            )
        if len(loaded):
            _loaded_visits(con, sgg, loaded)
        con.execute(update(c).where(c.c.sgg_code == sgg).values(band_round=r))
        stmt = _upsert(con)(s).values(sgg_code=sgg, round_id=r, synced_at=now)
        con.execute(stmt.on_conflict_do_update(index_elements=[s.c.sgg_code], set_={"round_id": r, "synced_at": now}))
    return {"round": r, "opened": len(new), "moved": len(moves), "already": False}


def _loaded_visits(con: Connection, sgg: str, loaded: pd.DataFrame) -> None:
    """Move each case's last contact and visit to its latest loaded visit where that is later
    (an entered contact or visit after it stays)."""
    from blindspot.followup.entries import visits_seen

    visits = [
        (str(pid), pd.Timestamp(on).date(), str(outcome))
        for pid, on, outcome in loaded[["pseudo_id", "visited_on", "outcome"]].itertuples(index=False)
    ]
    visits_seen(con, sgg, visits)


def _changes(con: Connection, changes: list[tuple], source: str, round_id: int | None, at: str, by: str) -> None:
    if changes:
        con.execute(
            insert(sql.followup_tier_changes),
            [
                {
                    "case_id": int(cid),
                    "old_tier": old,
                    "new_tier": new,
                    "source": source,
                    "round_id": round_id,
                    "changed_at": at,
                    "changed_by": by,
                }
                for cid, old, new in changes
            ],
        )


# --- the due list -----------------------------------------------------------------------------

ROW_COLUMNS = glossary.CASE_COLUMNS
HISTORY_COLUMNS = glossary.CASE_HISTORY_COLUMNS


# Whose cases a due list shows: every case of the 시군구, the user's own and the ones nobody has
# taken yet, or only the untaken ones.
OWNERS = glossary.CASE_OWNERS


def due_list(
    store: Store,
    scope: Scope,
    sgg: str,
    due_by: dt.date,
    purpose: str,
    today: dt.date | None = None,
    owner: str = "all",
) -> DueList:
    """The 시군구's cases due by ``due_by`` (overdue ones too), soonest first, with their last
    outcome and history, and one ``view_followups`` audit record.

    Needs household-level access to the 시군구 and a purpose (AccessDenied / PurposeRequired).
    Row values are raw (dates as :class:`datetime.date`, codes); :func:`display` turns them
    into the page's Korean.  ``address`` only for the 시군구's official.

    Example: ``due_list(store, Scope.district(["29110"]), "29110", dt.date(2025, 10, 12),
    "사례관리").rows`` lists 광주 동구's cases to contact by Sunday 12 October 2025.
    ``owner`` (:data:`OWNERS`): ``mine`` keeps the user's own cases and the untaken ones,
    ``untaken`` only those nobody has taken.
    """
    sgg = _require_sgg(scope, sgg)
    purpose = audit.check_purpose(purpose)
    if owner not in OWNERS:
        raise BlindspotError(f"담당 구분은 {', '.join(OWNERS.values())} 중 하나여야 합니다.")
    out = _due(store, scope, sgg, due_by, today or dt.date.today(), owner)
    filters = {"sgg": sgg, "due_by": due_by.isoformat(), **({"owner": owner} if owner != "all" else {})}
    audit.record(scope, "view_followups", filters, len(out.rows), purpose)
    return out


_READ = (
    "case_id",
    "pseudo_id",
    "tier",
    "tier_source",
    "band",
    "emd_code",
    "opened_on",
    "last_contact_on",
    "last_visit_on",
    "last_outcome",
    "contact_count",
    "assigned_to",
)


def _due_filter(due_by: dt.date):
    """The SQL condition "due by ``due_by``", exact: a date moved forward to a working day is
    on or before ``due_by`` exactly when it is on or before the last working day ``w`` up to
    ``due_by``; so a case is due when its last contact (or start) is on or before ``w`` minus
    its cadence (for 위험 also its last visit and the visit cadence).  ISO text compares as dates."""
    c = sql.followup_cases
    off = cadence.holidays_between(due_by - dt.timedelta(days=31), due_by, cadence.extra_holidays())
    w = np.busday_offset(np.datetime64(due_by, "D"), 0, roll="backward", holidays=np.array(off, "datetime64[D]"))
    w = w.astype(dt.date)
    since_contact = func.coalesce(c.c.last_contact_on, c.c.opened_on)
    since_visit = func.coalesce(c.c.last_visit_on, c.c.opened_on)

    def by(days: int) -> str:
        return (w - dt.timedelta(days=days)).isoformat()

    return or_(
        and_(
            c.c.tier == "high",
            or_(since_contact <= by(cadence.cadence_days("high")), since_visit <= by(cadence.visit_days())),
        ),
        *(and_(c.c.tier == t, since_contact <= by(cadence.cadence_days(t))) for t in cadence.TIERS[1:]),
    )


def _iso(values: np.ndarray) -> list:
    """``datetime64[D]`` values as ISO text, None where missing."""
    text = np.datetime_as_string(values.astype("datetime64[D]"))
    return [None if s == "NaT" else s for s in text.tolist()]


def _due(store: Store, scope: Scope, sgg: str, due_by: dt.date, today: dt.date, owner: str = "all") -> DueList:
    c = sql.followup_cases
    ops = opstore.open_ops()
    whose = {
        "all": true(),
        "mine": or_(c.c.assigned_to.is_(None), c.c.assigned_to == scope.user),
        "untaken": c.c.assigned_to.is_(None),
    }[owner]
    with ops.connect() as con:
        total = int(con.execute(select(func.count()).where(c.c.sgg_code == sgg)).scalar_one())
        found = con.execute(
            select(*(c.c[k] for k in _READ)).where(c.c.sgg_code == sgg, _due_filter(due_by), whose)
        ).all()
    # Columns built from the rows at once: pandas would probe each SQLAlchemy Row otherwise.
    columns_of: dict[str, tuple] = dict(zip(_READ, zip(*found, strict=True), strict=True)) if found else {}
    rows = pd.DataFrame({k: columns_of.get(k, ()) for k in _READ})
    r = latest_scored_round(store)
    columns = [k for k in ROW_COLUMNS if k != "address" or can_see_address(scope, sgg)]
    keep = columns + ["next_contact_on", "next_visit_on", "emd_code"]
    if rows.empty:
        return DueList(sgg, due_by, today, r, total, pd.DataFrame(columns=keep))
    dates = cadence.due_dates(rows)
    rows["overdue"] = (dates["due_on"] < pd.Timestamp(today)).to_numpy()
    rows["task"] = np.where(dates["next_visit_on"] <= pd.Timestamp(due_by), "visit", "contact")
    rows["tier_order"] = pd.Categorical(rows["tier"], categories=cadence.TIERS).codes
    for col in dates.columns:
        rows[col] = _iso(dates[col].to_numpy())
    rows = rows.sort_values(["due_on", "tier_order", "pseudo_id"], kind="stable").reset_index(drop=True)
    names = store.df(sql.FOLLOWUP_EMD_NAMES, [sgg])
    rows["emd_name"] = rows["emd_code"].map(dict(zip(names["code"], names["name"], strict=True)))
    if "address" in columns:
        full = rows["emd_code"].map(dict(zip(names["code"], names["full_name"], strict=True)))
        synthetic = r is not None and lists.is_synthetic_round(store, r)
        rows["address"] = [
            (lists.synthetic_address(f, pid) if synthetic else lists.NO_ADDRESS_NOTE)
            if isinstance(f, str)
            else lists.NO_ADDRESS_NOTE
            for f, pid in zip(full, rows["pseudo_id"], strict=True)
        ]
    return DueList(sgg, due_by, today, r, total, rows[keep])


def case_history(view: DueList, case_id: int) -> pd.DataFrame:
    """Contacts and tier changes of one case of ``view`` (the list on screen, already recorded
    as one view), newest first: ``case_id``, ``on`` (a date), ``what``, ``by``.  A case not on
    the list is refused: the history is part of the recorded view, never a look of its own.

    Example: ``case_history(view, 12)["what"].tolist()`` → ``["전화: 접촉·상담(지원 불필요)", "사례 시작: 위험"]``.
    """
    if int(case_id) not in {int(x) for x in view.rows["case_id"]}:
        raise AccessDenied("이 사례는 화면의 연락 대상 목록에 없습니다. 목록에 있는 사례를 고르세요.")
    return _history(opstore.open_ops(), [int(case_id)])


def _history(ops, case_ids: list[int]) -> pd.DataFrame:
    """Contacts and tier changes of ``case_ids``, newest first (case_id, on, kind, …)."""
    k, t = sql.followup_contacts, sql.followup_tier_changes
    contacts, changes = [], []
    with ops.connect() as con:
        for start in range(0, len(case_ids), _IN_CHUNK):
            chunk = [int(x) for x in case_ids[start : start + _IN_CHUNK]]
            contacts += con.execute(
                select(
                    k.c.case_id,
                    k.c.contacted_on,
                    k.c.method,
                    k.c.outcome,
                    k.c.support_type,
                    k.c.recorded_by,
                    k.c.contact_id,
                ).where(k.c.case_id.in_(chunk))
            ).all()
            changes += con.execute(
                select(
                    t.c.case_id, t.c.changed_at, t.c.old_tier, t.c.new_tier, t.c.source, t.c.changed_by, t.c.change_id
                ).where(t.c.case_id.in_(chunk))
            ).all()
    out = [
        {
            "case_id": int(cid),
            "on": dt.date.fromisoformat(on),
            "what": f"{cadence.METHODS.get(method, method)}: {OUTCOMES.get(outcome, outcome)}"
            + (f" ({support})" if support else ""),
            "by": by,
            "order": (on, 1, int(n)),
        }
        for cid, on, method, outcome, support, by, n in contacts
    ]
    out += [
        {
            "case_id": int(cid),
            "on": dt.date.fromisoformat(at[:10]),
            "what": (
                f"사례 시작: {cadence.TIER_LABELS[new]}"
                if old is None
                else f"등급 변경 ({SOURCES.get(source, source)}): "
                f"{cadence.TIER_LABELS[old]} → {cadence.TIER_LABELS[new]}"
            ),
            "by": "시스템 (모델 등급)" if by == SYSTEM_USER else by,
            "order": (at[:10], 0, int(n)),
        }
        for cid, at, old, new, source, by, n in changes
    ]
    frame = pd.DataFrame(out, columns=["case_id", "on", "what", "by", "order"])
    if frame.empty:
        return frame.drop(columns="order")
    return frame.sort_values("order", ascending=False, kind="stable").drop(columns="order").reset_index(drop=True)


def display(rows: pd.DataFrame) -> pd.DataFrame:
    """The due list's rows as the page shows them: Korean labels, Korean dates, 예/아니요,
    "—" for nothing yet (never None or NaN).

    >>> row = {"case_id": 3, "pseudo_id": "H1", "emd_name": None, "tier": "closed", "band": None,
    ...        "due_on": dt.date(2025, 10, 10), "overdue": True, "task": "contact", "last_contact_on": None,
    ...        "last_outcome": None, "contact_count": 0, "opened_on": dt.date(2025, 4, 1), "tier_source": "band"}
    >>> display(pd.DataFrame([row])).iloc[0][["tier", "band", "due_on", "overdue", "last_outcome", "emd_name"]].tolist()
    ['종결', '점수 없음', '2025년 10월 10일 (금)', '예', '—', '—']
    """
    out = rows.copy()
    out["tier"] = out["tier"].map(cadence.TIER_LABELS)
    out["band"] = [
        glossary.BAND_LABELS.get(b, glossary.NO_SCORES) if isinstance(b, str) else glossary.NO_SCORES
        for b in out["band"]
    ]
    for col in ("due_on", "last_contact_on", "opened_on"):
        out[col] = [cadence.korean_date(d) for d in out[col]]
    out["overdue"] = out["overdue"].map(YES_NO)
    out["task"] = out["task"].map(glossary.CASE_TASKS)
    out["last_outcome"] = [OUTCOMES.get(o, "—") if isinstance(o, str) else "—" for o in out["last_outcome"]]
    out["tier_source"] = out["tier_source"].map(SOURCES)
    out["emd_name"] = [n if isinstance(n, str) else "—" for n in out["emd_name"]]
    out["contact_count"] = [f"{int(n):,}" for n in out["contact_count"]]
    out["case_id"] = [str(int(n)) for n in out["case_id"]]
    if "assigned_to" in out.columns:
        out["assigned_to"] = [o if isinstance(o, str) and o else "미지정" for o in out["assigned_to"]]
    return out[[c for c in ROW_COLUMNS if c in out.columns]]


def display_history(history: pd.DataFrame) -> pd.DataFrame:
    """The history as the page shows it (Korean dates, case numbers as text)."""
    out = history.copy()
    out["on"] = [cadence.korean_date(d) for d in out["on"]]
    out["case_id"] = [str(int(n)) for n in out["case_id"]]
    return out


# --- the briefing's count ---------------------------------------------------------------------


def followup_contacts(store: Store, scope: Scope, area_code: str, round_id: int, k: int = 0) -> int | None:
    """Follow-up contacts recorded with a date in ``round_id`` in the area ('00' the nation, a
    시도, a 시군구) within the scope: counted apart from the round's first visits.  An
    aggregate: with ``k = threshold(scope, k)`` above 1, None when the total is 1..k-1 or when
    any 시군구 inside a wider area is (its count would come back by subtraction from the
    시군구 briefings).  ``store`` is the snapshot the briefing is built from, unused here.

    Example: ``followup_contacts(store, Scope.aggregates_only(), "29", 20243)`` → 37 (or None).
    """
    k_ = threshold(scope, k)
    t = sql.followup_contacts
    with opstore.open_ops().connect() as con:
        per = con.execute(
            select(t.c.sgg_code, func.count()).where(t.c.round_id == int(round_id)).group_by(t.c.sgg_code)
        ).all()
    area = str(area_code)
    counts = [int(n) for sgg, n in per if scope.allows_sgg(sgg) and (area == NATION_CODE or sgg.startswith(area))]
    total = int(np.sum(counts)) if counts else 0
    if k_ > 1 and any(0 < n < k_ for n in [*counts, total]):
        return None
    return total
