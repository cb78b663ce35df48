"""The importer: a loop of the contacts worker process (``python -m services.contacts.worker import``)
that takes queued uploads (``jobs``) and imports them, one at a time across every replica.

- PostgreSQL: the import is ONE transaction (MVCC hides it until it commits; a crash rolls it
  back); ``rows_done`` and the heartbeat go on a separate connection (``progress``).
- SQLite: one writer at a time, so the import commits batch by batch (the write lock is held
  for one batch, ~5,000 rows), writing ``rows_done`` in each. Its contacts stay hidden while its
  job row exists (``models._hide_unfinished_imports``); completion is the last batch's
  transaction (counts, event, job row deleted), so they all appear at once.
- A lease, renewed by a thread, says the importer is alive. If it dies (``kill -9``), the lease
  runs out and another importer takes the job over: it deletes what the dead one wrote and
  imports the file again (``MAX_ATTEMPTS`` in all, then ``failed``). A failure removes what was
  written and marks the upload ``failed`` with the reason; the stored file and temp file go.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import cast

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from shared.clock import utcnow
from shared.db import is_postgres

from ..importing import read_contact_list
from ..models import ContactUpload
from ..settings import ContactsSettings
from . import jobs
from .assignment import choose_staff
from .importer import BATCH_ROWS, import_contacts
from .progress import ProgressWriter

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews a job's lease every third of it, in a thread; ``check()`` raises once it was lost."""

    def __init__(self, engine: Engine, job: jobs.ClaimedJob, lease_seconds: float) -> None:
        self.engine, self.job, self.lease = engine, job, lease_seconds
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.upload_id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                if not jobs.renew(self.engine, self.job, self.lease):
                    self.lost = True
                    return
            except Exception:
                log.exception("could not renew the import lease", extra={"upload_id": self.job.upload_id})

    def check(self) -> None:
        if self.lost:
            raise jobs.LeaseLost(f"upload {self.job.upload_id} was taken over by another importer")


def run_job(
    sessions: sessionmaker[Session], settings: ContactsSettings, job: jobs.ClaimedJob, *, batch_rows: int = BATCH_ROWS
) -> None:
    """Import one claimed job to its end: completed, or failed with a reason (never left processing)."""
    engine = cast(Engine, sessions.kw["bind"])
    with LeaseKeeper(engine, job, settings.import_lease_seconds) as keeper:
        if job.attempts > 1:  # an importer died holding it: what it wrote (SQLite) goes first
            jobs.remove_unfinished(sessions, job.upload_id)
        if job.attempts > jobs.MAX_ATTEMPTS:
            jobs.fail(sessions, job, jobs.INTERRUPTED)
            return
        path = None
        try:
            path = jobs.fetch_file(sessions, job.upload_id, settings.import_work_dir)
            _import(sessions, engine, job, path, keeper, batch_rows)
        except jobs.LeaseLost:
            log.warning("import taken over by another importer", extra={"upload_id": job.upload_id})
        except Exception as exc:
            _record_failure(sessions, job, exc)
        finally:
            if path:
                os.unlink(path)


def _import(
    sessions: sessionmaker[Session],
    engine: Engine,
    job: jobs.ClaimedJob,
    path: str,
    keeper: LeaseKeeper,
    batch_rows: int,
) -> None:
    session = sessions()
    rows = None
    try:
        upload = session.get_one(ContactUpload, job.upload_id)
        rows = read_contact_list(path, upload.filename, job.region)
        staff = choose_staff(session, upload.assign_to)
        if is_postgres(session):
            reporter = ProgressWriter(engine, job.upload_id)
            progress, heartbeat, checkpoint = reporter.progress, reporter.heartbeat, None
        else:

            def checkpoint(rows_done: int) -> None:
                keeper.check()
                session.execute(
                    update(ContactUpload)
                    .where(ContactUpload.id == job.upload_id)
                    .values(rows_done=rows_done, heartbeat_at=utcnow())
                )
                session.commit()  # the SQLite write lock is let go after every batch

            progress, heartbeat = None, None
        import_contacts(
            session,
            upload,
            rows,
            staff,
            batch_rows=batch_rows,
            progress=progress,
            heartbeat=heartbeat,
            checkpoint=checkpoint,
        )
        keeper.check()
        jobs.release(session, job)
        session.commit()
        log.info("contact upload imported", extra={"upload_id": job.upload_id, "imported": upload.imported})
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        close = getattr(rows, "close", None)
        if close:
            close()


def _record_failure(sessions: sessionmaker[Session], job: jobs.ClaimedJob, exc: Exception) -> None:
    # Domain errors carry a detail fit for the admin; anything else is named, not described.
    reason = exc.detail if hasattr(exc, "detail") else f"the import failed ({type(exc).__name__})"
    log.exception("contact upload failed", extra={"upload_id": job.upload_id})
    try:
        jobs.remove_unfinished(sessions, job.upload_id)
        jobs.fail(sessions, job, reason)
    except jobs.LeaseLost:
        log.warning("import taken over by another importer", extra={"upload_id": job.upload_id})
    except Exception:
        # The job stays: when its lease runs out another importer cleans up and retries.
        log.exception("could not mark the upload failed", extra={"upload_id": job.upload_id})


class ImportWorker:
    """The importer loop: claim a job, import it, repeat; idle, look again every ``poll`` seconds."""

    def __init__(self, settings: ContactsSettings, sessions: sessionmaker[Session], *, batch_rows: int = BATCH_ROWS):
        self.settings, self.sessions, self.batch_rows = settings, sessions, batch_rows
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run_once(self) -> bool:
        """Import one job if there is one to take; whether there was."""
        job = jobs.claim(self.sessions, self.owner, self.settings.import_lease_seconds)
        if job is None:
            return False
        log.info("contact import claimed", extra={"upload_id": job.upload_id, "attempt": job.attempts})
        run_job(self.sessions, self.settings, job, batch_rows=self.batch_rows)
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:
                log.exception("import loop error")  # the database is away: look again later
            stop.wait(self.settings.import_poll_seconds)
