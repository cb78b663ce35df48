"""contacts keep a copy of everyone's consent; yellow flags schedule follow-ups once

``consent_copies``: the consent per phone that ``consent.changed`` carries (newest wins), kept
even before the phone is in a contact list. ``contact_follow_ups.cause``: what scheduled a
follow-up by itself (a yellow flag), unique per contact so a republished bill adds no second one.
``contact_uploads.do_not_contact``: how many imported contacts had declined every channel.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_copies",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("whatsapp", sa.String(length=10), nullable=False),
        sa.Column("call", sa.String(length=10), nullable=False),
        sa.Column("sms", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )
    op.add_column("contact_follow_ups", sa.Column("cause", sa.String(length=200), nullable=True))
    op.create_index("ix_contact_follow_ups_contact_cause", "contact_follow_ups", ["contact_id", "cause"], unique=True)
    op.add_column(
        "contact_uploads", sa.Column("do_not_contact", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("contact_uploads", schema=None) as batch_op:
        batch_op.drop_column("do_not_contact")
    op.drop_index("ix_contact_follow_ups_contact_cause", table_name="contact_follow_ups")
    with op.batch_alter_table("contact_follow_ups", schema=None) as batch_op:
        batch_op.drop_column("cause")
    op.drop_table("consent_copies")
