"""End to end: Prometheus metrics of the real processes (README "Metrics").

Billing alone (its databases and vhost, like test_harness.py) checks gunicorn's multiprocess mode:
a scrape sums the requests of every worker, those of workers that have since exited included, and
the relay serves its metrics on its METRICS_PORT. The session's stack checks that every relay and
worker of every service serves its port and that a consumer counts the events it handled.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from shared.testing import Probe, VhostAdmin, _with_vhost, auth_headers, eventually

from .conftest import bill_body, new_phone, requires
from .stack import Stack, is_http, service_of

pytestmark = pytest.mark.e2e
BILL_ROUTE = "/api/v1/bills/<int:bill_id>"


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` of one scrape."""
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def sample(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def gunicorn_workers(master: int) -> set[int]:
    """The pids of the processes whose parent is ``master``."""
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == master:
                children.add(int(entry))
    return children


@pytest.fixture(scope="module")
def billing(databases, amqp_server_url, tmp_path_factory):
    """billing-api (gunicorn, 2 workers) and billing-relay on databases and a vhost of their own."""
    vhosts = VhostAdmin(amqp_server_url)
    vhost = f"metrics-{uuid.uuid4().hex[:8]}"
    vhosts.add(vhost)
    url = databases.create("metrics_billing", service="billing")
    stack = Stack(
        {"billing": url},
        _with_vhost(amqp_server_url, vhost),
        tmp_path_factory.mktemp("metrics-logs"),
        services=("billing",),
        extra_env={"WEB_CONCURRENCY": "2"},
    )
    try:
        stack.start()
        stack.wait_ready(timeout=60)
        yield stack
    except BaseException:
        print(stack.tails())
        raise
    finally:
        stack.stop()
        vhosts.delete(vhost)


def test_a_scrape_sums_the_requests_of_every_gunicorn_worker_even_exited_ones(billing):
    base = billing.url("billing")
    headers = auth_headers()

    def bills_404() -> float:
        found = scrape(base + "/metrics")
        labels = {"service": "billing", "method": "GET", "route": BILL_ROUTE}
        return sample(found, "pharmacy_http_requests_total", status="404", **labels) or 0.0

    def missing_bills(count: int, first: int) -> None:
        for bill_id in range(first, first + count):
            # A new connection each time, so either worker may take it.
            answer = requests.get(f"{base}/api/v1/bills/{bill_id}", headers=headers, timeout=30)
            assert answer.status_code == 404, answer.text

    before = bills_404()
    missing_bills(15, 900_000)
    master = billing.procs["billing-api"].pid
    old = gunicorn_workers(master)
    assert len(old) == 2, old
    # Every worker that served those requests exits; gunicorn starts two new ones. Their samples
    # stay in the multiprocess directory, so the new workers' scrapes still count them.
    for pid in old:
        os.kill(pid, signal.SIGTERM)

    def replaced() -> bool:
        now = gunicorn_workers(master)
        try:
            return len(now) == 2 and not now & old and requests.get(base + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False  # a worker still starting

    eventually(replaced, timeout=60, message="gunicorn replaced both workers")
    missing_bills(10, 900_100)
    for _ in range(6):  # whichever worker answers the scrape
        assert bills_404() - before == 25

    found = scrape(base + "/metrics")
    count = sample(
        found, "pharmacy_http_request_duration_seconds_count", service="billing", method="GET", route=BILL_ROUTE
    )
    assert count is not None and count >= 25
    assert not any(dict(labels).get("route", "").startswith("/api/v1/bills/9") for _name, labels in found)
    assert sample(found, "pharmacy_outbox_pending_events", service="billing") is not None
    assert sample(found, "pharmacy_outbox_oldest_pending_age_seconds", service="billing") is not None


def test_the_relay_serves_its_metrics_port_and_counts_what_it_published(billing):
    relay = billing.metrics_url("billing-relay")
    found = scrape(relay)
    assert sample(found, "pharmacy_outbox_pending_events", service="billing") == 0
    assert any(name.startswith("process_") for name, _labels in found)

    probe = Probe(billing.amqp_url, ["bill.created"])  # a queue bound, so the event is routable
    try:
        answer = requests.post(
            billing.url("billing") + "/api/v1/bills", headers=auth_headers(), json=bill_body(new_phone()), timeout=10
        )
        assert answer.status_code == 201, answer.text

        def published() -> float:
            value = sample(scrape(relay), "pharmacy_events_published_total", service="billing", type="bill.created")
            assert value, "no bill.created counted yet"
            return value

        assert eventually(published, timeout=30, message="the relay counted the bill.created it published") == 1
        ((_properties, event),) = probe.messages(1)
        assert event["type"] == "bill.created"
    finally:
        probe.close()
    after = scrape(billing.url("billing") + "/metrics")
    assert sample(after, "pharmacy_outbox_pending_events", service="billing") == 0
    assert sample(after, "pharmacy_outbox_oldest_pending_age_seconds", service="billing") == 0


# -- the session's stack: every process type of every service ------------------------------------
def test_every_relay_and_worker_serves_metrics_on_a_port_of_its_own(stack):
    background = [name for name, command in stack.commands.items() if not is_http(command)]
    assert background and set(background) <= set(stack.metrics_ports)
    assert len({stack.metrics_ports[name] for name in background}) == len(background)
    for name in background:
        found = scrape(stack.metrics_url(name))
        assert sample(found, "pharmacy_outbox_pending_events", service=service_of(name)) is not None, name
    for service in stack.services:
        found = scrape(stack.url(service) + "/metrics")
        assert sample(found, "pharmacy_outbox_pending_events", service=service) is not None, service


def test_a_consumer_counts_the_events_it_handled(stack, admin):
    requires(stack, "gateway", "billing", "customers")
    worker = stack.metrics_url("customers-worker")

    def consumed() -> float:
        found = scrape(worker)
        return sample(found, "pharmacy_events_consumed_total", consumer="customers", type="bill.created") or 0.0

    before = consumed()
    answer = admin.post("/api/v1/bills", json=bill_body(new_phone()))
    assert answer.status_code == 201, answer.text
    deadline = time.monotonic() + 30
    while consumed() < before + 1:
        assert time.monotonic() < deadline, "customers-worker counted no bill.created"
        time.sleep(0.2)
    found = scrape(worker)
    handled = sample(found, "pharmacy_handler_duration_seconds_count", consumer="customers", type="bill.created")
    assert handled is not None and handled >= 1
    assert any(name == "pharmacy_consumer_batch_size_count" for name, _labels in found)
