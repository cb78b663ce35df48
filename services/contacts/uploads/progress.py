"""Progress of a background import: ``rows_done`` and the heartbeat, written beside the import's
transaction, and the row estimate a large upload shows before the import counts exactly."""

from __future__ import annotations

import re
import time
import zipfile
from typing import Any

from sqlalchemy import Engine, update

from shared.clock import utcnow
from shared.db import is_postgres

from ..models import PROCESSING, ContactUpload


class ProgressWriter:
    """Writes ``rows_done`` and the heartbeat on its own autocommitted connection (PostgreSQL).

    That connection never waits on the import's locks: it updates non-key columns of the upload
    row, which the import does not touch until its final statement. On SQLite the import
    transaction holds the database's only write lock, so progress is not written there (the
    upload shows 0 rows done until it completes)."""

    def __init__(self, engine: Engine, upload_id: int, every_seconds: float = 0.5) -> None:
        self.engine = engine
        self.upload_id = upload_id
        self.every = every_seconds
        self.last = 0.0
        self.enabled = is_postgres(engine)

    def progress(self, rows_done: int) -> None:
        """Record ``rows_done`` (at most every ``every_seconds``)."""
        if self._due():
            self._write(rows_done=rows_done, heartbeat_at=utcnow())

    def heartbeat(self) -> None:
        """Show the import is alive (at most every ``every_seconds``)."""
        if self._due():
            self._write(heartbeat_at=utcnow())

    def _due(self) -> bool:
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            return True
        return False

    def _write(self, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(ContactUpload)
                .where(ContactUpload.id == self.upload_id, ContactUpload.status == PROCESSING)
                .values(**values)
            )


def estimate_rows(path: str, file_kind: str | None) -> int | None:
    """About how many data rows a file holds, for progress before the import counts them exactly."""
    try:
        if file_kind == "csv":
            return _csv_data_lines(path)
        if file_kind == "xlsx":
            return _xlsx_dimension_rows(path)
    except (OSError, ValueError):
        return None
    return None


def _csv_data_lines(path: str) -> int:
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(lines + (last != b"\n") - 1, 0)


def _xlsx_dimension_rows(path: str) -> int | None:
    # The first sheet's <dimension ref="A1:C1001"> says how far its rows go without reading them.
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        if not names:
            return None
        with archive.open(names[0]) as part:
            head = part.read(4096).decode("utf-8", errors="replace")
    match = re.search(r'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
    return max(int(match.group(1)) - 1, 0) if match else None
