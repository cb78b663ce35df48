"""Large uploads import in a thread of the API process, in their own session and ONE transaction.

Progress goes on a separate connection (``progress.ProgressWriter``). A failed import rolls back
(no contact is left) and the upload is marked ``failed`` with its reason on a separate
connection. No broker here: the ``contacts.uploaded`` event goes through the outbox.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import cast

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from shared.clock import utcnow

from ..importing import ParsedRow
from ..models import FAILED, ContactUpload
from .assignment import choose_staff
from .importer import BATCH_ROWS, import_contacts
from .progress import ProgressWriter

log = logging.getLogger(__name__)


def mark_failed(engine: Engine, upload_id: int, reason: str) -> None:
    """Mark an upload ``failed`` with its reason, in a transaction of its own."""
    with engine.begin() as connection:
        connection.execute(
            update(ContactUpload)
            .where(ContactUpload.id == upload_id)
            .values(status=FAILED, failure_reason=reason[:2000], completed_at=utcnow())
        )


def run_import(
    session_factory: Callable[[], Session],
    upload_id: int,
    rows: Iterable[ParsedRow],
    assign_to: list[int] | None,
    *,
    batch_rows: int = BATCH_ROWS,
    cleanup: Callable[[], None] | None = None,
) -> None:
    """Import an upload created earlier, in its own session and transaction (the background path)."""
    session = session_factory()
    engine = cast(Engine, session.get_bind())  # the runtime's session factory is bound to its engine
    reporter = ProgressWriter(engine, upload_id)
    try:
        upload = session.get_one(ContactUpload, upload_id)
        staff = choose_staff(session, assign_to)
        import_contacts(
            session,
            upload,
            rows,
            staff,
            batch_rows=batch_rows,
            progress=reporter.progress,
            heartbeat=reporter.heartbeat,
        )
        session.commit()
        log.info("contact upload imported", extra={"upload_id": upload_id, "imported": upload.imported})
    except Exception as exc:
        session.rollback()
        _record_failure(engine, upload_id, exc)
    finally:
        session.close()
        close = getattr(rows, "close", None)
        if close:
            close()
        if cleanup:
            cleanup()


def _record_failure(engine: Engine, upload_id: int, exc: Exception) -> None:
    # Domain errors carry a detail fit for the admin; anything else is named, not described.
    reason = exc.detail if hasattr(exc, "detail") else f"the import failed ({type(exc).__name__})"
    log.exception("contact upload failed", extra={"upload_id": upload_id})
    try:
        mark_failed(engine, upload_id, reason)
    except Exception:
        log.exception("could not mark the upload failed", extra={"upload_id": upload_id})


def run_in_background(
    session_factory: Callable[[], Session],
    upload_id: int,
    rows: Iterable[ParsedRow],
    assign_to: list[int] | None,
    path: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> threading.Thread:
    """Start ``run_import`` in a thread of this process; ``path`` (our copy of the file) is removed after."""

    def cleanup() -> None:
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass

    thread = threading.Thread(
        target=run_import,
        args=(session_factory, upload_id, rows, assign_to),
        kwargs={"batch_rows": batch_rows, "cleanup": cleanup},
        name=f"contact-upload-{upload_id}",
        daemon=True,
    )
    thread.start()
    return thread
