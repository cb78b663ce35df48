"""users token version

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00.000000

Every token carries its account's ``token_version``; a password or role change raises it, so
the account's earlier tokens answer 401. Existing accounts start at 0.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_version")
