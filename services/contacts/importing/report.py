"""The error report of an upload: its rejected rows as CSV or XLSX (``row, phone, name, reason``).

Cells are exported as typed, except that text a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, carriage return first) is prefixed with ``'`` (CSV
injection); in XLSX every cell is also written as a plain string, never a formula.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from typing import BinaryIO, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

REPORT_COLUMNS = ("row", "phone", "name", "reason")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RejectedRow(Protocol):
    """What the report shows of a row (``ParsedRow`` is one)."""

    row_number: int
    raw_phone: str
    name: str | None
    reason: str | None


def neutralize_for_export(value: object) -> object:
    """``value`` made safe for a spreadsheet cell: text that could run as a formula gets a ``'`` first.

    Non-text values are returned unchanged. Storage keeps the text as typed; only exports
    (CSV, XLSX) call this.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_error_report_csv(rows: Iterable[RejectedRow], out: BinaryIO) -> None:
    """Write the report as UTF-8 CSV with a byte order mark (so Excel shows names right)."""
    out.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(REPORT_COLUMNS)
        writer.writerows(_report_values(row) for row in rows)
    finally:
        text.flush()
        text.detach()  # the caller's stream stays open


def write_error_report_xlsx(rows: Iterable[RejectedRow], out: BinaryIO) -> None:
    """Write the report as an XLSX workbook, streaming rows (openpyxl write-only mode)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Rejected rows")
    sheet.append(REPORT_COLUMNS)
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in _report_values(row)])
    workbook.save(out)


def _report_values(row: RejectedRow) -> tuple[object, ...]:
    return (
        row.row_number,
        neutralize_for_export(row.raw_phone),
        neutralize_for_export(row.name or ""),
        row.reason or "",
    )


def _text_cell(sheet, value: object) -> object:
    if not isinstance(value, str):
        return value
    # XML cannot carry most control characters; openpyxl would refuse the whole workbook.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # a string, even when it starts with "="
    return cell
