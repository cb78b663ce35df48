"""The whole pipeline under a fixed offered load: the highest bill rate it sustains, and how long a
bill takes to show all its effects at half that rate (issue 11, point 5; TARGETS.md "Performance").

For each worker replica count (default: 1, then 3; ``--replicas 1,3``) it starts the whole stack
like the end-to-end tests (``tests/stack.py``: PostgreSQL databases and a RabbitMQ vhost of its
own, every Procfile process; ``customers-worker``, ``contacts-worker``, ``reminders-worker`` and
``reporting-worker`` run N times each, as ``customers-worker.2`` … with the same command and
environment) and prints::

    pipeline_sustained[replicas=1] 52.0 bills/s (baseline 1210.4, ratio 0.043)
    bill_to_all_effects_p50[replicas=1] 85.1 ms
    bill_to_all_effects_p99[replicas=1] 240.3 ms

plus diagnostics (every probe, queue depths per queue, outbox backlog, per-effect percentiles) on
other lines; progress goes to stderr. Targets: ratio >= 0.25 with no backlog growth, p99 <= 1 s.
It exits non-zero only on a broken run (the stack does not start, even on a second try; bills'
effects never appear; nothing moves in the pipeline for 60 s, or a backlog is still draining after
30 min), never because a target is missed.

How it measures
---------------
* Baseline: ``GET /healthz`` through the same gateway, with the same number of client threads as the
  offered load, measured with ``bench_gateway.hammer`` (closed loop, 1 s warm-up, then
  ``--baseline-seconds``), on the same stack just before the bills.
* Workload (``Workload.next_bill``): bill ``n`` has ``bench_gateway.bill_for``'s items (Metformin 500 for 30
  days, so a purchase and a refill reminder; a generic Vitamin D3) and, by ``n % 4``: 0: the phone
  of a contact assigned to a staff member, ``was_contacted_before`` (a conversion); 1: a returning
  customer (the phone of bill ``n - 98``, so the new Metformin closes the older reminder); 2, 3: a new
  customer. Before the bills the bench creates a staff member, uploads a CSV of contacts assigned to
  them through the gateway, and logs an interaction (a call, by that staff member) with each contact
  the latency run will convert (the search's contacts are converted from ``pending`` without one:
  logging thousands of interactions would take longer than the search).
* Offered load is open loop: bill ``i`` is due at ``t0 + i / rate``; ``--threads`` client threads
  take the next due bill, wait until it is due and post it; a slow answer does not delay the schedule
  (the other threads go on), it makes later bills late. A rate is *sustained* when, over the run:
  - at most 0.1 % of the bills fail (anything but 201), and the client kept the schedule: p99 of
    (sent − due) <= 0.5 s (a probe more than 3 s behind stops early: the gateway does not keep up);
  - every work queue's depth is bounded: the total depth (ready + unacked) of the consumers'
    ``*.events`` queues, sampled every second through the RabbitMQ management API
    (``/api/queues/<vhost>``), has a last-third mean at most 1 s worth of events above the
    first-third mean (thirds of the samples after the first 5.5 s: the ramp-up to a steady depth,
    and figures from before the run, are not growth), and its last sample <= 2 s worth (a "second worth" = rate × events per bill,
    counted during a warm-up from the queues' ``message_stats.publish``);
  - the relays keep up: pending outbox rows summed over every service database (``SELECT count(*)
    ... WHERE status = 'pending'``, every second) obey the same two rules (rows per bill counted
    from the outboxes' ids during the warm-up);
  - the pipeline drains within 5 s after the last bill is accepted: every effect of every bill is
    there (customers' counted bills and purchases, reminders, conversions, reporting's bills,
    purchases, reminders and conversions, compared with billing's own counts), no outbox row is
    pending and no message is ready in a work queue (AMQP passive declares, which are fresh).
  Between runs the bench waits for the drain, so each run starts from empty queues.
* Search: probes of ``--probe-seconds`` (15 s) from ``--start-rate`` (16 bills/s), doubling while
  sustained, then bisecting between the last sustained and the first failed rate (3 steps); the
  best rate found is then confirmed with a ``--seconds`` (60 s) run; if that fails, the next try
  (at most twice more) is 85 % of it or, when lower, 95 % of what the slowest consumer handled in it
  (the offered bills minus its queue's growth, in bills: events per bill per queue are counted
  during the warm-up). ``pipeline_sustained`` is the rate of 201s of the confirmed run
  (accepted bills / seconds from the first due time to the last answer).
* Effects latency: a run of ``--seconds`` at half the sustained rate (``--rate`` R skips the search
  and uses R as the sustained rate). Every bill is followed from the moment its 201 returned until
  its last effect is visible; an effect is seen by polling each service's PostgreSQL database
  directly (cheaper than the HTTP API, and it does not load the gateway) with one batched, indexed
  query per database every 10 ms for all bills still waiting (``= ANY(array)`` on unique keys):
  customers: the bill is counted (``customer_counted_bills``) and both lines are purchases
  (``customer_purchases``); reminders: the reminder of the Metformin purchase
  (``refill_reminders`` by ``(purchase_source, purchase_id)``); contacts (contacted-before bills):
  the contact converted by this bill (``contact_records.conversion_bill_id``); reporting: the bill
  counted (``report_bills``) and, for contacted-before bills, the conversion counted
  (``report_contacts.conversion_bill_id``). The time of an effect is when the query that first
  returned it was sent, so the resolution is one poll cycle (10 ms plus the queries). A bill whose
  effects are not all there once the pipeline has drained is a broken run, and so is a pipeline in
  which nothing moves for 60 s (a backlog that drains slowly only fails the rate).

The RabbitMQ management API is at ``RABBITMQ_MANAGEMENT_URL`` (default http://127.0.0.1:15672,
the AMQP URL's user and password). When it does not answer, the bench enables the plugin on the
local node (``rabbitmq-plugins enable rabbitmq_management``, which stays enabled; it says so on
stderr) and waits for the port. The API refreshes queue figures every 5 s
(``collect_statistics_interval``), so a depth sample may be up to 5 s old: the depth rules look at
thirds of the run, not at single seconds, and the drain is judged from the databases and passive
declares.

``--quick``: 10 s probes, 20 s confirm and latency runs, 1 replica count unless ``--replicas`` says
otherwise (for development; numbers are rough). The processes' logs stay in the directory printed
on stderr; at the end of each stack the bench names the processes that logged errors.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(BENCH_DIR))

from bench_gateway import bill_for, hammer, login, percentile  # noqa: E402

WORKERS = ("customers-worker", "contacts-worker", "reminders-worker", "reporting-worker")
CONSUMERS = tuple(w.split("-", 1)[0] for w in WORKERS)
BILLING, CUSTOMERS = "/services/billing", "/services/customers"
ITEMS_PER_BILL = len(bill_for(0)["items"])
STAFF_PASSWORD = "pipeline-bench-pass-1"
FAILED_SHARE = 0.001  # at most this share of the offered bills may fail
LAG_P99 = 0.5  # s: the client kept the schedule
LAG_ABORT = 3.0  # s behind schedule: the probe stops early
FINAL_BOUND_S = 2.0  # the last depth sample: at most this many seconds worth of events
GROWTH_BOUND_S = 1.0  # last-third mean minus first-third mean: at most this many seconds worth
DRAIN_LIMIT = 5.0  # s after the last bill's answer until everything is there
POLL_INTERVAL = 0.010  # s between effect polls
STATS_REFRESH = 12.0  # s: at most this long for the management API to show drained queues
STALL = 60.0  # s without any progress: the pipeline is stuck (a broken run)
SETTLE_TIMEOUT = 1800.0  # s: how long a backlog may take to drain between runs
STATS_INTERVAL = 5.5  # s: the management API's statistics interval (5 s), and a little


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Broken(RuntimeError):
    """The run cannot be measured: the stack misbehaves (not a missed target)."""


# -- RabbitMQ management API ---------------------------------------------------------------------
class Management:
    def __init__(self, amqp_url: str):
        import pika

        parts = urlsplit(amqp_url)
        self.base = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672").rstrip("/")
        self.auth = (parts.username or "guest", parts.password or "guest")
        self.vhost = pika.URLParameters(amqp_url).virtual_host
        self.session = requests.Session()

    def answers(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return self.session.get(f"{self.base}/api/overview", auth=self.auth, timeout=5).status_code == 200
        return False

    def ensure(self, timeout: float = 90.0) -> None:
        """Enable the management plugin on the local node when the API does not answer."""
        if self.answers():
            return
        tool = shutil.which("rabbitmq-plugins") or "/usr/sbin/rabbitmq-plugins"
        log(f"RabbitMQ management API not answering at {self.base}: enabling it ({tool} enable rabbitmq_management)")
        done = subprocess.run([tool, "enable", "rabbitmq_management"], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise Broken(f"rabbitmq-plugins enable rabbitmq_management failed: {done.stderr.strip() or done.stdout}")
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                raise Broken(f"the management API did not answer at {self.base} within {timeout}s of enabling it")
            time.sleep(0.5)
        log(f"RabbitMQ management plugin enabled; API at {self.base}")

    def queues(self) -> dict[str, dict]:
        """``{queue: {ready, unacked, consumers, published}}`` of the stack's vhost."""
        response = self.session.get(
            f"{self.base}/api/queues/{quote(self.vhost, safe='')}",
            params={"columns": "name,messages_ready,messages_unacknowledged,consumers,message_stats"},
            auth=self.auth,
            timeout=10,
        )
        response.raise_for_status()
        return {
            q["name"]: {
                "ready": q.get("messages_ready") or 0,
                "unacked": q.get("messages_unacknowledged") or 0,
                "consumers": q.get("consumers") or 0,
                "published": (q.get("message_stats") or {}).get("publish") or 0,
            }
            for q in response.json()
        }


