"""Writing an import's contacts and rejected rows in the import's transaction.

``CopyWriter`` (PostgreSQL) streams them with ``COPY``; ``InsertWriter`` (SQLite, the portable
path) uses SQLAlchemy executemany inserts. Both look up which phones are contacts already, as a
future, so the importer can read the next batch while the database answers.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Literal, Protocol, Self, cast

from sqlalchemy import Engine, Select, func, insert, literal_column, select, text
from sqlalchemy.orm import Session

from shared.db import is_postgres

from ..importing import ParsedRow
from ..models import INCLUDE_UNFINISHED_IMPORTS, PENDING, ContactRecord, ContactUploadError

KEEP_CHARS = 1000  # of a rejected cell in the error report
NewContact = tuple[str, str | None, int]  # phone, name, staff id

# COPY text format: backslash, tab, newline and carriage return escaped; NUL cannot be stored.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": None})
_CONTACT_COPY = (
    "COPY contact_records (phone, name, status, whatsapp_status, assigned_to, upload_id, "
    "created_at, updated_at) FROM STDIN"
)
_ERROR_COPY = "COPY contact_upload_errors (upload_id, row, phone, name, reason) FROM STDIN"


class ContactWriter(Protocol):
    """What the importer needs from a writer (a context manager: leaving it finishes the writes)."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]: ...

    def lookup(self, phones: list[str]) -> Future[set[str]]: ...

    def add_contacts(self, contacts: list[NewContact]) -> None: ...

    def add_rejected(self, rows: list[ParsedRow]) -> None: ...


def json_values(values: list[str]) -> Select[Any]:
    """``SELECT value FROM json_each(:values)``: a list as ONE bound JSON text (SQLite). An
    ``IN (?, ?, ...)`` of thousands would be a new SQL text, and a new cached prepared statement
    of megabytes, for every batch size: a 1M-row import kept over 100 MB of them."""
    return select(literal_column("value")).select_from(func.json_each(json.dumps(values)))


def writer_for(session: Session, upload_id: int, now: dt.datetime) -> ContactWriter:
    """The fastest writer the session's database allows."""
    writer_class = CopyWriter if is_postgres(session) else InsertWriter
    return writer_class(session, upload_id, now)


def _copy_text(value: Any) -> str:
    return "\\N" if value is None else str(value).translate(_COPY_ESCAPES)


