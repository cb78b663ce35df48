"""The upload use case: store what the import engine (``importing``) read from a contact list.

Rows stream from ``importing.read_contact_list`` (file checks, header, E.164, in-file duplicates)
in batches: each batch's phones are looked up among existing contacts in one query, the new ones
are assigned round-robin over the chosen staff (least open load first) and bulk-inserted (COPY on
PostgreSQL, executemany elsewhere), invalid rows go to ``contact_upload_errors``.

``receive_upload`` is the entry point: it checks the file and imports it at once or, above the
size threshold, starts ``run_import`` in a background thread.

All or nothing: contacts, rejected rows, the upload's final counts and its ``contacts.uploaded``
event are written in ONE transaction, so a failure half-way leaves no contact behind. A large
upload runs in a background thread (``run_in_background``) with its own session for that
transaction; its progress (``rows_done``) and heartbeat are written on a separate, autocommitted
connection, which never waits on the import's locks (it updates non-key columns of the upload row,
which the import does not touch until its final statement). A failed import is then marked
``failed`` with its reason on that separate connection.

Concurrent uploads are serialized by a transaction-scoped advisory lock, so the check "is this
phone already a contact?" cannot race with another import inserting it.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from typing import BinaryIO

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from shared.db import is_postgres, unit_of_work
from shared.errors import NotFound, PayloadTooLarge, ValidationFailed
from shared.messaging import utcnow

from .importing import (ParsedRow, RowOutcome, detect_kind, read_contact_list, write_error_report_csv,
                        write_error_report_xlsx)
from .models import (
    COMPLETED,
    CONVERTED,
    FAILED,
    PENDING,
    PROCESSING,
    ContactRecord,
    ContactUpload,
    ContactUploadError,
    CustomerLink,
    StaffMember,
    idempotency,
    messaging,
)

log = logging.getLogger(__name__)

BATCH_ROWS = 5000
IMPORT_LOCK_KEY = 0x636F6E74  # "cont": one import at a time writes contacts
STALE_AFTER = dt.timedelta(minutes=2)
# SQLite has one writer, so an import there cannot beat its heartbeat while it writes; the size
# cap bounds how long an import may take (20 MB is about 1M rows, minutes at worst), so an upload
# still processing long after its last beat has lost its process.
STALE_AFTER_WITHOUT_HEARTBEAT = dt.timedelta(minutes=30)
_KEEP_CHARS = 1000  # of a rejected cell in the error report


@dataclass(frozen=True)
class NewUpload:
    filename: str
    list_name: str | None
    uploaded_by: int | None
    assign_to: list[int] | None
    file_kind: str | None
    file_bytes: int
    total_rows_estimate: int | None = None


# -- staff -------------------------------------------------------------------------------------
def choose_staff(session: Session, assign_to: list[int] | None) -> list[int]:
    """The staff ids an upload assigns to: the chosen ones (each an active user), else every
    active user with the staff role. ValidationFailed when there is nobody."""
    if assign_to:
        wanted = list(dict.fromkeys(assign_to))
        active = set(session.scalars(select(StaffMember.staff_id).where(
            StaffMember.staff_id.in_(wanted), StaffMember.active.is_(True))))
        missing = [staff_id for staff_id in wanted if staff_id not in active]
        if missing:
            raise ValidationFailed("contacts can only be assigned to active staff members",
                                   errors={"assign_to": [f"{s} is not an active staff member" for s in missing]})
        return wanted
    staff = list(session.scalars(select(StaffMember.staff_id).where(
        StaffMember.active.is_(True), StaffMember.role == "staff").order_by(StaffMember.staff_id)))
    if not staff:
        raise ValidationFailed("there is no active staff member to assign the contacts to: add staff users "
                               "or choose them with assign_to", errors={"assign_to": ["no active staff members"]})
    return staff


def least_loaded_first(session: Session, staff_ids: list[int]) -> list[int]:
    """``staff_ids`` ordered by open load (contacts assigned and not converted), then id."""
    def per_staff(*conditions) -> dict[int, int]:
        return dict(session.execute(select(ContactRecord.assigned_to, func.count())
                                    .where(ContactRecord.assigned_to.in_(staff_ids), *conditions)
                                    .group_by(ContactRecord.assigned_to)).all())
    # Two index-only counts (all assigned, converted) rather than one pass over the rows.
    assigned, converted = per_staff(), per_staff(ContactRecord.status == CONVERTED)
    return sorted(staff_ids, key=lambda staff_id: (assigned.get(staff_id, 0) - converted.get(staff_id, 0), staff_id))


# -- the upload row ----------------------------------------------------------------------------
def create_upload(session: Session, new: NewUpload) -> ContactUpload:
    now = utcnow()
    upload = ContactUpload(filename=new.filename[:255], list_name=new.list_name, uploaded_by=new.uploaded_by,
                           assign_to=new.assign_to, file_kind=new.file_kind, file_bytes=new.file_bytes,
                           status=PROCESSING, total_rows=new.total_rows_estimate, rows_done=0, imported=0,
                           duplicates_in_file=0, already_known=0, invalid=0, assigned={}, created_at=now,
                           heartbeat_at=now)
    session.add(upload)
    session.flush()
    return upload


def get_upload(session: Session, upload_id: int) -> ContactUpload:
    """One upload; a ``processing`` one whose heartbeat stopped long ago is shown ``failed``
    (its process died; its transaction was rolled back, so it imported nothing)."""
    upload = session.get(ContactUpload, upload_id)
    if upload is None:
        raise NotFound(f"upload {upload_id} does not exist")
    # Only PostgreSQL imports beat the heartbeat while they run (see _ProgressWriter).
    stale_after = STALE_AFTER if is_postgres(session) else STALE_AFTER_WITHOUT_HEARTBEAT
    if (upload.status == PROCESSING and upload.heartbeat_at
            and utcnow() - _aware(upload.heartbeat_at) > stale_after):
        upload.status = FAILED
        upload.failure_reason = "the import was interrupted (the server stopped); nothing was imported, " \
                                "upload the file again"
        upload.completed_at = utcnow()
        session.flush()
    return upload


def _aware(instant: dt.datetime) -> dt.datetime:
    # SQLite hands back naive UTC.
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.timezone.utc)


def uploads_query():
    return select(ContactUpload).order_by(ContactUpload.id.desc())


def upload_errors(session: Session, upload_id: int) -> Iterator[ContactUploadError]:
    """The rejected rows of an upload in row order (streamed)."""
    get_upload(session, upload_id)
    return session.scalars(select(ContactUploadError).where(ContactUploadError.upload_id == upload_id)
                           .order_by(ContactUploadError.row, ContactUploadError.id)
                           .execution_options(yield_per=2000))


# -- the error report ----------------------------------------------------------------------------
REPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class _ReportRow:
    row_number: int
    raw_phone: str
    name: str | None
    reason: str | None


@dataclass(frozen=True)
class ErrorReport:
    """An upload's rejected rows as a file to download."""

    content: bytes
    file_format: str  # one of REPORT_FORMATS
    filename: str