def work_queues(queues: dict[str, dict]) -> dict[str, dict]:
    """The consumers' queues (``<service>.events``), without dead-letter queues."""
    return {name: q for name, q in queues.items() if name.endswith(".events")}


# -- the databases ---------------------------------------------------------------------------------
def libpq_url(sqlalchemy_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Databases:
    """One autocommit psycopg connection per service database (not shared between threads)."""

    def __init__(self, stack):
        import psycopg

        self.conns = {s: psycopg.connect(libpq_url(url), autocommit=True) for s, url in stack.database_urls.items()}

    def rows(self, service: str, sql: str, params=()) -> list[tuple]:
        with self.conns[service].cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def one(self, service: str, sql: str, params=()):
        return self.rows(service, sql, params)[0][0]

    def pending_outbox(self) -> dict[str, int]:
        return {s: self.one(s, "SELECT count(*) FROM outbox WHERE status = 'pending'") for s in self.conns}

    def outbox_ids(self) -> int:
        return sum(self.one(s, "SELECT coalesce(max(id), 0) FROM outbox") for s in self.conns)

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


def totals(db: Databases) -> tuple[dict[str, int], dict[str, int]]:
    """(what billing holds, what each consumer shows): equal once the pipeline has drained."""
    bills, converting = db.rows("billing", "SELECT count(*), count(*) FILTER (WHERE was_contacted_before) FROM bills")[
        0
    ]
    items, refills = db.rows(
        "billing", "SELECT count(*), count(*) FILTER (WHERE duration_days IS NOT NULL) FROM bill_items"
    )[0]
    expected = {
        "customers.bills": bills,
        "customers.purchases": items,
        "reminders.reminders": refills,
        "contacts.conversions": converting,
        "reporting.bills": bills,
        "reporting.purchases": items,
        "reporting.reminders": refills,
        "reporting.conversions": converting,
        "outbox.pending": 0,
    }
    shown = {
        "customers.bills": db.one("customers", "SELECT count(*) FROM customer_counted_bills"),
        "customers.purchases": db.one("customers", "SELECT count(*) FROM customer_purchases"),
        "reminders.reminders": db.one("reminders", "SELECT count(*) FROM refill_reminders"),
        "contacts.conversions": db.one(
            "contacts", "SELECT count(*) FROM contact_records WHERE conversion_bill_id IS NOT NULL"
        ),
        "reporting.bills": db.one("reporting", "SELECT count(*) FROM report_bills"),
        "reporting.purchases": db.one("reporting", "SELECT count(*) FROM report_purchases"),
        "reporting.reminders": db.one("reporting", "SELECT count(*) FROM report_refill_reminders"),
        "reporting.conversions": db.one(
            "reporting", "SELECT count(*) FROM report_contacts WHERE conversion_bill_id IS NOT NULL"
        ),
        "outbox.pending": sum(db.pending_outbox().values()),
    }
    return expected, shown


class ReadyCounts:
    """Messages ready in each work queue now (AMQP passive declares: fresh, unlike the management
    API's figures); reconnects when the broker went away."""

    def __init__(self, amqp_url: str):
        self.amqp_url = amqp_url
        self.connection = self.channel = None

    def __call__(self) -> dict[str, int]:
        import pika

        for attempt in range(2):
            try:
                if self.channel is None or not self.channel.is_open:
                    params = pika.URLParameters(self.amqp_url)
                    params.heartbeat = 0  # idle for minutes while the load runs
                    self.connection = pika.BlockingConnection(params)
                    self.channel = self.connection.channel()
                return {
                    f"{c}.events": self.channel.queue_declare(f"{c}.events", passive=True).method.message_count
                    for c in CONSUMERS
                }
            except pika.exceptions.AMQPError:
                self.close()
                if attempt:
                    raise
                time.sleep(1.0)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.connection is not None and self.connection.is_open:
                self.connection.close()
        self.connection = self.channel = None


class NotDrained(Exception):
    """The pipeline is still working through a backlog (it makes progress, slowly)."""


def wait_drained(
    db: Databases, ready: ReadyCounts, timeout: float, since: float | None = None, stall: float = STALL
) -> float:
    """Seconds from ``since`` (default now) until every bill's effects are there, no outbox row is
    pending and no message is ready in a work queue. NotDrained after ``timeout`` while the counts
    still move; Broken when nothing moved for ``stall`` seconds (effects that never appear)."""
    since = time.monotonic() if since is None else since
    deadline = time.monotonic() + timeout
    last, moved = None, time.monotonic()
    while True:
        expected, shown = totals(db)
        shown["queues.ready"] = {q: n for q, n in ready().items() if n}
        expected["queues.ready"] = {}
        if expected == shown:
            return time.monotonic() - since
        now = time.monotonic()
        if shown != last:
            last, moved = shown, now
        behind = {k: (shown[k], expected[k]) for k in expected if shown[k] != expected[k]}
        if now - moved > stall:
            raise Broken(f"the pipeline stalled: nothing moved for {stall:.0f} s (shown, expected): {behind}")
        if now > deadline:
            raise NotDrained(f"not drained within {timeout:.0f} s (shown, expected): {behind}")
        time.sleep(0.1)


# -- the workload -------------------------------------------------------------------------------
@dataclass
class Workload:
    """Bills by number: which phone, whether contacted before (and which contact it converts)."""

    contacts: list[tuple[int, str]]  # (contact id, phone), in order of use
    used: int = 0  # contacts[:used] are taken
    counter: itertools.count = field(default_factory=itertools.count)
    phones: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ran_out: bool = False

    def next_bill(self) -> tuple[dict, int | None]:
        """The next bill's body and the contact it converts (None when not contacted before)."""
        with self.lock:
            n = next(self.counter)
            contact = None
            if n % 4 == 0 and self.used < len(self.contacts):
                contact = self.contacts[self.used]
                self.used += 1
            elif n % 4 == 0:
                self.ran_out = True
            if contact is not None:
                phone = contact[1]
            elif n % 4 == 1 and n - 98 in self.phones:
                phone = self.phones[n - 98]
            else:
                phone = f"+91970{n:07d}"
            self.phones[n] = phone
        body = bill_for(n)
        body["customer_phone"] = phone
        if contact is not None:
            body.update(customer_category="contact_sheet", was_contacted_before=True)
        return body, (contact[0] if contact else None)

    def upcoming_contacts(self, count: int) -> list[int]:
        """The ids of the next ``count`` contacts bills will convert."""
        with self.lock:
            return [c[0] for c in self.contacts[self.used : self.used + count]]


def prepare_contacts(gateway: str, admin_token: str, db: Databases, count: int) -> tuple[str, list[tuple[int, str]]]:
    """A staff member, ``count`` contacts assigned to them (a CSV upload through the gateway); returns
    (staff token, [(contact id, phone)])."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    username = f"bench-{os.getpid()}"
    response = requests.post(
        f"{gateway}/api/v1/staff",
        json={"username": username, "name": "Bench Staff", "password": STAFF_PASSWORD, "role": "staff"},
        headers=headers,
        timeout=30,
    )
    if response.status_code != 201:
        raise Broken(f"creating the staff member failed: {response.status_code} {response.text[:300]}")
    staff_id = response.json()["id"]
    csv = "phone,name\n" + "".join(f"+91960{i:07d},Bench Contact {i}\n" for i in range(count))
    deadline = time.monotonic() + 60
    while True:  # contacts learns of the new staff member through staff.created
        response = requests.post(
            f"{gateway}/api/v1/contacts/uploads",
            files={"file": ("bench.csv", csv.encode(), "text/csv")},
            data={"list_name": "Pipeline bench", "assign_to": str(staff_id)},
            headers=headers,
            timeout=300,
        )
        if response.status_code in (201, 202):
            break
        if response.status_code != 422 or time.monotonic() > deadline:
            raise Broken(f"the contact upload failed: {response.status_code} {response.text[:300]}")
        time.sleep(0.5)
    upload = response.json()
    while upload.get("status") == "processing":
        if time.monotonic() > deadline + 240:
            raise Broken(f"the contact upload is still processing: {upload}")
        time.sleep(0.5)
        upload = requests.get(f"{gateway}/api/v1/contacts/uploads/{upload['id']}", headers=headers, timeout=30).json()
    contacts = db.rows(
        "contacts", "SELECT id, phone FROM contact_records WHERE upload_id = %s ORDER BY id", (upload["id"],)
    )
    if len(contacts) != count:
        raise Broken(f"the upload made {len(contacts)} contacts of {count}: {upload}")
    return login(gateway, username, STAFF_PASSWORD), [tuple(c) for c in contacts]


def log_interactions(gateway: str, staff_token: str, contact_ids: list[int], threads: int) -> None:
    """A call with each contact, by the staff member it is assigned to (pending -> contacted)."""
    headers = {"Authorization": f"Bearer {staff_token}"}

    def call(session, n):
        if n >= len(contact_ids):
            return True
        response = session.post(
            f"{gateway}/api/v1/contacts/{contact_ids[n]}/interactions",
            json={"type": "call", "call_successful": True},
            headers=headers,
            timeout=30,
        )
        return response.status_code == 201

    counter = itertools.count()
    failures = []

    def loop():
        session = requests.Session()
        while (n := next(counter)) < len(contact_ids):
            if not call(session, n):
                failures.append(contact_ids[n])

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise Broken(f"logging interactions failed for {len(failures)} contacts (first: {failures[:5]})")


# -- offered load ----------------------------------------------------------------------------
@dataclass
class Offered:
    rate: float
    seconds: float
    offered: int = 0
    accepted: int = 0
    failures: collections.Counter = field(default_factory=collections.Counter)
    lags: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    last_answer: float = 0.0
    aborted: bool = False

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def accepted_rate(self) -> float:
        elapsed = max(self.seconds, self.last_answer - self.started)
        return self.accepted / elapsed if elapsed > 0 else 0.0


def offer(gateway, token, workload: Workload, rate, seconds, threads, on_accepted=None) -> Offered:
    """Post ``rate × seconds`` bills, bill i due at ``t0 + i / rate`` (open loop)."""
    total = max(1, round(rate * seconds))
    result = Offered(rate, seconds, offered=total)
    counter = itertools.count()
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}
    stop = threading.Event()
    t0 = time.monotonic() + 0.2
    result.started = t0

    def loop():
        session = requests.Session()
        lags, latencies, failures = [], [], collections.Counter()
        accepted, last = 0, 0.0
        while not stop.is_set():
            i = next(counter)
            if i >= total:
                break
            due = t0 + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body, contact_id = workload.next_bill()
            sent = time.monotonic()
            lag = sent - due
            lags.append(lag)
            if lag > LAG_ABORT:
                stop.set()
            try:
                response = session.post(f"{gateway}/api/v1/bills", json=body, headers=headers, timeout=60)
                status = response.status_code
            except requests.RequestException as exc:
                status, response = type(exc).__name__, None
            done = time.monotonic()
            latencies.append(done - sent)
            last = max(last, done)
            if status == 201:
                accepted += 1
                if on_accepted is not None:
                    on_accepted(response.json()["id"], done, contact_id)
            else:
                failures[status] += 1
        with lock:
            result.lags += lags
            result.latencies += latencies
            result.failures.update(failures)
            result.accepted += accepted
            result.last_answer = max(result.last_answer, last)

    pool = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result.aborted = stop.is_set()
    return result


class Sampler:
    """Every second: the work queues' depths (management API) and pending outbox rows (databases)."""

    def __init__(self, management: Management, stack, interval: float = 1.0):
        self.management, self.stack, self.interval = management, stack, interval
        self.samples: list[tuple[float, dict[str, int], int, dict[str, int]]] = []  # t, depths, outbox, per db
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        db = Databases(self.stack)
        try:
            while not self._stop.is_set():
                began = time.monotonic()
                try:
                    queues = work_queues(self.management.queues())
                    outbox = db.pending_outbox()
                    depths = {name: q["ready"] + q["unacked"] for name, q in queues.items()}
                    self.samples.append((began, depths, sum(outbox.values()), outbox))
                except Exception:  # a missed sample is not a broken run
                    self.errors += 1
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - began)))
        finally:
            db.close()

    def window(self, start: float, end: float) -> list[tuple]:
        return [s for s in self.samples if start <= s[0] <= end]


