"""Reading uploaded files: what they are, whether they are safe, and their rows."""

from __future__ import annotations

import codecs
import io
import zipfile

import openpyxl
import pytest
import xlwt

from services.contacts.importing import (
    EmptyFile,
    FileKind,
    MalformedFile,
    UnsafeFile,
    UnsupportedFileType,
    XlsxLimits,
    read_rows,
)
from services.contacts.importing.readers import detect_kind

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xls_bytes(rows) -> bytes:
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Contacts")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same archive with some parts' content replaced (or added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename not in replace:
                target.writestr(entry.filename, source.read(entry))
        for name, content in replace.items():
            target.writestr(name, content)
    return out.getvalue()


def rows_of(data: bytes, filename: str | None, **kwargs) -> list[list]:  # lists, to compare with ==
    return [list(row) for row in read_rows(io.BytesIO(data), filename, **kwargs)]


# --- what a file is ---------------------------------------------------------------------


def test_kinds_come_from_the_first_bytes():
    assert detect_kind(b"PK\x03\x04rest") is FileKind.XLSX
    assert detect_kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest") is FileKind.XLS
    assert detect_kind("phone,name\n98765 43210,Zoë\n".encode()) is FileKind.CSV
    assert detect_kind(PNG) is None
    assert detect_kind(b"%PDF-1.7\n") is None


@pytest.mark.parametrize(
    "data, filename",
    [
        (PNG, "contacts.csv"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "contacts.csv"),
        (b"phone,name\n9876543210,Asha\n", "contacts.xlsx"),
        (b"phone,name\n9876543210,Asha\n", "contacts.xls"),
        (b"\x00\x01\x02\x03binary\x00\x00" * 20, "contacts.csv"),
    ],
)
def test_content_that_is_not_what_the_name_says_is_refused(data, filename):
    with pytest.raises(UnsupportedFileType) as refused:
        rows_of(data, filename)
    assert refused.value.status == 415


def test_a_workbook_named_csv_is_refused():
    with pytest.raises(UnsupportedFileType, match=r"named \.csv but its content is XLSX"):
        rows_of(xlsx_bytes([["phone"], ["9876543210"]]), "contacts.csv")


def test_an_xls_named_xlsx_is_refused():
    with pytest.raises(UnsupportedFileType):
        rows_of(xls_bytes([["phone"], ["9876543210"]]), "contacts.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UnsupportedFileType, match="not an XLSX workbook"):
        rows_of(out.getvalue(), "contacts.xlsx")


def test_a_damaged_workbook_is_refused():
    data = xls_bytes([["phone"], ["9876543210"]])
    with pytest.raises(UnsupportedFileType, match="not a readable Excel workbook"):
        rows_of(data[:600], "contacts.xls")


def test_other_extensions_are_refused():
    with pytest.raises(UnsupportedFileType, match=r"only \.csv, \.xlsx and \.xls"):
        rows_of(b"phone\n9876543210\n", "contacts.txt")


def test_without_a_name_the_content_decides():
    assert rows_of(b"phone\n9876543210\n", None) == [["phone"], ["9876543210"]]
    assert rows_of(xlsx_bytes([["phone"], ["9876543210"]]), None) == [["phone"], ["9876543210"]]


@pytest.mark.parametrize("filename", ["empty.csv", "empty.xlsx", "empty.xls"])
def test_an_empty_file_is_refused(filename):
    with pytest.raises(EmptyFile) as refused:
        rows_of(b"", filename)
    assert refused.value.status == 422


# --- XLSX safety --------------------------------------------------------------------------


def test_a_zip_bomb_part_is_refused_by_its_compression_ratio():
    bomb = rewrite_zip(xlsx_bytes([["phone"]]), {"xl/worksheets/sheet1.xml": b"<a>" + b" " * (8 << 20) + b"</a>"})
    with pytest.raises(UnsafeFile, match="compressed") as refused:
        rows_of(bomb, "contacts.xlsx")
    assert refused.value.status == 415


def test_an_archive_expanding_past_the_limit_is_refused():
    big = rewrite_zip(xlsx_bytes([["phone"], ["9876543210"]]), {"xl/media/padding.bin": bytes(range(256)) * 4096})
    with pytest.raises(UnsafeFile, match="expands to"):
        rows_of(big, "contacts.xlsx", limits=XlsxLimits(max_uncompressed_bytes=512 * 1024))


def test_an_archive_with_too_many_entries_is_refused():
    crowded = rewrite_zip(xlsx_bytes([["phone"]]), {f"xl/media/{i}.bin": b"x" for i in range(1001)})
    with pytest.raises(UnsafeFile, match="entries"):
        rows_of(crowded, "contacts.xlsx")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&lol2;</t></si></sst>'
)


def test_xml_entity_declarations_are_refused():
    hostile = rewrite_zip(xlsx_bytes([["phone"], ["9876543210"]]), {"xl/sharedStrings.xml": BILLION_LAUGHS})
    with pytest.raises(UnsafeFile, match="declares XML entities"):
        rows_of(hostile, "contacts.xlsx")


