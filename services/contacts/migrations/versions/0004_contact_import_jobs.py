"""Large uploads are imported by a worker: the queued upload's file and its import job.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_upload_files",
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["contact_uploads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("upload_id", "part"),
    )
    op.create_table(
        "contact_import_jobs",
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["contact_uploads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("upload_id"),
    )


def downgrade() -> None:
    op.drop_table("contact_import_jobs")
    op.drop_table("contact_upload_files")
