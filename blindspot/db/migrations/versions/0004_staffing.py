"""Registered staff per 시군구: how many officers work the blind-spot lists, which sets the
시군구's visit capacity (officers × visits per officer, blindspot/model/capacity.py) and so who
is in the 위험 band.  Operational, not analytical: an admin enters it between loads, and a
rebuild of the analytical snapshot must not lose it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sgg_staff",
        sa.Column("sgg_code", sa.String(5), primary_key=True),
        sa.Column("officers", sa.Float, nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sgg_staff")
