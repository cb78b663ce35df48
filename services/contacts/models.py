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
    LargeBinary,
    Numeric,
    String,
    Text,
    event,
    or_,
    select,
    text,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    relationship,
    with_loader_criteria,
)
from sqlalchemy.sql import TableClause, visitors

from shared.clock import utcnow
from shared.consent import ConsentCopies
from shared.db import UTCDateTime
from shared.idempotency import IdempotencyKeys
from shared.messaging import MessagingTables

SOURCE = "/services/contacts"

# Upload states
PROCESSING, COMPLETED, FAILED = "processing", "completed", "failed"
# Import job states
QUEUED, RUNNING = "queued", "running"
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
# Everyone's consent per phone (``consent.changed``), kept even before the phone is a contact.
consents = ConsentCopies(Base.metadata)


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
    # Imported contacts whose phone declined every channel (kept pending, their consent shown).
    do_not_contact: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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


class ContactUploadFile(Base):
    """The bytes of a queued upload, in parts of 1 MiB, until its import job ends (kept in the
    database so any worker replica, on any machine, can read it; no shared volume needed)."""

    __tablename__ = "contact_upload_files"

    upload_id: Mapped[int] = mapped_column(ForeignKey("contact_uploads.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ContactImportJob(Base):
    """A large upload waiting for, or held by, an importer (``python -m services.contacts.worker import``).

    The row lives from the request that queued it until the import completed or failed and its
    unfinished contacts were removed: while it exists, the upload's contacts are hidden
    (``uploads.visibility``). An importer holds it by a lease it renews; a lease that ran out
    (its process died) lets another importer take the job over."""

    __tablename__ = "contact_import_jobs"

    upload_id: Mapped[int] = mapped_column(ForeignKey("contact_uploads.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    region: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


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
    # What scheduled it by itself (a yellow flag: ``yellow:bill:<source>:<bill id>`` or
    # ``yellow:staff:<instant>``); None for a follow-up staff asked for. Unique per contact, so a
    # republished bill never schedules a second one.
    cause: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_contact_follow_ups_open_due", "done_at", "due_at"),
        Index("ix_contact_follow_ups_contact_cause", "contact_id", "cause", unique=True),
    )


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


# -- contacts of unfinished imports are hidden ---------------------------------------------------
#: Execution option of a query that must see every contact row, imported or being imported
#: (the importer's "is this phone a contact already?" lookup: the unique index sees them all).
INCLUDE_UNFINISHED_IMPORTS = "include_unfinished_imports"


def _reads_contacts(statement: object) -> bool:
    # The ORM hands annotated copies of the table: compare names, not identity.
    return any(
        getattr(element, "fullname", None) == "contact_records" and isinstance(element, TableClause)
        for element in visitors.iterate(statement)  # type: ignore[arg-type]
    )


@event.listens_for(Session, "do_orm_execute")
def _hide_unfinished_imports(state: ORMExecuteState) -> None:
    """Every ORM query of contacts leaves out the contacts of uploads that still have an import
    job: a worker import on SQLite commits in chunks, and nothing of it may be seen (listed,
    counted, worked, converted by a bill) before it completes; if it fails they are deleted.
    No job, no filter: the usual query is unchanged (one look at the tiny jobs table)."""
    if (
        not state.is_select
        or state.is_column_load
        or state.is_relationship_load
        or state.execution_options.get(INCLUDE_UNFINISHED_IMPORTS)
        or not _reads_contacts(state.statement)
    ):
        return
    hidden = list(
        state.session.scalars(select(ContactImportJob.upload_id), execution_options={INCLUDE_UNFINISHED_IMPORTS: True})
    )
    if hidden:
        state.statement = state.statement.options(
            with_loader_criteria(
                ContactRecord,
                or_(ContactRecord.upload_id.is_(None), ContactRecord.upload_id.not_in(hidden)),
                include_aliases=True,
            )
        )
