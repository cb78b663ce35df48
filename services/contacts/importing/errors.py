"""Why an uploaded contact list is refused as a whole.

Each error is a ``shared.errors`` domain error, so the service's one problem+json mapper
answers with its ``status``: 415 when the content is not a kind of file we read (or is a
hostile one), 413 when a spreadsheet holds more cells than an import reads at once, 422 when it is a spreadsheet we read but cannot import. Row-level problems
(an invalid phone, a duplicate) are never raised: they go to the upload's error report.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import DomainError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed


class FileRejected(DomainError):
    """Base of the reasons an uploaded file is refused before any row is imported."""


class UnsupportedFileType(FileRejected, UnsupportedMediaType):
    """The bytes are not a CSV, XLSX or XLS file, or not the kind its name claims (415)."""


class UnsafeFile(FileRejected, UnsupportedMediaType):
    """An XLSX built to exhaust the server: zip bomb or XML entity declarations (415)."""


class TooLargeToRead(FileRejected, PayloadTooLarge):
    """A spreadsheet within the upload cap whose cells would not fit the import's memory (413)."""


class EmptyFile(FileRejected, ValidationFailed):
    """The file has no header row: it is empty or holds only blank rows (422)."""


class MalformedFile(FileRejected, ValidationFailed):
    """A supported kind of file whose content cannot be read to the end (422)."""


class MissingPhoneColumn(FileRejected, ValidationFailed):
    """The header row has no phone column; ``columns_found`` lists what it has (422)."""

    def __init__(self, columns_found: Sequence[str]):
        self.columns_found = list(columns_found)
        shown = ", ".join(repr(c) for c in self.columns_found) or "none"
        super().__init__(
            f"no phone column in the header row (expected one of phone, mobile, mobile number, "
            f"phone number, contact, contact number, whatsapp); columns found: {shown}",
            errors={"columns_found": self.columns_found},
        )
