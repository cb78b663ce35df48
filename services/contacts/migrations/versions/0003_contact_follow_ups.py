"""contacts' follow-ups get their own name: contact_reminders -> contact_follow_ups

They are not refill reminders (the reminders service's), so the table, its indexes and, on
PostgreSQL, its key, foreign keys and id sequence take the name a fresh database would give them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00
"""
from alembic import op

from shared.db import is_postgres

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

INDEXES = {"contact_id": ["contact_id"], "open_due": ["done_at", "due_at"]}
CONSTRAINTS = ("pkey", "contact_id_fkey", "interaction_id_fkey")


def _rename(old: str, new: str) -> None:
    op.rename_table(old, new)
    if is_postgres(op.get_bind()):
        for suffix in CONSTRAINTS:
            op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT {old}_{suffix} TO {new}_{suffix}")
        op.execute(f"ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq")
        for suffix in INDEXES:
            op.execute(f"ALTER INDEX ix_{old}_{suffix} RENAME TO ix_{new}_{suffix}")
        return
    # SQLite cannot rename an index: build it again under its new name (the table is small).
    for suffix, columns in INDEXES.items():
        op.drop_index(f"ix_{old}_{suffix}", table_name=new)
        op.create_index(f"ix_{new}_{suffix}", new, columns, unique=False)


def upgrade() -> None:
    _rename("contact_reminders", "contact_follow_ups")


def downgrade() -> None:
    _rename("contact_follow_ups", "contact_reminders")
