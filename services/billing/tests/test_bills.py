"""Billing against real PostgreSQL and RabbitMQ: bills, validation, idempotency, bill.created."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.billing.models import messaging
from shared.envelope import validate_event
from shared.events import BillCreated
from shared.relay import OutboxRelay
from shared.testing import Probe, auth_headers, running

ADMIN = auth_headers("admin", 1)
STAFF = auth_headers("staff", 7)


def bill(**overrides):
    body = {
        "customer_phone": "98765 43210",
        "customer_name": "Asha Rao",
        "customer_category": "regular_branded",
        "bill_date": "2026-02-01",
        "items": [
            {"medicine_name": "Metformin 500", "quantity": 2, "amount": "120.50", "duration_days": 30},
            {"medicine_name": "Vitamin D", "quantity": 1, "amount": "80", "is_generic": True},
        ],
    }
    body.update(overrides)
    return body


def test_create_bill_normalizes_phone_and_totals_money(client):
    response = client.post("/api/v1/bills", json=bill(), headers=STAFF)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["customer_phone"] == "+919876543210"
    assert created["total_amount"] == "200.50"
    assert [i["amount"] for i in created["items"]] == ["120.50", "80.00"]
    assert created["bill_number"].startswith("B20260201-")
    assert created["created_by"] == 7
    fetched = client.get(f"/api/v1/bills/{created['id']}", headers=STAFF).json
    assert fetched == created


def test_invalid_bills_are_problem_json_422(client):
    cases = [
        bill(customer_phone="12345"),
        bill(customer_category="vip"),
        bill(items=[]),
        bill(visited_no_purchase=True),
        bill(items=[{"medicine_name": "X", "quantity": 1, "amount": "1.005"}]),
        bill(items=[{"medicine_name": "X", "quantity": 1, "amount": "-3"}]),
        bill(role="admin"),
    ]
    for body in cases:
        response = client.post("/api/v1/bills", json=body, headers=STAFF)
        assert response.status_code == 422, (body, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 422 and response.json["errors"]
    assert client.get("/api/v1/bills", headers=STAFF).json["total"] == 0


def test_visit_without_purchase_has_no_items_and_zero_total(client):
    response = client.post("/api/v1/bills", json=bill(visited_no_purchase=True, items=[]), headers=STAFF)
    assert response.status_code == 201
    assert response.json["total_amount"] == "0.00" and response.json["items"] == []


def test_idempotency_key_returns_the_first_bill(client):
    headers = {**STAFF, "Idempotency-Key": "till-1-0001"}
    first = client.post("/api/v1/bills", json=bill(), headers=headers)
    again = client.post("/api/v1/bills", json=bill(), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["id"] == first.json["id"]
    assert client.get("/api/v1/bills", headers=STAFF).json["total"] == 1


def test_list_filters_by_phone_and_dates(client):
    client.post("/api/v1/bills", json=bill(bill_date="2026-01-10"), headers=STAFF)
    client.post("/api/v1/bills", json=bill(bill_date="2026-02-10"), headers=STAFF)
    client.post("/api/v1/bills", json=bill(customer_phone="+91 91234 56789"), headers=STAFF)
    listed = client.get("/api/v1/bills?phone=9876543210&from=2026-02-01&to=2026-02-28", headers=STAFF).json
    assert listed["total"] == 1 and listed["items"][0]["bill_date"] == "2026-02-10"
    assert client.get("/api/v1/bills?per_page=500", headers=STAFF).status_code == 422


def test_missing_or_bad_token_is_401(client):
    assert client.get("/api/v1/bills").status_code == 401
    assert client.get("/api/v1/bills", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/healthz").status_code == 200


def test_unknown_bill_is_404(client):
    response = client.get("/api/v1/bills/999999", headers=STAFF)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_bill_created_is_relayed_with_confirms(client, settings, runtime, amqp_url):
    probe = Probe(amqp_url, ["bill.created"])
    try:
        created = client.post("/api/v1/bills", json=bill(), headers={**STAFF, "X-Request-ID": "req-42"}).json
        with running(OutboxRelay(settings, runtime.session_factory, messaging)):
            [(properties, event)] = probe.messages(1)
        validate_event(event)
        assert event["type"] == "bill.created" and event["source"] == "/services/billing"
        assert properties.message_id == event["id"] and properties.delivery_mode == 2
        assert event["correlationid"] == "req-42"
        bill_created = BillCreated.load(event)
        assert bill_created.bill_id == created["id"]
        assert bill_created.total_amount == Decimal("200.50")
        assert bill_created.items[0].duration_days == 30
        with runtime.session_factory() as session:
            assert messaging.pending_count(session) == 0
    finally:
        probe.close()


def test_an_idempotency_key_is_the_callers_own(client):
    first = client.post("/api/v1/bills", json=bill(), headers={**STAFF, "Idempotency-Key": "k-1"})
    other_till = client.post(
        "/api/v1/bills",
        json=bill(customer_phone="+91 91234 56789"),
        headers={**auth_headers("staff", 8), "Idempotency-Key": "k-1"},
    )
    assert first.status_code == other_till.status_code == 201
    assert other_till.json["id"] != first.json["id"] and other_till.json["customer_phone"] == "+919123456789"


def test_bill_dates_out_of_range_are_422(client):
    for day in ("1999-12-31", "2999-01-01", "9999-12-31"):
        response = client.post("/api/v1/bills", json=bill(bill_date=day), headers=STAFF)
        assert response.status_code == 422 and "bill_date" in response.json["errors"], day


def test_ids_beyond_64_bits_are_404_not_server_errors(client):
    response = client.get("/api/v1/bills/99999999999999999999", headers=STAFF)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert client.post("/api/v1/bills", json=bill(), headers={**STAFF, "Idempotency-Key": "x" * 201}).status_code == 422


def test_pages_and_ids_beyond_the_columns_are_client_errors(client):
    assert client.get("/api/v1/bills?page=99999999999999999999", headers=STAFF).status_code == 422
    assert client.get("/api/v1/bills/2147483648", headers=STAFF).status_code == 404


def test_a_generic_item_keeps_its_branded_price_and_shows_the_savings(client, runtime):
    body = {
        "customer_phone": "9876543210",
        "customer_category": "generic_informed",
        "items": [
            {
                "medicine_name": "Atorvastatin (generic)",
                "quantity": 1,
                "amount": "40.00",
                "is_generic": True,
                "branded_price": "100.00",
            },
            {
                "medicine_name": "Pantoprazole (generic)",
                "quantity": 1,
                "amount": "30.00",
                "is_generic": True,
                "branded_price": "25.00",
            },
            {"medicine_name": "Crocin", "quantity": 1, "amount": "50.00"},
        ],
    }
    response = client.post("/api/v1/bills", json=body, headers=STAFF)
    assert response.status_code == 201, response.get_json()
    items = response.get_json()["items"]
    assert [(i["branded_price"], i["savings"]) for i in items] == [("100.00", "60.00"), ("25.00", "0.00"), (None, None)]
    [event] = outbox_events(runtime)
    assert [i.get("branded_price") for i in event["data"]["items"]] == ["100.00", "25.00", None]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"is_generic": True, "branded_price": "-1.00"}, "branded_price"),
        ({"is_generic": False, "branded_price": "80.00"}, "items.0.branded_price"),
    ],
)
def test_a_negative_branded_price_or_one_on_a_branded_item_is_refused(client, runtime, item, field):
    body = {
        "customer_phone": "9876543210",
        "customer_category": "regular_branded",
        "items": [{"medicine_name": "Crocin", "quantity": 1, "amount": "50.00", **item}],
    }
    response = client.post("/api/v1/bills", json=body, headers=STAFF)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in str(response.get_json()["errors"])
    assert outbox_events(runtime) == []


def outbox_events(runtime) -> list[dict]:
    with runtime.session_factory() as session:
        return [json.loads(p) for p in session.execute(select(messaging.outbox.c.payload)).scalars()]
