"""Fault injection: RabbitMQ restarted while 200 bills are flowing (TARGETS.md, Reliability).

Every process must reconnect by itself, and after the drain every bill has exactly one effect:
each customer's visits equal the bills posted for it, every consumer of ``bill.created`` recorded
each of billing's events once, no outbox row is left pending, nothing new was dead-lettered.

This restarts the machine's RabbitMQ node (``rabbitmqctl stop_app``/``start_app``), which every
vhost shares: deselect it with ``-m 'not broker_restart'`` when other suites use the broker.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.testing import eventually

from .conftest import Client, bill_body, new_phone, requires
from .e2e_helpers import MessagingState, assert_each_bill_once
from .stack import restart_broker, wait_consumers

pytestmark = [pytest.mark.e2e, pytest.mark.broker_restart, pytest.mark.timeout(600)]

BILLS = 200
CUSTOMERS = 40  # 5 bills each
RECONNECT_WITHIN = 30.0
DRAIN_WITHIN = 180.0


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(stack, admin):
    requires(stack, "gateway", "billing", "customers")
    phones = [new_phone() for _ in range(CUSTOMERS)]
    snapshot = MessagingState(stack)
    dead_before = snapshot.dead_letters()  # other tests of the session may have dead-lettered on purpose
    snapshot.dispose()
    plan = [phones[i % CUSTOMERS] for i in range(BILLS)]
    statuses: list[int] = []
    posted = threading.Event()
    lock = threading.Lock()
    local = threading.local()  # one HTTP session per posting thread

    def post(phone: str) -> None:
        try:
            if not hasattr(local, "client"):
                local.client = Client(admin.base_url, admin.session.headers["Authorization"].split()[1])
            response = local.client.post("/api/v1/bills", json=bill_body(phone), timeout=60)
        except Exception as exc:
            print("bill failed:", repr(exc))
            with lock:
                statuses.append(-1)
            return
        with lock:
            statuses.append(response.status_code)
        if response.status_code != 201:
            print("bill refused:", response.status_code, response.text[:300])

    def stream() -> None:
        # ~4 bills in flight, paced so the stream spans the restart.
        with ThreadPoolExecutor(max_workers=4) as pool:
            for phone in plan:
                pool.submit(post, phone)
                time.sleep(0.05)
        posted.set()

    producer = threading.Thread(target=stream, daemon=True)
    producer.start()
    eventually(lambda: len(statuses) >= BILLS // 4, timeout=60, message="first quarter of the bills posted")
    before = len(statuses)
    restart_broker(stack.amqp_url, down_seconds=5)
    back = time.monotonic()
    print(f"broker restarted after {before} bills; {len(statuses) - before} more posted while it was away")
    producer.join(timeout=300)
    assert posted.is_set(), "the bill stream did not finish"
    assert before < BILLS, "the stream ended before the broker went away"
    assert statuses.count(201) == BILLS, f"bills not accepted: {sorted(set(statuses))}"

    consumers = sorted({n.split("-")[0] for n in stack.commands if n.endswith("-worker")})
    wait_consumers(stack.amqp_url, consumers, timeout=RECONNECT_WITHIN, stack=stack)
    print(f"every worker consuming again {time.monotonic() - back:.1f}s after the broker came back")
    assert not stack.dead(), f"processes died: {stack.dead()}"

    assert_each_bill_once(stack, admin, plan, dead_before, timeout=DRAIN_WITHIN)
