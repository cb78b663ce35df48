"""The rejected-rows report: what a person opening it in a spreadsheet sees, and nothing runs."""

from __future__ import annotations

import codecs
import csv
import io

import openpyxl
import pytest

from services.contacts.importing import (
    DUPLICATE_IN_FILE,
    INVALID_PHONE,
    MISSING_PHONE,
    ParsedRow,
    neutralize_for_export,
    write_error_report_csv,
    write_error_report_xlsx,
)

REJECTED = [
    ParsedRow(4, "98765432", '=HYPERLINK("http://example.invalid","click")', None, INVALID_PHONE),
    ParsedRow(7, "+1 555 0100", "प्रिया पटेल", None, INVALID_PHONE),
    ParsedRow(9, "", "@cmd", None, MISSING_PHONE),
    ParsedRow(12, "09876543210", "-2+3", "+919876543210", DUPLICATE_IN_FILE),
    ParsedRow(15, "abc", None, None, INVALID_PHONE),
    ParsedRow(18, "x", "\tTab\x07bell", None, INVALID_PHONE),
]

EXPECTED = [
    ["row", "phone", "name", "reason"],
    ["4", "98765432", '\'=HYPERLINK("http://example.invalid","click")', "invalid phone"],
    ["7", "'+1 555 0100", "प्रिया पटेल", "invalid phone"],
    ["9", "", "'@cmd", "missing phone"],
    ["12", "09876543210", "'-2+3", "duplicate in file"],
    ["15", "abc", "", "invalid phone"],
]


@pytest.mark.parametrize(
    "value, exported",
    [
        ("=1+2", "'=1+2"),
        ("+91 98765 43210", "'+91 98765 43210"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Asha", "Asha"),
        ("", ""),
        (" =1", " =1"),
        (12, 12),
        (None, None),
    ],
)
def test_neutralize_for_export(value, exported):
    assert neutralize_for_export(value) == exported


def test_csv_report_neutralizes_formulas_and_keeps_unicode():
    out = io.BytesIO()
    write_error_report_csv(REJECTED, out)
    data = out.getvalue()
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[:-1] == EXPECTED
    assert rows[-1] == ["18", "x", "'\tTab\x07bell", "invalid phone"]
    assert not out.closed


def test_xlsx_report_holds_only_text_cells_never_formulas():
    out = io.BytesIO()
    write_error_report_xlsx(REJECTED, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    cells = list(sheet.iter_rows())
    assert [[str(c.value or "") for c in row] for row in cells[:-1]] == EXPECTED
    assert all(c.data_type != "f" for row in cells for c in row)
    # Control characters XML cannot carry are dropped, the rest is kept.
    assert cells[-1][2].value == "'\tTabbell"


def test_an_empty_report_has_its_header():
    out = io.BytesIO()
    write_error_report_csv([], out)
    assert out.getvalue().decode("utf-8-sig").splitlines() == ["row,phone,name,reason"]
