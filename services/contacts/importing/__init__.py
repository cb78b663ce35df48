"""The contact-list import engine: pure functions from an uploaded file to contacts.

No Flask, database or broker here. ``read_contact_list(file, filename)`` checks the file and
yields every data row with its outcome (imported / duplicate in file / invalid); the upload
use case stores the imported ones and keeps the others for ``write_error_report_csv/xlsx``.
"""

from .errors import (
    EmptyFile,
    FileRejected,
    MalformedFile,
    MissingPhoneColumn,
    TooLargeToRead,
    UnsafeFile,
    UnsupportedFileType,
)
from .parse import (
    DUPLICATE_IN_FILE,
    INVALID_PHONE,
    MISSING_PHONE,
    Columns,
    ImportCounts,
    ParsedRow,
    RowOutcome,
    dedupe_in_file,
    match_columns,
    parse_rows,
    read_contact_list,
)
from .phones import normalize_phone
from .readers import FileKind, XlsxLimits, check_xlsx_safety, detect_kind, read_rows
from .report import neutralize_for_export, write_error_report_csv, write_error_report_xlsx

__all__ = [
    "DUPLICATE_IN_FILE",
    "INVALID_PHONE",
    "MISSING_PHONE",
    "Columns",
    "EmptyFile",
    "FileKind",
    "FileRejected",
    "ImportCounts",
    "MalformedFile",
    "MissingPhoneColumn",
    "ParsedRow",
    "RowOutcome",
    "TooLargeToRead",
    "UnsafeFile",
    "UnsupportedFileType",
    "XlsxLimits",
    "check_xlsx_safety",
    "dedupe_in_file",
    "detect_kind",
    "match_columns",
    "neutralize_for_export",
    "normalize_phone",
    "parse_rows",
    "read_contact_list",
    "read_rows",
    "write_error_report_csv",
    "write_error_report_xlsx",
]
