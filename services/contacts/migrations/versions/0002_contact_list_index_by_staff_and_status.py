"""contact list index by staff and status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 01:27:39.555277
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contact_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_records_assigned_id'))
        batch_op.create_index('ix_contact_records_assigned_status_id', ['assigned_to', 'status', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contact_records', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_records_assigned_status_id')
        batch_op.create_index(batch_op.f('ix_contact_records_assigned_id'), ['assigned_to', 'id'], unique=False)

