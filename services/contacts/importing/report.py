"""The error report of an upload: its rejected rows as CSV or XLSX (``row, phone, name, reason``).

Written by the project's one export writer (``shared.exports``): CSV in UTF-8 with a byte order
mark, XLSX in openpyxl's write-only mode, and text a spreadsheet would run as a formula (``=``,
``+``, ``-``, ``@``, tab, carriage return first) prefixed with ``'``; in XLSX every text cell is a
plain string, never a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol

from shared.exports import neutralize, write_csv, write_xlsx

REPORT_COLUMNS = ("row", "phone", "name", "reason")

#: Storage keeps text as typed; only exports neutralize it (the shared rule, under its old name here).
neutralize_for_export = neutralize


class RejectedRow(Protocol):
    """What the report shows of a row (``ParsedRow`` is one)."""

    row_number: int
    raw_phone: str
    name: str | None
    reason: str | None


def write_error_report_csv(rows: Iterable[RejectedRow], out: BinaryIO) -> None:
    """Write the report as UTF-8 CSV with a byte order mark (so Excel shows names right)."""
    write_csv(REPORT_COLUMNS, _report_values(rows), out)


def write_error_report_xlsx(rows: Iterable[RejectedRow], out: BinaryIO) -> None:
    """Write the report as an XLSX workbook, streaming rows (openpyxl write-only mode)."""
    write_xlsx(REPORT_COLUMNS, _report_values(rows), out, "Rejected rows")


def _report_values(rows: Iterable[RejectedRow]) -> Iterator[tuple[object, ...]]:
    for row in rows:
        yield (row.row_number, row.raw_phone, row.name or "", row.reason or "")
