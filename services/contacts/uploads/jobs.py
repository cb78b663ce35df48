"""The import queue: a large upload's file and its job, stored in the contacts database.

The request stores the file (in parts of 1 MiB, ``contact_upload_files``: any replica on any
machine can read it, no shared volume) and a ``queued`` job in the transaction that creates the
upload. An importer claims the oldest job that is queued, or running under a lease that ran out
(its importer died): PostgreSQL with ``FOR UPDATE SKIP LOCKED``, SQLite inside the
``BEGIN IMMEDIATE`` transaction that serializes writers. One import runs at a time (a job is
not claimed while another holds a live lease; on PostgreSQL the import lock backs this up), so
two imports never race on "is this phone a contact already?".
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.clock import utcnow
from shared.db import is_postgres, unit_of_work

from ..models import (
    FAILED,
    INCLUDE_UNFINISHED_IMPORTS,
    QUEUED,
    RUNNING,
    ContactImportJob,
    ContactRecord,
    ContactUpload,
    ContactUploadError,
    ContactUploadFile,
)

FILE_PART_BYTES = 1 << 20
DELETE_CHUNK = 5000
#: A job taken over this many times (its importers died each time) fails instead of running again.
MAX_ATTEMPTS = 3
INTERRUPTED = "the import was interrupted (the server stopped); nothing was imported, upload the file again"


@dataclass(frozen=True)
class ClaimedJob:
    """A job this importer holds: its upload, the phone region, and which attempt this is."""

    upload_id: int
    region: str
    attempts: int
    owner: str


class LeaseLost(Exception):
    """Another importer took the job over (this one stalled past its lease): stop, change nothing."""


def enqueue(session: Session, upload_id: int, stream: BinaryIO, region: str) -> None:
    """Store the upload's file and queue its import (in the caller's transaction)."""
    stream.seek(0)
    part = 0
    while data := stream.read(FILE_PART_BYTES):
        # Core insert: one part in memory at a time (the session keeps no object of it).
        session.execute(insert(ContactUploadFile).values(upload_id=upload_id, part=part, data=data))
        part += 1
    session.add(ContactImportJob(upload_id=upload_id, state=QUEUED, region=region, attempts=0, created_at=utcnow()))
    session.flush()


def has_jobs(session: Session) -> bool:
    """Whether an import is queued or running (a small upload then queues behind it)."""
    return bool(session.scalar(select(exists().where(ContactImportJob.upload_id.is_not(None)))))


def job_exists(session: Session, upload_id: int) -> bool:
    return session.get(ContactImportJob, upload_id) is not None


def claim(sessions: sessionmaker[Session], owner: str, lease_seconds: float) -> ClaimedJob | None:
    """Take the oldest job that is queued or whose importer's lease ran out; ``None`` when there
    is none, or while another importer holds a live lease (imports run one at a time)."""
    with unit_of_work(sessions) as session:
        now = utcnow()
        live = exists().where(ContactImportJob.state == RUNNING, ContactImportJob.lease_expires_at >= now)
        if session.scalar(select(live)):
            return None
        stmt = (
            select(ContactImportJob)
            .where((ContactImportJob.state == QUEUED) | (ContactImportJob.lease_expires_at < now))
            .order_by(ContactImportJob.upload_id)
            .limit(1)
        )
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        job = session.scalar(stmt)
        if job is None:
            return None
        job.state, job.attempts, job.lease_owner = RUNNING, job.attempts + 1, owner
        job.lease_expires_at = now + dt.timedelta(seconds=lease_seconds)
        return ClaimedJob(job.upload_id, job.region, job.attempts, owner)


def renew(engine: Engine, job: ClaimedJob, lease_seconds: float) -> bool:
    """Extend the lease (and the upload's heartbeat); False when another importer holds the job."""
    now = utcnow()
    with engine.begin() as connection:
        held = connection.execute(
            update(ContactImportJob)
            .where(ContactImportJob.upload_id == job.upload_id, ContactImportJob.lease_owner == job.owner)
            .values(lease_expires_at=now + dt.timedelta(seconds=lease_seconds))
        ).rowcount
        if held:
            connection.execute(update(ContactUpload).where(ContactUpload.id == job.upload_id).values(heartbeat_at=now))
    return bool(held)


def release(session: Session, job: ClaimedJob) -> None:
    """End the job in the caller's transaction (its upload completed or failed): the job and the
    stored file go. LeaseLost when another importer took it over meanwhile."""
    gone = cast(
        CursorResult[Any],
        session.execute(
            delete(ContactImportJob).where(
                ContactImportJob.upload_id == job.upload_id, ContactImportJob.lease_owner == job.owner
            )
        ),
    ).rowcount
    if not gone:
        raise LeaseLost(f"upload {job.upload_id} was taken over by another importer")
    session.execute(delete(ContactUploadFile).where(ContactUploadFile.upload_id == job.upload_id))


def fail(sessions: sessionmaker[Session], job: ClaimedJob, reason: str) -> None:
    """Mark the upload ``failed`` with its reason and end the job (its contacts were removed)."""
    with unit_of_work(sessions) as session:
        release(session, job)
        session.execute(
            update(ContactUpload)
            .where(ContactUpload.id == job.upload_id)
            .values(status=FAILED, failure_reason=reason[:2000], completed_at=utcnow())
        )


def remove_unfinished(sessions: sessionmaker[Session], upload_id: int) -> int:
    """Delete what an unfinished import of the upload wrote (contacts, rejected rows), a chunk
    per transaction (hidden meanwhile by its job row). Returns how many contacts went."""
    removed = 0
    for model in (ContactRecord, ContactUploadError):
        while True:
            with unit_of_work(sessions) as session:
                ids = select(model.id).where(model.upload_id == upload_id).limit(DELETE_CHUNK)
                gone = cast(
                    CursorResult[Any],
                    session.execute(
                        delete(model).where(model.id.in_(ids.scalar_subquery())),
                        execution_options={INCLUDE_UNFINISHED_IMPORTS: True},
                    ),
                ).rowcount
            if model is ContactRecord:
                removed += gone
            if gone < DELETE_CHUNK:
                break
    return removed


def fetch_file(sessions: sessionmaker[Session], upload_id: int, work_dir: str | None) -> str:
    """Write the stored file of an upload to a temporary file of ours (the caller removes it)."""
    handle = tempfile.NamedTemporaryFile(prefix="contact-import-", dir=work_dir or None, delete=False)  # noqa: SIM115
    try:
        with handle, sessions() as session:
            parts = session.scalars(
                select(ContactUploadFile.part).where(ContactUploadFile.upload_id == upload_id).order_by("part")
            ).all()
            for part in parts:
                data = session.scalar(
                    select(ContactUploadFile.data).where(
                        ContactUploadFile.upload_id == upload_id, ContactUploadFile.part == part
                    )
                )
                handle.write(data or b"")
            session.rollback()
    except BaseException:
        os.unlink(handle.name)
        raise
    return handle.name


def copy_to_temp(stream: BinaryIO, work_dir: str | None = None) -> str:
    """Copy an uploaded stream to a file of ours (for the checks that need a path)."""
    stream.seek(0)
    handle = tempfile.NamedTemporaryFile(prefix="contact-upload-", dir=work_dir or None, delete=False)  # noqa: SIM115
    with handle:
        shutil.copyfileobj(stream, handle, 1 << 20)
    return handle.name
