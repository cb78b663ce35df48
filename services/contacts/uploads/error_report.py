"""An upload's rejected rows as a file to download (``GET /contacts/uploads/{id}/errors``)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.errors import ValidationFailed
from shared.exports import EXPORT_FORMATS

from ..importing import write_error_report_csv, write_error_report_xlsx
from .records import upload_errors


@dataclass
class _ReportRow:
    row_number: int
    raw_phone: str
    name: str | None
    reason: str | None


@dataclass(frozen=True)
class ErrorReport:
    """An upload's rejected rows as a file to download."""

    content: bytes
    file_format: str  # one of shared.exports.EXPORT_FORMATS
    filename: str


def error_report(session: Session, upload_id: int, file_format: str = "csv") -> ErrorReport:
    """The rejected rows of an upload as CSV or XLSX (``row, phone, name, reason``); cells that a
    spreadsheet would run as formulas are neutralized. NotFound for an unknown upload."""
    if file_format not in EXPORT_FORMATS:
        raise ValidationFailed("unknown report format", errors={"format": [f"one of {', '.join(EXPORT_FORMATS)}"]})
    rows = [_ReportRow(e.row, e.phone or "", e.name, e.reason) for e in upload_errors(session, upload_id)]
    out = io.BytesIO()
    if file_format == "xlsx":
        write_error_report_xlsx(rows, out)
    else:
        write_error_report_csv(rows, out)
    return ErrorReport(out.getvalue(), file_format, f"upload-{upload_id}-errors.{file_format}")