class InsertWriter:
    """Portable path (SQLite): per batch, one lookup query and core executemany inserts."""

    def __init__(self, session: Session, upload_id: int, now: dt.datetime) -> None:
        self.session, self.upload_id, self.now = session, upload_id, now

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        return False

    def lookup(self, phones: list[str]) -> Future[set[str]]:
        """The phones of ``phones`` that are contacts already (a future, resolved at once here)."""
        found: Future[set[str]] = Future()
        found.set_result(self.existing_phones(phones))
        return found

    def existing_phones(self, phones: list[str]) -> set[str]:
        if not phones:
            return set()
        # Every row counts here, an unfinished import's too: the unique index sees them all.
        return set(
            self.session.scalars(
                select(ContactRecord.phone)
                .where(ContactRecord.phone.in_(json_values(phones)))
                .execution_options(**{INCLUDE_UNFINISHED_IMPORTS: True})
            )
        )

    def add_contacts(self, contacts: list[NewContact]) -> None:
        if contacts:
            self.session.execute(
                insert(ContactRecord),
                [
                    {
                        "phone": phone,
                        "name": name,
                        "status": PENDING,
                        "whatsapp_status": "unknown",
                        "assigned_to": staff_id,
                        "upload_id": self.upload_id,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                    for phone, name, staff_id in contacts
                ],
            )

    def add_rejected(self, rows: list[ParsedRow]) -> None:
        if rows:
            self.session.execute(
                insert(ContactUploadError),
                [
                    {
                        "upload_id": self.upload_id,
                        "row": row.row_number,
                        "phone": row.raw_phone[:KEEP_CHARS],
                        "name": row.name[:KEEP_CHARS] if row.name else None,
                        "reason": row.reason,
                    }
                    for row in rows
                ],
            )


class CopyWriter:
    """PostgreSQL path: ONE ``COPY`` streams every new contact of the import into the import's
    transaction while the next rows are parsed (a writer thread feeds the socket, so the server
    maintains the indexes while Python reads the file).

    Phones are looked up on a second connection: it sees the committed contacts, which is all
    there is to see because the file's own duplicates are already gone (``dedupe_in_file``) and
    the import lock keeps other imports out. Rejected rows are spooled and copied at the end.
    """

    def __init__(self, session: Session, upload_id: int, now: dt.datetime) -> None:
        self.session, self.upload_id = session, upload_id
        self.stamp = now.isoformat()
        self.prefix = f"\t{PENDING}\tunknown\t"
        self.suffix = f"\t{upload_id}\t{self.stamp}\t{self.stamp}\n"
        # Closed by __exit__, after its rows were copied.
        self.rejected = tempfile.SpooledTemporaryFile(max_size=8 * 2**20, mode="w+", encoding="utf-8")  # noqa: SIM115

    def __enter__(self) -> Self:
        from psycopg.copy import QueuedLibpqWriter

        dbapi: Any = self.session.connection().connection.driver_connection
        self.cursor = dbapi.cursor()
        self.copy_cm = self.cursor.copy(_CONTACT_COPY, writer=QueuedLibpqWriter(self.cursor))
        self.copy = self.copy_cm.__enter__()
        self.lookup_conn = cast(Engine, self.session.get_bind()).connect()
        self.lookup_tx = self.lookup_conn.begin()
        # A parameter array is not hashed in a sequential scan: never let stale statistics pick one.
        self.lookup_conn.execute(text("SET LOCAL enable_seqscan = off"))
        lookup_dbapi: Any = self.lookup_conn.connection.driver_connection
        self.lookup_cursor = lookup_dbapi.cursor()
        self.lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contact-lookup")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        try:
            self._close_lookups()
        finally:
            try:
                self.copy_cm.__exit__(exc_type, exc, tb)
                if exc_type is None:
                    self._copy_rejected()
            finally:
                self.cursor.close()
                self.rejected.close()
        return False

    def _close_lookups(self) -> None:
        self.lookups.shutdown(wait=True, cancel_futures=True)
        self.lookup_cursor.close()
        self.lookup_tx.rollback()
        self.lookup_conn.close()

    def _copy_rejected(self) -> None:
        if not self.rejected.tell():
            return
        self.rejected.seek(0)
        with self.cursor.copy(_ERROR_COPY) as copy:
            while chunk := self.rejected.read(1 << 20):
                copy.write(chunk)

    def lookup(self, phones: list[str]) -> Future[set[str]]:
        """The phones of ``phones`` that are contacts already, looked up in the lookup thread."""
        return self.lookups.submit(self.existing_phones, phones)

    def existing_phones(self, phones: list[str]) -> set[str]:
        if not phones:
            return set()
        # E.164 needs no quoting inside an array literal, which is far cheaper to send than a list.
        self.lookup_cursor.execute(
            "SELECT phone FROM contact_records WHERE phone = ANY(%s::varchar[])", ("{" + ",".join(phones) + "}",)
        )
        return {phone for (phone,) in self.lookup_cursor}

    def add_contacts(self, contacts: list[NewContact]) -> None:
        if contacts:
            prefix, suffix = self.prefix, self.suffix
            self.copy.write(
                "".join(f"{phone}\t{_copy_text(name)}{prefix}{staff_id}{suffix}" for phone, name, staff_id in contacts)
            )

    def add_rejected(self, rows: list[ParsedRow]) -> None:
        upload_id = self.upload_id
        self.rejected.write(
            "".join(
                f"{upload_id}\t{row.row_number}\t{_copy_text(row.raw_phone[:KEEP_CHARS])}\t"
                f"{_copy_text(row.name[:KEEP_CHARS] if row.name else None)}\t{_copy_text(row.reason)}\n"
                for row in rows
            )
        )
