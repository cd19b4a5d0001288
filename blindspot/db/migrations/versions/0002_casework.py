"""Casework state moves out of the analytical DuckDB file: the audit log (a hash chain the
database itself keeps append-only), entered visit outcomes, briefing targets and the
history of loaded extraction files.

Timestamps are ISO text ('YYYY-MM-DDTHH:MM:SS', local time), so that SQLite and PostgreSQL
store, compare and hash the very same characters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The same sentence on both backends: it is what a user or an operator reads when something
# tries to rewrite history.
REFUSED = "감사 기록은 고치거나 지울 수 없습니다"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("happened_at", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(256), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("filters", sa.Text, nullable=True),
        sa.Column("row_count", sa.BigInteger, nullable=True),
        sa.Column("purpose", sa.Text, nullable=True),
        sa.Column("file_hash", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        # Two writers that read the same last record cannot both append after it: the chain
        # never forks, the slower one retries.
        sa.UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),
    )
    for column in ("happened_at", "user_name", "action"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSED}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        # TRUNCATE fires no row trigger: it needs its own, per statement.
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
            )

    op.create_table(
        "entered_outcomes",
        sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("round_id", sa.Integer, nullable=False),
        sa.Column("pseudo_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("support_type", sa.String(64), nullable=True),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("recorded_by", sa.String(256), nullable=False),
        # 'visit' today; follow-up contacts later share the table.
        sa.Column("kind", sa.String(16), nullable=False, server_default="visit"),
    )
    op.create_index("ix_entered_outcomes_round_pseudo", "entered_outcomes", ["round_id", "pseudo_id"])

    op.create_table(
        "briefing_targets",
        sa.Column("area_code", sa.String(16), primary_key=True),
        sa.Column("indicator", sa.String(64), primary_key=True),
        sa.Column("target", sa.Float, nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )

    op.create_table(
        "ingest_loads",
        sa.Column("load_id", sa.String(64), primary_key=True),
        sa.Column("round_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("loaded_by", sa.String(256), nullable=False),
        sa.Column("loaded_at", sa.String(32), nullable=False),
        sa.Column("replaced", sa.Boolean, nullable=False),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("snapshot", sa.String(64), nullable=True),  # the analytical snapshot the load produced
    )


def downgrade() -> None:
    op.drop_table("ingest_loads")
    op.drop_table("briefing_targets")
    op.drop_index("ix_entered_outcomes_round_pseudo", "entered_outcomes")
    op.drop_table("entered_outcomes")
    # Dropping the table drops its triggers on both backends; the PostgreSQL function stays.
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
