"""Rows of an uploaded contact list (CSV, XLSX, XLS), checked before a byte is parsed.

What a file is comes from its first bytes, never from its name or Content-Type: the name
only has to agree with them. XLSX archives are inspected for zip bombs and XML entity
declarations before the spreadsheet reader sees them. Rows are yielded one at a time as
lists of cell values: CSV is streamed with bounded memory; XLSX/XLS are read by calamine,
which holds the first sheet's cells as a dense grid. The upload cap does not bound that grid
(a few bytes of XML can address any cell), so every worksheet's XML is scanned first, in the same
pass as the entity check, and an archive whose cells would not fit the import's memory is
refused (``XlsxLimits``): too many cells or too large a grid → 413, one element spread over
megabytes (a giant string, XML nested millions deep) → 415.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO, cast

from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from .errors import EmptyFile, MalformedFile, TooLargeToRead, UnsafeFile, UnsupportedFileType

Row = Sequence[object]

_CHUNK = 1 << 20
_HEAD = 8192


class FileKind(StrEnum):
    """The kinds of contact list we import."""

    CSV = "csv"
    XLSX = "xlsx"
    XLS = "xls"


_KIND_BY_EXTENSION = {".csv": FileKind.CSV, ".xlsx": FileKind.XLSX, ".xls": FileKind.XLS}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Binary formats people upload by mistake, named so the refusal says what was sent.
_OTHER_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"%PDF-": "a PDF document",
    b"PK\x05\x06": "an empty zip archive",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!\x1a\x07": "a RAR archive",
    b"\x7fELF": "a program",
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Control bytes that never occur in a text file (tab, newlines, form feed, Ctrl-Z excepted).
_BINARY_BYTES = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1A})

_CSV_DELIMITERS = (",", ";", "\t")
# Any case: some XML readers accept a lowercase declaration.
_ENTITY_DECLARATION = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)


@dataclass(frozen=True)
class XlsxLimits:
    """What an XLSX archive may declare before it is refused as a zip bomb."""

    max_uncompressed_bytes: int = 200 * 2**20
    max_entries: int = 1000
    # A worksheet's XML compresses about 10-30x; far more means padding built to expand.
    max_compression_ratio: int = 200
    ratio_checked_above_bytes: int = 2**20
    # What the reader (calamine) holds: every cell of the first sheet (~40 bytes each) and a
    # dense grid from the first to the last cell (~32 bytes each). 2M cells and a 4M grid keep
    # an import under 300 MB of memory: a 600k-row, 3-column sheet; larger lists go as CSV.
    max_cells: int = 2_000_000
    max_grid_cells: int = 4_000_000
    # No cell (or shared string) of a real workbook spans a megabyte of XML: Excel caps a cell
    # at 32,767 characters. More is a giant string or deeply nested markup built to exhaust.
    max_element_bytes: int = 2**20


def read_rows(
    source: str | os.PathLike | BinaryIO, filename: str | None = None, limits: XlsxLimits = XlsxLimits()
) -> Iterator[Row]:
    """Check an uploaded file and return an iterator over the rows of its (first) sheet.

    ``source`` is a path or a binary file object; ``filename`` is the uploaded name, whose
    extension must agree with the content (``None``: the content alone decides). Every
    check runs before this returns: ``EmptyFile`` for zero bytes, ``UnsupportedFileType``
    for content that is not CSV/XLSX/XLS or not what the name says, ``UnsafeFile`` for an
    XLSX zip bomb or XML with entity declarations. Each row is a list of cell values
    (``str``, or ``float``/``int``/``bool``/dates from spreadsheets; ``""`` when empty),
    blank rows included so that a row's position is its row number.
    """
    stream, owned = _open_binary(source)
    try:
        kind = _checked_kind(stream, filename)
        if kind is FileKind.CSV:
            rows = _csv_rows(stream, owned)
            owned = False  # the row iterator closes it when done
            return rows
        if kind is FileKind.XLSX:
            check_xlsx_safety(stream, limits)
        return _workbook_rows(stream)
    finally:
        if owned:
            stream.close()


def detect_kind(head: bytes) -> FileKind | None:
    """The kind of file these first bytes start, or ``None`` when it is none we import."""
    if head.startswith(_ZIP_MAGIC):
        return FileKind.XLSX
    if head.startswith(_OLE2_MAGIC):
        return FileKind.XLS
    if _describe_binary(head) is None:
        return FileKind.CSV
    return None


def check_xlsx_safety(stream: BinaryIO, limits: XlsxLimits = XlsxLimits()) -> None:
    """Refuse an XLSX archive that would exhaust a reader (``UnsafeFile``).

    The zip directory is checked first (entry count, declared uncompressed size,
    compression ratio); then every part is decompressed in chunks and searched for a
    DOCTYPE or ENTITY declaration, which a spreadsheet never needs and an entity
    expansion attack always does. ``UnsupportedFileType`` when the archive is damaged or
    not a workbook. Leaves the stream at its start.
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_entries:
                raise UnsafeFile(
                    f"the XLSX archive has {len(entries)} entries (at most {limits.max_entries} are accepted)"
                )
            declared = sum(entry.file_size for entry in entries)
            if declared > limits.max_uncompressed_bytes:
                raise UnsafeFile(
                    f"the XLSX archive expands to {declared} bytes "
                    f"(at most {limits.max_uncompressed_bytes} are accepted)"
                )
            for entry in entries:
                if (
                    entry.file_size > limits.ratio_checked_above_bytes
                    and entry.file_size > limits.max_compression_ratio * max(entry.compress_size, 1)
                ):
                    raise UnsafeFile(
                        f"the XLSX part {entry.filename!r} is compressed "
                        f"{entry.file_size // max(entry.compress_size, 1)} to 1"
                    )
            if "xl/workbook.xml" not in {entry.filename for entry in entries}:
                raise UnsupportedFileType("the file is a zip archive but not an XLSX workbook")
            # Every part, whatever its name: the reader follows relationship targets.
            for entry in entries:
                _check_part(archive, entry, limits)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ) as error:
        # Damaged, encrypted or exotic archives: not a workbook this service can read.
        raise UnsupportedFileType(f"the file is not a readable XLSX workbook ({error})") from None
    finally:
        stream.seek(0)


