"""Reminders' HTTP API on real PostgreSQL (and RabbitMQ for what it publishes)."""

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from services.reminders import domain
from services.reminders.models import messaging
from shared.db import unit_of_work
from shared.envelope import validate_event
from shared.relay import OutboxRelay
from shared.testing import Probe, auth_headers, running

STAFF = auth_headers("staff", 7)
ADMIN = auth_headers("admin", 1)
URL = "/api/v1/reminders/refills"
TODAY = dt.date(2026, 2, 20)  # the clock fixture's date in Kolkata


def seed(runtime, purchase_id, reminder_on: dt.date, medicine=None, customer_id=42, duration_days=30):
    """A purchase whose reminder falls on ``reminder_on``, as the consumer would record it."""
    with unit_of_work(runtime.session_factory) as session:
        reminder = domain.record_purchase(
            session,
            domain.Purchase(
                source="/services/customers",
                purchase_id=str(purchase_id),
                customer_id=str(customer_id),
                medicine_name=medicine or f"Medicine {purchase_id}",
                purchase_date=reminder_on - dt.timedelta(days=max(duration_days - 5, 0)),
                duration_days=duration_days,
            ),
        )
        assert reminder is not None, "a purchase with a duration opens a reminder"
        return reminder.id


def known_customer(runtime, customer_id=42, name="Asha Rao", phone="+919876543210"):
    with unit_of_work(runtime.session_factory) as session:
        domain.upsert_customer(session, customer_id, name, phone, dt.datetime.now(dt.UTC))


def published(runtime, event_type="refill_reminder.updated"):
    with runtime.session_factory() as session:
        rows = session.execute(
            select(messaging.outbox).where(messaging.outbox.c.event_type == event_type).order_by(messaging.outbox.c.id)
        )
        return [json.loads(row.payload)["data"] for row in rows]


def listed(client, query=""):
    response = client.get(f"{URL}?{query}", headers=STAFF)
    assert response.status_code == 200, response.json
    return response.json


def test_reminder_lists_customer_medicine_and_days_until_due(client, runtime):
    known_customer(runtime)
    reminder_id = seed(runtime, 1001, dt.date(2026, 2, 26), medicine="Metformin 500")
    page = listed(client)
    assert (page["total"], page["page"], page["per_page"]) == (1, 1, 50)
    item = page["items"][0]
    assert {
        k: item[k]
        for k in (
            "id",
            "customer_id",
            "customer_name",
            "customer_phone",
            "medicine_name",
            "purchase_id",
            "reminder_date",
            "days_until_due",
            "whatsapp_sent_at",
            "call_made_at",
            "responded",
            "customer_response",
            "purchased_at",
            "status",
        )
    } == {
        "id": reminder_id,
        "customer_id": 42,
        "customer_name": "Asha Rao",
        "customer_phone": "+919876543210",
        "medicine_name": "Metformin 500",
        "purchase_id": 1001,
        "reminder_date": "2026-02-26",
        "days_until_due": 6,
        "whatsapp_sent_at": None,
        "call_made_at": None,
        "responded": False,
        "customer_response": None,
        "purchased_at": None,
        "status": "open",
    }
    assert client.get(f"{URL}/{reminder_id}", headers=STAFF).json == item


@pytest.mark.parametrize(
    "days_ahead, expected",
    [
        (0, ["overdue", "today"]),
        (7, ["overdue", "today", "in5", "in7"]),
        (14, ["overdue", "today", "in5", "in7", "in8", "in14"]),
        (30, ["overdue", "today", "in5", "in7", "in8", "in14", "in20", "in30"]),
    ],
)
def test_days_ahead_windows_include_overdue_and_list_soonest_first(client, runtime, days_ahead, expected):
    offsets = {"in30": 30, "in8": 8, "today": 0, "in31": 31, "in14": 14, "overdue": -10, "in7": 7, "in20": 20, "in5": 5}
    for n, (name, offset) in enumerate(offsets.items(), start=1):
        seed(runtime, n, TODAY + dt.timedelta(days=offset), medicine=name)
    items = listed(client, f"days_ahead={days_ahead}")["items"]
    assert [i["medicine_name"] for i in items] == expected
    assert [i["days_until_due"] for i in items] == [offsets[name] for name in expected]


def test_other_days_ahead_and_statuses_are_422(client):
    for query in ("days_ahead=3", "days_ahead=-1", "days_ahead=x", "status=closed", "per_page=500"):
        response = client.get(f"{URL}?{query}", headers=STAFF)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json" and response.json["errors"]


def test_just_after_midnight_in_kolkata_a_reminder_dated_that_day_is_due_today(client, runtime, clock):
    seed(runtime, 1001, dt.date(2026, 2, 26))  # 1 Feb + 30 days
    clock.now = dt.datetime(2026, 2, 25, 18, 29, tzinfo=dt.UTC)  # 23:59 IST on the 25th
    assert listed(client, "days_ahead=0")["items"] == []
    clock.now = dt.datetime(2026, 2, 25, 18, 45, tzinfo=dt.UTC)  # 00:15 IST on the 26th
    [item] = listed(client, "days_ahead=0")["items"]
    assert item["reminder_date"] == "2026-02-26" and item["days_until_due"] == 0


