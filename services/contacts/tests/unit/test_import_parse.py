"""From rows to contacts: the fixture lists, headers, names, duplicates and invalid rows."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest

from services.contacts.importing import (
    DUPLICATE_IN_FILE,
    INVALID_PHONE,
    MISSING_PHONE,
    EmptyFile,
    ImportCounts,
    MissingPhoneColumn,
    ParsedRow,
    RowOutcome,
    dedupe_in_file,
    match_columns,
    parse_rows,
    read_contact_list,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "contact-lists"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def outcomes(rows: list[ParsedRow], outcome: RowOutcome) -> list[ParsedRow]:
    return [row for row in rows if row.outcome is outcome]


@pytest.mark.parametrize("filename", ["contacts.csv", "contacts.xlsx", "contacts.xls"])
def test_fixture_list_imports_exactly_the_expected_phones(filename):
    rows = list(read_contact_list(FIXTURES / filename, filename))

    assert len(rows) == EXPECTED["rows"]
    assert [row.phone for row in outcomes(rows, RowOutcome.IMPORTED)] == EXPECTED["imported_phones"]
    invalid = outcomes(rows, RowOutcome.INVALID)
    assert [row.row_number for row in invalid] == [r["row"] for r in EXPECTED["rejected"]]
    # XLSX drops whitespace-only text without xml:space="preserve", so compare trimmed.
    assert [row.raw_phone.strip() for row in invalid] == [r["phone"].strip() for r in EXPECTED["rejected"]]
    # Every other row repeats a phone imported from an earlier row.
    duplicates = outcomes(rows, RowOutcome.DUPLICATE_IN_FILE)
    first_rows = {row.phone: row.row_number for row in outcomes(rows, RowOutcome.IMPORTED)}
    assert len(duplicates) == EXPECTED["rows"] - len(EXPECTED["imported_phones"]) - len(EXPECTED["rejected"])
    assert all(first_rows[row.phone] < row.row_number for row in duplicates)


def test_fixture_csv_keeps_names_and_reasons():
    rows = {row.row_number: row for row in read_contact_list(FIXTURES / "contacts.csv", "contacts.csv")}
    assert rows[2] == ParsedRow(2, "916815908301", "John Sharma", "+916815908301", None)
    assert rows[10].name == "O'Brien, Seán"
    assert rows[11].name == "José  Núñez"
    assert rows[12].name == '=HYPERLINK("http://example.invalid","click")'  # stored as text
    assert rows[17].name == "प्रिया पटेल"
    assert rows[4].reason == DUPLICATE_IN_FILE and rows[4].phone == "+916815908301"
    assert rows[112].reason == INVALID_PHONE
    assert rows[207].reason == MISSING_PHONE and rows[207].raw_phone == "   "
    assert rows[241].reason == MISSING_PHONE and rows[241].name == "Priya Das"


def test_fixture_read_from_an_uploaded_stream():
    upload = io.BytesIO((FIXTURES / "contacts.xlsx").read_bytes())
    rows = list(read_contact_list(upload, "contacts.xlsx"))
    assert [row.phone for row in outcomes(rows, RowOutcome.IMPORTED)] == EXPECTED["imported_phones"]


def test_counts_summarise_the_fixture():
    counts = ImportCounts()
    for row in read_contact_list(FIXTURES / "contacts.csv", "contacts.csv"):
        counts.add(row)
    assert counts == ImportCounts(total_rows=300, imported=265, duplicates_in_file=27, invalid=8)


# --- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone_header",
    [
        "phone",
        "PHONE ",
        "Mobile",
        "mobile number",
        "  Mobile  Number",
        "Phone Number",
        "phonenumber",
        "contact",
        "Contact Number",
        "WhatsApp",
    ],
)
def test_phone_headers_match_ignoring_case_and_spaces(phone_header):
    assert match_columns(["Notes", phone_header]).phone == 1


@pytest.mark.parametrize("name_header", ["name", "Customer Name", "FULL NAME", "fullname"])
def test_name_headers_match_ignoring_case_and_spaces(name_header):
    assert match_columns(["phone", "notes", name_header]).name == 2


def test_the_leftmost_phone_column_wins_and_name_is_optional():
    columns = match_columns(["WhatsApp", "Phone", "City"])
    assert (columns.phone, columns.name) == (0, None)


def test_no_phone_column_names_the_columns_found():
    with pytest.raises(MissingPhoneColumn) as refused:
        parse_rows([["Name", " Email ", "", "Telephone"], ["Asha", "a@example.invalid", "", "9876543210"]])
    assert refused.value.columns_found == ["Name", "Email", "Telephone"]
    assert "'Name', 'Email', 'Telephone'" in refused.value.detail
    assert refused.value.status == 422


@pytest.mark.parametrize("rows", [[], [[]], [["", "  "], []]])
def test_no_header_row_is_an_empty_file(rows):
    with pytest.raises(EmptyFile):
        parse_rows(rows)


def test_blank_only_csv_is_an_empty_file():
    with pytest.raises(EmptyFile):
        read_contact_list(io.BytesIO(b"\n \n,,\n"), "blank.csv")


def test_a_header_without_data_imports_nothing():
    assert list(read_contact_list(io.BytesIO(b"phone,name\n"), "c.csv")) == []


# --- rows -------------------------------------------------------------------------------


def test_rows_are_numbered_as_the_spreadsheet_shows_them():
    rows = list(parse_rows([[], ["Name", "Phone"], ["Asha", "9876543210"], ["", ""], ["Ravi", "9876543211"]]))
    assert [(row.row_number, row.name) for row in rows] == [(3, "Asha"), (5, "Ravi")]


def test_short_rows_and_other_columns():
    rows = list(parse_rows([["phone", "name", "city"], ["9876543210"], ["", "", "Pune"]]))
    assert rows == [
        ParsedRow(2, "9876543210", None, "+919876543210", None),
        ParsedRow(3, "", None, None, MISSING_PHONE),
    ]


def test_names_are_nfc_and_trimmed_but_otherwise_kept():
    rows = list(
        parse_rows(
            [
                ["phone", "name"],
                ["9876543210", "  Jose\u0301  Nu\u0301n\u0303ez\t"],
                ["9876543211", "-2+3"],
                ["9876543212", "   "],
                ["9876543213", 12345.0],
            ]
        )
    )
    assert [row.name for row in rows] == ["José  Núñez", "-2+3", None, "12345"]


def test_number_cells_from_a_workbook(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Mobile Number", "Customer Name"])
    workbook.active.append([9876543210, "Asha"])
    workbook.active.append([919876543211, "Ravi"])
    workbook.active.append(["9876543212.0", "Meena"])
    workbook.save(tmp_path / "numbers.xlsx")
    rows = list(read_contact_list(tmp_path / "numbers.xlsx", "numbers.xlsx"))
    assert [(row.raw_phone, row.phone) for row in rows] == [
        ("9876543210", "+919876543210"),
        ("919876543211", "+919876543211"),
        ("9876543212.0", "+919876543212"),
    ]


def test_first_occurrence_wins_and_invalid_rows_are_not_duplicates():
    parsed = [
        ParsedRow(2, "98765 43210", "A", "+919876543210", None),
        ParsedRow(3, "x", "B", None, INVALID_PHONE),
        ParsedRow(4, "x", "C", None, INVALID_PHONE),
        ParsedRow(5, "+91 98765 43210", "D", "+919876543210", None),
        ParsedRow(6, "9876543211", "E", "+919876543211", None),
    ]
    assert [(row.row_number, row.outcome) for row in dedupe_in_file(parsed)] == [
        (2, RowOutcome.IMPORTED),
        (3, RowOutcome.INVALID),
        (4, RowOutcome.INVALID),
        (5, RowOutcome.DUPLICATE_IN_FILE),
        (6, RowOutcome.IMPORTED),
    ]
