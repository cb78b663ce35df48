"""POST /bills on PostgreSQL: two statements and no transaction around them (counted on the wire),
and a twin request holding the same key answered with the twin's bill."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import create_engine, event, func, select, text

from services.billing.app import create_app
from services.billing.models import Bill, BillItem, messaging
from shared.runtime import Runtime
from shared.testing import auth_headers
from shared.wire import RoundTripCounter

STAFF = auth_headers("staff", 7)
BILLS = 20


def bill_body(n: int) -> dict:
    return {
        "customer_phone": f"+9198765{n:05d}",
        "customer_category": "regular_branded",
        "items": [
            {"medicine_name": "Metformin 500", "quantity": 2, "amount": "120.50", "duration_days": 30},
            {"medicine_name": "Vitamin D3", "quantity": 1, "amount": "80.00", "is_generic": True},
            {
                "medicine_name": "Atorvastatin",
                "quantity": 1,
                "amount": "40.00",
                "is_generic": True,
                "branded_price": "95.00",
            },
        ],
    }


@pytest.fixture
def counted(settings, runtime):
    """Billing's app with its database behind a relay counting round trips, and its statements."""
    wire = RoundTripCounter(settings.database_url)
    routed = settings.with_overrides(database_url=wire.url)
    counted_runtime = Runtime.build(routed)
    statements: list[str] = []
    event.listen(counted_runtime.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    yield create_app(routed, counted_runtime).test_client(), wire, statements
    counted_runtime.engine.dispose()
    wire.close()


def post_bills(client, numbers, key_prefix=None):
    for n in numbers:
        headers = {**STAFF, "Idempotency-Key": f"{key_prefix}-{n}"} if key_prefix else STAFF
        response = client.post("/api/v1/bills", json=bill_body(n), headers=headers)
        assert response.status_code == 201, response.json


@pytest.mark.parametrize("key_prefix", [None, "till-7"], ids=["without a key", "with a key"])
def test_a_bill_costs_two_statements_and_three_round_trips(counted, runtime, key_prefix):
    client, wire, statements = counted
    post_bills(client, range(10), key_prefix)  # warm up: the pool's connection, psycopg's prepared statements
    statements.clear()
    before, connections = wire.round_trips, wire.connections
    post_bills(client, range(100, 100 + BILLS), key_prefix)
    assert len(statements) == 2 * BILLS  # ALLOCATE and WRITE
    # Per bill: the pool's pre-ping, ALLOCATE, WRITE; no BEGIN, COMMIT or ROLLBACK.
    assert wire.round_trips - before == 3 * BILLS
    assert wire.connections == connections
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Bill)) == 10 + BILLS
        assert session.scalar(select(func.count()).select_from(BillItem)) == 3 * (10 + BILLS)
        assert session.scalar(select(func.count()).select_from(messaging.outbox)) == 10 + BILLS


def test_the_answer_event_and_stored_bill_agree(client, runtime):
    created = client.post("/api/v1/bills", json=bill_body(1), headers=STAFF)
    assert created.status_code == 201
    bill = created.json
    assert bill["bill_number"] == f"B{bill['bill_date'].replace('-', '')}-{bill['id']:06d}"
    assert [item["line_no"] for item in bill["items"]] == [1, 2, 3]
    assert bill["total_amount"] == "240.50" and bill["items"][2]["savings"] == "55.00"
    assert client.get(f"/api/v1/bills/{bill['id']}", headers=STAFF).json == bill
    with runtime.session_factory() as session:
        event = json.loads(session.scalar(select(messaging.outbox.c.payload)))
    assert event["subject"] == f"bills/{bill['id']}"
    assert event["data"]["bill_number"] == bill["bill_number"]
    assert [line["line_id"] for line in event["data"]["items"]] == [item["id"] for item in bill["items"]]


def test_a_twin_holding_the_key_wins_and_this_request_answers_with_its_bill(client, runtime, settings):
    first = client.post("/api/v1/bills", json=bill_body(1), headers=STAFF).json
    twin = create_engine(settings.database_url)
    answers = []
    try:
        with twin.connect() as holder:
            # The twin has written its key but not committed yet.
            holder.execute(
                text(
                    "INSERT INTO idempotency_keys (scope, key, resource_id, created_at) "
                    "VALUES ('bills:7', 'till-7-twin', :id, now())"
                ),
                {"id": str(first["id"])},
            )
            request = threading.Thread(
                target=lambda: answers.append(
                    client.post("/api/v1/bills", json=bill_body(2), headers={**STAFF, "Idempotency-Key": "till-7-twin"})
                )
            )
            request.start()
            request.join(1.0)
            assert request.is_alive()  # waiting on the twin's key
            holder.commit()
        request.join(30)
    finally:
        twin.dispose()
    assert answers[0].status_code == 200 and answers[0].json == first
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Bill)) == 1
        assert session.scalar(select(func.count()).select_from(messaging.outbox)) == 1