def test_status_filter_defaults_to_still_due_and_responded_stays_due(client, runtime):
    open_id = seed(runtime, 1, TODAY, medicine="A")
    responded_id = seed(runtime, 2, TODAY, medicine="B")
    purchased_id = seed(runtime, 3, TODAY, medicine="C")
    client.post(f"{URL}/{responded_id}/response", json={"customer_response": "Will come on Monday"}, headers=STAFF)
    client.post(f"{URL}/{purchased_id}/purchased", headers=STAFF)

    def ids(query):
        return [i["id"] for i in listed(client, query)["items"]]

    assert ids("days_ahead=7") == [open_id, responded_id]
    assert ids("status=open") == [open_id]
    assert ids("status=responded") == [responded_id]
    assert ids("status=purchased") == [purchased_id]
    assert ids("status=all&days_ahead=0") == [open_id, responded_id, purchased_id]


def test_customer_filter_and_pages(client, runtime):
    for n in range(5):
        seed(runtime, n + 1, TODAY + dt.timedelta(days=n), customer_id=42)
    seed(runtime, 99, TODAY, customer_id=43)
    assert listed(client, "customer_id=43")["total"] == 1
    page = listed(client, "customer_id=42&per_page=2&page=2")
    assert page["total"] == 5 and [i["purchase_id"] for i in page["items"]] == [3, 4]


