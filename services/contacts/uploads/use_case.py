"""Receiving an upload (``POST /contacts/uploads``): check the file, then import it at once or,
above the size threshold, in a background thread. All or nothing either way."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from shared.db import unit_of_work
from shared.errors import PayloadTooLarge

from ..importing import detect_kind, read_contact_list
from ..models import ContactUpload, idempotency
from .assignment import choose_staff
from .background import run_in_background
from .importer import import_contacts
from .progress import estimate_rows
from .records import NewUpload, create_upload, get_upload

# What ``receive_upload`` did: imported now, returned the first upload of a retry, or started in the background.
CREATED, REPLAYED, STARTED = "created", "replayed", "started"


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
    ``background_above`` bytes, in a background thread (``started``).

    A file over ``max_bytes`` is refused (PayloadTooLarge) before anything else. File-level
    refusals (415/422 domain errors) and "nobody to assign to" (422) are raised before anything
    is stored, in both cases. A retry with the same ``Idempotency-Key`` returns the first upload
    (``replayed``). ``stream`` is a seekable binary file; a background import works on a copy of
    it, so the caller may close it when this returns.
    """
    if new.file_bytes > max_bytes:
        raise PayloadTooLarge(f"uploads are limited to {max_bytes} bytes")
    scope = f"contact-uploads:{new.uploaded_by}"
    with unit_of_work(session_factory) as session:
        replay = idempotency.lookup(session, scope, idempotency_key)
        if replay:
            return get_upload(session, int(replay)), REPLAYED
    new = replace(new, file_kind=_sniff_kind(stream))
    if new.file_bytes > background_above:
        return _start_in_background(session_factory, new, stream, region, scope, idempotency_key), STARTED
    return _import_now(session_factory, new, stream, region, scope, idempotency_key), CREATED


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
        staff = choose_staff(session, new.assign_to)
        upload = create_upload(session, new)
        idempotency.remember(session, scope, idempotency_key, upload.id)
        import_contacts(session, upload, rows, staff)
    return upload


def _start_in_background(
    session_factory: sessionmaker[Session],
    new: NewUpload,
    stream: BinaryIO,
    region: str,
    scope: str,
    idempotency_key: str | None,
) -> ContactUpload:
    """Check the file and store the upload as ``processing`` now; a thread imports our copy of it."""
    path = _keep_copy(stream)
    try:
        rows = read_contact_list(path, new.filename, region)
        with unit_of_work(session_factory) as session:
            choose_staff(session, new.assign_to)
            upload = create_upload(session, replace(new, total_rows_estimate=estimate_rows(path, new.file_kind)))
            idempotency.remember(session, scope, idempotency_key, upload.id)
    except BaseException:
        os.unlink(path)
        raise
    run_in_background(session_factory, upload.id, rows, new.assign_to, path=path)
    return upload


def _keep_copy(stream: BinaryIO) -> str:
    """Copy the uploaded file to a file of ours that outlives the request (for the background import)."""
    handle = tempfile.NamedTemporaryFile(prefix="contact-upload-", delete=False)  # noqa: SIM115 - outlives this
    with handle:
        shutil.copyfileobj(stream, handle, 1 << 20)
    return handle.name
