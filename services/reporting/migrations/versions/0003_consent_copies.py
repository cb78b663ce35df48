"""reporting keeps everyone's newest consent (the consent report)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
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


def downgrade() -> None:
    op.drop_table("consent_copies")
