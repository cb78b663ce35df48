"""Reports at scale (TARGETS.md "reads at scale"): the list, staff, daily conversion and adherence
reports through the gateway on a full-size database, against a baseline measured in the same run.

Run from the repository root, with PostgreSQL and RabbitMQ running:

    .venv/bin/python bench/bench_reports.py               # full scale (~2 minutes on 2 cores)
    .venv/bin/python bench/bench_reports.py --scale 0.1   # a tenth of every count, for a quick run

It starts the same stack as ``bench/bench_reads.py`` (gateway, contacts, customers, reminders,
reporting: the Procfile's real processes), seeds the services' databases with its seeding (1M contacts,
200k customers, 2M purchases, 500k reminders, 400 days of the reporting rollup), then seeds what the
new reports read, in reporting's database:

* the rollup rows of the new figures for 400 days: per list (contacts, contacted, converted; lists of
  10,000 contacts, each worked over the 60 days after its upload), interactions per staff member and
  type, the staff refill funnel, generic/branded lines, savings, education;
* ``report_contact_uploads`` (one per 10,000 contacts, named), ``report_customers`` (200k, name and
  phone), ``report_adherence`` (one row per reminder: 500k (customer, medicine) rows, PDC spread over
  0..1, some with nothing in the window) and the per-PDC counts derived from them.

Then, signed in as a staff member, it requests sequentially, round-robin (``--warmup`` 20 rounds,
then ``--requests`` 300 per endpoint):

* ``list_report``: ``GET /api/v1/reports/lists?window=30d``;
* ``staff_report``: ``GET /api/v1/reports/staff?window=30d``;
* ``daily_conversion``: ``GET /api/v1/reports/conversion/daily?window=90d``;
* ``adherence_report``: ``GET /api/v1/reports/adherence?threshold=0.80`` (first page, 50 rows);
* baseline: ``GET /healthz`` through the same gateway.

and prints ``name value unit (baseline X, ratio R)`` per figure (p50 and p99; TARGETS.md asks p99 <= 30 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_reads  # noqa: E402
from bench_reads import CONTACTS_PER_UPLOAD, FULL_SCALE, MEDICINES, REPORT_DAYS, H, bulk_load, connect  # noqa: E402

LIST_ACTIVE_DAYS = 60


def seed_report_extras(url: str, counts: dict, staff_ids: list[int], today: dt.date) -> None:
    from services.reporting import rules

    uploads = -(-counts["contacts"] // CONTACTS_PER_UPLOAD)
    per_day = max(1, counts["contacts"] // 365)
    params = {
        "today": today,
        "days": REPORT_DAYS,
        "staff": [str(s) for s in staff_ids],
        "uploads": uploads,
        "per_upload": CONTACTS_PER_UPLOAD,
        "active": LIST_ACTIVE_DAYS,
        "per_day": per_day,
        "customers": counts["customers"],
        "rows": counts["reminders"],
        "medicines": MEDICINES,
    }
    day = "(%(today)s::date - d)"
    # Upload u was made (uploads - u) * 365 / uploads days ago; its contacts are worked for 60 days after.
    upload_day = "(%(today)s::date - ((%(uploads)s - u) * 365 / %(uploads)s)::int)"
    types = ", ".join(f"('{metric}')" for metric in rules.INTERACTIONS_OF.values())
    funnel = ", ".join(
        f"('{m}', {f})"
        for m, f in (
            (rules.STAFF_REFILL_WHATSAPP, 40),
            (rules.STAFF_REFILL_CALLS, 20),
            (rules.STAFF_REFILLS_RESPONDED, 15),
            (rules.STAFF_REFILLS_PURCHASED, 10),
        )
    )
    rollup = f"""
        SELECT '{rules.LIST_CONTACTS}', {upload_day}, u::text, %(per_upload)s, 0 FROM generate_series(1, %(uploads)s) u
        UNION ALL SELECT m, {upload_day} + a, u::text, %(per_upload)s * f / 100 / %(active)s + 1,
                CASE WHEN m = '{rules.LIST_CONVERTED}' THEN 1050.00 ELSE 0 END
            FROM generate_series(1, %(uploads)s) u, generate_series(0, %(active)s - 1) a,
                (VALUES ('{rules.LIST_CONTACTED}', 40), ('{rules.LIST_CONVERTED}', 10)) AS v(m, f)
            WHERE {upload_day} + a <= %(today)s::date
        UNION ALL SELECT t, {day}, s, %(per_day)s / 100 + 1, 0
            FROM generate_series(0, %(days)s - 1) d, unnest(%(staff)s::text[]) s, (VALUES {types}) AS v(t)
        UNION ALL SELECT m, {day}, s, f, CASE WHEN m = '{rules.STAFF_REFILLS_PURCHASED}' THEN f * 310.00 ELSE 0 END
            FROM generate_series(0, %(days)s - 1) d, unnest(%(staff)s::text[]) s, (VALUES {funnel}) AS v(m, f)
        UNION ALL SELECT '{rules.PURCHASE_LINES}', {day}, k, n, n * 120.00
            FROM generate_series(0, %(days)s - 1) d, (VALUES ('generic', 1700), ('branded', 3300)) AS v(k, n)
        UNION ALL SELECT '{rules.GENERIC_SAVINGS}', {day}, '', 1700, 1700 * 45.00 FROM generate_series(0, %(days)s - 1) d
        UNION ALL SELECT '{rules.EDUCATED}', {day}, '', 20, 0 FROM generate_series(0, %(days)s - 1) d
        UNION ALL SELECT '{rules.EDUCATED_THEN_GENERIC}', {day}, '', 12, 0 FROM generate_series(0, %(days)s - 1) d"""
    with connect(url) as conn:
        # The rollup already holds bench_reads' rows (calls among them): add the others in one statement.
        conn.execute(
            f"INSERT INTO report_daily_totals (metric, day, dimension, count, amount) {rollup} "
            "ON CONFLICT (metric, day, dimension) DO NOTHING".replace(" % ", " %% "),
            params,
        )
        bulk_load(
            conn,
            "report_contact_uploads",
            f"""
            INSERT INTO report_contact_uploads (upload_id, uploaded_at, uploaded_on, uploaded_by, list_name, imported,
                assigned, as_of, as_of_event)
            SELECT u::text, {upload_day} + time '10:00', {upload_day}, '1', 'List ' || u, %(per_upload)s, '{{}}'::json,
                now(), 'bench'
            FROM generate_series(1, %(uploads)s) u""",
            params,
        )
        bulk_load(
            conn,
            "report_customers",
            """
            INSERT INTO report_customers (customer_id, name, phone, category, first_visit_date, as_of, as_of_event)
            SELECT g::text, 'Customer ' || g, '+91' || (8000000000 + g), 'regular_branded',
                %(today)s::date - 400, now(), 'bench'
            FROM generate_series(1, %(customers)s) g""",
            params,
        )
        pdc = "CASE WHEN {h} % 10 = 0 THEN NULL ELSE (({h} % 101)::numeric / 100)::numeric(3, 2) END"
        bulk_load(
            conn,
            "report_adherence",
            f"""
            INSERT INTO report_adherence (customer_id, medicine_key, medicine_name, fills, as_of, pdc_90, pdc_180,
                pdc_365)
            SELECT (1 + (g - 1) % %(customers)s)::text, lower(m.name), m.name,
                json_build_object((g * 4)::text, json_build_array(%(today)s::date - 40, 30)), %(today)s::date,
                {pdc.format(h=H("g", 41))}, {pdc.format(h=H("g", 42))}, {pdc.format(h=H("g", 43))}
            FROM generate_series(1, %(rows)s) g,
                LATERAL (SELECT (%(medicines)s::text[])[1 + ((g - 1) / %(customers)s)::int % 20] AS name) m""",
            params,
        )
        bulk_load(
            conn,
            "report_adherence_buckets",
            """
            INSERT INTO report_adherence_buckets (window_days, pdc, count)
            SELECT w.days, w.pdc, count(*) FROM report_adherence,
                LATERAL (VALUES (90, pdc_90), (180, pdc_180), (365, pdc_365)) AS w(days, pdc)
            WHERE w.pdc IS NOT NULL GROUP BY w.days, w.pdc""",
            params,
        )
        conn.execute("VACUUM (ANALYZE)")


ENDPOINTS = {
    "healthz": "/healthz",
    "list_report": "/api/v1/reports/lists?window=30d",
    "staff_report": "/api/v1/reports/staff?window=30d",
    "daily_conversion": "/api/v1/reports/conversion/daily?window=90d",
    "adherence_report": "/api/v1/reports/adherence?threshold=0.80",
}


def measure(gateway: str, token: str, warmup: int, rounds: int) -> tuple[dict, dict]:
    session = requests.Session()
    latencies: dict[str, list[float]] = {name: [] for name in ENDPOINTS}
    bodies = {}
    for round_no in range(warmup + rounds):
        for name, path in ENDPOINTS.items():
            headers = {} if name == "healthz" else {"Authorization": f"Bearer {token}"}
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every row count (default 1.0)")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per endpoint (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per endpoint (default 20)")
    args = parser.parse_args(argv)
    counts = {name: max(100, int(n * args.scale)) for name, n in FULL_SCALE.items()}

    from tests.stack import ADMIN_PASSWORD, ADMIN_USERNAME, standalone_stack

    tz = ZoneInfo(os.environ.get("PHARMACY_TZ", "Asia/Kolkata"))
    started = time.perf_counter()
    with standalone_stack(bench_reads.SERVICES) as stack:
        bench_reads.note(f"stack started (logs in {stack.log_dir}); seeding {counts}")
        gateway = stack.gateway_url
        admin_token = bench_reads.login(gateway, ADMIN_USERNAME, ADMIN_PASSWORD)
        staff_ids = bench_reads.create_staff(gateway, admin_token)
        today = dt.datetime.now(tz).date()
        times = bench_reads.seed(stack, counts, staff_ids, today)
        extra_started = time.perf_counter()
        seed_report_extras(stack.database_urls["reporting"], counts, staff_ids, today)
        times["seed_report_extras"] = time.perf_counter() - extra_started
        token = bench_reads.login(gateway, "bench-staff-0", bench_reads.STAFF_PASSWORD)
        latencies, bodies = measure(gateway, token, args.warmup, args.requests)
        bench_reads.note(
            f"seen: lists {bodies['list_report']['total']} / staff rows {len(bodies['staff_report']['items'])} / "
            f"days {len(bodies['daily_conversion']['days'])} / adherence below 0.80 {bodies['adherence_report']['total']}"
        )

    for name in ("seed_total", "seed_report_extras"):
        bench_reads.line(name, times[name], "s")
    print(
        f"seeded_rows contacts={counts['contacts']} customers={counts['customers']} purchases={counts['purchases']} "
        f"reminders={counts['reminders_seeded']} adherence_rows={counts['reminders']} (scale {args.scale:g})",
        flush=True,
    )
    base = {pct: bench_reads.percentile(latencies["healthz"], pct) * 1000 for pct in (50, 99)}
    bench_reads.line("healthz_p50", base[50], "ms", digits=2)
    bench_reads.line("healthz_p99", base[99], "ms", digits=2)
    for name in ("list_report", "staff_report", "daily_conversion", "adherence_report"):
        p50, p99 = (bench_reads.percentile(latencies[name], pct) * 1000 for pct in (50, 99))
        bench_reads.line(f"{name}_p50", p50, "ms", base[50], digits=2)
        bench_reads.line(f"{name}_p99", p99, "ms", base[99], digits=2)
    bench_reads.note(f"total {time.perf_counter() - started:.0f} s; TARGETS.md: p99 <= 30 ms each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
