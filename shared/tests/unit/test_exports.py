"""Exports: what a spreadsheet user opens (pure: files written to memory and read back)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import resource
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from shared.exports import EXPORT_FORMATS, export, neutralize

COLUMNS = ("id", "name", "amount", "when", "day")
ROWS = [
    (
        1,
        '=HYPERLINK("http://x")',
        Decimal("1234.50"),
        dt.datetime(2026, 2, 1, 10, 30, tzinfo=dt.UTC),
        dt.date(2026, 2, 1),
    ),
    (2, "Ananyā Śrīvāstav", Decimal("0.00"), None, None),
    (3, "-5 tablets", None, None, None),
]


def test_formula_like_text_is_neutralized_and_other_values_kept():
    assert [neutralize(v) for v in ("=1+1", "+91", "-x", "@x", "\tx", "\rx", "Asha", 5, None)] == [
        "'=1+1",
        "'+91",
        "'-x",
        "'@x",
        "'\tx",
        "'\rx",
        "Asha",
        5,
        None,
    ]


def test_csv_opens_in_excel_with_names_intact():
    file = export("contacts", "csv", COLUMNS, ROWS)
    assert (file.filename, file.media_type) == ("contacts.csv", "text/csv; charset=utf-8")
    content = b"".join(file.chunks)
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["1", '\'=HYPERLINK("http://x")', "1234.50", "2026-02-01T10:30:00Z", "2026-02-01"]
    assert rows[2][1] == "Ananyā Śrīvāstav" and rows[3][1] == "'-5 tablets"


def test_xlsx_cells_are_text_never_formulas_and_money_stays_a_number():
    file = export("report", "xlsx", COLUMNS, ROWS)
    sheet = load_workbook(io.BytesIO(b"".join(file.chunks))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == list(COLUMNS)
    assert values[1][1] == '\'=HYPERLINK("http://x")' and sheet["B2"].data_type == "s"
    assert values[1][2] == Decimal("1234.50") or values[1][2] == 1234.5
    assert values[1][3] == "2026-02-01T10:30:00Z"


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError):
        export("x", "pdf", COLUMNS, ROWS)
    assert EXPORT_FORMATS == ("csv", "xlsx")


@pytest.mark.parametrize("file_format", EXPORT_FORMATS)
def test_a_hundred_thousand_rows_stream_in_constant_memory(file_format):
    def rows():
        for n in range(100_000):
            yield (n, f"Customer {n}", Decimal("99.50"), None, dt.date(2026, 2, 1))

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(len(chunk) for chunk in export("big", file_format, COLUMNS, rows()).chunks)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert size > 1_000_000
    # The whole file would be several MB as Python objects; streaming keeps the peak flat.
    assert grown_mb < 60, f"peak memory grew by {grown_mb:.0f} MB"
