"""Contact import benchmarks (TARGETS.md): 100k-row CSV and XLSX end to end, 1M-row CSV memory.

Run from the repository root, with PostgreSQL running (TEST_DATABASE_URL or the local server):

    .venv/bin/python bench/bench_import.py            # everything (~1-2 minutes)
    .venv/bin/python bench/bench_import.py --quick    # 100k CSV only

Prints one line per figure: ``name value unit (baseline X, ratio R)``.

* ``contact_import_100k_csv``: the upload use case (the code ``POST /contacts/uploads`` runs):
  file checks, header, E.164, in-file and database dedupe, round-robin assignment, COPY into
  PostgreSQL, commit. Baseline: the csv module reading the same file, parse only.
* ``contact_import_100k_csv_http``: the same through the Flask app (multipart upload, 201).
* ``contact_import_100k_xlsx``: the use case on an XLSX of the same rows; baseline: calamine
  (the fastest reader here) reading the same file, parse only.
* ``contact_import_1m_csv_*``: a 1M-row CSV uploaded through the app's background path (202,
  progress polled until completed) in a child process whose peak RSS is reported.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST_NAMES = ["Asha", "Ravi", "Priya", "Arjun", "Meera", "Kavya", "Ishaan", "Zoë", "José", "प्रिया", "Diya", "Vivaan"]
LAST_NAMES = ["Rao", "Sharma", "Iyer", "Patel", "Reddy", "D'Souza", "Singh", "Núñez", "पटेल", "Khan"]


def phone_forms(rng: random.Random, n: int):
    """Realistic phone cells: mostly Indian mobiles in the usual shapes, some foreign, invalid, repeated."""
    issued = []
    for _i in range(n):
        roll = rng.random()
        if issued and roll < 0.03:
            yield rng.choice(issued)  # a repeat within the file
            continue
        if roll < 0.05:
            yield rng.choice(["98765432", "N/A", "", "abcdefghij", "+1 555 0100"])  # invalid
            continue
        national = f"{rng.choice('6789')}{rng.randrange(10**9):09d}"
        shape = rng.random()
        if shape < 0.35:
            cell = national
        elif shape < 0.55:
            cell = f"+91{national}"
        elif shape < 0.70:
            cell = f"{national[:5]} {national[5:]}"
        elif shape < 0.80:
            cell = f"+91-{national[:5]}-{national[5:]}"
        elif shape < 0.90:
            cell = f"0{national}"
        elif shape < 0.97:
            cell = f"91{national}"
        else:
            cell = rng.choice(["+44 20 7946 0958", "+65 8123 4567", "+971 50 123 4567"])
        if len(issued) < 5000:
            issued.append(cell)
        yield cell


def write_csv(path: Path, rows: int, seed: int = 7, short_names: bool = False) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Phone", "Name"] if short_names else ["Mobile Number", "Customer Name", "City"])
        for phone in phone_forms(rng, rows):
            if short_names:
                writer.writerow([phone, rng.choice(FIRST_NAMES)])
            else:
                writer.writerow([phone, f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "Pune"])


def write_xlsx(csv_path: Path, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("contacts")
    with open(csv_path, encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    workbook.save(path)


def line(name: str, value: float, unit: str, baseline: float | None = None) -> None:
    if baseline:
        print(f"{name} {value:,.0f} {unit} (baseline {baseline:,.0f}, ratio {value / baseline:.2f})", flush=True)
    else:
        print(f"{name} {value:,.0f} {unit} (baseline -, ratio -)", flush=True)


# -- database ----------------------------------------------------------------------------------
class BenchDatabase:
    def __init__(self):
        from sqlalchemy.engine import make_url

        admin = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
        self.admin = admin
        self.url = (
            make_url(admin).set(database=f"bench_contacts_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False)
        )

    def __enter__(self):
        from shared.migrations import upgrade

        upgrade("contacts", self.url)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(self.url).database}" WITH (FORCE)'))
        engine.dispose()


def fresh_runtime(url: str):
    """A runtime on an emptied contacts database with three active staff users."""
    from services.contacts.models import Base, StaffMember
    from services.contacts.settings import ContactsSettings
    from shared.clock import utcnow
    from shared.runtime import Runtime
    from shared.testing import make_settings, truncate_all

    settings = make_settings("contacts", url, "amqp://guest:guest@127.0.0.1:5672/%2F", cls=ContactsSettings)
    runtime = Runtime.build(settings)
    truncate_all(runtime.engine, Base.metadata)
    with runtime.session_factory() as session:
        for staff_id in (11, 12, 13):
            session.add(
                StaffMember(
                    staff_id=staff_id,
                    username=f"staff{staff_id}",
                    name=f"Staff {staff_id}",
                    role="staff",
                    active=True,
                    event_time=utcnow(),
                )
            )
        session.commit()
    with runtime.engine.begin() as conn:  # fresh statistics, as a long-running database has
        from sqlalchemy import text

        conn.execute(text("ANALYZE"))
    return runtime


# -- figures -----------------------------------------------------------------------------------
def csv_parse_rate(path: Path, rows: int) -> float:
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        with open(path, encoding="utf-8", newline="") as handle:
            count = sum(1 for _ in csv.reader(handle))
        elapsed = time.perf_counter() - start
        assert count == rows + 1
        best = max(best, rows / elapsed)
    return best


def calamine_parse_rate(path: Path, rows: int) -> float:
    from python_calamine import CalamineWorkbook

    best = 0.0
    for _ in range(2):
        start = time.perf_counter()
        workbook = CalamineWorkbook.from_path(str(path))
        count = sum(1 for _ in workbook.get_sheet_by_index(0).iter_rows())
        workbook.close()
        elapsed = time.perf_counter() - start
        assert count == rows + 1
        best = max(best, rows / elapsed)
    return best


def run_use_case(runtime, path: Path):
    from services.contacts.importing import read_contact_list
    from services.contacts.uploads.assignment import choose_staff
    from services.contacts.uploads.importer import import_contacts
    from services.contacts.uploads.records import NewUpload, create_upload
    from shared.db import unit_of_work

    rows_iter = read_contact_list(path, path.name, "IN")
    with unit_of_work(runtime.session_factory) as session:
        staff = choose_staff(session, None)
        upload = create_upload(
            session,
            NewUpload(
                filename=path.name,
                list_name="bench",
                uploaded_by=1,
                assign_to=None,
                file_kind=path.suffix.lstrip("."),
                file_bytes=path.stat().st_size,
            ),
        )
        import_contacts(session, upload, rows_iter, staff)
    return upload


def use_case_rate(url: str, path: Path, rows: int, repeats: int = 2, preload: Path | None = None) -> tuple[float, dict]:
    """Rows/s of the upload use case (read, normalize, dedupe, assign, COPY, commit), best of runs.

    ``preload``: a list imported (and analyzed) first, so the timed import dedupes against it."""
    best, summary = 0.0, {}
    for _ in range(repeats):
        runtime = fresh_runtime(url)
        if preload:
            run_use_case(runtime, preload)
            with runtime.engine.begin() as conn:
                from sqlalchemy import text

                conn.execute(text("ANALYZE contact_records"))
        start = time.perf_counter()
        upload = run_use_case(runtime, path)
        elapsed = time.perf_counter() - start
        summary = {
            k: getattr(upload, k)
            for k in ("total_rows", "imported", "duplicates_in_file", "invalid", "already_known", "assigned")
        }
        assert upload.total_rows == rows, summary
        runtime.engine.dispose()
        best = max(best, rows / elapsed)
    return best, summary


def http_rate(url: str, path: Path, rows: int) -> float:
    from services.contacts.app import create_app
    from shared.testing import auth_headers

    runtime = fresh_runtime(url)
    settings = runtime.settings.with_overrides(async_upload_bytes=10**9)
    client = create_app(settings, runtime).test_client()
    content = path.read_bytes()
    start = time.perf_counter()
    response = client.post(
        "/api/v1/contacts/uploads",
        data={"file": (io.BytesIO(content), path.name)},
        headers=auth_headers("admin", 1),
        content_type="multipart/form-data",
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 201, response.json
    runtime.engine.dispose()
    return rows / elapsed


def million_child(url: str, path: str, rows: int) -> None:
    """In a child process: upload through the app's background path (stored, queued, imported by the
    importer loop running in a thread here as ``python -m services.contacts.worker import`` would), poll
    progress, report RSS."""
    from services.contacts.app import create_app
    from services.contacts.uploads.background import ImportWorker
    from shared.testing import auth_headers

    runtime = fresh_runtime(url)
    settings = runtime.settings.with_overrides(
        async_upload_bytes=1024 * 1024, max_upload_bytes=64 * 1024 * 1024, import_poll_seconds=0.1
    )
    client = create_app(settings, runtime).test_client()
    stop_importer = threading.Event()
    importer = ImportWorker(settings, runtime.session_factory)
    threading.Thread(target=importer.run, args=(stop_importer,), daemon=True).start()
    headers = auth_headers("admin", 1)
    start = time.perf_counter()
    with open(path, "rb") as handle:
        response = client.post(
            "/api/v1/contacts/uploads",
            data={"file": (handle, Path(path).name)},
            headers=headers,
            content_type="multipart/form-data",
        )
    assert response.status_code == 202, response.json
    location = response.headers["Location"]
    samples = []
    while True:
        status = client.get(location, headers=headers).json
        samples.append((round(time.perf_counter() - start, 1), status["rows_done"], status["total_rows"]))
        if status["status"] != "processing":
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - start
    stop_importer.set()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "status": status["status"],
                "elapsed": elapsed,
                "peak_rss_mb": peak_mb,
                "imported": status["imported"],
                "total_rows": status["total_rows"],
                "failure_reason": status.get("failure_reason"),
                "progress_samples": samples[:3] + samples[len(samples) // 2 : len(samples) // 2 + 2] + samples[-2:],
                "distinct_progress_values": len({s[1] for s in samples}),
            }
        )
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the 100k-row CSV figures")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--million-rows", type=int, default=1_000_000)
    parser.add_argument("--child-million", nargs=3, metavar=("URL", "PATH", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_million:
        url, path, rows = args.child_million
        million_child(url, path, int(rows))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp, BenchDatabase() as database:
        tmp = Path(tmp)
        csv_path = tmp / "contacts-100k.csv"
        write_csv(csv_path, args.rows)
        baseline = csv_parse_rate(csv_path, args.rows)
        rate, summary = use_case_rate(database.url, csv_path, args.rows)
        print(f"# 100k CSV: {csv_path.stat().st_size / 2**20:.1f} MiB, {summary}", flush=True)
        line("contact_import_100k_csv", rate, "rows/s", baseline)
        line("contact_import_100k_csv_http", http_rate(database.url, csv_path, args.rows), "rows/s", baseline)
        # The same file onto 100k existing contacts (another generated list): lookups hit a full index.
        other_path = tmp / "contacts-100k-other.csv"
        write_csv(other_path, args.rows, seed=8)
        onto_rate, onto = use_case_rate(database.url, csv_path, args.rows, repeats=1, preload=other_path)
        print(f"# onto 100k existing: already_known {onto['already_known']}, imported {onto['imported']}", flush=True)
        line("contact_import_100k_csv_onto_100k", onto_rate, "rows/s", baseline)
        if args.quick:
            return 0
        xlsx_path = tmp / "contacts-100k.xlsx"
        write_xlsx(csv_path, xlsx_path)
        xlsx_baseline = calamine_parse_rate(xlsx_path, args.rows)
        xlsx_rate, _ = use_case_rate(database.url, xlsx_path, args.rows)
        line("contact_import_100k_xlsx", xlsx_rate, "rows/s", xlsx_baseline)
        million_path = tmp / "contacts-1m.csv"
        write_csv(million_path, args.million_rows, seed=11, short_names=True)
        child = subprocess.run(
            check=False,
            args=[sys.executable, __file__, "--child-million", database.url, str(million_path), str(args.million_rows)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if child.returncode != 0:
            print(child.stderr[-3000:], file=sys.stderr)
            return 1
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"# 1M CSV: {million_path.stat().st_size / 2**20:.1f} MiB, status {result['status']}, "
            f"imported {result['imported']}, progress (s, rows_done, total_rows) {result['progress_samples']}",
            flush=True,
        )
        line("contact_import_1m_csv", args.million_rows / result["elapsed"], "rows/s")
        line("contact_import_1m_csv_peak_rss", result["peak_rss_mb"], "MB")
        if result["status"] != "completed":
            print(f"# 1M import did not complete: {result.get('failure_reason')}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