def slope(times: list[float], values: list[float]) -> float:
    """Growth per second from the first third's mean to the last third's (0 with too few samples)."""
    k = len(values) // 3
    if k < 1 or len(values) < 3:
        return 0.0
    span = statistics.fmean(times[-k:]) - statistics.fmean(times[:k])
    return (statistics.fmean(values[-k:]) - statistics.fmean(values[:k])) / span if span > 0 else 0.0


def thirds(values: list[float]) -> tuple[float, float]:
    """Mean of the first and of the last third."""
    if not values:
        return 0.0, 0.0
    k = max(1, len(values) // 3)
    return statistics.fmean(values[:k]), statistics.fmean(values[-k:])


# -- where the CPU goes ----------------------------------------------------------------------
RABBITMQ_PROCESSES = frozenset({"beam.smp", "erl_child_setup", "epmd", "inet_gethost"})


@dataclass
class CpuUse:
    """CPU seconds spent between two ``CpuMeter`` readings, by whom, and the machine's busy share."""

    seconds: float  # wall clock
    busy: float  # CPU seconds the whole machine spent (``/proc/stat``: all but idle and iowait)
    by_owner: dict[str, float]

    def line(self, bills: int) -> str:
        """``cpu_per_bill`` diagnostics: ms of CPU per accepted bill by owner, and the ceiling they imply."""
        cores = os.cpu_count() or 1
        per_bill = {owner: cpu * 1000 / bills for owner, cpu in self.by_owner.items()} if bills else {}
        total = self.busy * 1000 / bills if bills else math.nan
        shown = sorted(per_bill.items(), key=lambda item: -item[1])
        return (
            f"machine busy {100 * self.busy / (self.seconds * cores):.0f}% of {cores} cores over {self.seconds:.0f} s;"
            f" {total:.1f} ms CPU per bill (ceiling at that cost {cores * 1000 / total:.0f} bills/s): "
            + ", ".join(f"{owner} {ms:.1f}" for owner, ms in shown if ms >= 0.05)
        )


class CpuMeter:
    """Reads CPU time from ``/proc`` by owner: each stack process (its session: a gunicorn master
    with its workers; worker replicas summed under their process name), PostgreSQL (every
    ``postgres`` process), RabbitMQ (the Erlang VM), this bench (client threads, samplers, effect
    polls), and the rest. A process that exits between readings takes its CPU time with it, so the
    owners may sum to less than the machine's busy time."""

    def __init__(self, stack):
        self.stack = stack
        self.tick = os.sysconf("SC_CLK_TCK")

    def read(self) -> tuple[float, float, dict[str, float]]:
        sessions = {proc.pid: name.split(".")[0] for name, proc in self.stack.procs.items()}
        owners: dict[str, float] = collections.defaultdict(float)
        me = os.getpid()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    stat = f.read()
            except OSError:
                continue  # exited meanwhile
            comm, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
            session, cpu = int(fields[3]), (int(fields[11]) + int(fields[12])) / self.tick
            if session in sessions:
                owner = sessions[session]
            elif comm == "postgres":
                owner = "postgresql"
            elif comm in RABBITMQ_PROCESSES:
                owner = "rabbitmq"
            elif int(entry.name) == me:
                owner = "bench client"
            else:
                owner = "other"
            owners[owner] += cpu
        with open("/proc/stat") as f:
            ticks = [int(n) for n in f.readline().split()[1:]]
        busy = (sum(ticks[:8]) - ticks[3] - ticks[4]) / self.tick  # user..steal minus idle and iowait
        return time.monotonic(), busy, owners

    @staticmethod
    def since(before: tuple[float, float, dict[str, float]], after: tuple[float, float, dict[str, float]]) -> CpuUse:
        owners = {o: after[2][o] - before[2].get(o, 0.0) for o in after[2]}
        return CpuUse(after[0] - before[0], after[1] - before[1], {o: max(0.0, v) for o, v in owners.items()})


@dataclass
class Verdict:
    rate: float
    run: Offered
    ok: bool
    reasons: list[str]
    depth_first: float
    depth_last: float
    depth_final: float
    depth_bound: float
    outbox_first: float
    outbox_last: float
    outbox_final: float
    outbox_bound: float
    drain: float | None
    per_queue: dict[str, tuple[int, int]]  # max, final during the run
    per_outbox: dict[str, int]  # max during the run
    missed_samples: int = 0  # samples the management API or a database did not answer
    limit: tuple[str, float] | None = None  # (queue, bills/s its consumer handled) where a backlog grew
    cpu: CpuUse | None = None  # from the first bill offered until the pipeline drained

    def line(self, label: str) -> str:
        run = self.run
        fails = f"failed {run.failed}" + (f" {dict(run.failures)}" if run.failures else "")
        drain = "not drained" if self.drain is None else f"drained {self.drain:.1f} s"
        return (
            f"probe{label} {self.rate:.1f} bills/s {run.seconds:.0f} s: {'sustained' if self.ok else 'NOT sustained'}"
            f" (accepted {run.accepted_rate:.1f}/s, {fails}, lag p99 {percentile(run.lags, 99) * 1000:.0f} ms,"
            f" accept p50/p99 {percentile(run.latencies, 50) * 1000:.0f}/{percentile(run.latencies, 99) * 1000:.0f} ms;"
            f" queue depth first/last third {self.depth_first:.0f}/{self.depth_last:.0f} final {self.depth_final:.0f}"
            f" bound {self.depth_bound:.0f}; outbox {self.outbox_first:.0f}/{self.outbox_last:.0f}"
            f" final {self.outbox_final:.0f} bound {self.outbox_bound:.0f}; {drain}"
            + (f"; {self.missed_samples} samples missed" if self.missed_samples else "")
            + (f"; {self.limit[0]} handled ~{self.limit[1]:.1f} bills/s" if self.limit else "")
            + ")"
            + (f" -- {'; '.join(self.reasons)}" if self.reasons else "")
        )


@dataclass
class Bench:
    stack: object
    gateway: str
    token: str
    management: Management
    db: Databases
    workload: Workload
    threads: int
    label: str
    ready: ReadyCounts
    events_per_bill: float = 12.0
    queue_events: dict[str, float] = field(default_factory=dict)  # per bill, by queue
    outbox_per_bill: float = 6.0
    drain_timeout: float = 120.0  # after a run; then the next run's settle() waits for the rest

    def settle(self) -> None:
        """Wait until the pipeline has drained and the management API's figures show it (they are
        refreshed every 5 s), so a run's first samples are not the previous run's."""
        try:
            wait_drained(self.db, self.ready, SETTLE_TIMEOUT)
        except NotDrained as exc:
            raise Broken(f"the pipeline is still draining after {SETTLE_TIMEOUT:.0f} s: {exc}") from None
        deadline = time.monotonic() + STATS_REFRESH
        while any(q["ready"] + q["unacked"] for q in work_queues(self.management.queues()).values()):
            if time.monotonic() > deadline:
                log(f"the management API still shows messages {STATS_REFRESH:.0f} s after the drain")
                return
            time.sleep(0.25)

    def run(self, rate: float, seconds: float, on_accepted=None) -> Verdict:
        """Offer ``rate`` for ``seconds`` and judge it (then wait for the drain)."""
        self.settle()
        cpu_meter = CpuMeter(self.stack)
        cpu_before = cpu_meter.read()
        with Sampler(self.management, self.stack) as sampler:
            run = offer(self.gateway, self.token, self.workload, rate, seconds, self.threads, on_accepted)
            ended = max(run.last_answer, time.monotonic() if run.aborted else run.last_answer)
            try:
                drain = wait_drained(self.db, self.ready, self.drain_timeout, since=ended)
            except NotDrained as exc:  # judged below; the next run waits for the rest
                log(f"{self.label} {exc}")
                drain = None
        cpu = CpuMeter.since(cpu_before, cpu_meter.read())
        samples = sampler.window(run.started, ended)
        # Growth is judged after the first statistics interval: before it, the API may still show the
        # idle queues of before the run, and the pipeline ramps up to its steady depth.
        steady = [s for s in samples if s[0] >= run.started + STATS_INTERVAL]
        steady = steady if len(steady) >= 3 else samples
        depth = [sum(s[1].values()) for s in samples]
        outbox = [s[2] for s in samples]
        depth_first, depth_last = thirds([sum(s[1].values()) for s in steady])
        outbox_first, outbox_last = thirds([s[2] for s in steady])
        per_second = rate * self.events_per_bill
        outbox_per_second = rate * self.outbox_per_bill
        reasons = []
        if run.aborted:
            reasons.append(f"client more than {LAG_ABORT:.0f} s behind schedule: stopped early")
        if run.failed > FAILED_SHARE * run.offered:
            reasons.append(f"{run.failed} bills failed")
        if percentile(run.lags, 99) > LAG_P99:
            reasons.append(f"posts late (lag p99 > {LAG_P99 * 1000:.0f} ms)")
        if depth and depth[-1] > FINAL_BOUND_S * per_second:
            reasons.append("queue depth above the bound at the end")
        if depth_last - depth_first > GROWTH_BOUND_S * per_second:
            reasons.append("queue depth grew")
        if outbox and outbox[-1] > FINAL_BOUND_S * outbox_per_second:
            reasons.append("outbox backlog above the bound at the end")
        if outbox_last - outbox_first > GROWTH_BOUND_S * outbox_per_second:
            reasons.append("outbox backlog grew")
        if drain is None:
            reasons.append(f"not drained {self.drain_timeout:.0f} s after the last bill")
        elif drain > DRAIN_LIMIT:
            reasons.append(f"drained in {drain:.1f} s (> {DRAIN_LIMIT:.0f} s)")
        if len(samples) < 3:
            reasons.append(f"only {len(samples)} depth samples")
        queues = sorted({q for s in samples for q in s[1]})
        per_queue = {q: (max(s[1].get(q, 0) for s in samples), samples[-1][1].get(q, 0)) for q in queues}
        services = sorted({d for s in samples for d in s[3]})
        per_outbox = {d: max(s[3].get(d, 0) for s in samples) for d in services}
        # Where a backlog grows, what the queue's consumer handles: the offered bills minus the
        # growth (between the first and the last third) in bills.
        handled = {}
        for q in queues:
            growth = slope([s[0] for s in steady], [s[1].get(q, 0) for s in steady])
            if growth > 0 and self.queue_events.get(q):
                handled[q] = rate - growth / self.queue_events[q]
        verdict = Verdict(
            rate,
            run,
            not reasons,
            reasons,
            depth_first,
            depth_last,
            depth[-1] if depth else math.nan,
            FINAL_BOUND_S * per_second,
            outbox_first,
            outbox_last,
            outbox[-1] if outbox else math.nan,
            FINAL_BOUND_S * outbox_per_second,
            drain,
            per_queue,
            per_outbox,
            sampler.errors,
            min(handled.items(), key=lambda item: item[1]) if handled and reasons else None,
            cpu,
        )
        log(verdict.line(self.label))
        log(f"cpu_per_bill{self.label} at {rate:.1f} bills/s: {cpu.line(run.accepted)}")
        return verdict

    def published(self) -> dict[str, int]:
        """Messages published into each work queue so far, once the statistics caught up."""
        self.settle()
        time.sleep(STATS_INTERVAL)
        return {name: q["published"] for name, q in work_queues(self.management.queues()).items()}

    def calibrate(self, rate: float = 10.0, seconds: float = 5.0) -> None:
        """A warm-up at a low rate; counts the events (per queue) and outbox rows one bill makes."""
        before = self.published()
        outbox_ids = self.db.outbox_ids()
        run = offer(self.gateway, self.token, self.workload, rate, seconds, self.threads)
        if run.accepted == 0:
            raise Broken(f"no bill accepted in the warm-up: {dict(run.failures)}")
        after = self.published()
        self.queue_events = {q: (n - before.get(q, 0)) / run.accepted for q, n in after.items()}
        if sum(self.queue_events.values()) > 0:
            self.events_per_bill = sum(self.queue_events.values())
        self.outbox_per_bill = max(1.0, (self.db.outbox_ids() - outbox_ids) / run.accepted)
        log(
            f"warm-up: {run.accepted} bills, {self.events_per_bill:.1f} queued events ("
            + ", ".join(f"{q} {n:.1f}" for q, n in sorted(self.queue_events.items()))
            + f") and {self.outbox_per_bill:.1f} outbox rows per bill"
        )

    def search(self, start: float, probe_seconds: float, steps: int, ceiling: float) -> tuple[float, list[Verdict]]:
        """The highest rate sustained in short probes: doubling, then bisecting."""
        verdicts = []
        good, bad = 0.0, None
        rate = start
        while rate <= ceiling:
            verdict = self.run(rate, probe_seconds)
            verdicts.append(verdict)
            if not verdict.ok:
                bad = rate
                break
            good, rate = rate, rate * 2
        if good == 0.0:  # even the start rate failed: go down
            rate = start / 2
            while rate >= 1.0:
                verdict = self.run(rate, probe_seconds)
                verdicts.append(verdict)
                if verdict.ok:
                    good = rate
                    break
                bad, rate = rate, rate / 2
            if good == 0.0:
                return 0.0, verdicts
        if bad is not None:
            for _ in range(steps):
                rate = round((good + bad) / 2, 1)
                verdict = self.run(rate, probe_seconds)
                verdicts.append(verdict)
                if verdict.ok:
                    good = rate
                else:
                    bad = rate
        return good, verdicts


# -- effects latency ---------------------------------------------------------------------------
@dataclass
class Followed:
    accepted_at: float
    contact_id: int | None
    purchase_id: str | None = None
    seen: dict[str, float] = field(default_factory=dict)

    def expected(self) -> set[str]:
        base = {"customer", "reminder", "report"}
        return base | ({"conversion", "report_conversion"} if self.contact_id is not None else set())


class EffectTracker:
    """Follows accepted bills until every effect is visible in the owning databases."""

    def __init__(self, stack, interval: float = POLL_INTERVAL):
        self.stack, self.interval = stack, interval
        self.bills: dict[str, Followed] = {}
        self.waiting: dict[str, Followed] = {}
        self.lock = threading.Lock()
        self.polls = 0
        self.busy = 0.0  # seconds spent polling (the cycle's own cost)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def accepted(self, bill_id: int, at: float, contact_id: int | None) -> None:
        with self.lock:
            self.bills[str(bill_id)] = self.waiting[str(bill_id)] = Followed(at, contact_id)

    def start(self) -> EffectTracker:
        self._thread.start()
        return self

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.waiting:
                    break
            time.sleep(0.05)
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        db = Databases(self.stack)
        try:
            while not self._stop.is_set():
                began = time.monotonic()
                if self._poll(db):
                    self.polls += 1
                    self.busy += time.monotonic() - began
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - began)))
        finally:
            db.close()

    def _poll(self, db: Databases) -> bool:
        """One round of queries for the bills still waiting; False when none is."""
        with self.lock:
            waiting = dict(self.waiting)
        if not waiting:
            return False

        def lacking(effect):
            return {b: f for b, f in waiting.items() if effect not in f.seen and effect in f.expected()}

        def mark(bill_id, effect, at):
            followed = waiting[bill_id]
            followed.seen.setdefault(effect, at)
            if followed.expected() <= followed.seen.keys():
                with self.lock:
                    self.waiting.pop(bill_id, None)

        if todo := lacking("customer"):
            at = time.monotonic()
            for bill_id, lines, purchase_id in db.rows(
                "customers",
                "SELECT p.bill_id, count(*), min(p.id) FILTER (WHERE p.duration_days IS NOT NULL)"
                " FROM customer_purchases p WHERE p.source = %s AND p.bill_id = ANY(%s) AND EXISTS"
                " (SELECT 1 FROM customer_counted_bills c WHERE c.source = p.source AND c.bill_id = p.bill_id)"
                " GROUP BY p.bill_id",
                (BILLING, list(todo)),
            ):
                if lines >= ITEMS_PER_BILL:
                    waiting[bill_id].purchase_id = str(purchase_id)
                    mark(bill_id, "customer", at)
        if todo := {f.purchase_id: b for b, f in lacking("reminder").items() if f.purchase_id}:
            at = time.monotonic()
            for (purchase_id,) in db.rows(
                "reminders",
                "SELECT purchase_id FROM refill_reminders WHERE purchase_source = %s AND purchase_id = ANY(%s)",
                (CUSTOMERS, list(todo)),
            ):
                mark(todo[purchase_id], "reminder", at)
        if todo := {f.contact_id: b for b, f in lacking("conversion").items()}:
            at = time.monotonic()
            for contact_id, bill_id in db.rows(
                "contacts",
                "SELECT id, conversion_bill_id FROM contact_records WHERE id = ANY(%s)"
                " AND conversion_bill_id IS NOT NULL",
                (list(todo),),
            ):
                if bill_id == todo[contact_id]:
                    mark(bill_id, "conversion", at)
        if todo := lacking("report"):
            at = time.monotonic()
            for (bill_id,) in db.rows(
                "reporting",
                "SELECT bill_id FROM report_bills WHERE source = %s AND bill_id = ANY(%s)",
                (BILLING, list(todo)),
            ):
                mark(bill_id, "report", at)
        if todo := {str(f.contact_id): b for b, f in lacking("report_conversion").items()}:
            at = time.monotonic()
            for contact_id, bill_id in db.rows(
                "reporting",
                "SELECT contact_id, conversion_bill_id FROM report_contacts WHERE contact_id = ANY(%s)"
                " AND conversion_bill_id IS NOT NULL",
                (list(todo),),
            ):
                if bill_id == todo[contact_id]:
                    mark(bill_id, "report_conversion", at)
        return True


