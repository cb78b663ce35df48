"""From spreadsheet rows to contacts: the header, each row's phone and name, in-file duplicates."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO, NamedTuple

from .cells import cell_text
from .errors import EmptyFile, MissingPhoneColumn
from .phones import normalize_phone
from .readers import XlsxLimits, read_rows

PHONE_HEADERS = ("phone", "mobile", "mobile number", "phone number", "contact", "contact number", "whatsapp")
NAME_HEADERS = ("name", "customer name", "full name")

MISSING_PHONE = "missing phone"
INVALID_PHONE = "invalid phone"
DUPLICATE_IN_FILE = "duplicate in file"


def _header_key(cell: object) -> str:
    # "Mobile Number", "MOBILE  NUMBER " and "mobilenumber" are the same header.
    return "".join(cell_text(cell).split()).casefold()


_PHONE_KEYS = frozenset(_header_key(header) for header in PHONE_HEADERS)
_NAME_KEYS = frozenset(_header_key(header) for header in NAME_HEADERS)


class RowOutcome(StrEnum):
    """What an import does with a row."""

    IMPORTED = "imported"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    INVALID = "invalid"


class ParsedRow(NamedTuple):
    """One data row of a contact list.

    ``row_number`` is the row a spreadsheet shows (header = 1); ``raw_phone`` the phone cell as
    typed; ``name`` NFC, trimmed, ``None`` when empty; ``phone`` E.164 when valid; ``reason``
    why the row is rejected (``None`` when it is imported).
    """

    row_number: int
    raw_phone: str
    name: str | None
    phone: str | None
    reason: str | None

    @property
    def outcome(self) -> RowOutcome:
        """Imported, duplicate of an earlier row of the same file, or invalid."""
        if self.reason is None:
            return RowOutcome.IMPORTED
        if self.reason == DUPLICATE_IN_FILE:
            return RowOutcome.DUPLICATE_IN_FILE
        return RowOutcome.INVALID


@dataclass(frozen=True)
class Columns:
    """Positions of the phone and (optional) name columns in a row."""

    phone: int
    name: int | None


@dataclass
class ImportCounts:
    """Running totals of an import, for the upload's summary."""

    total_rows: int = 0
    imported: int = 0
    duplicates_in_file: int = 0
    invalid: int = 0

    def add(self, row: ParsedRow) -> None:
        """Count one row by its outcome."""
        self.total_rows += 1
        outcome = row.outcome
        if outcome is RowOutcome.IMPORTED:
            self.imported += 1
        elif outcome is RowOutcome.DUPLICATE_IN_FILE:
            self.duplicates_in_file += 1
        else:
            self.invalid += 1


def match_columns(header: Sequence[object]) -> Columns:
    """Find the phone and name columns (leftmost match; case and spaces ignored).

    Raises ``MissingPhoneColumn`` naming the columns found when no header is a phone header.
    """
    keys = [_header_key(cell) for cell in header]
    phone = next((i for i, key in enumerate(keys) if key in _PHONE_KEYS), None)
    if phone is None:
        raise MissingPhoneColumn([text.strip() for text in map(cell_text, header) if text.strip()])
    name = next((i for i, key in enumerate(keys) if key in _NAME_KEYS), None)
    return Columns(phone=phone, name=name)


def parse_rows(rows: Iterable[Sequence[object]], region: str = "IN") -> Iterator[ParsedRow]:
    """Read the header now, then yield a ``ParsedRow`` per non-blank data row, in file order.

    The header is the first non-blank row (``EmptyFile`` when there is none); blank rows are
    skipped but keep their place in the numbering. Phones are normalized with
    ``normalize_phone(cell, region)``; duplicates are not detected here (see ``dedupe_in_file``).
    """
    numbered = enumerate(rows, start=1)
    for _, header in numbered:
        if not _is_blank(header):
            return _data_rows(numbered, match_columns(header), region)
    raise EmptyFile("the file has no header row (it holds no data)")


def dedupe_in_file(rows: Iterable[ParsedRow]) -> Iterator[ParsedRow]:
    """Mark every repeat of an earlier row's phone as a duplicate; the first occurrence wins.

    Rows keep their file order. Memory grows with the number of distinct phones only.
    """
    seen: set[str] = set()
    for row in rows:
        phone = row.phone
        if phone is not None and row.reason is None:
            if phone in seen:
                row = row._replace(reason=DUPLICATE_IN_FILE)
            else:
                seen.add(phone)
        yield row


def read_contact_list(
    source: str | os.PathLike | BinaryIO,
    filename: str | None = None,
    region: str = "IN",
    limits: XlsxLimits = XlsxLimits(),
) -> Iterator[ParsedRow]:
    """Check, read, parse and dedupe an uploaded contact list: every data row with its outcome.

    File-level refusals (``FileRejected`` subclasses) are raised before this returns.
    """
    return dedupe_in_file(parse_rows(read_rows(source, filename, limits), region))


def _data_rows(numbered: Iterator[tuple[int, Sequence[object]]], columns: Columns, region: str) -> Iterator[ParsedRow]:
    phone_at, name_at = columns.phone, columns.name
    normalize = unicodedata.normalize
    for row_number, row in numbered:
        width = len(row)
        raw = row[phone_at] if phone_at < width else ""
        raw_phone = raw if type(raw) is str else cell_text(raw)
        if raw_phone and not raw_phone.isspace():
            phone = normalize_phone(raw_phone, region)
            reason = None if phone is not None else INVALID_PHONE
        elif _is_blank(row):
            continue
        else:
            phone, reason = None, MISSING_PHONE
        name = None
        if name_at is not None and name_at < width:
            cell = row[name_at]
            text = cell if type(cell) is str else cell_text(cell)
            name = normalize("NFC", text).strip() or None
        yield ParsedRow(row_number, raw_phone, name, phone, reason)


def _is_blank(row: Sequence[object]) -> bool:
    return all(not cell_text(cell).strip() for cell in row)
