"""The follow-up tables of the operational store (revision 0003; the DDL is the migration, these
the queries' view of it): cases kept across rounds, their contacts, their tier changes and the
round each 시군구's cases were last brought up to.  Declared here, on the store's one
``metadata``, so that the store knows every table it holds; the feature's code is
:mod:`blindspot.followup` (docs/followups.md).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from blindspot.db.opcase import metadata

followup_cases = Table(
    "followup_cases",
    metadata,
    Column("case_id", Integer, primary_key=True, autoincrement=True),
    Column("sgg_code", String(5), nullable=False),
    Column("pseudo_id", String(64), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("tier_source", String(16), nullable=False),
    Column("opened_on", String(10), nullable=False),
    Column("opened_round", Integer, nullable=False),
    Column("band_round", Integer, nullable=False),
    Column("band", String(16)),
    Column("emd_code", String(10)),
    Column("last_contact_on", String(10)),
    Column("last_visit_on", String(10)),
    Column("last_outcome", String(32)),
    Column("last_method", String(16)),
    Column("contact_count", Integer, nullable=False, server_default="0"),
    Column("updated_at", String(32), nullable=False),
    Column("assigned_to", String(256)),  # revision 0005: the official working the case (NULL: not taken)
    UniqueConstraint("sgg_code", "pseudo_id", name="uq_followup_cases_sgg_pseudo"),
)
followup_contacts = Table(
    "followup_contacts",
    metadata,
    Column("contact_id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("followup_cases.case_id"), nullable=False),
    Column("sgg_code", String(5), nullable=False),
    Column("round_id", Integer, nullable=False),
    Column("contacted_on", String(10), nullable=False),
    Column("method", String(16), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("support_type", String(64)),
    Column("recorded_at", String(32), nullable=False),
    Column("recorded_by", String(256), nullable=False),
    Index("ix_followup_contacts_case", "case_id"),
    Index("ix_followup_contacts_sgg_round", "sgg_code", "round_id"),
)
followup_tier_changes = Table(
    "followup_tier_changes",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("followup_cases.case_id"), nullable=False),
    Column("old_tier", String(16)),
    Column("new_tier", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("round_id", Integer),
    Column("changed_at", String(32), nullable=False),
    Column("changed_by", String(256), nullable=False),
    Index("ix_followup_tier_changes_case", "case_id"),
)
followup_syncs = Table(
    "followup_syncs",
    metadata,
    Column("sgg_code", String(5), primary_key=True),
    Column("round_id", Integer, nullable=False),
    Column("synced_at", String(32), nullable=False),
)
