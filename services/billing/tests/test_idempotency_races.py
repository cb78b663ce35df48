"""Eight tills sending the same bill with the same ``Idempotency-Key`` at the same instant: one bill,
one ``bill.created``, every answer 201 or 200 with that bill, never a 5xx (PostgreSQL and SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.billing.app import create_app
from services.billing.models import Bill, messaging
from shared.migrations import upgrade
from shared.runtime import Runtime
from shared.testing import at_once, auth_headers, make_settings

TILLS = 8
STAFF = auth_headers("staff", 7)
BODY = {
    "customer_phone": "98765 43210",
    "customer_category": "regular_branded",
    "bill_date": "2026-02-01",
    "items": [{"medicine_name": "Metformin 500", "quantity": 2, "amount": "120.50", "duration_days": 30}],
}


def assert_one_bill(runtime, answers):
    statuses = sorted(a.status_code for a in answers)
    assert all(status in (200, 201) for status in statuses), [(a.status_code, a.get_json()) for a in answers]
    assert statuses.count(201) == 1
    assert len({a.json["id"] for a in answers}) == 1
    assert all(a.json == answers[0].json for a in answers)
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Bill)) == 1
        outbox = messaging.outbox
        assert (
            session.scalar(select(func.count()).select_from(outbox).where(outbox.c.event_type == "bill.created")) == 1
        )


def post_bill(client):
    return client.post("/api/v1/bills", json=BODY, headers={**STAFF, "Idempotency-Key": "till-7-race"})


def test_concurrent_retries_with_one_key_make_one_bill_on_postgresql(settings, runtime):
    clients = [create_app(settings, runtime).test_client() for _ in range(TILLS)]
    assert_one_bill(runtime, at_once(clients, post_bill))


@pytest.fixture
def sqlite_runtime(tmp_path, amqp_url):
    url = f"sqlite:///{tmp_path / 'billing.db'}"
    upgrade("billing", url)
    runtime = Runtime.build(make_settings("billing", url, amqp_url))
    yield runtime
    runtime.engine.dispose()


def test_concurrent_retries_with_one_key_make_one_bill_on_sqlite(sqlite_runtime):
    clients = [create_app(sqlite_runtime.settings, sqlite_runtime).test_client() for _ in range(TILLS)]
    assert_one_bill(sqlite_runtime, at_once(clients, post_bill))
