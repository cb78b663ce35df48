"""Reads at scale (TARGETS.md "reads at scale"): list pages and a report through the gateway on a
full-size database, against a baseline measured in the same run.

Run from the repository root, with PostgreSQL and RabbitMQ running:

    .venv/bin/python bench/bench_reads.py                 # 1M contacts ... (~1.5 minutes; seeding ~25 s)
    .venv/bin/python bench/bench_reads.py --scale 0.1     # a tenth of every count, for a quick run
    .venv/bin/python bench/bench_reads.py --explain       # also EXPLAIN ANALYZE the endpoints' SQL

It starts a stack of gateway + contacts + customers + reminders + reporting (tests/stack.py: databases
and a vhost of its own, the Procfile's real gunicorn processes and workers), creates 10 staff members
through ``POST /api/v1/staff``, then seeds the services' databases directly in PostgreSQL
(``INSERT ... SELECT generate_series``, secondary indexes and unique constraints dropped during the
load and rebuilt after it, then ``VACUUM ANALYZE`` as autovacuum leaves a long-running database):

* contacts: 1M ``contact_records`` spread evenly over the 10 staff (60 % pending, 25 % contacted,
  10 % converted, 5 % yellow), with their ``contact_uploads`` (10,000 contacts each);
* customers: 200k ``customers`` and 2M ``customer_purchases`` (two lines a bill, two years of dates,
  a quarter with a duration);
* reminders: 500k ``refill_reminders`` (one per purchase with a duration, same customer, medicine and
  dates; older than two weeks mostly purchased) and 200k ``reminder_customers``;
* reporting: 400 days of ``report_daily_totals`` for every metric (the rollup the reports read).

Then, signed in as one of the staff members, it requests sequentially through the gateway, the
endpoints interleaved round-robin so noise hits them alike (``--warmup`` 20 rounds, then
``--requests`` 300):

* ``contacts_list``: ``GET /api/v1/contacts?assigned_to=<own id>&status=pending&page=1&per_page=50``
  (``contacts_list_admin``: the same filter with the admin's token);
* ``due_reminders``: ``GET /api/v1/reminders/refills?days_ahead=7&per_page=50``;
* ``conversion_report``: ``GET /api/v1/reports/conversion?window=30d``;
* baseline: ``GET /healthz`` through the same gateway.

Prints one line per figure, ``name value unit (baseline X, ratio R)``, where the baseline is the
healthz latency at the same percentile and ratio = figure / baseline (lower is better; TARGETS.md
asks p99 <= 30 ms for each endpoint)::

    healthz_p99 2.1 ms (baseline -, ratio -)
    contacts_list_p99 12.3 ms (baseline 2.1, ratio 5.86)

plus the seeding times (``seed_*`` in seconds) and the row counts seeded. Databases and vhost are
removed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.categories import CATEGORIES  # noqa: E402

SERVICES = ["gateway", "contacts", "customers", "reminders", "reporting"]
FULL_SCALE = {"contacts": 1_000_000, "customers": 200_000, "purchases": 2_000_000, "reminders": 500_000}
STAFF = 10
STAFF_PASSWORD = "bench-staff-password"
REPORT_DAYS = 400
CONTACTS_PER_UPLOAD = 10_000
BILL_SOURCE = "/services/billing"
PURCHASE_SOURCE = "/services/customers"
MEDICINES = [
    "Metformin 500",
    "Amlodipine 5",
    "Atorvastatin 10",
    "Telmisartan 40",
    "Losartan 50",
    "Glimepiride 2",
    "Levothyroxine 50",
    "Pantoprazole 40",
    "Vitamin D3",
    "Calcium + D3",
    "Aspirin 75",
    "Clopidogrel 75",
    "Rosuvastatin 10",
    "Metoprolol 25",
    "Insulin Glargine",
    "Montelukast 10",
    "Cetirizine 10",
    "Paracetamol 650",
    "Azithromycin 500",
    "Omeprazole 20",
]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def line(name: str, value: float, unit: str, baseline: float | None = None, digits: int = 1) -> None:
    if baseline:
        print(
            f"{name} {value:.{digits}f} {unit} (baseline {baseline:.{digits}f}, ratio {value / baseline:.2f})",
            flush=True,
        )
    else:
        print(f"{name} {value:.{digits}f} {unit} (baseline -, ratio -)", flush=True)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- seeding -----------------------------------------------------------------------------------
def H(expr: str, salt: int) -> str:
    """A deterministic pseudo-random non-negative bigint of ``expr`` (PostgreSQL's own int8 hash), so
    two databases derive the same customer, date and medicine for the same purchase number."""
    return f"(hashint8(({expr})::bigint * 7919 + {salt})::bigint + 2147483648)"


def libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str):
    import psycopg

    conn = psycopg.connect(libpq(url), autocommit=True)
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '256MB'")
    return conn


def bulk_load(conn, table: str, sql: str, params: dict) -> None:
    """Run an ``INSERT ... SELECT`` into an empty table with its secondary indexes and unique
    constraints dropped, then rebuild them exactly as the migration defined them (faster than
    maintaining them row by row). Foreign-key triggers are skipped (the seed is consistent)."""
    import psycopg

    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
        (table,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
        (table,),
    ).fetchall()
    with conn.transaction():
        for name, _ in constraints:
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        try:
            with conn.transaction():  # a savepoint: SET LOCAL still lasts until the load commits
                conn.execute("SET LOCAL session_replication_role = replica")  # no per-row FK checks
        except psycopg.Error:
            note(f"{table}: not a superuser, foreign keys checked row by row")
        conn.execute(sql.replace(" % ", " %% "), params)  # " % " is modulo, %(name)s a parameter
    for _, definition in indexes:
        conn.execute(definition)
    for name, definition in constraints:
        conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    if conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'id' "
        "AND column_default LIKE 'nextval%%'",
        (table,),
    ).fetchone():
        # Explicit ids were inserted: move the sequence past them, as the app's inserts expect.
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM \"{table}\" "
            "HAVING max(id) IS NOT NULL"
        )


def purchase_exprs(g: str, customers: int) -> dict[str, str]:
    """Purchase ``g``'s customer, date, medicine and duration (shared by customers and reminders)."""
    bill = f"(({g} + 1) / 2)"
    return {
        "bill": bill,
        "customer": f"(1 + {H(bill, 1)} % {customers})",
        "date": f"(%(today)s::date - ({H(bill, 2)} % 730)::int)",
        "medicine": f"(%(medicines)s::text[])[1 + ({H(g, 3)} % {len(MEDICINES)})::int]",
        # A quarter of the lines (every 4th) come with a duration: those make refill reminders.
        "duration": f"(CASE WHEN {g} % 4 = 0 THEN (ARRAY[10, 15, 30, 30, 30, 60, 90])[1 + ({H(g, 4)} % 7)::int] END)",
    }


def seed_contacts(url: str, counts: dict, staff_ids: list[int], today: dt.date) -> None:
    n = counts["contacts"]
    uploads = -(-n // CONTACTS_PER_UPLOAD)
    step = 365 * 86400 / max(n, 1)  # created_at: the last year, oldest first
    params = {
        "n": n,
        "staff": staff_ids,
        "today": today,
        "uploads": uploads,
        "step": step,
        "per_upload": CONTACTS_PER_UPLOAD,
        "customers": counts["customers"],
    }
    with connect(url) as conn:
        bulk_load(
            conn,
            "contact_uploads",
            """
            INSERT INTO contact_uploads (id, filename, list_name, file_kind, file_bytes, uploaded_by, status,
                total_rows, rows_done, imported, duplicates_in_file, already_known, invalid, assigned, assign_to,
                created_at, heartbeat_at, completed_at)
            SELECT u, 'list-' || u || '.csv', 'List ' || u, 'csv', 420000, 1, 'completed',
                %(per_upload)s, %(per_upload)s, %(per_upload)s, 0, 0, 0, '{}'::json, NULL,
                now() - make_interval(secs => (%(uploads)s - u + 1) * %(per_upload)s * %(step)s),
                now() - make_interval(secs => (%(uploads)s - u + 1) * %(per_upload)s * %(step)s),
                now() - make_interval(secs => (%(uploads)s - u + 1) * %(per_upload)s * %(step)s)
            FROM generate_series(1, %(uploads)s) u""",
            params,
        )
        bulk_load(
            conn,
            "contact_records",
            f"""
            INSERT INTO contact_records (id, phone, name, status, whatsapp_status, assigned_to, upload_id,
                last_interaction_at, first_contacted_at, converted_at, conversion_value, conversion_bill_id,
                conversion_source, customer_id, created_at, updated_at)
            SELECT g, '+91' || (7000000000 + g), 'Contact ' || g, s.status,
                CASE WHEN {H("g", 11)} % 10 < 2 THEN 'available' WHEN {H("g", 11)} % 10 = 2 THEN 'not_available'
                     ELSE 'unknown' END,
                (%(staff)s::int[])[1 + g % {len(staff_ids)}], 1 + (g - 1) / %(per_upload)s,
                CASE WHEN s.status <> 'pending' THEN c.created_at + interval '3 days' END,
                CASE WHEN s.status <> 'pending' THEN c.created_at + interval '2 days' END,
                CASE WHEN s.status = 'converted' THEN (c.created_at + interval '5 days')::date END,
                CASE WHEN s.status = 'converted' THEN 100 + {H("g", 12)} % 2000 END,
                CASE WHEN s.status = 'converted' THEN 'B' || g END,
                CASE WHEN s.status = 'converted' THEN 'bill' END,
                CASE WHEN s.status = 'converted' THEN (1 + g % %(customers)s)::text END,
                c.created_at, c.created_at + CASE WHEN s.status <> 'pending' THEN interval '3 days' ELSE interval '0' END
            FROM generate_series(1, %(n)s) g,
                LATERAL (SELECT CASE WHEN {H("g", 10)} % 100 < 60 THEN 'pending'
                                     WHEN {H("g", 10)} % 100 < 85 THEN 'contacted'
                                     WHEN {H("g", 10)} % 100 < 95 THEN 'converted' ELSE 'yellow' END AS status) s,
                LATERAL (SELECT now() - make_interval(secs => (%(n)s - g) * %(step)s) AS created_at) c""",
            params,
        )


def seed_customers(url: str, counts: dict, today: dt.date) -> None:
    n, lines = counts["customers"], counts["purchases"]
    p = purchase_exprs("g", n)
    params = {"n": n, "lines": lines, "today": today, "medicines": MEDICINES, "categories": list(CATEGORIES)}
    with connect(url) as conn:
        bulk_load(
            conn,
            "customers",
            f"""
            INSERT INTO customers (id, phone, name, email, age, gender, address, chronic_conditions, allergies,
                primary_doctor, category, category_source, name_source, prefers_generic, generic_education_given,
                special_notes, contact_record_id, first_visit_date, last_visit_date, total_visits, total_purchases,
                created_at, updated_at)
            SELECT g, '+91' || (8000000000 + g), 'Customer ' || g, NULL, 18 + ({H("g", 20)} % 70)::int,
                (ARRAY['female', 'male'])[1 + ({H("g", 21)} % 2)::int], NULL, '[]'::json, '[]'::json, NULL,
                (%(categories)s::text[])[1 + ({H("g", 22)} % 4)::int], 'bill', 'bill', {H("g", 23)} % 5 = 0, false,
                NULL, NULL, %(today)s::date - 730 + ({H("g", 24)} % 365)::int,
                %(today)s::date - ({H("g", 25)} % 60)::int, 5 + ({H("g", 26)} % 10)::int, 1500.00,
                now() - interval '730 days', now() - interval '1 day'
            FROM generate_series(1, %(n)s) g""",
            params,
        )
        bulk_load(
            conn,
            "customer_purchases",
            f"""
            INSERT INTO customer_purchases (id, customer_id, source, bill_id, bill_line_id, purchase_date,
                medicine_name, is_generic, quantity, amount, duration_days, refill_due_date)
            SELECT g, {p["customer"]}, '{BILL_SOURCE}', 'B' || {p["bill"]}, g::text, x.d, {p["medicine"]},
                {H("g", 5)} % 3 = 0, 1 + ({H("g", 6)} % 3)::int, 20 + ({H("g", 7)} % 800),
                x.duration, x.d + x.duration - 5
            FROM generate_series(1, %(lines)s) g,
                LATERAL (SELECT {p["date"]} AS d, {p["duration"]} AS duration) x""",
            params,
        )


def seed_reminders(url: str, counts: dict, today: dt.date) -> None:
    from services.reminders.domain import medicine_key

    n = min(counts["reminders"], counts["purchases"] // 4)
    p = purchase_exprs("k * 4", counts["customers"])  # reminder k is purchase 4k's (which has a duration)
    params = {
        "n": n,
        "customers": counts["customers"],
        "today": today,
        "medicines": MEDICINES,
        "keys": [medicine_key(m) for m in MEDICINES],
    }
    medicine = p["medicine"]
    key = medicine.replace("%(medicines)s", "%(keys)s")
    with connect(url) as conn:
        bulk_load(
            conn,
            "reminder_customers",
            """
            INSERT INTO reminder_customers (customer_id, name, phone, profile_time, updated_at)
            SELECT g::text, 'Customer ' || g, '+91' || (8000000000 + g), now() - interval '1 day', now()
            FROM generate_series(1, %(customers)s) g""",
            params,
        )
        # Older than two weeks: mostly purchased, some left open or answered (never closed by staff);
        # recent and upcoming ones: open, some answered.
        bulk_load(
            conn,
            "refill_reminders",
            f"""
            INSERT INTO refill_reminders (id, customer_id, purchase_source, purchase_id, medicine_name, medicine_key,
                purchase_date, duration_days, reminder_date, status, whatsapp_sent_at, call_made_at, call_notes,
                call_successful, responded, customer_response, purchased_at, closed_by_purchase_id,
                created_at, updated_at)
            SELECT k, {p["customer"]}::text, '{PURCHASE_SOURCE}', (k * 4)::text, {medicine}, {key},
                x.d, x.duration, x.d + x.duration - 5, s.status,
                CASE WHEN s.status <> 'open' OR {H("k", 31)} % 3 = 0 THEN x.d + x.duration - 5 + time '10:00' END,
                NULL, NULL, NULL, s.status = 'responded',
                CASE WHEN s.status = 'responded' THEN 'Will come tomorrow' END,
                CASE WHEN s.status = 'purchased' THEN x.d + x.duration + time '12:00' END, NULL,
                x.d + time '09:00', x.d + time '09:00'
            FROM generate_series(1, %(n)s) k,
                LATERAL (SELECT {p["date"]} AS d, {p["duration"]} AS duration) x,
                LATERAL (SELECT CASE
                    WHEN x.d + x.duration - 5 < %(today)s::date - 14 THEN
                        CASE WHEN {H("k", 30)} % 100 < 90 THEN 'purchased'
                             WHEN {H("k", 30)} % 100 < 97 THEN 'open' ELSE 'responded' END
                    ELSE CASE WHEN {H("k", 30)} % 100 < 85 THEN 'open' ELSE 'responded' END
                    END AS status) s""",
            params,
        )
    counts["reminders_seeded"] = n


def seed_reporting(url: str, counts: dict, staff_ids: list[int], today: dt.date) -> None:
    from services.reporting import rules

    per_day = max(1, counts["contacts"] // 365)
    params = {
        "today": today,
        "days": REPORT_DAYS,
        "staff": [str(s) for s in staff_ids],
        "categories": list(CATEGORIES),
        "per_day": per_day,
        "reminders_per_day": max(1, counts["reminders"] // 365),
    }
    day = "(%(today)s::date - d)"
    rows = f"""
        SELECT '{rules.UPLOADED}', {day}, '', %(per_day)s, 0 FROM generate_series(0, %(days)s - 1) d
        UNION ALL SELECT '{rules.ASSIGNED}', {day}, s, %(per_day)s / 10, 0
            FROM generate_series(0, %(days)s - 1) d, unnest(%(staff)s::text[]) s
        UNION ALL SELECT '{rules.CONTACTED}', {day}, s, %(per_day)s * 4 / 100, 0
            FROM generate_series(0, %(days)s - 1) d, unnest(%(staff)s::text[]) s
        UNION ALL SELECT '{rules.CONVERTED}', {day}, s, greatest(1, %(per_day)s / 100), greatest(1, %(per_day)s / 100) * 1050.00
            FROM generate_series(0, %(days)s - 1) d, unnest(%(staff)s::text[]) s
        UNION ALL SELECT '{rules.INTERACTIONS_OF["call"]}', {day}, s, %(per_day)s * 5 / 100, 0
            FROM generate_series(0, %(days)s - 1) d, unnest(%(staff)s::text[]) s
        UNION ALL SELECT '{rules.NEW_CUSTOMERS}', {day}, c, 50, 0
            FROM generate_series(0, %(days)s - 1) d, unnest(%(categories)s::text[]) c
        UNION ALL SELECT '{rules.BILLS}', {day}, c, 600, 600 * 850.00
            FROM generate_series(0, %(days)s - 1) d, unnest(%(categories)s::text[]) c
        UNION ALL SELECT m, {day}, '', %(reminders_per_day)s * f / 100, 0
            FROM generate_series(0, %(days)s - 1) d,
                (VALUES ('{rules.REFILLS_DUE}', 100), ('{rules.REFILLS_CONTACTED}', 60),
                        ('{rules.REFILLS_RESPONDED}', 30), ('{rules.REFILLS_PURCHASED}', 80)) AS v(m, f)"""
    with connect(url) as conn:
        bulk_load(
            conn,
            "report_daily_totals",
            f"INSERT INTO report_daily_totals (metric, day, dimension, count, amount) {rows}",
            params,
        )


def vacuum_analyze(urls: list[str]) -> None:
    for url in urls:
        with connect(url) as conn:
            conn.execute("VACUUM (ANALYZE)")


def seed(stack, counts: dict, staff_ids: list[int], today: dt.date) -> dict[str, float]:
    """Seed the four databases (two at a time: PostgreSQL gets one core per load) and time each."""
    urls = stack.database_urls
    jobs = {
        "seed_customers": lambda: seed_customers(urls["customers"], counts, today),
        "seed_contacts": lambda: seed_contacts(urls["contacts"], counts, staff_ids, today),
        "seed_reminders": lambda: seed_reminders(urls["reminders"], counts, today),
        "seed_reporting": lambda: seed_reporting(urls["reporting"], counts, staff_ids, today),
    }
    times = {}

    def timed(name):
        started = time.perf_counter()
        jobs[name]()
        times[name] = time.perf_counter() - started
        note(f"{name} done in {times[name]:.1f} s")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(timed, name) for name in jobs]:
            future.result()
    vacuum_started = time.perf_counter()
    vacuum_analyze([urls[s] for s in ("contacts", "customers", "reminders", "reporting")])
    times["seed_vacuum_analyze"] = time.perf_counter() - vacuum_started
    times["seed_total"] = time.perf_counter() - started
    return times


# -- the stack ---------------------------------------------------------------------------------
def login(gateway: str, username: str, password: str) -> str:
    response = requests.post(
        f"{gateway}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    return response.json()["access_token"]


def create_staff(gateway: str, admin_token: str) -> list[int]:
    ids = []
    for i in range(STAFF):
        response = requests.post(
            f"{gateway}/api/v1/staff",
            headers={"Authorization": f"Bearer {admin_token}"},
            json={
                "username": f"bench-staff-{i}",
                "name": f"Bench Staff {i}",
                "password": STAFF_PASSWORD,
                "role": "staff",
            },
            timeout=30,
        )
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids


def endpoints(staff_id: int) -> dict[str, tuple[str, str]]:
    """``{figure: (token name, path)}`` in the order they are requested each round."""
    return {
        "healthz": (None, "/healthz"),
        "contacts_list": ("staff", f"/api/v1/contacts?assigned_to={staff_id}&status=pending&page=1&per_page=50"),
        "contacts_list_admin": ("admin", f"/api/v1/contacts?assigned_to={staff_id}&status=pending&page=1&per_page=50"),
        "due_reminders": ("staff", "/api/v1/reminders/refills?days_ahead=7&per_page=50"),
        "conversion_report": ("staff", "/api/v1/reports/conversion?window=30d"),
    }


def measure(gateway: str, tokens: dict, staff_id: int, warmup: int, rounds: int) -> tuple[dict, dict]:
    """Latencies (s) per figure, requests interleaved round-robin; also one response body per figure."""
    session = requests.Session()
    targets = endpoints(staff_id)
    latencies = {name: [] for name in targets}
    bodies = {}
    for round_no in range(warmup + rounds):
        for name, (token, path) in targets.items():
            headers = {"Authorization": f"Bearer {tokens[token]}"} if token else {}
            started = time.perf_counter()
            response = session.get(gateway + path, headers=headers, timeout=60)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{name}: GET {path} answered {response.status_code}: {response.text[:500]}")
            if round_no == 0:
                bodies[name] = response.json()
            if round_no >= warmup:
                latencies[name].append(elapsed)
    return latencies, bodies


# -- the SQL behind the endpoints --------------------------------------------------------------
def explain(stack, staff_id: int, today: dt.date) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement the three use cases run, captured from the
    product's own query code (shared.web.paginate and the services' domain modules)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import Session

    from services.contacts import domain as contacts
    from services.reminders import domain as reminders
    from services.reporting import domain as reporting
    from services.reporting.rules import window_for
    from shared.auth import Principal
    from shared.web import paginate

    cases = {
        "contacts_list": (
            "contacts",
            lambda s: paginate(
                s,
                contacts.contacts_query(
                    Principal(staff_id, "bench-staff-0", "staff"), status="pending", assigned_to=staff_id
                ),
                1,
                50,
            ),
        ),
        "due_reminders": (
            "reminders",
            lambda s: paginate(s, reminders.reminders_query(None, today + dt.timedelta(days=7), None), 1, 50),
        ),
        "conversion_report": ("reporting", lambda s: reporting.conversion_report(s, window_for("30d", today))),
    }
    for name, (service, run) in cases.items():
        engine = create_engine(stack.database_urls[service])
        captured = []
        event.listen(
            engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, parameters, context, executemany, into=captured: into.append(
                (statement, parameters)
            ),
        )
        with Session(engine) as session:
            run(session)
        with engine.connect() as conn:
            for statement, parameters in captured:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
                note(f"===== {name} ({service}) =====\n{statement}\n{parameters}\n" + "\n".join(plan))
        engine.dispose()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every row count (default 1.0: 1M contacts, 200k customers, 2M purchases, "
        "500k reminders); e.g. 0.1 for a quick run",
    )
    parser.add_argument("--requests", type=int, default=300, help="measured requests per endpoint (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per endpoint (default 20)")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN (ANALYZE, BUFFERS) of the endpoints' SQL to stderr after measuring",
    )
    args = parser.parse_args(argv)
    counts = {name: max(100, int(n * args.scale)) for name, n in FULL_SCALE.items()}

    from tests.stack import ADMIN_PASSWORD, ADMIN_USERNAME, standalone_stack

    tz = ZoneInfo(os.environ.get("PHARMACY_TZ", "Asia/Kolkata"))  # the services' "today" (shared.config)
    with standalone_stack(SERVICES) as stack:
        note(f"stack started (logs in {stack.log_dir}); seeding {counts}")
        gateway = stack.gateway_url
        admin_token = login(gateway, ADMIN_USERNAME, ADMIN_PASSWORD)
        staff_ids = create_staff(gateway, admin_token)
        today = dt.datetime.now(tz).date()
        times = seed(stack, counts, staff_ids, today)
        tokens = {"admin": admin_token, "staff": login(gateway, "bench-staff-0", STAFF_PASSWORD)}
        latencies, bodies = measure(gateway, tokens, staff_ids[0], args.warmup, args.requests)
        note(
            "totals seen: contacts_list {} / due_reminders {} / conversion_report 30d {}".format(
                bodies["contacts_list"]["total"],
                bodies["due_reminders"]["total"],
                {k: bodies["conversion_report"][k] for k in ("total_contacts", "contacted", "converted")},
            )
        )
        if args.explain:
            explain(stack, staff_ids[0], today)

    for name in (
        "seed_contacts",
        "seed_customers",
        "seed_reminders",
        "seed_reporting",
        "seed_vacuum_analyze",
        "seed_total",
    ):
        line(name, times[name], "s")
    print(
        f"seeded_rows contacts={counts['contacts']} customers={counts['customers']} "
        f"purchases={counts['purchases']} reminders={counts['reminders_seeded']} "
        f"report_days={REPORT_DAYS} (scale {args.scale:g})",
        flush=True,
    )
    base = {pct: percentile(latencies["healthz"], pct) * 1000 for pct in (50, 99)}
    line("healthz_p50", base[50], "ms", digits=2)
    line("healthz_p99", base[99], "ms", digits=2)
    worst = 0.0
    for name in ("contacts_list", "contacts_list_admin", "due_reminders", "conversion_report"):
        p50, p99 = (percentile(latencies[name], pct) * 1000 for pct in (50, 99))
        line(f"{name}_p50", p50, "ms", base[50], digits=2)
        line(f"{name}_p99", p99, "ms", base[99], digits=2)
        worst = max(worst, p99)
    note(
        f"mean of medians: {statistics.mean(percentile(v, 50) * 1000 for v in latencies.values()):.2f} ms; "
        f"TARGETS.md: p99 <= 30 ms each, worst here {worst:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
