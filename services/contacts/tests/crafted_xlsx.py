"""Crafted XLSX files built to exhaust a reader, generated with zipfile (never committed).

Each passes the archive checks a naive reader would apply (entry count, declared size under the
limit, compression ratio under the zip-bomb threshold) yet inflates to a sheet or strings part of
up to ~200 MB: a huge ``<dimension>``, one giant shared string, millions of empty cells, cells at
the far corners of the grid, deeply nested XML, and a plain sheet of many small cells.
"""

from __future__ import annotations

import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
    '<sheets><sheet name="contacts" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
)
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
EMPTY_STRINGS = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="0" uniqueCount="0"></sst>'

Chunks = Iterator[str]


def write_xlsx(path: Path, sheet: Callable[[], Chunks], strings: Callable[[], Chunks] | None = None) -> Path:
    """An XLSX whose sheet (and shared strings) XML are streamed from ``sheet()`` / ``strings()``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings)):
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks() if chunks else iter([EMPTY_STRINGS]):
                    part.write(chunk.encode())
    return path


def _rows(count: int, first: int = 2) -> Chunks:
    for start in range(first, first + count, 10_000):
        yield "".join(
            f'<row r="{n}"><c r="A{n}"><v>9{n:09d}</v></c><c r="B{n}" t="inlineStr"><is><t>P{n}</t></is></c></row>'
            for n in range(start, min(start + 10_000, first + count))
        )


def huge_dimension(path: Path) -> Path:
    """A few rows under ``<dimension ref="A1:XFD1048576">`` (a reader that trusts it allocates 17G cells)."""

    def sheet() -> Chunks:
        yield SHEET_HEAD + '<dimension ref="A1:XFD1048576"/><sheetData>' + HEADER_ROW
        yield from _rows(5)
        yield "</sheetData></worksheet>"

    return write_xlsx(path, sheet)


def far_corners(path: Path) -> Path:
    """Two cells at opposite corners of the grid: 1,048,576 x 16,384 cells to a dense reader."""

    def sheet() -> Chunks:
        yield SHEET_HEAD + "<sheetData>" + HEADER_ROW
        yield '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'

    return write_xlsx(path, sheet)


def giant_shared_string(path: Path, megabytes: int = 160) -> Path:
    """One shared string of ``megabytes`` MB (varied enough to stay under a 200:1 ratio check)."""
    rng = random.Random(1)

    def strings() -> Chunks:
        yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'
        block = "".join(rng.choice("abc") * rng.randrange(20, 120) for _ in range(20000))
        written = 0
        while written < megabytes * 2**20:
            yield block
            written += len(block)
        yield "</t></si></sst>"

    def sheet() -> Chunks:
        yield SHEET_HEAD + "<sheetData>" + HEADER_ROW
        yield '<row r="2"><c r="A2"><v>9876543210</v></c><c r="B2" t="s"><v>0</v></c></row></sheetData></worksheet>'

    return write_xlsx(path, sheet, strings)


def empty_cells(path: Path, rows: int = 330_000, per_row: int = 26) -> Path:
    """Millions of empty cells (``<c r=".." s="1"/>``): nothing to import, everything to allocate."""
    letters = [chr(ord("A") + i) for i in range(per_row)]

    def sheet() -> Chunks:
        yield SHEET_HEAD + "<sheetData>" + HEADER_ROW
        cells = "".join(f'<c r="{c}{{n}}" s="1"/>' for c in letters)
        row = '<row r="{n}">' + cells + "</row>"
        for start in range(2, rows + 2, 5000):
            yield "".join(row.replace("{n}", str(n)) for n in range(start, min(start + 5000, rows + 2)))
        yield "</sheetData></worksheet>"

    return write_xlsx(path, sheet)


def deeply_nested(path: Path, depth: int = 5_000_000) -> Path:
    """A cell whose XML nests ``depth`` elements deep (a recursive or tree-building reader drowns)."""

    rng = random.Random(2)
    names = [rng.choice(["r", "b", "i", "u", "q", "s", "rr", "bb", "x"]) for _ in range(100_000)]
    opening = "".join(f"<{name}>" for name in names)
    closing = "".join(f"</{name}>" for name in reversed(names))

    def sheet() -> Chunks:
        yield SHEET_HEAD + "<sheetData>" + HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>9876543210</t>'
        for _ in range(depth // 100_000):
            yield opening
        for _ in range(depth // 100_000):
            yield closing
        yield "</is></c></row></sheetData></worksheet>"

    return write_xlsx(path, sheet)


def many_cells(path: Path, rows: int = 1_500_000) -> Path:
    """A plain sheet of ~200 MB of small numeric cells (compresses about 12:1, passes the zip checks)."""

    def sheet() -> Chunks:
        yield SHEET_HEAD + "<sheetData>" + HEADER_ROW
        for start in range(2, rows + 2, 10_000):
            yield "".join(
                f'<row r="{n}"><c r="A{n}"><v>9876543210</v></c><c r="B{n}"><v>1</v></c><c r="C{n}"><v>1</v></c></row>'
                for n in range(start, min(start + 10_000, rows + 2))
            )
        yield "</sheetData></worksheet>"

    return write_xlsx(path, sheet)


CRAFTED = {
    "huge_dimension": huge_dimension,
    "far_corners": far_corners,
    "giant_shared_string": giant_shared_string,
    "empty_cells": empty_cells,
    "deeply_nested": deeply_nested,
    "many_cells": many_cells,
}


def plain_rows(path: Path, rows: int = 300_000) -> Path:
    """A genuine large list (distinct phones and names, 2 columns): it must import, not be refused."""

    def sheet() -> Chunks:
        yield SHEET_HEAD + "<sheetData>" + HEADER_ROW
        yield from _rows(rows)
        yield "</sheetData></worksheet>"

    return write_xlsx(path, sheet)


CRAFTED["plain_rows"] = plain_rows