# -- one stack ---------------------------------------------------------------------------------
@dataclass
class Result:
    replicas: int
    baseline: float
    baseline_p99_ms: float
    load: tuple[float, float, float]  # the machine's load average when the baseline was measured
    sustained: float
    confirmed: Verdict | None
    latency: Verdict | None
    effects_ms: list[float]
    per_effect_ms: dict[str, list[float]]
    followed: int
    probes: list[Verdict]
    polls: int
    poll_ms: float  # mean time one round of effect queries took
    log_dir: Path
    contacts_ran_out: bool

    def lines(self) -> list[str]:
        label = f"[replicas={self.replicas}]"
        ratio = self.sustained / self.baseline if self.baseline else math.nan
        out = [
            f"healthz_baseline{label} {self.baseline:.1f} req/s (p99 {self.baseline_p99_ms:.1f} ms; "
            f"load average {self.load[0]:.1f} on {os.cpu_count()} cores)"
        ]
        out += [v.line(label) for v in self.probes]
        out.append(
            f"pipeline_sustained{label} {self.sustained:.1f} bills/s (baseline {self.baseline:.1f}, ratio {ratio:.3f})"
        )
        for name, verdict in (("sustained", self.confirmed), ("latency", self.latency)):
            if verdict is None:
                continue
            queues = ", ".join(f"{q} {m}/{f}" for q, (m, f) in verdict.per_queue.items())
            outbox = ", ".join(f"{s} {m}" for s, m in verdict.per_outbox.items() if m)
            out.append(
                f"queue_depth_{name}{label} at {verdict.rate:.1f} bills/s: max/final per queue: {queues}; "
                f"outbox pending max: {outbox or 'none'}"
            )
            if verdict.cpu is not None:
                out.append(
                    f"cpu_per_bill_{name}{label} at {verdict.rate:.1f} bills/s: {verdict.cpu.line(verdict.run.accepted)}"
                )
        if self.effects_ms:
            out.append(f"bill_to_all_effects_p50{label} {percentile(self.effects_ms, 50):.1f} ms")
            at = self.latency.rate if self.latency else math.nan
            out.append(
                f"bill_to_all_effects_p99{label} {percentile(self.effects_ms, 99):.1f} ms "
                f"(at {at:.1f} bills/s, {self.followed} bills, max {max(self.effects_ms):.1f} ms, "
                f"{self.polls} polls of {max(POLL_INTERVAL * 1000, self.poll_ms):.1f} ms each)"
            )
            out.append(
                f"effects_p50_p99{label} "
                + ", ".join(
                    f"{effect} {percentile(ms, 50):.0f}/{percentile(ms, 99):.0f} ms"
                    for effect, ms in self.per_effect_ms.items()
                )
            )
        if self.confirmed is not None and not self.confirmed.ok:
            out.append(
                f"note{label}: {self.confirmed.rate:.1f} bills/s was not sustained for "
                f"{self.confirmed.run.seconds:.0f} s either ({'; '.join(self.confirmed.reasons)}); "
                "pipeline_sustained is what it accepted"
            )
        if self.contacts_ran_out:
            out.append(f"note{label}: the contact pool ran out; later contacted-before bills were plain bills")
        return out