def test_a_doctype_in_any_part_is_refused_whatever_its_case_or_name():
    data = xlsx_bytes([["phone"], ["9876543210"]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    doctype = sheet.replace(b"<worksheet", b'<!doctype worksheet SYSTEM "http://example.invalid/x.dtd"><worksheet', 1)
    with pytest.raises(UnsafeFile):
        rows_of(rewrite_zip(data, {"xl/worksheets/sheet1.xml": doctype}), "contacts.xlsx")
    with pytest.raises(UnsafeFile):
        rows_of(rewrite_zip(data, {"xl/custom/part.dat": BILLION_LAUGHS}), "contacts.xlsx")


def test_utf16_xml_is_refused():
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><x/>'.encode("utf-16")
    hostile = rewrite_zip(xlsx_bytes([["phone"]]), {"xl/sharedStrings.xml": utf16})
    with pytest.raises(UnsafeFile, match="not UTF-8"):
        rows_of(hostile, "contacts.xlsx")


# --- CSV encodings and delimiters -------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        "Phone,Name\n98765 43210,Zoë Núñez\n".encode(),
        codecs.BOM_UTF8 + "Phone,Name\n98765 43210,Zoë Núñez\n".encode(),
        "Phone,Name\n98765 43210,Zoë Núñez\n".encode("cp1252"),
        "Phone,Name\r\n98765 43210,Zoë Núñez\r\n".encode("utf-16"),
    ],
)
def test_csv_encodings_are_recognised(encoded):
    assert rows_of(encoded, "contacts.csv") == [["Phone", "Name"], ["98765 43210", "Zoë Núñez"]]


def test_cp1252_only_characters_are_decoded():
    assert rows_of("phone,name\n9876543210,€ Ravi – “RK”\n".encode("cp1252"), "c.csv")[1] == [
        "9876543210",
        "€ Ravi – “RK”",
    ]


def test_bytes_undefined_in_cp1252_fall_back_to_latin1():
    assert rows_of(b"phone,name\n9876543210,Ma\x81ria\n", "c.csv")[1] == ["9876543210", "Ma\x81ria"]


def test_the_encoding_is_chosen_for_the_whole_file():
    lines = [b"phone,name"] + [b"9876543210,Asha"] * 200_000 + [b"9876543211,Jos\xe9"]
    rows = rows_of(b"\n".join(lines), "c.csv")
    assert rows[-1] == ["9876543211", "José"]


def test_invalid_utf8_after_a_bom_is_refused():
    with pytest.raises(MalformedFile, match="not valid UTF-8"):
        rows_of(codecs.BOM_UTF8 + b"phone,name\n9876543210,Jos\xe9\n", "c.csv")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiters_are_recognised(delimiter):
    text = f'phone{delimiter}name{delimiter}notes\n98765 43210{delimiter}"Iyer, Priya; Dr"{delimiter}x\n'
    assert rows_of(text.encode(), "c.csv") == [["phone", "name", "notes"], ["98765 43210", "Iyer, Priya; Dr", "x"]]


def test_a_quoted_header_with_commas_does_not_fool_the_delimiter():
    text = '"Phone, mobile";Name\n98765 43210;Asha, R\n'
    assert rows_of(text.encode(), "c.csv")[1] == ["98765 43210", "Asha, R"]


def test_blank_lines_keep_their_place():
    assert rows_of(b"phone\n\n9876543210\n", "c.csv") == [["phone"], [], ["9876543210"]]


def test_an_unreadable_csv_record_is_reported_with_its_row():
    huge = b"phone,name\n9876543210,Asha\n" + b'9876543211,"' + b"x" * 200_000 + b'"\n'
    with pytest.raises(MalformedFile, match="row 3"):
        rows_of(huge, "c.csv")


def test_a_non_seekable_stream_is_read():
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert list(read_rows(Pipe(b"phone\n9876543210\n"), "c.csv")) == [["phone"], ["9876543210"]]


def test_the_callers_stream_stays_open_and_a_path_is_closed(tmp_path):
    stream = io.BytesIO(b"phone\n9876543210\n")
    assert list(read_rows(stream, "c.csv")) == [["phone"], ["9876543210"]]
    assert not stream.closed
    path = tmp_path / "c.csv"
    path.write_bytes(b"phone\n9876543210\n")
    assert list(read_rows(path, "c.csv")) == [["phone"], ["9876543210"]]


# --- spreadsheet cells -------------------------------------------------------------------


def test_xlsx_number_cells_come_back_as_floats():
    rows = rows_of(xlsx_bytes([["phone", "name"], [9876543210, 12345], [919876543210.0, "Asha"]]), "c.xlsx")
    assert rows == [["phone", "name"], [9876543210.0, 12345.0], [919876543210.0, "Asha"]]


def test_xls_number_cells_come_back_as_numbers():
    rows = rows_of(xls_bytes([["phone", "name"], [9876543210, "Asha"]]), "c.xls")
    assert rows[1][0] == 9876543210


@pytest.mark.parametrize("build, filename", [(xlsx_bytes, "c.xlsx"), (xls_bytes, "c.xls")])
def test_sheet_rows_keep_their_numbers_after_leading_blank_rows(build, filename):
    rows = rows_of(build([[None], [None], ["phone"], ["9876543210"]]), filename)
    assert [cell for cell in rows[2] if cell] == ["phone"]
    assert [cell for cell in rows[3] if cell] == ["9876543210"]