def error_report(session: Session, upload_id: int, file_format: str = "csv") -> ErrorReport:
    """The rejected rows of an upload as CSV or XLSX (``row, phone, name, reason``); cells that a
    spreadsheet would run as formulas are neutralized. NotFound for an unknown upload."""
    if file_format not in REPORT_FORMATS:
        raise ValidationFailed("unknown report format", errors={"format": [f"one of {', '.join(REPORT_FORMATS)}"]})
    rows = [_ReportRow(e.row, e.phone or "", e.name, e.reason) for e in upload_errors(session, upload_id)]
    out = io.BytesIO()
    if file_format == "xlsx":
        write_error_report_xlsx(rows, out)
    else:
        write_error_report_csv(rows, out)
    return ErrorReport(out.getvalue(), file_format, f"upload-{upload_id}-errors.{file_format}")


# -- writing contacts --------------------------------------------------------------------------
# COPY text format: backslash, tab, newline and carriage return escaped; NUL cannot be stored.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": None})
_CONTACT_COPY = ("COPY contact_records (phone, name, status, whatsapp_status, assigned_to, upload_id, "
                 "created_at, updated_at) FROM STDIN")
_ERROR_COPY = "COPY contact_upload_errors (upload_id, row, phone, name, reason) FROM STDIN"


