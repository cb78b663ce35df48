"""The contact import engine alone (no database): phones, 100k-row CSV and XLSX, against baselines.

Run from the repository root (about a minute)::

    .venv/bin/python bench/bench_import_parse.py

Prints one line per figure, ``name value unit (baseline X, ratio R)``:

* ``phone_normalization_cold``: ``normalize_phone`` over 100k phone cells in a fresh process
  (its prefix cache fills as it goes); ``phone_normalization``: the same numbers again, as a
  long-running worker sees them. Baseline: libphonenumber ``parse`` + ``is_valid_number`` +
  ``format_number`` of the same cells.
* ``csv_parse_normalize_dedupe_100k``: ``read_contact_list`` on a 100k-row CSV (file checks,
  encoding and delimiter sniffing, header, E.164, in-file dedupe). Baseline: the csv module
  reading the same file, parse only.
* ``xlsx_parse_normalize_dedupe_100k``: the same on an XLSX of those rows (zip-bomb and XML
  entity checks included). Baseline: calamine reading the same file, parse only.

Each figure is the best of three runs (the machines are shared and noisy).
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import phonenumbers  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

from services.contacts.importing import normalize_phone, read_contact_list  # noqa: E402

ROWS = 100_000
RUNS = 3
NAMES = [
    "Asha Rao",
    "Ravi Sharma",
    "Priya Iyer",
    "Zoë D'Souza",
    "José  Núñez",
    "प्रिया पटेल",
    "ಅನಿತಾ",
    "முருகன்",
    '=HYPERLINK("http://example.invalid")',
    "Meera Khan",
]


def phone_cells(rng: random.Random, count: int) -> list[object]:
    """Mostly Indian mobiles in the shapes the fixture shows; some foreign, invalid, repeated, numeric."""
    cells: list[object] = []
    for _ in range(count):
        roll = rng.random()
        if cells and roll < 0.03:
            cells.append(rng.choice(cells[-5000:]))
            continue
        if roll < 0.05:
            cells.append(rng.choice(["98765432", "N/A", "", "abcdefghij", "+1 555 0100"]))
            continue
        if roll < 0.07:
            cells.append(rng.choice(["+44 20 7946 0958", "+65 8123 4567", "+971 50 123 4567", "+1 212 555 0123"]))
            continue
        national = f"{rng.choice('6789')}{rng.randrange(10**9):09d}"
        cells.append(
            rng.choice(
                [
                    national,
                    national,
                    f"+91{national}",
                    f"{national[:5]} {national[5:]}",
                    f"+91-{national[:5]}-{national[5:]}",
                    f"+91 {national[:5]}-{national[5:]}",
                    f"0{national}",
                    f"91{national}",
                    f"91 {national[:5]} {national[5:]}",
                    f"({national[:3]}) {national[3:6]} {national[6:]}",
                    f"{national[:3]}-{national[3:6]}-{national[6:]}",
                    f" {national} ",
                    int(national),
                ]
            )
        )
    return cells


def write_files(folder: Path, cells: list[object], rng: random.Random) -> tuple[Path, Path]:
    from openpyxl import Workbook

    rows = [["Mobile Number", "Customer Name", "City"]]
    rows += [[cell, rng.choice(NAMES), "Pune"] for cell in cells]
    csv_path, xlsx_path = folder / "contacts-100k.csv", folder / "contacts-100k.xlsx"
    with open(csv_path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    for row in rows:
        sheet.append(row)  # ints become number cells, as in a real workbook
    workbook.save(xlsx_path)
    return csv_path, xlsx_path


def libphonenumber_e164(cell: object) -> str | None:
    text = str(cell)
    try:
        number = phonenumbers.parse(text, "IN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def rate(work: Callable[[], int], runs: int = RUNS) -> float:
    """Items per second of the best of ``runs`` runs; ``work`` returns how many items it did."""
    best = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        done = work()
        best = max(best, done / (time.perf_counter() - started))
    return best


def line(name: str, value: float, unit: str, baseline: float) -> None:
    print(f"{name} {value:.0f} {unit} (baseline {baseline:.0f}, ratio {value / baseline:.2f})", flush=True)


def count_rows(rows) -> int:
    return sum(1 for _ in rows)


def main() -> None:
    rng = random.Random(20240601)
    cells = phone_cells(rng, ROWS)

    def normalize_all() -> int:
        for cell in cells:
            normalize_phone(cell)
        return len(cells)

    def libphonenumber_all() -> int:
        for cell in cells:
            libphonenumber_e164(cell)
        return len(cells)

    cold = rate(normalize_all, runs=1)
    warm = rate(normalize_all)
    baseline = rate(libphonenumber_all)
    line("phone_normalization_cold", cold, "numbers/s", baseline)
    line("phone_normalization", warm, "numbers/s", baseline)

    with tempfile.TemporaryDirectory(prefix="bench-import-parse-") as folder:
        csv_path, xlsx_path = write_files(Path(folder), cells, rng)

        def csv_parse_only() -> int:
            with open(csv_path, encoding="utf-8", newline="") as handle:
                return count_rows(csv.reader(handle)) - 1

        def calamine_parse_only() -> int:
            with CalamineWorkbook.from_path(str(xlsx_path)) as workbook:
                return count_rows(workbook.get_sheet_by_index(0).iter_rows()) - 1

        csv_rate = rate(lambda: count_rows(read_contact_list(csv_path, csv_path.name)))
        line("csv_parse_normalize_dedupe_100k", csv_rate, "rows/s", rate(csv_parse_only))
        xlsx_rate = rate(lambda: count_rows(read_contact_list(xlsx_path, xlsx_path.name)))
        line("xlsx_parse_normalize_dedupe_100k", xlsx_rate, "rows/s", rate(calamine_parse_only))


if __name__ == "__main__":
    main()
