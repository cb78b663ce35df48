"""Store what the import engine read from a contact list, in the caller's ONE transaction.

Rows stream from ``importing.read_contact_list`` (file checks, header, E.164, in-file duplicates)
in batches: each batch's phones are looked up among existing contacts in one query, the new ones
are dealt round-robin over the chosen staff (least open load first) and bulk-inserted (COPY on
PostgreSQL, executemany elsewhere: ``writers``), invalid rows go to ``contact_upload_errors``.
The upload's final counts and its ``contacts.uploaded`` event join the same transaction.

Concurrent uploads are serialized by a transaction-scoped advisory lock, so the check "is this
phone already a contact?" cannot race with another import inserting it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import islice
from typing import cast

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.consent import DECLINED
from shared.db import is_postgres
from shared.events import ContactsUploaded

from ..importing import ParsedRow, RowOutcome
from ..models import (
    COMPLETED,
    INCLUDE_UNFINISHED_IMPORTS,
    ContactRecord,
    ContactUpload,
    CustomerLink,
    consents,
    messaging,
)
from .assignment import RoundRobin, least_loaded_first
from .writers import ContactWriter, NewContact, json_values, writer_for

BATCH_ROWS = 5000
IMPORT_LOCK_KEY = 0x636F6E74  # "cont": one import at a time writes contacts


@dataclass
class _Tally:
    """The upload's counts so far."""

    total: int = 0
    imported: int = 0
    duplicates_in_file: int = 0
    already_known: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class _SortedBatch:
    """One batch split by outcome, its phones being looked up."""

    size: int
    new_rows: list[ParsedRow]
    rejected: list[ParsedRow]
    known: Future[set[str]]


def import_contacts(
    session: Session,
    upload: ContactUpload,
    rows: Iterable[ParsedRow],
    staff_ids: list[int],
    *,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[int], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
    checkpoint: Callable[[int], None] | None = None,
) -> ContactUpload:
    """Store the rows of one upload in the caller's transaction and complete the upload.

    ``progress(rows_done)`` is called after each batch (for large uploads it writes on its own
    connection). Returns the completed upload; raising leaves the transaction to be rolled back.

    ``checkpoint(rows_done)``, when given, ends each batch instead and may commit (a worker
    import on SQLite commits batch by batch so it never holds the write lock for long): each
    batch's contacts are then linked to their customers at once, and the caller hides the
    upload's contacts until it completes (the import job row, ``models._hide_unfinished_imports``).
    """
    _lock_imports(session, heartbeat)
    dealer = RoundRobin(least_loaded_first(session, staff_ids))
    tally = _Tally()
    after_batch = progress
    if checkpoint is not None:

        def after_batch(rows_done: int, phones: list[str] | None = None) -> None:
            if phones:
                _link_known_customers(session, upload.id, phones)
            checkpoint(rows_done)

    with writer_for(session, upload.id, utcnow()) as writer:
        _write_rows(writer, _batches(rows, batch_rows), dealer, tally, after_batch, checkpoint is not None)
    if checkpoint is None:
        _link_known_customers(session, upload.id)
    return _complete(session, upload, tally, dealer.shares())


def _lock_imports(session: Session, heartbeat: Callable[[], None] | None) -> None:
    """Take the import lock (PostgreSQL), beating the heartbeat while another import holds it."""
    if not is_postgres(session):
        return  # SQLite: the write transaction itself serializes imports
    while not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY}):
        if heartbeat:
            heartbeat()
        time.sleep(0.2)