_NAME = rb"<(?:[A-Za-z_][\w.-]*:)?"
_CELL = re.compile(_NAME + rb"c[\s/>]")
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
_ROW = re.compile(_NAME + rb"row[\s/>]")
_SHARED_STRING = re.compile(_NAME + rb"si[\s/>]")


class _PartScan:
    """Bounds of one XML part seen chunk by chunk: elements that span megabytes; for worksheets,
    how many cells and how large a grid from A1 to the last cell the reader would hold."""

    def __init__(self, name: str, limits: XlsxLimits) -> None:
        self.name, self.limits = name, limits
        self.is_sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        self.marker = _CELL if self.is_sheet else _SHARED_STRING if name.endswith("sharedStrings.xml") else None
        self.inside = not self.is_sheet  # shared strings: the whole part; sheets: within <sheetData>
        self.bytes_without_marker = 0
        self.cells = self.rows = self.max_row = self.max_col = self.widest_row = self.row_cells = 0
        self.prefixed = False  # elements written with a namespace prefix (<x:c>): counted by regex

    def feed(self, window: bytes, chunk: bytes) -> None:
        if self.marker is None:
            return
        if self.is_sheet:
            self._sheet(window, chunk)
        if self.inside and not self.marker.search(window):
            self.bytes_without_marker += len(chunk)
            if self.bytes_without_marker > self.limits.max_element_bytes:
                raise UnsafeFile(
                    f"the XLSX part {self.name!r} holds one element spread over more than "
                    f"{self.limits.max_element_bytes} bytes (a cell holds at most 32,767 characters)"
                )
        else:
            self.bytes_without_marker = 0

    def _sheet(self, window: bytes, chunk: bytes) -> None:
        if b"sheetData" in window:
            self.inside = b"sheetData/>" not in window and not re.search(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData", window)
            self.prefixed = self.prefixed or b":sheetData" in window
        # Counted in the chunk (a cell cut in two by the chunk boundary may be missed: a bound,
        # not a census); references in the window, so none is missed.
        cells = len(_CELL.findall(chunk)) if self.prefixed else _count_cells(chunk)
        self.cells += cells
        refs = _CELL_REF.findall(window)
        if refs:
            self.max_col = max(self.max_col, max(_column_number(letters) for letters in {c for c, _ in refs}))
            self.max_row = max(self.max_row, max(map(int, {row for _, row in refs})))
        if cells > len(refs):
            # Cells without a reference sit one after the other: a row is as wide as its cells.
            pieces = _ROW.split(chunk)
            self.row_cells += len(_CELL.findall(pieces[0]))
            for piece in pieces[1:]:
                self.widest_row = max(self.widest_row, self.row_cells)
                self.row_cells = len(_CELL.findall(piece))
                self.rows += 1
            self.widest_row = max(self.widest_row, self.row_cells)
        else:
            self.rows += len(_ROW.findall(chunk)) if self.prefixed else chunk.count(b"<row")
        self._check_size()

    def _check_size(self) -> None:
        grid = max(self.max_row, self.rows) * max(self.max_col, self.widest_row, 1)
        if self.cells > self.limits.max_cells or grid > self.limits.max_grid_cells:
            raise TooLargeToRead(
                f"the XLSX sheet {self.name!r} holds {'at least ' if self.cells > self.limits.max_cells else ''}"
                f"{self.cells} cells over a grid of {grid} (at most {self.limits.max_cells} cells and "
                f"{self.limits.max_grid_cells} grid cells are imported from a spreadsheet); save it as CSV or split it"
            )


def _count_cells(chunk: bytes) -> int:
    return (
        chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b"<c/>") + chunk.count(b"<c\t") + chunk.count(b"<c\n")
    )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: XlsxLimits = XlsxLimits()) -> None:
    overlap = 64  # a declaration or cell reference split across two chunks is still seen
    tail = b""
    scan = _PartScan(entry.filename, limits)
    with archive.open(entry) as part:
        first = True
        while chunk := part.read(_CHUNK):
            if first and (chunk.startswith(_UTF16_BOMS) or chunk[:2] in (b"<\x00", b"\x00<")):
                # XML in UTF-16 would hide the markers from a byte search.
                raise UnsafeFile(f"the XLSX part {entry.filename!r} is not UTF-8 XML")
            first = False
            window = tail + chunk
            if _ENTITY_DECLARATION.search(window):
                raise UnsafeFile(
                    f"the XLSX part {entry.filename!r} declares XML entities "
                    "(DOCTYPE/ENTITY), which spreadsheets never need"
                )
            scan.feed(window, chunk)
            tail = window[-overlap:]


