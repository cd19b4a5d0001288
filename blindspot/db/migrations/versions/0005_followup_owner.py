"""Follow-up cases get an owner: the official who works the case (who first records a contact
or sets its tier, or who takes it on the page), so that each official's "이번 주 연락 대상" can be
their own cases.  NULL = not yet taken: every official of the 시군구 sees it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("followup_cases", sa.Column("assigned_to", sa.String(256), nullable=True))


def downgrade() -> None:
    op.drop_column("followup_cases", "assigned_to")
