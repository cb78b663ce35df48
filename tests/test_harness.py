"""The e2e harness itself: Procfile processes start, answer, relay, and stop without leftovers.

Runs billing alone (its own databases and vhost), so it checks the harness independently of the
other services.
"""

from __future__ import annotations

import signal
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from shared.testing import Probe, VhostAdmin, _with_vhost, eventually, token_for

from .stack import Stack, group_alive, metrics_port_variable, parse_procfile, service_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_vhost(amqp_server_url):
    """A vhost apart from the session's, so this bill reaches no consumer of the e2e stack."""
    admin = VhostAdmin(amqp_server_url)
    vhost = f"harness-{uuid.uuid4().hex[:8]}"
    admin.add(vhost)
    yield _with_vhost(amqp_server_url, vhost)
    admin.delete(vhost)


def test_billing_processes_start_serve_relay_and_stop(databases, own_vhost, tmp_path):
    url = databases.create("harness_billing", service="billing")
    stack = Stack({"billing": url}, own_vhost, tmp_path, services=("billing",))
    assert set(stack.commands) == {"billing-api", "billing-relay"}
    probe = Probe(own_vhost, ["bill.created"])
    try:
        stack.start()
        stack.wait_ready(timeout=60)
        base = stack.url("billing")
        assert requests.get(base + "/api/v1/bills", timeout=10).status_code == 401
        headers = {"Authorization": f"Bearer {token_for('admin', 1)}"}
        response = requests.post(
            base + "/api/v1/bills",
            headers=headers,
            timeout=10,
            json={
                "customer_phone": "98765 43210",
                "customer_category": "regular_branded",
                "items": [{"medicine_name": "Metformin 500", "quantity": 1, "amount": "10.00"}],
            },
        )
        assert response.status_code == 201, response.text
        engine = create_engine(url)
        try:

            def relayed():
                with engine.connect() as conn:
                    rows = conn.execute(text("SELECT status FROM outbox")).scalars().all()
                assert rows == ["sent"], rows
                return True

            eventually(relayed, timeout=30, message="billing's relay published the bill.created")
        finally:
            engine.dispose()
        ((_props, event),) = probe.messages(1)
        assert event["type"] == "bill.created" and event["data"]["customer_phone"] == "+919876543210"
    except BaseException:
        print(stack.tails())
        raise
    finally:
        probe.close()
        pids = [proc.pid for proc in stack.procs.values()]
        started = time.monotonic()
        stack.stop()
        stopped_in = time.monotonic() - started
    assert all(not group_alive(pid) for pid in pids), "process groups left behind"
    assert stopped_in < 15, f"SIGTERM did not stop the processes promptly ({stopped_in:.1f}s)"
    assert all(code in (0, -signal.SIGTERM) for code in stack.dead().values()), (stack.dead(), stack.tails())


def test_procfile_runs_every_process_type_of_every_service():
    processes = parse_procfile()
    services = {service_of(name) for name in processes}
    assert services == {"gateway", "billing", "customers", "contacts", "reminders", "reporting"}
    for service in services - {"gateway"}:
        assert f"{service}-api" in processes
    assert {
        "gateway",
        "gateway-relay",
        "billing-relay",
        "customers-relay",
        "customers-worker",
        "contacts-relay",
        "contacts-worker",
        "reminders-relay",
        "reminders-worker",
        "reporting-relay",
        "reporting-worker",
    } <= set(processes)
    # Billing consumes nothing; every service has a relay (reporting's sends replayed dead letters).
    assert "billing-worker" not in processes


def test_replicas_run_a_process_again_under_a_numbered_name(tmp_path):
    stack = Stack(
        {}, "amqp://guest:guest@127.0.0.1:5672/%2F", tmp_path, services=("customers",), replicas={"customers-worker": 3}
    )
    workers = sorted(name for name in stack.commands if name.startswith("customers-worker"))
    assert workers == ["customers-worker", "customers-worker.2", "customers-worker.3"]
    assert len({stack.commands[name] for name in workers}) == 1
    assert {service_of(name) for name in workers} == {"customers"}
    # Each instance gets its own metrics port (the Procfile's METRICS_PORT variable).
    variable = metrics_port_variable(stack.commands["customers-worker"])
    if variable:
        assert len({stack.env(name)[variable] for name in workers}) == 3