def _open_binary(source: str | os.PathLike | BinaryIO) -> tuple[BinaryIO, bool]:
    """A seekable binary stream for ``source`` and whether this module must close it."""
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb"), True
    if source.seekable():
        source.seek(0)
        return source, False
    spooled = tempfile.SpooledTemporaryFile(max_size=_CHUNK)  # noqa: SIM115 - returned to the caller, who closes it
    shutil.copyfileobj(source, spooled, _CHUNK)
    spooled.seek(0)
    return cast(BinaryIO, spooled), True


def _checked_kind(stream: BinaryIO, filename: str | None) -> FileKind:
    head = stream.read(_HEAD)
    stream.seek(0)
    if not head:
        raise EmptyFile("the file is empty")
    actual = detect_kind(head)
    declared = None
    if filename is not None:
        declared = _KIND_BY_EXTENSION.get(os.path.splitext(filename)[1].lower())
        if declared is None:
            raise UnsupportedFileType(f"{filename!r}: only .csv, .xlsx and .xls files are imported")
    if actual is None:
        raise UnsupportedFileType(f"the file is {_describe_binary(head)}, not a CSV, XLSX or XLS file")
    if declared is not None and declared is not actual:
        raise UnsupportedFileType(f"{filename!r} is named .{declared} but its content is {actual.upper()}")
    return actual