def _batches(rows: Iterable[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _write_rows(
    writer: ContactWriter,
    batches: Iterator[list[ParsedRow]],
    dealer: RoundRobin,
    tally: _Tally,
    progress: Callable[..., None] | None,
    with_phones: bool = False,
) -> None:
    # One batch ahead: while batch k's phones are looked up (the lookup waits on the database
    # without the GIL), batch k+1 is read and normalized. (In-file duplicates are gone already,
    # so batch k+1 needs nothing of batch k.) ``with_phones``: progress also gets the new phones.
    in_flight: _SortedBatch | None = None
    for batch in itertools.chain(batches, [None]):
        ahead = None if batch is None else _sort_batch(writer, batch, tally)
        if in_flight is not None:
            phones = _write_batch(writer, in_flight, dealer, tally)
            if progress and with_phones:
                progress(tally.total, phones)
            elif progress:
                progress(tally.total)
        in_flight = ahead


def _sort_batch(writer: ContactWriter, batch: list[ParsedRow], tally: _Tally) -> _SortedBatch:
    """Split a batch into new rows (their lookup started) and rejected rows; count in-file duplicates."""
    new_rows, rejected = [], []
    for row in batch:
        if row.reason is None:
            new_rows.append(row)
        elif row.outcome is RowOutcome.DUPLICATE_IN_FILE:
            tally.duplicates_in_file += 1
        else:
            rejected.append(row)
    # An imported row (no reason) always has its E.164 phone.
    phones = cast(list[str], [row.phone for row in new_rows])
    return _SortedBatch(len(batch), new_rows, rejected, writer.lookup(phones))


def _write_batch(writer: ContactWriter, batch: _SortedBatch, dealer: RoundRobin, tally: _Tally) -> list[str]:
    """Write a batch's phones that are not contacts yet, dealt to staff, and its rejected rows."""
    known = batch.known.result()
    fresh = [row for row in batch.new_rows if row.phone not in known]
    contacts = cast(
        list[NewContact],
        [(row.phone, row.name, staff_id) for row, staff_id in zip(fresh, dealer.deal(len(fresh)), strict=False)],
    )
    tally.total += batch.size
    tally.imported += len(contacts)
    tally.already_known += len(batch.new_rows) - len(fresh)
    tally.invalid += len(batch.rejected)
    writer.add_contacts(contacts)
    writer.add_rejected(batch.rejected)
    return [phone for phone, _name, _staff in contacts]


def _link_known_customers(session: Session, upload_id: int, phones: list[str] | None = None) -> None:
    """Contacts whose phone already has a customer profile are linked to it at once (all the
    upload's contacts, or those of ``phones``: looked up by phone, both keys unique)."""
    link = select(CustomerLink.customer_id).where(CustomerLink.phone == ContactRecord.phone).scalar_subquery()
    stmt = update(ContactRecord).where(ContactRecord.upload_id == upload_id)
    if phones is None:
        stmt = stmt.where(ContactRecord.phone.in_(select(CustomerLink.phone)))
    else:
        # Called on SQLite (a worker import's batches): the phones go as one JSON value.
        linked = list(session.scalars(select(CustomerLink.phone).where(CustomerLink.phone.in_(json_values(phones)))))
        if not linked:
            return
        stmt = stmt.where(ContactRecord.phone.in_(json_values(linked)))
    session.execute(stmt.values(customer_id=link))


def _declined_everything(session: Session, upload_id: int) -> int:
    """How many of the upload's contacts have a phone that declined every channel (API.md, Consent):
    they are imported all the same, pending, with their consent shown."""
    copies = consents.table.c
    return (
        session.scalar(
            select(func.count())
            .select_from(ContactRecord)
            .join(consents.table, copies.phone == ContactRecord.phone)
            .where(
                ContactRecord.upload_id == upload_id,
                copies.whatsapp == DECLINED,
                copies.call == DECLINED,
                copies.sms == DECLINED,
            ),
            execution_options={INCLUDE_UNFINISHED_IMPORTS: True},  # counted before the upload shows
        )
        or 0
    )


def _complete(session: Session, upload: ContactUpload, tally: _Tally, assigned: dict[str, int]) -> ContactUpload:
    """Write the final counts on the upload and publish ``contacts.uploaded`` (same transaction)."""
    done = utcnow()
    values = {
        "status": COMPLETED,
        "do_not_contact": _declined_everything(session, upload.id),
        "total_rows": tally.total,
        "rows_done": tally.total,
        "imported": tally.imported,
        "duplicates_in_file": tally.duplicates_in_file,
        "already_known": tally.already_known,
        "invalid": tally.invalid,
        "assigned": assigned,
        "completed_at": done,
        "heartbeat_at": done,
        "failure_reason": None,
    }
    session.execute(update(ContactUpload).where(ContactUpload.id == upload.id).values(**values))
    for key, value in values.items():
        setattr(upload, key, value)
    messaging.add_event(
        session,
        ContactsUploaded(
            upload_id=upload.id,
            list_name=upload.list_name,
            uploaded_by=upload.uploaded_by,
            uploaded_at=upload.created_at,
            imported=tally.imported,
            assigned=assigned,
        ),
    )
    return upload