def test_whatsapp_records_the_time_and_returns_a_wa_me_link(client, runtime, clock):
    reminder_id = seed(runtime, 1001, dt.date(2026, 2, 26), medicine="Metformin 500")
    response = client.post(f"{URL}/{reminder_id}/whatsapp", headers=STAFF)
    assert response.status_code == 409 and "phone" in response.json["detail"]  # customer not known yet
    assert published(runtime) == []
    known_customer(runtime)
    response = client.post(f"{URL}/{reminder_id}/whatsapp", headers=STAFF)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["whatsapp_sent_at"] == "2026-02-20T06:30:00Z" and body["status"] == "open"
    link = urlsplit(body["whatsapp_url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/919876543210")
    text = parse_qs(link.query)["text"][0]
    assert "Asha Rao" in text and "Metformin 500" in text
    assert client.get(f"{URL}/{reminder_id}", headers=STAFF).json["whatsapp_sent_at"] == body["whatsapp_sent_at"]
    [event] = published(runtime)
    assert event == {
        "reminder_id": reminder_id,
        "status": "open",
        "whatsapp_sent_at": "2026-02-20T06:30:00Z",
        "call_made_at": None,
        "responded": False,
        "purchased_at": None,
        "by": 7,
    }


def test_call_and_response_record_what_staff_did(client, runtime, clock):
    reminder_id = seed(runtime, 1001, dt.date(2026, 2, 26))
    call = client.post(
        f"{URL}/{reminder_id}/call", json={"notes": "asked to call back", "successful": False}, headers=STAFF
    )
    assert call.status_code == 200, call.json
    assert call.json["call_made_at"] == "2026-02-20T06:30:00Z"
    assert (call.json["call_notes"], call.json["call_successful"]) == ("asked to call back", False)
    assert client.post(f"{URL}/{reminder_id}/call", json={}, headers=ADMIN).status_code == 200
    clock.now += dt.timedelta(hours=2)
    answered = client.post(
        f"{URL}/{reminder_id}/response", json={"customer_response": "  Will visit Friday "}, headers=STAFF
    )
    assert answered.status_code == 200
    assert (answered.json["responded"], answered.json["customer_response"], answered.json["status"]) == (
        True,
        "Will visit Friday",
        "responded",
    )
    events = published(runtime)
    assert [(e["by"], e["status"], e["responded"]) for e in events] == [
        (7, "open", False),
        (1, "open", False),
        (7, "responded", True),
    ]
    assert events[0]["call_made_at"] == "2026-02-20T06:30:00Z"


def test_action_bodies_are_validated(client, runtime):
    reminder_id = seed(runtime, 1001, dt.date(2026, 2, 26))
    for path, body in [
        ("call", {"notes": "x", "status": "purchased"}),
        ("call", {"successful": "maybe"}),
        ("response", {}),
        ("response", {"customer_response": "   "}),
    ]:
        response = client.post(f"{URL}/{reminder_id}/{path}", json=body, headers=STAFF)
        assert response.status_code == 422, (path, body)
    assert published(runtime) == []


def test_purchased_closes_the_reminder_and_other_actions_are_then_409(client, runtime, clock):
    known_customer(runtime)
    reminder_id = seed(runtime, 1001, TODAY)
    closed = client.post(f"{URL}/{reminder_id}/purchased", headers=STAFF)
    assert closed.status_code == 200
    assert closed.json["status"] == "purchased" and closed.json["purchased_at"] == "2026-02-20T06:30:00Z"
    assert closed.json["closed_by_purchase_id"] is None
    for path, body in [("whatsapp", None), ("call", {}), ("response", {"customer_response": "yes"})]:
        response = client.post(f"{URL}/{reminder_id}/{path}", json=body, headers=STAFF)
        assert response.status_code == 409 and response.mimetype == "application/problem+json", path
    clock.now += dt.timedelta(days=1)
    again = client.post(f"{URL}/{reminder_id}/purchased", headers=ADMIN)
    assert again.status_code == 200 and again.json["purchased_at"] == closed.json["purchased_at"]
    assert [(e["status"], e["by"]) for e in published(runtime)] == [("purchased", 7)]
    assert listed(client, "days_ahead=0")["items"] == []


def test_unknown_reminder_is_404(client):
    # 2147483648 and up do not fit the INTEGER id column: still a 404, never a database error (500).
    for method, path in [
        ("get", f"{URL}/999999"),
        ("post", f"{URL}/999999/purchased"),
        ("post", f"{URL}/999999/call"),
        ("get", f"{URL}/2147483648"),
        ("get", f"{URL}/99999999999999999999"),
        ("post", f"{URL}/99999999999/purchased"),
        ("post", f"{URL}/99999999999/whatsapp"),
        ("post", f"{URL}/99999999999/call"),
    ]:
        response = getattr(client, method)(path, json={} if method == "post" else None, headers=STAFF)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_every_route_needs_a_token(client):
    app = client.application
    routes = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")]
    assert len(routes) == 9  # six reminder routes (list and set by hand share one), export, dead letters, replay
    for rule in routes:
        path = rule.rule.replace("<reminder_id>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
                response = client.open(path, method=method, json={}, headers=headers)
                assert response.status_code == 401, (method, path, headers)
                assert response.mimetype == "application/problem+json"
    assert client.get("/healthz").status_code == 200


def test_actions_are_relayed_as_valid_refill_reminder_events(client, runtime, settings, amqp_url):
    known_customer(runtime)
    probe = Probe(amqp_url, ["refill_reminder.created", "refill_reminder.updated"])
    try:
        reminder_id = seed(runtime, 1001, TODAY)
        client.post(f"{URL}/{reminder_id}/whatsapp", headers={**STAFF, "X-Request-ID": "req-77"})
        with running(OutboxRelay(settings, runtime.session_factory, messaging)):
            messages = probe.messages(2)
        for properties, event in messages:
            validate_event(event)
            assert properties.message_id == event["id"] and event["subject"] == f"refill_reminders/{reminder_id}"
        created, updated = (event for _, event in messages)
        assert created["type"] == "refill_reminder.created" and created["data"]["reminder_id"] == reminder_id
        assert updated["type"] == "refill_reminder.updated" and updated["correlationid"] == "req-77"
        assert updated["data"]["by"] == 7 and updated["data"]["whatsapp_sent_at"]
    finally:
        probe.close()


def test_a_reminder_set_by_hand_through_the_api(client, runtime):
    known_customer(runtime)
    response = client.post(
        URL, json={"customer_id": 42, "medicine_name": "Insulin Glargine", "reminder_date": "2026-03-01"}, headers=STAFF
    )
    assert response.status_code == 201, response.json
    created = response.json
    assert (created["set_by_hand"], created["duration_days"], created["days_until_due"]) == (True, None, 9)
    assert created["consent"] == {"whatsapp": "unknown", "call": "unknown", "sms": "unknown"}
    assert [r["id"] for r in listed(client, "days_ahead=14")["items"]] == [created["id"]]
    assert [e["reminder_id"] for e in published(runtime, "refill_reminder.created")] == [created["id"]]
    for body, field in (
        ({"customer_id": 42, "medicine_name": "Insulin", "reminder_date": "2026-02-19"}, "reminder_date"),
        ({"customer_id": 999, "medicine_name": "Insulin", "reminder_date": "2026-03-01"}, "customer_id"),
        ({"customer_id": 42, "medicine_name": "", "reminder_date": "2026-03-01"}, "medicine_name"),
    ):
        refused = client.post(URL, json=body, headers=STAFF)
        assert refused.status_code == 422 and field in refused.json["errors"], refused.json
    assert listed(client)["total"] == 1


def test_the_due_list_exports_as_csv_and_xlsx(client, runtime):
    known_customer(runtime, name="=HYPERLINK(1)")
    seed(runtime, 1001, dt.date(2026, 2, 22), medicine="Metformin 500")
    seed(runtime, 1002, dt.date(2026, 4, 1), medicine="Amlodipine 5")
    response = client.get(f"{URL}/export?days_ahead=7", headers=STAFF)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,customer_name,customer_phone,medicine_name,reminder_date,days_until_due")
    assert len(lines) == 2 and "Metformin 500" in lines[1] and "'=HYPERLINK(1)" in lines[1]
    xlsx = client.get(f"{URL}/export?format=xlsx", headers=STAFF)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get(f"{URL}/export?format=pdf", headers=STAFF).status_code == 422
