"""Follow-up cadence (후속 관리): cases kept across rounds with their tier, the tier's history,
the contacts officials record, and the round each 시군구's cases were last brought up to.

Dates are ISO text ('YYYY-MM-DD'), times 'YYYY-MM-DDTHH:MM:SS' local time, as in 0002: both
backends store and compare the same characters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-20
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followup_cases",
        sa.Column("case_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sgg_code", sa.String(5), nullable=False),
        # The pseudonymous id, as entered outcomes keep it: it survives rebuilds and replaced rounds.
        sa.Column("pseudo_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("tier_source", sa.String(16), nullable=False),  # 'band' or 'official'
        sa.Column("opened_on", sa.String(10), nullable=False),
        sa.Column("opened_round", sa.Integer, nullable=False),
        sa.Column("band_round", sa.Integer, nullable=False),
        # The household's band and 읍면동 in band_round, kept with the case so the due list needs no
        # snapshot join (bench --json: followups_ms).
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("emd_code", sa.String(10), nullable=True),
        # Kept with the case so the due list reads one table (written with each contact).
        sa.Column("last_contact_on", sa.String(10), nullable=True),
        sa.Column("last_visit_on", sa.String(10), nullable=True),
        sa.Column("last_outcome", sa.String(32), nullable=True),
        sa.Column("last_method", sa.String(16), nullable=True),
        sa.Column("contact_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.String(32), nullable=False),
        # One case per household and 시군구; the index also serves "every case of a 시군구".
        sa.UniqueConstraint("sgg_code", "pseudo_id", name="uq_followup_cases_sgg_pseudo"),
    )
    op.create_table(
        "followup_contacts",
        sa.Column("contact_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("followup_cases.case_id"), nullable=False),
        sa.Column("sgg_code", sa.String(5), nullable=False),
        sa.Column("round_id", sa.Integer, nullable=False),  # the round the contact date falls in
        sa.Column("contacted_on", sa.String(10), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("support_type", sa.String(64), nullable=True),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("recorded_by", sa.String(256), nullable=False),
    )
    op.create_index("ix_followup_contacts_case", "followup_contacts", ["case_id"])
    op.create_index("ix_followup_contacts_sgg_round", "followup_contacts", ["sgg_code", "round_id"])
    op.create_table(
        "followup_tier_changes",
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("followup_cases.case_id"), nullable=False),
        sa.Column("old_tier", sa.String(16), nullable=True),  # None: the case was opened
        sa.Column("new_tier", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),  # 'band' or 'official'
        sa.Column("round_id", sa.Integer, nullable=True),  # the band's round, for 'band'
        sa.Column("changed_at", sa.String(32), nullable=False),
        sa.Column("changed_by", sa.String(256), nullable=False),
    )
    op.create_index("ix_followup_tier_changes_case", "followup_tier_changes", ["case_id"])
    op.create_table(
        "followup_syncs",
        sa.Column("sgg_code", sa.String(5), primary_key=True),
        sa.Column("round_id", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("followup_syncs")
    op.drop_index("ix_followup_tier_changes_case", "followup_tier_changes")
    op.drop_table("followup_tier_changes")
    op.drop_index("ix_followup_contacts_sgg_round", "followup_contacts")
    op.drop_index("ix_followup_contacts_case", "followup_contacts")
    op.drop_table("followup_contacts")
    op.drop_table("followup_cases")
