"""customer name source

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 01:02:10.959058
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_source', sa.String(length=20), nullable=True))
    # Existing names came the way their category did (bill, conversion or staff).
    op.execute("UPDATE customers SET name_source = category_source WHERE name IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('name_source')