def _copy_text(value) -> str:
    return "\\N" if value is None else str(value).translate(_COPY_ESCAPES)


class _SqlWriter:
    """Portable path (SQLite): per batch, one lookup query and core executemany inserts."""

    def __init__(self, session: Session, upload_id: int, now: dt.datetime):
        self.session, self.upload_id, self.now = session, upload_id, now

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def lookup(self, phones: list[str]) -> Future:
        """The phones of ``phones`` that are contacts already (a future, resolved at once here)."""
        found: Future = Future()
        found.set_result(self.existing_phones(phones))
        return found

    def existing_phones(self, phones: list[str]) -> set[str]:
        if not phones:
            return set()
        return set(self.session.scalars(select(ContactRecord.phone).where(ContactRecord.phone.in_(phones))))

    def add_contacts(self, contacts: list[tuple[str, str | None, int]]) -> None:
        if contacts:
            self.session.execute(insert(ContactRecord), [
                dict(phone=phone, name=name, status=PENDING, whatsapp_status="unknown", assigned_to=staff_id,
                     upload_id=self.upload_id, created_at=self.now, updated_at=self.now)
                for phone, name, staff_id in contacts])

    def add_rejected(self, rows: list[ParsedRow]) -> None:
        if rows:
            self.session.execute(insert(ContactUploadError), [
                dict(upload_id=self.upload_id, row=row.row_number, phone=row.raw_phone[:_KEEP_CHARS],
                     name=row.name[:_KEEP_CHARS] if row.name else None, reason=row.reason) for row in rows])


class _CopyWriter:
    """PostgreSQL path: ONE ``COPY`` streams every new contact of the import into the import's
    transaction while the next rows are parsed (a writer thread feeds the socket, so the server
    maintains the indexes while Python reads the file).

    Phones are looked up on a second connection: it sees the committed contacts, which is all
    there is to see because the file's own duplicates are already gone (``dedupe_in_file``) and
    the import lock keeps other imports out. Rejected rows are spooled and copied at the end.
    """

    def __init__(self, session: Session, upload_id: int, now: dt.datetime):
        self.session, self.upload_id = session, upload_id
        self.stamp = now.isoformat()
        self.prefix = f"\t{PENDING}\tunknown\t"
        self.suffix = f"\t{upload_id}\t{self.stamp}\t{self.stamp}\n"
        self.rejected = tempfile.SpooledTemporaryFile(max_size=8 * 2**20, mode="w+", encoding="utf-8")

    def __enter__(self):
        from psycopg.copy import QueuedLibpqWriter
        dbapi = self.session.connection().connection.driver_connection
        self.cursor = dbapi.cursor()
        self.copy_cm = self.cursor.copy(_CONTACT_COPY, writer=QueuedLibpqWriter(self.cursor))
        self.copy = self.copy_cm.__enter__()
        self.lookup_conn = self.session.get_bind().connect()
        self.lookup_tx = self.lookup_conn.begin()
        # A parameter array is not hashed in a sequential scan: never let stale statistics pick one.
        self.lookup_conn.execute(text("SET LOCAL enable_seqscan = off"))
        self.lookup_cursor = self.lookup_conn.connection.driver_connection.cursor()
        self.lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contact-lookup")
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.lookups.shutdown(wait=True, cancel_futures=True)
            self.lookup_cursor.close()
            self.lookup_tx.rollback()
            self.lookup_conn.close()
        finally:
            try:
                self.copy_cm.__exit__(exc_type, exc, tb)
                if exc_type is None and self.rejected.tell():
                    self.rejected.seek(0)
                    with self.cursor.copy(_ERROR_COPY) as copy:
                        while chunk := self.rejected.read(1 << 20):
                            copy.write(chunk)
            finally:
                self.cursor.close()
                self.rejected.close()
        return False

    def lookup(self, phones: list[str]) -> Future:
        """The phones of ``phones`` that are contacts already, looked up in the lookup thread."""
        return self.lookups.submit(self.existing_phones, phones)

    def existing_phones(self, phones: list[str]) -> set[str]:
        if not phones:
            return set()
        # E.164 needs no quoting inside an array literal, which is far cheaper to send than a list.
        self.lookup_cursor.execute("SELECT phone FROM contact_records WHERE phone = ANY(%s::varchar[])",
                                   ("{" + ",".join(phones) + "}",))
        return {phone for (phone,) in self.lookup_cursor}

    def add_contacts(self, contacts: list[tuple[str, str | None, int]]) -> None:
        if contacts:
            prefix, suffix = self.prefix, self.suffix
            self.copy.write("".join(
                f"{phone}\t{_copy_text(name)}{prefix}{staff_id}{suffix}" for phone, name, staff_id in contacts))

    def add_rejected(self, rows: list[ParsedRow]) -> None:
        upload_id = self.upload_id
        self.rejected.write("".join(
            f"{upload_id}\t{row.row_number}\t{_copy_text(row.raw_phone[:_KEEP_CHARS])}\t"
            f"{_copy_text(row.name[:_KEEP_CHARS] if row.name else None)}\t{_copy_text(row.reason)}\n"
            for row in rows))


