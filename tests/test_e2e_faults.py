"""Fault injection against the real processes of the stack (TARGETS.md, Reliability).

"Nothing lost, nothing doubled" after every fault: each customer's ``total_visits`` equals the bills
posted for its phone (purchases and totals likewise), every consumer of ``bill.created`` recorded
each of billing's events once in its inbox, no outbox row is left pending, nothing new was
dead-lettered. Faults:

- the customers worker killed with SIGKILL (twice) while bills are flowing, then restarted;
- the billing relay killed with SIGKILL after publishing a batch and before marking it sent
  (held there by a table lock), then restarted: the batch is published again;
- bill.created events delivered 2-5 times each in shuffled order, against the same bills
  delivered once in order;
- the customers database refusing connections for ~15 s while bills are posted.

Every test puts the stack back as it found it (processes restarted, connections allowed again).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import random
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from shared.envelope import make_event, to_json
from shared.testing import Probe, eventually, publish_raw

from .conftest import Client, bill_body, new_phone, requires
from .e2e_helpers import (
    BILL_CONSUMERS,
    MessagingState,
    assert_each_bill_once,
    customer_by_phone,
    dead_letter_snapshot,
    money,
    purchases_of,
)
from .stack import queue_stats

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

DRAIN_WITHIN = 60.0


# -- helpers ------------------------------------------------------------------------------------
class BillStream:
    """Posts bills for ``plan`` (one phone per bill) in the background: a few in flight, paced."""

    def __init__(self, admin: Client, plan: list[str], pace: float = 0.05, workers: int = 4):
        self.token = admin.session.headers["Authorization"].split()[1]
        self.base_url = admin.base_url
        self.plan = plan
        self.pace = pace
        self.workers = workers
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        self.local = threading.local()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _post(self, phone: str) -> None:
        try:
            if not hasattr(self.local, "client"):
                self.local.client = Client(self.base_url, self.token)
            status = self.local.client.post("/api/v1/bills", json=bill_body(phone), timeout=60).status_code
        except Exception as exc:
            print("bill failed:", repr(exc))
            status = -1
        with self.lock:
            self.statuses.append(status)

    def _run(self) -> None:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for phone in self.plan:
                pool.submit(self._post, phone)
                time.sleep(self.pace)
        self.done.set()

    def start(self) -> BillStream:
        self.thread.start()
        return self

    @property
    def posted(self) -> int:
        return len(self.statuses)

    def wait_posted(self, count: int, timeout: float = 30.0) -> None:
        eventually(lambda: self.posted >= count, timeout=timeout, interval=0.02, message=f"{count} bills posted")

    def finish(self, timeout: float = 60.0) -> None:
        self.thread.join(timeout=timeout)
        assert self.done.is_set(), f"the bill stream did not finish within {timeout}s ({self.posted} posted)"
        refused = collections.Counter(s for s in self.statuses if s != 201)
        assert not refused and len(self.statuses) == len(self.plan), f"bills not accepted: {dict(refused)}"


def plan_for(customers: int, bills: int) -> tuple[list[str], list[str]]:
    """``customers`` new phones and a plan of ``bills`` bills spread evenly over them."""
    phones = [new_phone() for _ in range(customers)]
    return phones, [phones[i % customers] for i in range(bills)]


def log_size(stack, name: str) -> int:
    path = stack.log_path(name)
    return path.stat().st_size if path.exists() else 0


def log_since(stack, name: str, offset: int) -> str:
    with open(stack.log_path(name), "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def assert_healthy(stack) -> None:
    assert not stack.dead(), f"processes exited: {stack.dead()}\n{stack.tails(list(stack.dead()), lines=30)}"


# -- consumer kill -9 -------------------------------------------------------------------------------
def _wait_blocked_on_lock(engine, database: str, query_prefix: str, what: str, timeout: float = 20.0) -> None:
    """Until a backend of ``database`` running a query starting with ``query_prefix`` waits on a lock."""

    def blocked():
        with engine.connect() as conn:
            return conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock' "
                    "AND query ILIKE :prefix"
                ),
                {"db": database, "prefix": query_prefix + "%"},
            )

    eventually(blocked, timeout=timeout, interval=0.05, message=what)


def test_consumer_killed_mid_stream_applies_every_bill_once(stack, admin, pg_admin_url):
    """SIGKILL the customers worker three times while 120 bills flow, restarting it each time: twice
    wherever it happens to be (handling, between commit and ack, idle), once surely before its commit
    (held on a row lock of a customer, its inbox row written, not committed). Redelivered, every bill
    counts once."""
    requires(stack, "gateway", "billing", "customers")
    worker = "customers-worker"
    dead_before = dead_letter_snapshot(stack)
    phones, plan = plan_for(customers=20, bills=120)
    held = phones[0]
    customers_url = stack.database_urls["customers"]
    customers = create_engine(customers_url)
    watcher = create_engine(pg_admin_url)
    offset = log_size(stack, worker)
    # The held customer exists before the stream, so its row can be locked.
    assert admin.post("/api/v1/bills", json=bill_body(held)).status_code == 201
    eventually(lambda: customer_by_phone(admin, held), timeout=30, message="the held customer created")
    stream = BillStream(admin, plan, pace=0.08).start()
    lock_conn = None
    try:
        stream.wait_posted(20)
        assert stack.kill(worker) == -signal.SIGKILL
        print(f"{worker} killed after {stream.posted} bills")
        time.sleep(0.5)
        stack.restart(worker)

        # Before the commit, for sure: the worker waits on the held customer's row inside its transaction
        # (its upsert of the profile, which locks the row).
        lock_conn = customers.connect()
        lock_conn.execute(text("SELECT id FROM customers WHERE phone = :p FOR UPDATE"), {"p": held})
        assert admin.post("/api/v1/bills", json=bill_body(held)).status_code == 201
        _wait_blocked_on_lock(
            watcher, make_url(customers_url).database, "INSERT INTO customers", "the worker waiting on the row"
        )
        assert stack.kill(worker) == -signal.SIGKILL
        lock_conn.rollback()
        lock_conn.close()
        lock_conn = None
        print(f"{worker} killed before its commit after {stream.posted} bills")
        stack.restart(worker)

        if not stream.done.is_set():
            assert stack.kill(worker) == -signal.SIGKILL
            print(f"{worker} killed after {stream.posted} bills")
            time.sleep(0.5)
            stack.restart(worker)
        stream.finish()
    finally:
        if lock_conn is not None:
            lock_conn.rollback()
            lock_conn.close()
        if stack.procs[worker].poll() is not None:
            stack.restart(worker)
        customers.dispose()
        watcher.dispose()
    assert_each_bill_once(stack, admin, [*plan, held, held], dead_before)
    assert_healthy(stack)
    duplicates = log_since(stack, worker, offset).count("duplicate event ignored")
    print(f"{worker}: {duplicates} redelivered duplicates ignored by the inbox")


# -- relay kill -9 after publish, before marking sent ------------------------------------------------
def _lock_outbox_with_rows_pending(stack, relay: str, billing) -> object:
    """A connection holding a SHARE lock on billing's outbox while some rows are pending.

    The relay is paused (SIGSTOP) while rows pile up and the lock is taken, and resumed after. It
    may have been paused inside its own UPDATE (its transaction then holds the table in a mode the
    lock waits for), so the lock is tried with a short timeout and the pause begun again if needed.
    """

    def some_pending():
        with billing.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM outbox WHERE status = 'pending'")) >= 3

    for _ in range(20):
        stack.signal(relay, signal.SIGSTOP)  # rows pile up in the outbox meanwhile
        try:
            eventually(some_pending, timeout=15, interval=0.05, message="pending outbox rows")
            conn = billing.connect()
            try:
                conn.execute(text("SET LOCAL lock_timeout = '500ms'"))
                conn.execute(text("LOCK TABLE outbox IN SHARE MODE"))  # new bills wait too, briefly
                return conn
            except OperationalError:
                conn.rollback()
                conn.close()
        finally:
            stack.signal(relay, signal.SIGCONT)
        time.sleep(0.2)
    raise AssertionError("could not lock billing's outbox with rows pending")


def test_relay_killed_after_publish_before_marking_sent_duplicates_nothing(stack, admin, pg_admin_url):
    """While bills flow, hold billing's relay between "published and confirmed" and "marked sent":
    a SHARE lock on the outbox lets it claim and publish a batch but blocks its UPDATE; SIGKILL it
    there, release the lock, restart it. The batch is published a second time (seen on a queue of
    the test's own) and every consumer's inbox swallows the copies."""
    requires(stack, "gateway", "billing", "customers")
    relay = "billing-relay"
    dead_before = dead_letter_snapshot(stack)
    phones, plan = plan_for(customers=15, bills=60)
    billing_url = stack.database_urls["billing"]
    billing_db = make_url(billing_url).database
    billing = create_engine(billing_url)
    watcher = create_engine(pg_admin_url)
    probe = Probe(stack.amqp_url, ["bill.created"])
    stream = BillStream(admin, plan, pace=0.05).start()
    lock_conn = None
    try:
        stream.wait_posted(20)
        lock_conn = _lock_outbox_with_rows_pending(stack, relay, billing)
        _wait_blocked_on_lock(watcher, billing_db, "UPDATE outbox", "the relay waiting to mark its batch sent")
        status = stack.kill(relay, signal.SIGKILL)
        assert status == -signal.SIGKILL, f"{relay} not killed: {status}"
        lock_conn.rollback()
        lock_conn.close()
        lock_conn = None
        print(f"{relay} killed before marking its batch sent, after {stream.posted} bills")
        stack.restart(relay)
        stream.finish()
    finally:
        if lock_conn is not None:
            lock_conn.rollback()
            lock_conn.close()
        if stack.procs[relay].poll() is not None:
            stack.restart(relay)
        billing.dispose()
        watcher.dispose()

    try:
        assert_each_bill_once(stack, admin, plan, dead_before)
        # The fault really happened: some of these bills' events went out twice.
        ours = set(phones)
        seen = collections.Counter()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            method, _props, body = probe.channel.basic_get(probe.queue, auto_ack=True)
            if method is None:
                if len(seen) >= len(plan):
                    break
                probe.connection.sleep(0.1)
                continue
            event = json.loads(body)
            if event["data"]["customer_phone"] in ours:
                seen[event["id"]] += 1
        assert len(seen) == len(plan), f"the probe saw {len(seen)} of {len(plan)} events"
        republished = sum(1 for n in seen.values() if n > 1)
        print(f"{republished} of {len(plan)} bill.created events published more than once")
        assert republished >= 1, "no event was published twice: the relay was not killed inside its window"
    finally:
        probe.close()
    assert_healthy(stack)


# -- every event 2-5 times, shuffled ------------------------------------------------------------------
def _bills_for(phone: str, first_id: int, today: dt.date) -> list[dict]:
    """Four bills of one customer on distinct days, each with its own category and items."""
    categories = ["first_time_prescription", "regular_branded", "generic_informed", "regular_branded"]
    bills = []
    for n, days_ago in enumerate((20, 12, 6, 1)):
        bill_id = first_id + n
        items = [
            {
                "line_id": bill_id * 10 + k,
                "medicine_name": medicine,
                "is_generic": k == 1,
                "quantity": k + 1,
                "amount": f"{amount:.2f}",
                "duration_days": duration,
            }
            for k, (medicine, amount, duration) in enumerate(
                [("Metformin 500", 120.5 + n, 30), ("Atorvastatin 10", 75.25 * (n + 1), 10 + n)][: 1 + n % 2]
            )
        ]
        total = sum(Decimal(i["amount"]) for i in items)
        bills.append(
            {
                "bill_id": bill_id,
                "bill_number": f"E2E-{bill_id}",
                "bill_date": (today - dt.timedelta(days=days_ago)).isoformat(),
                "customer_phone": phone,
                "customer_name": "Kavya Iyer",
                "customer_category": categories[n],
                "was_contacted_before": False,
                "visited_no_purchase": False,
                "total_amount": f"{total:.2f}",
                "items": items,
                "created_by": None,
            }
        )
    return bills


_COMPARED = (
    "name",
    "category",
    "total_visits",
    "total_purchases",
    "first_visit_date",
    "last_visit_date",
    "prefers_generic",
    "contact_record_id",
)
_PURCHASE_KEYS = (
    "purchase_date",
    "medicine_name",
    "is_generic",
    "quantity",
    "amount",
    "duration_days",
    "refill_due_date",
)


def _state_of(admin, phone: str) -> tuple[dict, list]:
    customer = customer_by_phone(admin, phone)
    assert customer is not None, phone
    purchases = sorted(tuple(str(p.get(k)) for k in _PURCHASE_KEYS) for p in purchases_of(admin, customer["id"]))
    return {k: customer.get(k) for k in _COMPARED}, purchases


def test_events_delivered_two_to_five_times_shuffled_end_as_one_delivery(stack, admin):
    """The same bills for two sets of new customers, from a point of sale of the test's own: once and
    in order for the reference set, 2-5 copies each in shuffled order for the other. Both sets end
    in the same profiles and purchases, and each event is in each consumer's inbox once."""
    requires(stack, "gateway", "customers")
    dead_before = dead_letter_snapshot(stack)
    source = f"/integrations/e2e-faults-{uuid.uuid4().hex[:8]}"
    today = dt.date.today()
    customers = 8
    reference_phones = [new_phone() for _ in range(customers)]
    shuffled_phones = [new_phone() for _ in range(customers)]
    reference, shuffled = [], []
    for i in range(customers):
        for kind, phones, out in (("r", reference_phones, reference), ("s", shuffled_phones, shuffled)):
            first_id = 1000 + i * 10 + (0 if kind == "r" else 500)
            out += [
                make_event("bill.created", bill, source=source, subject=f"bills/{bill['bill_id']}")
                for bill in _bills_for(phones[i], first_id, today)
            ]

    # Once, in order (bill dates ascending per customer, as a till sends them).
    for event in reference:
        publish_raw(stack.amqp_url, "bill.created", to_json(event), message_id=event["id"])
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    copies = [event for event in shuffled for _ in range(rng.randint(2, 5))]
    rng.shuffle(copies)
    print(f"seed {seed}: {len(shuffled)} events published {len(copies)} times, shuffled")
    for event in copies:
        publish_raw(stack.amqp_url, "bill.created", to_json(event), message_id=event["id"])

    def all_counted():
        for phone in reference_phones + shuffled_phones:
            customer = customer_by_phone(admin, phone)
            assert customer and customer["total_visits"] == 4, (phone, customer and customer["total_visits"])
        return True

    eventually(all_counted, timeout=DRAIN_WITHIN, interval=0.5, message="every customer's four bills counted")

    state = MessagingState(stack)
    try:

        def drained():
            assert not state.pending_outbox(), state.pending_outbox()
            for service in (s for s in BILL_CONSUMERS if f"{s}-worker" in stack.commands):
                seen = state.inbox(service, "bill.created", source)
                assert seen == len(reference) + len(shuffled), f"{service} recorded {seen} events of {source}"
            return True

        eventually(drained, timeout=30, interval=0.25, message="every consumer recorded each event once")
        # Each copy was taken and dropped, not parked: queues empty, nothing dead-lettered.
        eventually(
            lambda: all(s["messages"] == 0 for q, s in queue_stats(stack.amqp_url).items() if q.endswith(".events")),
            timeout=30,
            interval=0.5,
            message="queues drained",
        )
        assert state.dead_letters() == dead_before, f"new dead letters: {state.dead_letters()} (before: {dead_before})"
    finally:
        state.dispose()

    for i in range(customers):
        expected_profile, expected_purchases = _state_of(admin, reference_phones[i])
        profile, purchases = _state_of(admin, shuffled_phones[i])
        assert profile == expected_profile, f"customer {i}: shuffled {profile} != in order {expected_profile}"
        assert purchases == expected_purchases, f"customer {i}: purchases differ"
    # And the in-order reference is what the bills say.
    bills = [e["data"] for e in reference if e["data"]["customer_phone"] == reference_phones[0]]
    profile, purchases = _state_of(admin, reference_phones[0])
    assert money(profile["total_purchases"]) == sum(Decimal(b["total_amount"]) for b in bills)
    assert profile["first_visit_date"] == bills[0]["bill_date"] and profile["last_visit_date"] == bills[-1]["bill_date"]
    assert profile["category"] == bills[-1]["customer_category"]  # the most recent bill's (API.md, Customers)
    assert len(purchases) == sum(len(b["items"]) for b in bills)
    assert_healthy(stack)


# -- the consuming service's database down --------------------------------------------------------
OUTAGE_SECONDS = 15.0  # TARGETS says "a minute"; 15 s exercises the same pause/resume path, faster


@contextlib.contextmanager
def database_refusing_connections(admin_url: str, database: str):
    """``database`` takes no new connections and loses its current ones for the block (the same
    PostgreSQL serves every service, so only this database goes away)."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"), {"db": database}
            )
        yield
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        engine.dispose()


def test_consumer_database_down_pauses_then_catches_up(stack, admin, pg_admin_url):
    """customers' database refuses connections for ~15 s while bills are posted (to billing only:
    the customers API is down too meanwhile). The worker pauses on its message instead of burning
    the delivery limit (nothing dead-lettered, nothing in the DLQ), then catches up: each bill once."""
    requires(stack, "gateway", "billing", "customers")
    worker = "customers-worker"
    dead_before = dead_letter_snapshot(stack)
    customers_db = make_url(stack.database_urls["customers"]).database
    _phones, plan = plan_for(customers=10, bills=40)
    offset = log_size(stack, worker)

    # Up and working before the outage.
    warmup = new_phone()
    assert admin.post("/api/v1/bills", json=bill_body(warmup)).status_code == 201
    eventually(lambda: customer_by_phone(admin, warmup), timeout=30, message="a bill processed before the outage")

    with database_refusing_connections(pg_admin_url, customers_db):
        started = time.monotonic()
        stream = BillStream(admin, plan, pace=(OUTAGE_SECONDS - 3) / len(plan), workers=4).start()
        stream.finish(timeout=OUTAGE_SECONDS + 30)
        # Hold the outage for its full length, then look at the broker while it lasts.
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
        stats = queue_stats(stack.amqp_url)
        waiting = stats.get("customers.events", {}).get("messages", 0)
        assert stats.get("customers.events.dlq", {}).get("messages", 0) == 0, stats
        assert waiting > 0, f"customers' queue is empty during the outage: {stats}"
        assert_healthy(stack)
        print(f"outage of {time.monotonic() - started:.1f}s: {waiting} messages waiting for customers")

    assert_each_bill_once(stack, admin, [warmup, *plan], dead_before)
    assert "database unavailable, pausing" in log_since(stack, worker, offset), "the worker never paused"
    absent = new_phone()
    eventually(lambda: customer_by_phone(admin, absent) is None, timeout=30, message="customers API back")
    assert_healthy(stack)
