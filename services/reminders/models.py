"""Reminders' tables: refill reminders, the local customer directory, and its outbox/inbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.consent import ConsentCopies
from shared.db import UTCDateTime
from shared.messaging import MessagingTables

SOURCE = "/services/reminders"

OPEN, RESPONDED, PURCHASED = "open", "responded", "purchased"
STATUSES = (OPEN, RESPONDED, PURCHASED)
# "Still due": a customer who answered has not bought yet, so the reminder stays on the list.
DUE_STATUSES = (OPEN, RESPONDED)


class Base(DeclarativeBase):
    pass


messaging = MessagingTables(Base.metadata, source=SOURCE)
consents = ConsentCopies(Base.metadata)

# Reminders staff set by hand (the profile's "Set refill reminder") have no purchase behind them.
SET_BY_HAND = "/reminders/set-by-hand"


class ReminderCustomer(Base):
    """The few customer fields reminders need (name, phone), fed by ``customer.upserted``.

    A row may exist with neither name nor phone: a purchase arrived before its customer did
    (the row is also the per-customer lock that serializes purchase handling).
    """

    __tablename__ = "reminder_customers"

    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    # ``time`` of the customer.upserted event applied last, so an older one arriving late is ignored.
    profile_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RefillReminder(Base):
    __tablename__ = "refill_reminders"
    __table_args__ = (
        # One reminder per purchase; purchase ids are only unique within the publisher (EVENTS.md).
        UniqueConstraint("purchase_source", "purchase_id", name="uq_refill_reminders_purchase"),
        # The due list (open or responded, by date) reads this small partial index in order.
        Index(
            "ix_refill_reminders_due",
            "reminder_date",
            "id",
            postgresql_where=text("status IN ('open', 'responded')"),
            sqlite_where=text("status IN ('open', 'responded')"),
        ),
        Index("ix_refill_reminders_status", "status", "reminder_date", "id"),
        Index("ix_refill_reminders_medicine", "customer_id", "medicine_key", "purchase_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Ids are kept as text: events carry them as integers or strings (shared.ids.wire_id restores them).
    customer_id: Mapped[str] = mapped_column(String(200))
    # A reminder set by hand has purchase_source SET_BY_HAND, a generated purchase_id ("set-by-hand:…")
    # and no duration; its purchase_date is the day it was set (purchases from that day on close it).
    purchase_source: Mapped[str] = mapped_column(String(200))
    purchase_id: Mapped[str] = mapped_column(String(200))
    medicine_name: Mapped[str] = mapped_column(Text)
    medicine_key: Mapped[str] = mapped_column(Text)
    purchase_date: Mapped[dt.date] = mapped_column(Date)
    duration_days: Mapped[int | None] = mapped_column(Integer)
    set_by: Mapped[int | None] = mapped_column(Integer)
    reminder_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    whatsapp_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    call_made_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    call_notes: Mapped[str | None] = mapped_column(Text)
    call_successful: Mapped[bool | None] = mapped_column(Boolean)
    responded: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_response: Mapped[str | None] = mapped_column(Text)
    purchased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by_purchase_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Name and phone are joined at read time, so a customer known later shows on old reminders.
    customer: Mapped[ReminderCustomer | None] = relationship(
        primaryjoin="foreign(RefillReminder.customer_id) == ReminderCustomer.customer_id", viewonly=True, lazy="joined"
    )

    @property
    def customer_name(self) -> str | None:
        return self.customer.name if self.customer else None

    @property
    def customer_phone(self) -> str | None:
        return self.customer.phone if self.customer else None

    @property
    def set_by_hand(self) -> bool:
        return self.purchase_source == SET_BY_HAND
