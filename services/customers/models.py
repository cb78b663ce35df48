"""Customers' tables: profiles, their purchases, the bills counted per customer, the audit log,
plus the service's outbox/inbox/dead letters and idempotency keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.clock import utcnow
from shared.db import UTCDateTime
from shared.idempotency import IdempotencyKeys
from shared.messaging import MessagingTables

SOURCE = "/services/customers"

# Who decided a profile's category: a bill (follows the earliest bill), a conversion (replaced by
# the first bill), or staff (kept whatever bills say).
BY_BILL, BY_CONVERSION, BY_STAFF = "bill", "conversion", "staff"
# The fields that are health data: never logged, never in an event.
MEDICAL_FIELDS = ("chronic_conditions", "allergies", "primary_doctor", "special_notes")


class Base(DeclarativeBase):
    pass


messaging = MessagingTables(Base.metadata, source=SOURCE)
idempotency = IdempotencyKeys(Base.metadata)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    age: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text)
    chronic_conditions: Mapped[list] = mapped_column(JSON, default=list)
    allergies: Mapped[list] = mapped_column(JSON, default=list)
    primary_doctor: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), index=True)
    category_source: Mapped[str] = mapped_column(String(20), default=BY_BILL)
    # Who gave the name (bill, conversion or staff): like the category, a name from bills follows
    # the earliest bill, whatever order the bills arrive in, and staff edits are never overwritten.
    name_source: Mapped[str | None] = mapped_column(String(20))
    prefers_generic: Mapped[bool] = mapped_column(Boolean, default=False)
    generic_education_given: Mapped[bool] = mapped_column(Boolean, default=False)
    special_notes: Mapped[str | None] = mapped_column(Text)
    # Ids from other services/integrations may be integers or strings; kept as text.
    contact_record_id: Mapped[str | None] = mapped_column(String(64))
    first_visit_date: Mapped[dt.date | None] = mapped_column(Date)
    last_visit_date: Mapped[dt.date | None] = mapped_column(Date)
    total_visits: Mapped[int] = mapped_column(Integer, default=0)
    total_purchases: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CustomerPurchase(Base):
    __tablename__ = "customer_purchases"
    __table_args__ = (
        UniqueConstraint("source", "bill_id", "bill_line_id", name="uq_purchase_bill_line"),
        Index("ix_purchases_customer_date", "customer_id", "purchase_date", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # The event source that published the bill (billing or an outside point of sale).
    source: Mapped[str] = mapped_column(String(200))
    bill_id: Mapped[str] = mapped_column(String(64))
    bill_line_id: Mapped[str] = mapped_column(String(64))
    purchase_date: Mapped[dt.date] = mapped_column(Date)
    medicine_name: Mapped[str] = mapped_column(String(200))
    is_generic: Mapped[bool] = mapped_column(Boolean, default=False)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    duration_days: Mapped[int | None] = mapped_column(Integer)
    refill_due_date: Mapped[dt.date | None] = mapped_column(Date)


class CountedBill(Base):
    """A bill already added to a customer's visits and totals: each ``(source, bill_id)`` counts once,
    whatever event id it arrives under."""

    __tablename__ = "customer_counted_bills"
    __table_args__ = (UniqueConstraint("source", "bill_id", name="uq_counted_bill"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    bill_id: Mapped[str] = mapped_column(String(64))
    bill_date: Mapped[dt.date] = mapped_column(Date)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    counted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """Who read or changed which customer profile, when (field names only, never values)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_customer_at", "customer_id", "at"),
        Index("ix_audit_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    fields_changed: Mapped[list | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(200))
