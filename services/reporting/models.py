"""Reporting's read models: compact per-entity facts fed by events, and one per-day rollup.

Facts are keyed by the ids of the entities the events describe (a contact, an upload, a bill,
a reminder...), so a re-sent event upserts the same row. Each fact contributes a few counts and
amounts to ``report_daily_totals`` (see ``rules.py``); a handler applies the difference between a
fact's contribution before and after the event, so the rollup always equals the sum over the
facts, whatever the order or repetition of events. Reports read only the rollup (a few rows per
day), plus the staff names.

Ids are stored as text (the contract allows integer or string ids).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.consent import ConsentCopies
from shared.db import UTCDateTime
from shared.messaging import MessagingTables

SOURCE = "/services/reporting"


class Base(DeclarativeBase):
    pass


# Reporting publishes nothing; the outbox exists only because the tables come as one set.
messaging = MessagingTables(Base.metadata, source=SOURCE)
# Everyone's consent, newest change wins (how many said STOP to WhatsApp, calls, SMS).
consents = ConsentCopies(Base.metadata)


class Versioned:
    """Which event last wrote a snapshot-style fact (newest event time wins, then event id)."""

    as_of: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    as_of_event: Mapped[str | None] = mapped_column(String(64))


class ReportStaff(Versioned, Base):
    """The staff roster as the gateway announces it (names for the staff report)."""

    __tablename__ = "report_staff"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(150))
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool | None] = mapped_column(Boolean)


class ReportContactUpload(Versioned, Base):
    """One contact list upload: how many contacts it brought and to whom they were assigned."""

    __tablename__ = "report_contact_uploads"

    upload_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uploaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    uploaded_on: Mapped[dt.date | None] = mapped_column(Date)  # in the pharmacy's time zone
    uploaded_by: Mapped[str | None] = mapped_column(String(64))
    list_name: Mapped[str | None] = mapped_column(String(200))
    imported: Mapped[int] = mapped_column(Integer, default=0)
    assigned: Mapped[dict] = mapped_column(JSON, default=dict)  # {"<staff_id>": n}


class ReportContact(Base):
    """One contact: its list, when it first left ``pending`` and its (first) conversion."""

    __tablename__ = "report_contacts"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    upload_id: Mapped[str | None] = mapped_column(String(64))  # the list it came from (ROI per list)
    left_pending_on: Mapped[dt.date | None] = mapped_column(Date)
    left_pending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    left_pending_staff: Mapped[str | None] = mapped_column(String(64))  # assignee at that moment
    converted_on: Mapped[dt.date | None] = mapped_column(Date)
    conversion_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    conversion_bill_id: Mapped[str | None] = mapped_column(String(64))
    converted_staff: Mapped[str | None] = mapped_column(String(64))  # assignee when converted
    conversion_rank: Mapped[str | None] = mapped_column(String(120))  # tie-break: event time|id


class ReportContactStatusChange(Base):
    """One status change of a contact (kept so a re-sent change is recognised; counts nothing itself)."""

    __tablename__ = "report_contact_status_changes"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    from_status: Mapped[str] = mapped_column(String(20), primary_key=True)
    to_status: Mapped[str] = mapped_column(String(20), primary_key=True)
    changed_on: Mapped[dt.date | None] = mapped_column(Date)
    by_staff: Mapped[str | None] = mapped_column(String(64))


class ReportInteraction(Base):
    """One interaction a staff member logged with a contact (call, WhatsApp, visit, email)."""

    __tablename__ = "report_interactions"

    interaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contact_id: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(20))
    logged_on: Mapped[dt.date | None] = mapped_column(Date)
    by_staff: Mapped[str | None] = mapped_column(String(64))


class ReportCustomer(Versioned, Base):
    """One customer: name and phone (adherence list), category, first visit, generics education."""

    __tablename__ = "report_customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40))
    first_visit_date: Mapped[dt.date | None] = mapped_column(Date)
    generic_education_on: Mapped[dt.date | None] = mapped_column(Date)
    # The first day on or after ``generic_education_on`` the customer bought a generic.
    educated_generic_on: Mapped[dt.date | None] = mapped_column(Date)


class ReportBill(Versioned, Base):
    """One bill; bill ids are only unique within their source (billing or an outside till)."""

    __tablename__ = "report_bills"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    bill_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bill_date: Mapped[dt.date | None] = mapped_column(Date)
    customer_category: Mapped[str | None] = mapped_column(String(40))
    total_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    visited_no_purchase: Mapped[bool] = mapped_column(Boolean, default=False)


class ReportPurchase(Versioned, Base):
    """One purchased line: generics figures, the amount a refill recovered, adherence fills."""

    __tablename__ = "report_purchases"
    __table_args__ = (Index("ix_report_purchases_customer", "customer_id", "purchase_date"),)

    purchase_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    bill_id: Mapped[str | None] = mapped_column(String(64))
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)
    is_generic: Mapped[bool] = mapped_column(Boolean, default=False)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    medicine_name: Mapped[str | None] = mapped_column(String(200))
    duration_days: Mapped[int | None] = mapped_column(Integer)
    branded_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    savings: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))


class ReportRefillReminder(Base):
    """One refill reminder: when it is due and what came of it (flags only ever turn on)."""

    __tablename__ = "report_refill_reminders"

    reminder_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    reminder_date: Mapped[dt.date | None] = mapped_column(Date)
    contacted: Mapped[bool] = mapped_column(Boolean, default=False)
    responded: Mapped[bool] = mapped_column(Boolean, default=False)
    purchased: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who did what first (the staff report's refill funnel): the first report of each action wins,
    # ranked by ``rules.first_rank`` (instant of the action, then event time and id).
    whatsapp_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    whatsapp_on: Mapped[dt.date | None] = mapped_column(Date)
    whatsapp_rank: Mapped[str | None] = mapped_column(String(120))
    whatsapp_by: Mapped[str | None] = mapped_column(String(64))
    call_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    call_on: Mapped[dt.date | None] = mapped_column(Date)
    call_rank: Mapped[str | None] = mapped_column(String(120))
    call_by: Mapped[str | None] = mapped_column(String(64))
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the reporting event's time
    responded_on: Mapped[dt.date | None] = mapped_column(Date)
    responded_rank: Mapped[str | None] = mapped_column(String(120))
    responded_by: Mapped[str | None] = mapped_column(String(64))
    purchased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    purchased_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_by_purchase_id: Mapped[str | None] = mapped_column(String(64), index=True)
    recovered_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # that purchase's amount


class ReportAdherence(Base):
    """One customer's fills of one medicine (``shared.adherence.medicine_key``) and their PDC.

    ``pdc_<days>`` is the proportion of days covered over the last ``days`` days up to ``as_of``
    (None: nothing of the medicine in that window). Recomputed when a purchase arrives and, for rows
    whose ``as_of`` is not today, by the worker's refresh loop (``domain.refresh_adherence``).
    """

    __tablename__ = "report_adherence"
    __table_args__ = (
        Index("ix_report_adherence_pdc_90", "pdc_90", "customer_id", "medicine_key"),
        Index("ix_report_adherence_pdc_180", "pdc_180", "customer_id", "medicine_key"),
        Index("ix_report_adherence_pdc_365", "pdc_365", "customer_id", "medicine_key"),
    )

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    medicine_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    medicine_name: Mapped[str | None] = mapped_column(String(200))
    fills: Mapped[dict] = mapped_column(JSON, default=dict)  # {"<purchase_id>": ["YYYY-MM-DD", days]}
    as_of: Mapped[dt.date | None] = mapped_column(Date, index=True)
    pdc_90: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    pdc_180: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    pdc_365: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))


class ReportAdherenceBucket(Base):
    """How many (customer, medicine) rows have each PDC value, per window: the adherence list's total
    without counting a large index range on every request."""

    __tablename__ = "report_adherence_buckets"

    window_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    pdc: Mapped[Decimal] = mapped_column(Numeric(3, 2), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class DailyTotal(Base):
    """Sum of the facts' contributions per metric, day and dimension (a staff id or a category)."""

    __tablename__ = "report_daily_totals"

    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
