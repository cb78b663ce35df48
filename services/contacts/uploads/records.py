"""The upload row (``contact_uploads``): create it, read it (an interrupted import shows
``failed``), list the history, stream its rejected rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db import is_postgres
from shared.errors import NotFound

from ..models import FAILED, PROCESSING, ContactImportJob, ContactUpload, ContactUploadError

STALE_AFTER = dt.timedelta(minutes=2)
# SQLite has one writer, so an import there cannot beat its heartbeat while it writes; the size
# cap bounds how long an import may take (20 MB is about 1M rows, minutes at worst), so an upload
# still processing long after its last beat has lost its process.
STALE_AFTER_WITHOUT_HEARTBEAT = dt.timedelta(minutes=30)
INTERRUPTED = "the import was interrupted (the server stopped); nothing was imported, upload the file again"


@dataclass(frozen=True)
class NewUpload:
    """What the request says about an uploaded list, before anything is stored."""

    filename: str
    list_name: str | None
    uploaded_by: int | None
    assign_to: list[int] | None
    file_kind: str | None
    file_bytes: int
    total_rows_estimate: int | None = None


def create_upload(session: Session, new: NewUpload) -> ContactUpload:
    """Store the upload as ``processing`` with zero counts (flushed, so it has its id)."""
    now = utcnow()
    upload = ContactUpload(
        filename=new.filename[:255],
        list_name=new.list_name,
        uploaded_by=new.uploaded_by,
        assign_to=new.assign_to,
        file_kind=new.file_kind,
        file_bytes=new.file_bytes,
        status=PROCESSING,
        total_rows=new.total_rows_estimate,
        rows_done=0,
        imported=0,
        duplicates_in_file=0,
        already_known=0,
        invalid=0,
        assigned={},
        created_at=now,
        heartbeat_at=now,
    )
    session.add(upload)
    session.flush()
    return upload


def get_upload(session: Session, upload_id: int) -> ContactUpload:
    """One upload. A ``processing`` upload with an import job is the importer's to finish (a
    dead importer's job is taken over when its lease runs out); one without a job whose
    heartbeat stopped long ago (an import of an older version, in a thread of a process that
    died, its transaction rolled back) is shown ``failed``."""
    upload = session.get(ContactUpload, upload_id)
    if upload is None:
        raise NotFound(f"upload {upload_id} does not exist")
    if upload.status != PROCESSING or session.get(ContactImportJob, upload_id) is not None:
        return upload
    stale_after = STALE_AFTER if is_postgres(session) else STALE_AFTER_WITHOUT_HEARTBEAT
    if upload.heartbeat_at and utcnow() - upload.heartbeat_at > stale_after:
        upload.status = FAILED
        upload.failure_reason = INTERRUPTED
        upload.completed_at = utcnow()
        session.flush()
    return upload


def uploads_query() -> Select[ContactUpload]:
    """The upload history, newest first (to paginate)."""
    return select(ContactUpload).order_by(ContactUpload.id.desc())


def upload_errors(session: Session, upload_id: int) -> Iterator[ContactUploadError]:
    """The rejected rows of an upload in row order (streamed). NotFound for an unknown upload."""
    get_upload(session, upload_id)
    return iter(
        session.scalars(
            select(ContactUploadError)
            .where(ContactUploadError.upload_id == upload_id)
            .order_by(ContactUploadError.row, ContactUploadError.id)
            .execution_options(yield_per=2000)
        )
    )