def _describe_binary(head: bytes) -> str | None:
    """What binary content ``head`` starts, ``None`` for text (a CSV candidate)."""
    for signature, description in _OTHER_SIGNATURES.items():
        if head.startswith(signature):
            return description
    if head.startswith(_UTF16_BOMS):
        return None
    control = len(head) - len(head.translate(None, _BINARY_BYTES))
    if b"\x00" in head or control * 100 > len(head):
        return "binary data"
    return None


def _workbook_rows(source: str | os.PathLike | BinaryIO) -> Iterator[Row]:
    """Open the workbook now (so a damaged one is refused here) and iterate lazily."""
    try:
        workbook = CalamineWorkbook.from_object(source)
        sheet = workbook.get_sheet_by_index(0)
    except CalamineError as error:
        raise UnsupportedFileType(f"the file is not a readable Excel workbook ({error})") from None
    return _sheet_rows(workbook, sheet)


def _sheet_rows(workbook: CalamineWorkbook, sheet: CalamineSheet) -> Iterator[Row]:
    try:
        yield from sheet.iter_rows()
    finally:
        workbook.close()


def _csv_rows(stream: BinaryIO, owned: bool) -> Iterator[Row]:
    encoding = _sniff_encoding(stream)
    delimiter = _sniff_delimiter(stream, encoding)
    return _csv_records(stream, owned, encoding, delimiter)


def _csv_records(stream: BinaryIO, owned: bool, encoding: str, delimiter: str) -> Iterator[Row]:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    records = csv.reader(text, delimiter=delimiter)
    row_number = 0
    try:
        for row_number, record in enumerate(records, start=1):  # noqa: B007 - read by the except below
            yield record
    except csv.Error as error:
        raise MalformedFile(f"row {row_number + 1} is not valid CSV ({error})") from None
    finally:
        if owned:
            text.close()
        else:
            text.detach()  # the caller's stream stays open


def _sniff_encoding(stream: BinaryIO) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; otherwise Windows-1252, else Latin-1.

    The whole file is decoded once, in chunks, so the choice never changes half-way.
    """
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        if not _decodes_as(stream, "utf-8-sig"):
            raise MalformedFile("the file starts with a UTF-8 byte order mark but is not valid UTF-8")
        return "utf-8-sig"
    if head.startswith(_UTF16_BOMS):
        if not _decodes_as(stream, "utf-16"):
            raise MalformedFile("the file starts with a UTF-16 byte order mark but is not valid UTF-16")
        return "utf-16"
    for encoding in ("utf-8", "cp1252"):
        if _decodes_as(stream, encoding):
            return encoding
    return "latin-1"


def _decodes_as(stream: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)


def _sniff_delimiter(stream: BinaryIO, encoding: str) -> str:
    """The delimiter that splits the header (first line with text) into most fields."""
    sample = codecs.getincrementaldecoder(encoding)().decode(stream.read(64 * 1024))
    stream.seek(0)
    header = next((line for line in sample.splitlines() if line.strip(" \t,;")), "")
    best, best_count = _CSV_DELIMITERS[0], 0
    for delimiter in _CSV_DELIMITERS:
        try:
            fields = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(fields) > best_count:
            best, best_count = delimiter, len(fields)
    return best
