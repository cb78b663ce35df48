"""generic items carry the branded equivalent's price

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 22:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bill_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("branded_price", sa.Numeric(precision=12, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bill_items", schema=None) as batch_op:
        batch_op.drop_column("branded_price")
