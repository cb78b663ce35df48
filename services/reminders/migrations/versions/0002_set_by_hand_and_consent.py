"""reminders set by hand (no duration) and the copy of everyone's consent

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DUE = sa.text("status IN ('open', 'responded')")


def upgrade() -> None:
    # SQLite rebuilds the table to drop NOT NULL: the partial index is dropped and made again around it.
    op.drop_index("ix_refill_reminders_due", table_name="refill_reminders", postgresql_where=DUE, sqlite_where=DUE)
    with op.batch_alter_table("refill_reminders", schema=None) as batch_op:
        batch_op.alter_column("duration_days", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("set_by", sa.Integer(), nullable=True))
    op.create_index(
        "ix_refill_reminders_due",
        "refill_reminders",
        ["reminder_date", "id"],
        unique=False,
        postgresql_where=DUE,
        sqlite_where=DUE,
    )
    op.create_table(
        "consent_copies",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("whatsapp", sa.String(length=10), nullable=False),
        sa.Column("call", sa.String(length=10), nullable=False),
        sa.Column("sms", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )


def downgrade() -> None:
    op.drop_table("consent_copies")
    op.execute("DELETE FROM refill_reminders WHERE duration_days IS NULL")
    op.drop_index("ix_refill_reminders_due", table_name="refill_reminders", postgresql_where=DUE, sqlite_where=DUE)
    with op.batch_alter_table("refill_reminders", schema=None) as batch_op:
        batch_op.drop_column("set_by")
        batch_op.alter_column("duration_days", existing_type=sa.Integer(), nullable=False)
    op.create_index(
        "ix_refill_reminders_due",
        "refill_reminders",
        ["reminder_date", "id"],
        unique=False,
        postgresql_where=DUE,
        sqlite_where=DUE,
    )
