"""Failed sign-ins per account and per client address, shared by every server process.

A store made before migrations existed (by ``create_all``) holds exactly this table and is
stamped at this revision instead of being created again.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("subject", sa.String(256), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
