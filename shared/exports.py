"""Files to download: any table of rows as CSV (UTF-8 with BOM) or XLSX, streamed in constant memory.

Exports (contacts, customers, due reminders, every report, an upload's rejected rows) all come
through here, so every file opens the same way in Excel and none can run a formula: text that a
spreadsheet would run (``=``, ``+``, ``-``, ``@``, tab, carriage return first) gets a ``'`` first,
and in XLSX every text cell is written as a plain string, never a formula.

CSV is produced chunk by chunk as rows arrive. XLSX is a zip, so openpyxl's write-only mode writes
it to a temporary file (rows are not kept in memory) which is then streamed and deleted.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from .clock import as_utc

#: The formats every export offers.
EXPORT_FORMATS: Final = ("csv", "xlsx")
MEDIA_TYPES: Final = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CSV_ROWS_PER_CHUNK = 500
_FILE_CHUNK = 64 * 1024


def neutralize(value: object) -> object:
    """``value`` made safe for a spreadsheet cell: text that could run as a formula gets a ``'`` first.

    Non-text values are returned unchanged. Storage keeps the text as typed; only exports call this.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file (BOM, header, rows) in chunks of a few hundred rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
        pending += 1
        if pending == _CSV_ROWS_PER_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> None:
    """Write the CSV file to ``out``."""
    for chunk in csv_chunks(columns, rows):
        out.write(chunk)


def write_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO | str, sheet: str) -> None:
    """Write an XLSX workbook with one sheet to ``out`` (openpyxl write-only: rows are not kept)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append(list(columns))
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    workbook.save(out)


def xlsx_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str) -> Iterator[bytes]:
    """The XLSX file in chunks: written to a temporary file, streamed, then deleted."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="export-")
    os.close(handle)
    try:
        write_xlsx(columns, rows, path, sheet)
        with open(path, "rb") as file:
            while chunk := file.read(_FILE_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


@dataclass(frozen=True)
class Export:
    """A file to download: its name, media type and the bytes as an iterator of chunks."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]


def export(name: str, file_format: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Export:
    """``rows`` under ``columns`` as ``name.csv`` or ``name.xlsx`` (``file_format`` from EXPORT_FORMATS)."""
    if file_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {file_format!r}")
    chunks = csv_chunks(columns, rows) if file_format == "csv" else xlsx_chunks(columns, rows, name)
    return Export(f"{name}.{file_format}", MEDIA_TYPES[file_format], chunks)


def _plain(value: object) -> object:
    """Instants as the API writes them (ISO 8601 UTC, ``Z``): spreadsheets have no time zones."""
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    return value


def _csv_value(value: object) -> object:
    value = neutralize(_plain(value))
    return "" if value is None else value


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    value = _plain(value)
    if not isinstance(value, str):
        return value  # numbers (Decimal money included), dates, booleans, None: as they are
    # XML cannot carry most control characters; openpyxl would refuse the whole workbook.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(neutralize(value))))
    cell.data_type = "s"  # a string, even when it starts with "="
    return cell
