"""Receiving an upload (``POST /contacts/uploads``): check the file, then import it at once or,
above the size threshold (or while another import is queued), queue it for the importer
process. All or nothing either way."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import BinaryIO

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from shared.db import unit_of_work
from shared.errors import PayloadTooLarge
from shared.idempotency import KeyAlreadyUsed

from ..importing import detect_kind, read_contact_list
from ..models import FAILED, ContactUpload, idempotency
from . import jobs
from .assignment import choose_staff
from .importer import import_contacts
from .progress import estimate_rows
from .records import NewUpload, create_upload, get_upload

# What ``receive_upload`` did: imported now, returned the first upload of a retry, or queued it.
CREATED, REPLAYED, STARTED = "created", "replayed", "started"


class _QueueInstead(Exception):
    """A small upload arrived while an import is queued or running: it queues behind it."""


def receive_upload(
    session_factory: sessionmaker[Session],
    new: NewUpload,
    stream: BinaryIO,
    region: str,
    *,
    max_bytes: int,
    background_above: int,
    idempotency_key: str | None = None,
) -> tuple[ContactUpload, str]:
    """Check an uploaded list and import it now (``created``) or, when it is larger than
    ``background_above`` bytes, queue it for the importer process (``started``).

    A file over ``max_bytes`` is refused (PayloadTooLarge) before anything else. File-level
    refusals (413/415/422 domain errors) and "nobody to assign to" (422) are raised before
    anything is stored, in both cases. A retry with the same ``Idempotency-Key`` returns the
    first upload (``replayed``), unless that upload failed: then the key is forgotten and the
    retry imports again. ``stream`` is a seekable binary file; a queued upload is stored in the
    database, so the caller may close it when this returns.
    """
    if new.file_bytes > max_bytes:
        raise PayloadTooLarge(f"uploads are limited to {max_bytes} bytes")
    scope = f"contact-uploads:{new.uploaded_by}"
    with unit_of_work(session_factory) as session:
        replay = idempotency.lookup(session, scope, idempotency_key)
        if replay:
            first = get_upload(session, int(replay))
            if first.status != FAILED:
                return first, REPLAYED
            _forget_key(session, scope, idempotency_key)
    new = replace(new, file_kind=_sniff_kind(stream))
    try:
        if new.file_bytes <= background_above:
            try:
                return _import_now(session_factory, new, stream, region, scope, idempotency_key), CREATED
            except _QueueInstead:
                pass  # another import is queued or running: this one waits its turn below
        return _queue(session_factory, new, stream, region, scope, idempotency_key), STARTED
    except KeyAlreadyUsed as first:  # a concurrent request with the key stored its upload first; ours rolled back
        with unit_of_work(session_factory) as session:
            return get_upload(session, int(first.resource_id)), REPLAYED


def _forget_key(session: Session, scope: str, key: str | None) -> None:
    table = idempotency.table
    session.execute(delete(table).where(table.c.scope == scope, table.c.key == key))


def _sniff_kind(stream: BinaryIO) -> str | None:
    head = stream.read(8192)
    stream.seek(0)
    kind = detect_kind(head)
    return str(kind) if kind else None


def _import_now(
    session_factory: sessionmaker[Session],
    new: NewUpload,
    stream: BinaryIO,
    region: str,
    scope: str,
    idempotency_key: str | None,
) -> ContactUpload:
    """The request's transaction stores the upload, its contacts and its event."""
    rows = read_contact_list(stream, new.filename, region)
    with unit_of_work(session_factory) as session:
        # Behind a queued or running import rather than waiting for it. SQLite: checked inside
        # this write transaction, so no importer starts meanwhile; PostgreSQL: the import lock
        # serializes what slips through.
        if jobs.has_jobs(session):
            close = getattr(rows, "close", None)
            if close:
                close()
            raise _QueueInstead
        staff = choose_staff(session, new.assign_to)
        upload = create_upload(session, new)
        idempotency.remember(session, scope, idempotency_key, upload.id)
        import_contacts(session, upload, rows, staff)
    return upload


def _queue(
    session_factory: sessionmaker[Session],
    new: NewUpload,
    stream: BinaryIO,
    region: str,
    scope: str,
    idempotency_key: str | None,
) -> ContactUpload:
    """Check the file and store the upload as ``processing``, its file and its import job."""
    path = jobs.copy_to_temp(stream)
    try:
        rows = read_contact_list(path, new.filename, region)  # file checks and header: 413/415/422 now
        close = getattr(rows, "close", None)
        if close:
            close()
        with unit_of_work(session_factory) as session:
            choose_staff(session, new.assign_to)
            upload = create_upload(session, replace(new, total_rows_estimate=estimate_rows(path, new.file_kind)))
            idempotency.remember(session, scope, idempotency_key, upload.id)
            with open(path, "rb") as handle:
                jobs.enqueue(session, upload.id, handle, region)
    finally:
        os.unlink(path)
    return upload
