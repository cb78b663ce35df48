"""Contacts' tables: uploads and their rejected rows, contact records with their interactions and
follow-ups, the staff roster (fed by ``staff.*``), customer links (fed by
``customer.upserted``), plus the outbox/inbox and idempotency keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.db import UTCDateTime
from shared.idempotency import IdempotencyKeys
from shared.messaging import MessagingTables

SOURCE = "/services/contacts"

# Upload states
PROCESSING, COMPLETED, FAILED = "processing", "completed", "failed"
# Contact states
PENDING, CONTACTED, CONVERTED, YELLOW = "pending", "contacted", "converted", "yellow"
CONTACT_STATUSES = (PENDING, CONTACTED, CONVERTED, YELLOW)
WHATSAPP_STATUSES = ("available", "not_available", "unknown")
INTERACTION_TYPES = ("call", "whatsapp", "visit", "email")


PHONE = String(20).with_variant(String(20, collation="C"), "postgresql")


class Base(DeclarativeBase):
    pass


messaging = MessagingTables(Base.metadata, source=SOURCE)
idempotency = IdempotencyKeys(Base.metadata)


class ContactUpload(Base):
    """One uploaded contact list and what its import did."""

    __tablename__ = "contact_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    list_name: Mapped[str | None] = mapped_column(String(200))
    file_kind: Mapped[str | None] = mapped_column(String(8))
    file_bytes: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=PROCESSING, index=True)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates_in_file: Mapped[int] = mapped_column(Integer, default=0)
    already_known: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    # {"<staff_id>": n} for the contacts this upload created.
    assigned: Mapped[dict] = mapped_column(JSON, default=dict)
    # The staff ids the admin chose (None: every active staff member).
    assign_to: Mapped[list | None] = mapped_column(JSON)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Touched by progress updates; a "processing" upload whose heartbeat stopped was interrupted.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ContactUploadError(Base):
    """A rejected row of an upload (the downloadable error report)."""

    __tablename__ = "contact_upload_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("contact_uploads.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_contact_upload_errors_upload_row", "upload_id", "row"),)


class ContactRecord(Base):
    """A person from a contact list, worked by the staff member it is assigned to."""

    __tablename__ = "contact_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # E.164 is ASCII: byte order ("C") keeps the unique index cheap to maintain during bulk imports.
    phone: Mapped[str] = mapped_column(PHONE, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    whatsapp_status: Mapped[str] = mapped_column(String(16), default="unknown")
    assigned_to: Mapped[int | None] = mapped_column(Integer)
    # No foreign key on purpose: bulk imports skip a per-row trigger; uploads are never deleted.
    upload_id: Mapped[int | None] = mapped_column(Integer, index=True)
    last_interaction_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_contacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    converted_at: Mapped[dt.date | None] = mapped_column(Date)
    conversion_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    conversion_bill_id: Mapped[str | None] = mapped_column(String(64))
    # "bill" (a bill.created converted it) or "manual" (POST /convert); bill conversions can be
    # corrected by an earlier bill arriving late, manual ones are final.
    conversion_source: Mapped[str | None] = mapped_column(String(8))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    interactions: Mapped[list[ContactInteraction]] = relationship(
        order_by="ContactInteraction.id.desc()", lazy="raise", viewonly=True
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(order_by="FollowUp.due_at", lazy="raise", viewonly=True)

    __table_args__ = (
        # A staff member's list (newest first, by status too), its count answered from the index
        # alone, and the load per staff at assignment.
        Index("ix_contact_records_assigned_status_id", "assigned_to", "status", "id"),
        # Status and WhatsApp filters: partial indexes leave out the values every imported contact
        # starts with, so a bulk import does not pay for them (and those values match most rows anyway).
        Index(
            "ix_contact_records_worked_status",
            "status",
            "assigned_to",
            postgresql_where=text("status <> 'pending'"),
            sqlite_where=text("status <> 'pending'"),
        ),
        Index(
            "ix_contact_records_known_whatsapp",
            "whatsapp_status",
            postgresql_where=text("whatsapp_status <> 'unknown'"),
            sqlite_where=text("whatsapp_status <> 'unknown'"),
        ),
    )


class ContactInteraction(Base):
    """A call, WhatsApp message, visit or email with a contact."""

    __tablename__ = "contact_interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact_records.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, index=True)
    type: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    customer_response: Mapped[str | None] = mapped_column(Text)
    next_action: Mapped[str | None] = mapped_column(Text)
    call_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    call_successful: Mapped[bool | None] = mapped_column(Boolean)
    follow_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FollowUp(Base):
    """A follow-up with a contact, due at a given instant (from an interaction's follow_up_at).

    Not a refill reminder (those belong to the reminders service): hence its own name."""

    __tablename__ = "contact_follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact_records.id", ondelete="CASCADE"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("contact_interactions.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_contact_follow_ups_open_due", "done_at", "due_at"),)


class StaffMember(Base):
    """The gateway's users as ``staff.created``/``staff.updated`` describe them (assignment roster)."""

    __tablename__ = "staff_roster"

    staff_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Time of the event that wrote this row: an older event arriving late changes nothing.
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CustomerLink(Base):
    """Which customer profile a phone belongs to (``customer.upserted``), kept even before the
    phone is a contact, so a contact imported later is linked at once."""

    __tablename__ = "customer_links"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
