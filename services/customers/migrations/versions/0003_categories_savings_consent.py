"""categories follow the latest bill or staff's later choice; generic savings; consent per phone

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 22:10:00
"""

import datetime as dt
import os
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_counted_bills", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_category", sa.String(length=40), nullable=True))
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("total_generic_savings", sa.Numeric(precision=12, scale=2), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("generic_education_given_on", sa.Date(), nullable=True))
    with op.batch_alter_table("customer_purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("branded_price", sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column("savings", sa.Numeric(precision=12, scale=2), nullable=True))
    op.create_table(
        "customer_category_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("chosen_on", sa.Date(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chosen_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_category_choices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_category_choices_customer_id"), ["customer_id"], unique=False)
    op.create_table(
        "consents",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("whatsapp", sa.String(length=10), nullable=False),
        sa.Column("call", sa.String(length=10), nullable=False),
        sa.Column("sms", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("phone"),
    )
    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("whatsapp", sa.String(length=10), nullable=False),
        sa.Column("call", sa.String(length=10), nullable=False),
        sa.Column("sms", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_by_username", sa.String(length=100), nullable=True),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_changes", schema=None) as batch_op:
        batch_op.create_index("ix_consent_changes_phone_at", ["phone", "changed_at", "id"], unique=False)
    # Bills counted before: each gave the category the profile shows now when bills decided it; a
    # category staff had set stands as their choice of the day of its last change.
    op.execute(
        "UPDATE customer_counted_bills SET customer_category = "
        "(SELECT c.category FROM customers c WHERE c.id = customer_counted_bills.customer_id "
        "AND c.category_source = 'bill')"
    )
    # The pharmacy day of the last change, computed here: SQLite has no DATE to cast to, and a cast
    # on PostgreSQL would give the UTC day.
    zone = ZoneInfo(os.environ.get("PHARMACY_TZ") or "Asia/Kolkata")
    connection = op.get_bind()
    chosen = connection.execute(
        sa.text("SELECT id, category, updated_at FROM customers WHERE category_source = 'staff'")
    ).all()
    choices = sa.table(
        "customer_category_choices",
        sa.column("customer_id", sa.Integer()),
        sa.column("category", sa.String()),
        sa.column("chosen_on", sa.Date()),
        sa.column("chosen_at", sa.DateTime(timezone=True)),
    )
    for customer_id, category, updated_at in chosen:
        instant = updated_at if isinstance(updated_at, dt.datetime) else dt.datetime.fromisoformat(str(updated_at))
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=dt.UTC)
        connection.execute(
            choices.insert().values(
                customer_id=customer_id,
                category=category,
                chosen_on=instant.astimezone(zone).date(),
                chosen_at=instant,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_changes_phone_at")
    op.drop_table("consent_changes")
    op.drop_table("consents")
    with op.batch_alter_table("customer_category_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_category_choices_customer_id"))
    op.drop_table("customer_category_choices")
    with op.batch_alter_table("customer_purchases", schema=None) as batch_op:
        batch_op.drop_column("savings")
        batch_op.drop_column("branded_price")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("generic_education_given_on")
        batch_op.drop_column("total_generic_savings")
    with op.batch_alter_table("customer_counted_bills", schema=None) as batch_op:
        batch_op.drop_column("customer_category")
