"""Customers' tables: profiles, their purchases, the bills counted per customer, the audit log,
plus the service's outbox/inbox/dead letters and idempotency keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.consent import NO_ANSWER, UNKNOWN, ConsentView
from shared.db import UTCDateTime
from shared.idempotency import IdempotencyKeys
from shared.messaging import MessagingTables

SOURCE = "/services/customers"

# Who decided a profile's category (and name): a bill, a conversion (until the first bill), or staff.
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
    # The pharmacy day staff recorded it (reports count generics bought after it).
    generic_education_given_on: Mapped[dt.date | None] = mapped_column(Date)
    special_notes: Mapped[str | None] = mapped_column(Text)
    # Ids from other services/integrations may be integers or strings; kept as text.
    contact_record_id: Mapped[str | None] = mapped_column(String(64))
    first_visit_date: Mapped[dt.date | None] = mapped_column(Date)
    last_visit_date: Mapped[dt.date | None] = mapped_column(Date)
    total_visits: Mapped[int] = mapped_column(Integer, default=0)
    total_purchases: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    # What choosing generics saved the customer: the sum of their purchases' ``savings``.
    total_generic_savings: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # The phone's consent (kept by phone, so it may predate the profile); None when never recorded.
    consent_record: Mapped[Consent | None] = relationship(
        "Consent",
        primaryjoin="foreign(Customer.phone) == Consent.phone",
        viewonly=True,
        lazy="selectin",
        uselist=False,
    )

    @property
    def consent(self) -> dict[str, str]:
        """``{whatsapp, call, sms}``: what the phone's owner said, unknown where nothing was recorded."""
        record = self.consent_record
        return (ConsentView(record.whatsapp, record.call, record.sms) if record else NO_ANSWER).as_dict()


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
    # Generics only: what the branded equivalent costs, and what the customer saved (never negative).
    branded_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    savings: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
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
    # The category the bill gave the customer (None on bills counted before categories were kept).
    customer_category: Mapped[str | None] = mapped_column(String(40))
    counted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CategoryChoice(Base):
    """A category staff chose for a customer on a pharmacy day: it stands until a bill of a later day."""

    __tablename__ = "customer_category_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    chosen_on: Mapped[dt.date] = mapped_column(Date)
    chosen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    chosen_by: Mapped[int | None] = mapped_column(Integer)


class Consent(Base):
    """What the owner of a phone agreed to be contacted by, per channel (``granted``/``declined``/``unknown``).

    Keyed by phone, not by customer: consent given by someone who is only on a contact list, or not
    known anywhere yet, applies as soon as the phone shows up.
    """

    __tablename__ = "consents"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    whatsapp: Mapped[str] = mapped_column(String(10), default=UNKNOWN)
    call: Mapped[str] = mapped_column(String(10), default=UNKNOWN)
    sms: Mapped[str] = mapped_column(String(10), default=UNKNOWN)
    source: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(Integer)


class ConsentChange(Base):
    """One change of a phone's consent: the values after it, where it was given, who recorded it, when."""

    __tablename__ = "consent_changes"
    __table_args__ = (Index("ix_consent_changes_phone_at", "phone", "changed_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    whatsapp: Mapped[str] = mapped_column(String(10))
    call: Mapped[str] = mapped_column(String(10))
    sms: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(Integer)
    changed_by_username: Mapped[str | None] = mapped_column(String(100))
    request_id: Mapped[str | None] = mapped_column(String(200))


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