def wait_consumers(management: Management, replicas: int, timeout: float = 90.0, stack=None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if stack is not None and stack.dead():
            raise Broken(f"processes exited: {stack.dead()}\n{stack.tails(list(stack.dead()))}")
        queues = management.queues()
        short = {c: queues.get(f"{c}.events", {}).get("consumers", 0) for c in CONSUMERS}
        short = {c: n for c, n in short.items() if n < replicas}
        if not short:
            return
        if time.monotonic() > deadline:
            raise Broken(f"consumers missing after {timeout}s (queue: consumers): {short}")
        time.sleep(0.5)


class StartFailed(Broken):
    """The stack did not start (tests/stack.py raised while starting it)."""


def measure_stack(args, replicas: int) -> Result:
    label = f"[replicas={replicas}]"
    for attempt in (1, 2):
        try:
            return _measure_stack(args, replicas)
        except StartFailed as exc:
            # E.g. a port taken between tests.stack.free_port() and the process binding it.
            if attempt == 2:
                raise
            log(f"stack{label} did not start, trying once more: {str(exc).splitlines()[0]}")
    raise AssertionError("unreachable")


def _measure_stack(args, replicas: int) -> Result:
    from tests.stack import ADMIN_PASSWORD, ADMIN_USERNAME, standalone_stack

    label = f"[replicas={replicas}]"
    started = time.monotonic()
    running = standalone_stack(replicas=dict.fromkeys(WORKERS, replicas))
    try:
        stack = running.__enter__()
    except RuntimeError as exc:
        raise StartFailed(str(exc)) from None
    with contextlib.ExitStack() as cleanup:
        cleanup.push(running.__exit__)
        log(f"stack{label} started in {time.monotonic() - started:.0f} s (logs in {stack.log_dir})")
        management = Management(stack.amqp_url)
        wait_consumers(management, replicas, stack=stack)
        gateway = stack.gateway_url
        token = login(gateway, ADMIN_USERNAME, ADMIN_PASSWORD)
        db, ready = Databases(stack), ReadyCounts(stack.amqp_url)
        try:
            staff_token, contacts = prepare_contacts(gateway, token, db, args.contacts)
            log(f"{len(contacts)} contacts uploaded and assigned")
            workload = Workload(contacts)
            bench = Bench(stack, gateway, token, management, db, workload, args.threads, label, ready)
            bench.calibrate()

            hammer(1.0, args.threads, lambda s, n: s.get(f"{gateway}/healthz", timeout=30).status_code == 200)
            base_ok, base_failed, base_lat = hammer(
                args.baseline_seconds,
                args.threads,
                lambda s, n: s.get(f"{gateway}/healthz", timeout=30).status_code == 200,
            )
            baseline = base_ok / args.baseline_seconds
            load = os.getloadavg()
            log(f"healthz_baseline{label} {baseline:.1f} req/s (failed {base_failed})")

            probes: list[Verdict] = []
            confirmed = None
            if args.rate:
                sustained_rate = args.rate
                confirmed = bench.run(args.rate, args.seconds)
                probes.append(confirmed)
                sustained = confirmed.run.accepted_rate
            else:
                best, probes = bench.search(args.start_rate, args.probe_seconds, args.steps, args.ceiling)
                sustained, sustained_rate = 0.0, 0.0
                rate = best
                for _ in range(3):
                    if rate < 1.0:
                        break
                    confirmed = bench.run(rate, args.seconds)
                    probes.append(confirmed)
                    sustained, sustained_rate = confirmed.run.accepted_rate, rate
                    if confirmed.ok:
                        break
                    # Next: 85 % of it, or a little under what the slowest consumer handled.
                    estimate = confirmed.limit[1] * 0.95 if confirmed.limit else math.inf
                    rate = round(max(min(rate * 0.85, estimate), rate * 0.5), 1)
            log(f"pipeline_sustained{label} {sustained:.1f} bills/s (baseline {baseline:.1f})")

            latency, effects_ms, per_effect, followed, polls, poll_ms = None, [], {}, 0, 0, 0.0
            half = (sustained_rate or sustained) / 2
            if half >= 0.5:
                # The contacts of the latency run are contacted first (a call each), as staff would.
                needed = math.ceil(half * args.seconds / 4) + 8
                reserved = workload.upcoming_contacts(needed)
                log_interactions(gateway, staff_token, reserved, args.threads)
                bench.settle()
                tracker = EffectTracker(stack).start()
                latency = bench.run(half, args.seconds, on_accepted=tracker.accepted)
                bench.settle()  # a backlog left by the run drains first (Broken if it stalls)
                tracker.wait(10.0)
                polls = tracker.polls
                poll_ms = tracker.busy / polls * 1000 if polls else 0.0
                if tracker.waiting:
                    missing = collections.Counter(
                        e for f in tracker.waiting.values() for e in f.expected() - f.seen.keys()
                    )
                    raise Broken(
                        f"{len(tracker.waiting)} of {len(tracker.bills)} bills still lack effects after the "
                        f"pipeline drained: {dict(missing)}"
                    )
                followed = len(tracker.bills)
                effects_ms = [(max(f.seen.values()) - f.accepted_at) * 1000 for f in tracker.bills.values()]
                for effect in ("customer", "reminder", "conversion", "report", "report_conversion"):
                    ms = [(f.seen[effect] - f.accepted_at) * 1000 for f in tracker.bills.values() if effect in f.seen]
                    if ms:
                        per_effect[effect] = ms
            dead = stack.dead()
            if dead:
                raise Broken(f"processes exited during the run: {dead}\n{stack.tails(list(dead))}")
            return Result(
                replicas,
                baseline,
                percentile(base_lat, 99) * 1000,
                load,
                sustained,
                confirmed,
                latency,
                effects_ms,
                per_effect,
                followed,
                probes,
                polls,
                poll_ms,
                stack.log_dir,
                workload.ran_out,
            )
        finally:
            db.close()
            ready.close()
            scan_logs(stack, label)


def scan_logs(stack, label: str) -> None:
    """Say which processes logged errors or tracebacks (the logs stay in the stack's directory)."""
    noisy = {}
    for name in stack.commands:
        path = stack.log_path(name)
        if not path.exists():
            continue
        text = path.read_text(errors="replace")
        count = sum(
            1
            for line in text.splitlines()
            if "Traceback" in line or "[ERROR]" in line or '"level": "ERROR"' in line or '"level": "CRITICAL"' in line
        )
        if count:
            noisy[name] = count
    if noisy:
        log(f"processes{label} with errors in their logs ({stack.log_dir}): {noisy}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", default=None, help="comma-separated worker replica counts (default 1,3)")
    parser.add_argument("--seconds", type=float, default=None, help="confirm and latency runs (default 60)")
    parser.add_argument("--probe-seconds", type=float, default=None, help="search probes (default 15)")
    parser.add_argument("--start-rate", type=float, default=16.0, help="first probe's rate (default 16 bills/s)")
    parser.add_argument("--ceiling", type=float, default=2000.0, help="the search stops doubling here")
    parser.add_argument("--steps", type=int, default=None, help="bisection steps (default 3)")
    parser.add_argument("--rate", type=float, help="skip the search: confirm this rate and measure at half of it")
    parser.add_argument("--threads", type=int, default=16, help="client threads (offered load and baseline)")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--contacts", type=int, default=None, help="contacts uploaded (default 30000)")
    parser.add_argument("--quick", action="store_true", help="short runs while developing (rough numbers)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    args.probe_seconds = args.probe_seconds or (10.0 if args.quick else 15.0)
    args.steps = args.steps if args.steps is not None else (2 if args.quick else 3)
    args.contacts = args.contacts or (10_000 if args.quick else 30_000)
    counts = [int(n) for n in (args.replicas or ("1" if args.quick else "1,3")).split(",") if n.strip()]

    from shared.testing import DEFAULT_AMQP

    try:
        Management(os.environ.get("TEST_AMQP_URL", DEFAULT_AMQP)).ensure()
    except Broken as exc:
        print(f"broken run: {exc}", file=sys.stderr)
        return 1
    results, status = [], 0
    for replicas in counts:
        began = time.monotonic()
        try:
            result = measure_stack(args, replicas)
        except Broken as exc:
            print(f"broken run[replicas={replicas}]: {exc}", file=sys.stderr)
            print(f"pipeline_sustained[replicas={replicas}] broken run: {str(exc).splitlines()[0]}")
            status = 1
            continue
        for line in result.lines():
            print(line, flush=True)
        print(f"run_time[replicas={replicas}] {time.monotonic() - began:.0f} s", flush=True)
        results.append(result)
    if len(results) > 1:
        print("== summary")
        for result in results:
            lines = result.lines()
            print(next(line for line in lines if line.startswith("pipeline_sustained")))
            for line in lines:
                if line.startswith("bill_to_all_effects_p99"):
                    print(line)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