def _batches(rows: Iterable[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _lock_imports(session: Session, heartbeat: Callable[[], None] | None) -> None:
    """Take the import lock (PostgreSQL), beating the heartbeat while another import holds it."""
    if not is_postgres(session):
        return  # SQLite: the write transaction itself serializes imports
    while not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY}):
        if heartbeat:
            heartbeat()
        time.sleep(0.2)


def import_contacts(session: Session, upload: ContactUpload, rows: Iterable[ParsedRow], staff_ids: list[int],
                    *, batch_rows: int = BATCH_ROWS, progress: Callable[[int], None] | None = None,
                    heartbeat: Callable[[], None] | None = None) -> ContactUpload:
    """Store the rows of one upload in the caller's transaction and complete the upload.

    ``progress(rows_done)`` is called after each batch (for large uploads it writes on its own
    connection). Returns the completed upload; raising leaves the transaction to be rolled back.
    """
    _lock_imports(session, heartbeat)
    staff_order = least_loaded_first(session, staff_ids)
    staff_count = len(staff_order)
    assigned: Counter[int] = Counter()
    total = imported = duplicates = already_known = invalid = 0
    turn = 0
    upload_id = upload.id
    writer_class = _CopyWriter if is_postgres(session) else _SqlWriter
    with writer_class(session, upload_id, utcnow()) as writer:
        # One batch ahead: while batch k's phones are looked up (the lookup waits on the database
        # without the GIL), batch k+1 is read and normalized.
        in_flight = None
        for batch in itertools.chain(_batches(rows, batch_rows), [None]):
            ahead = None
            if batch is not None:
                new_rows, rejected = [], []
                for row in batch:
                    if row.reason is None:
                        new_rows.append(row)
                    elif row.outcome is RowOutcome.DUPLICATE_IN_FILE:
                        duplicates += 1
                    else:
                        rejected.append(row)
                ahead = (len(batch), new_rows, rejected, writer.lookup([row.phone for row in new_rows]))
            if in_flight is not None:
                size, new_rows, rejected, lookup = in_flight
                known = lookup.result()
                contacts = []
                for row in new_rows:
                    if row.phone in known:
                        already_known += 1
                        continue
                    contacts.append((row.phone, row.name, staff_order[turn % staff_count]))
                    turn += 1
                total += size
                imported += len(contacts)
                invalid += len(rejected)
                writer.add_contacts(contacts)
                writer.add_rejected(rejected)
                if progress:
                    progress(total)
            in_flight = ahead
    for position, staff_id in enumerate(staff_order):
        # Round-robin from the least loaded: the first (turn % n) staff got one more.
        share = turn // staff_count + (1 if position < turn % staff_count else 0)
        if share:
            assigned[staff_id] = share
    _link_known_customers(session, upload_id)
    done = utcnow()
    values = dict(status=COMPLETED, total_rows=total, rows_done=total, imported=imported,
                  duplicates_in_file=duplicates, already_known=already_known, invalid=invalid,
                  assigned={str(staff_id): n for staff_id, n in sorted(assigned.items())},
                  completed_at=done, heartbeat_at=done, failure_reason=None)
    session.execute(update(ContactUpload).where(ContactUpload.id == upload_id).values(**values))
    for key, value in values.items():
        setattr(upload, key, value)
    messaging.add_event(session, "contacts.uploaded", {
        "upload_id": upload_id, "list_name": upload.list_name, "uploaded_by": upload.uploaded_by,
        "uploaded_at": upload.created_at, "imported": imported, "assigned": values["assigned"],
    }, subject=f"contact-uploads/{upload_id}")
    return upload


