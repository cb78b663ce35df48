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

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db import is_postgres
from shared.events import ContactsUploaded

from ..importing import ParsedRow, RowOutcome
from ..models import COMPLETED, ContactRecord, ContactUpload, CustomerLink, messaging
from .assignment import RoundRobin, least_loaded_first
from .writers import ContactWriter, NewContact, writer_for

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
) -> ContactUpload:
    """Store the rows of one upload in the caller's transaction and complete the upload.

    ``progress(rows_done)`` is called after each batch (for large uploads it writes on its own
    connection). Returns the completed upload; raising leaves the transaction to be rolled back.
    """
    _lock_imports(session, heartbeat)
    dealer = RoundRobin(least_loaded_first(session, staff_ids))
    tally = _Tally()
    with writer_for(session, upload.id, utcnow()) as writer:
        _write_rows(writer, _batches(rows, batch_rows), dealer, tally, progress)
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
    progress: Callable[[int], None] | None,
) -> None:
    # One batch ahead: while batch k's phones are looked up (the lookup waits on the database
    # without the GIL), batch k+1 is read and normalized.
    in_flight: _SortedBatch | None = None
    for batch in itertools.chain(batches, [None]):
        ahead = None if batch is None else _sort_batch(writer, batch, tally)
        if in_flight is not None:
            _write_batch(writer, in_flight, dealer, tally)
            if progress:
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


def _write_batch(writer: ContactWriter, batch: _SortedBatch, dealer: RoundRobin, tally: _Tally) -> None:
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


def _link_known_customers(session: Session, upload_id: int) -> None:
    """Contacts whose phone already has a customer profile are linked to it at once."""
    link = select(CustomerLink.customer_id).where(CustomerLink.phone == ContactRecord.phone).scalar_subquery()
    session.execute(
        update(ContactRecord)
        .where(ContactRecord.upload_id == upload_id, ContactRecord.phone.in_(select(CustomerLink.phone)))
        .values(customer_id=link)
    )


def _complete(session: Session, upload: ContactUpload, tally: _Tally, assigned: dict[str, int]) -> ContactUpload:
    """Write the final counts on the upload and publish ``contacts.uploaded`` (same transaction)."""
    done = utcnow()
    values = {
        "status": COMPLETED,
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
