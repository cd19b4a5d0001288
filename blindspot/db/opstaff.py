"""Registered staff per 시군구 in the operational store (revision 0004): how many officers work a
시군구's blind-spot lists.  It sets the 시군구's visit capacity (officers × visits per officer,
:mod:`blindspot.model.capacity`) and so who is in the 위험 band.  Operational, not analytical:
an admin enters it between loads, and a rebuild of the analytical snapshot must not lose it.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, Float, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from blindspot.db.opcase import iso_seconds, metadata

sgg_staff = Table(
    "sgg_staff",
    metadata,
    Column("sgg_code", String(5), primary_key=True),
    Column("officers", Float, nullable=False),
    Column("updated_by", String(256), nullable=False),
    Column("updated_at", String(32), nullable=False),
)


class Staffing:
    """The staff methods :class:`~blindspot.db.opstore.OpStore` gets (a mixin like
    :class:`~blindspot.db.opcase.Casework`)."""

    if TYPE_CHECKING:

        def connect(self) -> AbstractContextManager[Connection]: ...
        def begin(self) -> AbstractContextManager[Connection]: ...
        def _within(self, con: Connection | None) -> AbstractContextManager[Connection]: ...

    def staff(self) -> dict[str, float]:
        """Registered officers per 시군구, ``{sgg_code: officers}`` (only those registered)."""
        t = sgg_staff
        with self.connect() as con:
            return {str(k): float(v) for k, v in con.execute(select(t.c.sgg_code, t.c.officers)).all()}

    def set_staff(
        self,
        sgg_code: str,
        officers: float | None,
        updated_by: str,
        updated_at: dt.datetime | str,
        con: Connection | None = None,
    ) -> None:
        """Register a 시군구's officers (insert or replace), or remove the registration (None:
        the 시군구 goes back to the national share); ``con``: a transaction of the caller's (the
        registration and its audit record commit together).

        Example: ``store.set_staff("11110", 3, "admin", now)``.
        """
        t = sgg_staff
        with self._within(con) as c:
            if officers is None:
                c.execute(t.delete().where(t.c.sgg_code == sgg_code))
                return
            upsert = postgresql.insert if c.dialect.name == "postgresql" else sqlite.insert
            stmt = upsert(t).values(
                sgg_code=sgg_code, officers=float(officers), updated_by=updated_by, updated_at=iso_seconds(updated_at)
            )
            changed = {k: stmt.excluded[k] for k in ("officers", "updated_by", "updated_at")}
            c.execute(stmt.on_conflict_do_update(index_elements=[t.c.sgg_code], set_=changed))