def _link_known_customers(session: Session, upload_id: int) -> None:
    """Contacts whose phone already has a customer profile are linked to it at once."""
    link = select(CustomerLink.customer_id).where(CustomerLink.phone == ContactRecord.phone).scalar_subquery()
    session.execute(update(ContactRecord)
                    .where(ContactRecord.upload_id == upload_id,
                           ContactRecord.phone.in_(select(CustomerLink.phone)))
                    .values(customer_id=link))


# -- large uploads in the background -------------------------------------------------------------
class _ProgressWriter:
    """Writes ``rows_done`` and the heartbeat on its own autocommitted connection (PostgreSQL).

    On SQLite the import transaction holds the database's only write lock, so progress is not
    written there (the upload shows 0 rows done until it completes)."""

    def __init__(self, engine, upload_id: int, every_seconds: float = 0.5):
        self.engine = engine
        self.upload_id = upload_id
        self.every = every_seconds
        self.last = 0.0
        self.enabled = engine.dialect.name == "postgresql"

    def progress(self, rows_done: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._write(rows_done=rows_done, heartbeat_at=utcnow())

    def heartbeat(self) -> None:
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._write(heartbeat_at=utcnow())

    def _write(self, **values) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(ContactUpload).where(ContactUpload.id == self.upload_id,
                                                           ContactUpload.status == PROCESSING).values(**values))


def mark_failed(engine, upload_id: int, reason: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(ContactUpload).where(ContactUpload.id == upload_id).values(
            status=FAILED, failure_reason=reason[:2000], completed_at=utcnow()))


def run_import(session_factory, upload_id: int, rows: Iterable[ParsedRow], assign_to: list[int] | None,
               *, batch_rows: int = BATCH_ROWS, cleanup: Callable[[], None] | None = None) -> None:
    """Import an upload created earlier, in its own session and transaction (the background path)."""
    session = session_factory()
    engine = session.get_bind()
    reporter = _ProgressWriter(engine, upload_id)
    try:
        upload = session.get(ContactUpload, upload_id)
        staff = choose_staff(session, assign_to)
        import_contacts(session, upload, rows, staff, batch_rows=batch_rows, progress=reporter.progress,
                        heartbeat=reporter.heartbeat)
        session.commit()
        log.info("contact upload imported", extra={"upload_id": upload_id, "imported": upload.imported})
    except Exception as exc:
        session.rollback()
        reason = exc.detail if hasattr(exc, "detail") else f"the import failed ({type(exc).__name__})"
        log.exception("contact upload failed", extra={"upload_id": upload_id})
        try:
            mark_failed(engine, upload_id, reason)
        except Exception:
            log.exception("could not mark the upload failed", extra={"upload_id": upload_id})
    finally:
        session.close()
        close = getattr(rows, "close", None)
        if close:
            close()
        if cleanup:
            cleanup()


def run_in_background(session_factory, upload_id: int, rows: Iterable[ParsedRow], assign_to: list[int] | None,
                      path: str | None = None, batch_rows: int = BATCH_ROWS) -> threading.Thread:
    """Start ``run_import`` in a thread of this process (no broker here: the event goes through the outbox)."""
    def cleanup():
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass

    thread = threading.Thread(target=run_import, args=(session_factory, upload_id, rows, assign_to),
                              kwargs={"batch_rows": batch_rows, "cleanup": cleanup},
                              name=f"contact-upload-{upload_id}", daemon=True)
    thread.start()
    return thread


# -- receiving an upload ---------------------------------------------------------------------------
CREATED, REPLAYED, STARTED = "created", "replayed", "started"


def receive_upload(session_factory, new: NewUpload, stream: BinaryIO, region: str, *, max_bytes: int,
                   background_above: int, idempotency_key: str | None = None) -> tuple[ContactUpload, str]:
    """Check an uploaded list and import it now (``created``) or, when it is larger than
    ``background_above`` bytes, in a background thread (``started``).

    A file over ``max_bytes`` is refused (PayloadTooLarge) before anything else. File-level refusals (415/422 domain errors) and "nobody to assign to" (422) are raised before
    anything is stored, in both cases. A retry with the same ``Idempotency-Key`` returns the first
    upload (``replayed``). ``stream`` is a seekable binary file; a background import works on a
    copy of it, so the caller may close it when this returns.
    """
    if new.file_bytes > max_bytes:
        raise PayloadTooLarge(f"uploads are limited to {max_bytes} bytes")
    background = new.file_bytes > background_above
    scope = f"contact-uploads:{new.uploaded_by}"
    with unit_of_work(session_factory) as session:
        replay = idempotency.lookup(session, scope, idempotency_key)
        if replay:
            return get_upload(session, int(replay)), REPLAYED
    head = stream.read(8192)
    stream.seek(0)
    kind = detect_kind(head)
    new = replace(new, file_kind=str(kind) if kind else None)
    if not background:
        rows = read_contact_list(stream, new.filename, region)
        with unit_of_work(session_factory) as session:
            staff = choose_staff(session, new.assign_to)
            upload = create_upload(session, new)
            idempotency.remember(session, scope, idempotency_key, upload.id)
            import_contacts(session, upload, rows, staff)
        return upload, CREATED
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
    return upload, STARTED


def _keep_copy(stream: BinaryIO) -> str:
    """Copy the uploaded file to a file of ours that outlives the request (for the background import)."""
    handle = tempfile.NamedTemporaryFile(prefix="contact-upload-", delete=False)  # noqa: SIM115 - outlives this
    with handle:
        shutil.copyfileobj(stream, handle, 1 << 20)
    return handle.name


# -- estimates for progress ----------------------------------------------------------------------
def estimate_rows(path: str, file_kind: str | None) -> int | None:
    """About how many data rows a file holds, for progress before the import counts them exactly."""
    try:
        if file_kind == "csv":
            lines, last = 0, b"\n"
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
            return max(lines + (last != b"\n") - 1, 0)
        if file_kind == "xlsx":
            return _xlsx_dimension_rows(path)
    except (OSError, ValueError):
        return None
    return None


def _xlsx_dimension_rows(path: str) -> int | None:
    import re
    import zipfile
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        if not names:
            return None
        with archive.open(names[0]) as part:
            head = part.read(4096).decode("utf-8", errors="replace")
    match = re.search(r'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
    return max(int(match.group(1)) - 1, 0) if match else None
