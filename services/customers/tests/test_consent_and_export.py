"""Consent per phone and channel, customer exports and adherence through customers' HTTP API
(real PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from services.customers.models import AuditEntry, messaging
from services.customers.tests.events import bill_event, item
from shared.testing import auth_headers

ADMIN = auth_headers("admin", 1)
STAFF = auth_headers("staff", 7)


def outbox(runtime, event_type):
    with runtime.session_factory() as session:
        payloads = [json.loads(p) for p in session.execute(select(messaging.outbox.c.payload)).scalars()]
    return [p for p in payloads if p["type"] == event_type]


def test_consent_is_recorded_per_channel_with_its_history_and_published(client, runtime):
    unknown = client.get("/api/v1/consent/98765 43210", headers=STAFF)
    assert unknown.status_code == 200
    assert unknown.json == {
        "phone": "+919876543210",
        "whatsapp": "unknown",
        "call": "unknown",
        "sms": "unknown",
        "updated_at": None,
        "source": None,
    }
    said = client.put(
        "/api/v1/consent/+919876543210", json={"whatsapp": "declined", "source": "reply STOP"}, headers=STAFF
    )
    assert said.status_code == 200, said.json
    assert (said.json["whatsapp"], said.json["call"], said.json["source"]) == ("declined", "unknown", "reply STOP")
    # The same answer again changes nothing; a call consent at the counter is a second change.
    client.put("/api/v1/consent/9876543210", json={"whatsapp": "declined", "source": "reply STOP"}, headers=STAFF)
    client.put("/api/v1/consent/9876543210", json={"call": "granted", "source": "counter"}, headers=ADMIN)
    history = client.get("/api/v1/consent/9876543210/history", headers=STAFF).json
    assert [(h["whatsapp"], h["call"], h["source"], h["changed_by"]) for h in history["items"]] == [
        ("declined", "granted", "counter", 1),
        ("declined", "unknown", "reply STOP", 7),
    ]
    events = outbox(runtime, "consent.changed")
    assert [(e["data"]["whatsapp"], e["data"]["call"], e["data"]["by"]) for e in events] == [
        ("declined", "unknown", 7),
        ("declined", "granted", 1),
    ]
    assert all(e["subject"] == "consents/+919876543210" for e in events)


def test_bad_consent_is_a_422_naming_the_field_and_changes_nothing(client, runtime):
    for body, field in (
        ({"whatsapp": "maybe", "source": "counter"}, "whatsapp"),
        ({"source": "counter"}, "whatsapp"),
        ({"whatsapp": "granted"}, "source"),
        ({"whatsapp": "granted", "source": "counter", "email": "granted"}, "email"),
    ):
        response = client.put("/api/v1/consent/9876543210", json=body, headers=STAFF)
        assert response.status_code == 422, (body, response.json)
        assert response.mimetype == "application/problem+json" and field in response.json["errors"], response.json
    assert client.put("/api/v1/consent/12345", json={"sms": "granted", "source": "x"}, headers=STAFF).status_code == 422
    assert outbox(runtime, "consent.changed") == []


def test_a_profile_shows_the_consent_given_before_it_existed(client, workers):
    client.put("/api/v1/consent/9876543210", json={"whatsapp": "declined", "source": "phone call"}, headers=STAFF)
    workers.runner().handle(bill_event(1, items=[item("Metformin 500", "99.00", 30)]))
    profile = client.get("/api/v1/customers/by-phone/9876543210", headers=STAFF).json
    assert profile["consent"] == {"whatsapp": "declined", "call": "unknown", "sms": "unknown"}
    listed = client.get("/api/v1/customers", headers=STAFF).json["items"]
    assert listed[0]["consent"]["whatsapp"] == "declined"


def test_admins_export_basic_fields_only_and_the_export_is_audited(client, runtime):
    for n, name in enumerate(("Asha Rao", "=cmd|' /C calc'!A0", "Ravi")):
        created = client.post(
            "/api/v1/customers",
            json={"phone": f"+91987654321{n}", "name": name, "allergies": ["penicillin"], "special_notes": "secret"},
            headers=ADMIN,
        )
        assert created.status_code == 201, created.json
    assert client.get("/api/v1/customers/export", headers=STAFF).status_code == 403
    assert client.get("/api/v1/customers/export?format=pdf", headers=ADMIN).status_code == 422
    response = client.get("/api/v1/customers/export?format=csv&q=asha", headers=ADMIN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="customers.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["Asha Rao"]
    everyone = client.get("/api/v1/customers/export", headers=ADMIN).data.decode("utf-8-sig")
    assert "'=cmd|" in everyone and "penicillin" not in everyone and "secret" not in everyone
    with runtime.session_factory() as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)).all()
    assert [(e.user_id, e.fields_changed) for e in exports] == [(1, ["q"]), (1, [])]


def test_adherence_through_the_api(client, workers):
    runner = workers.runner()
    runner.handle(bill_event(1, bill_date="2026-03-01", items=[item("Amlodipine 5", "45.00", 30)]))
    customer = client.get("/api/v1/customers/by-phone/9876543210", headers=STAFF).json
    response = client.get(f"/api/v1/customers/{customer['id']}/adherence?days=30", headers=STAFF)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["period_days"] == 30 and set(body) == {"customer_id", "period_days", "as_of", "medicines"}
    for medicine in body["medicines"]:
        assert "0.00" <= medicine["pdc"] <= "1.00"
    assert client.get(f"/api/v1/customers/{customer['id']}/adherence?days=0", headers=STAFF).status_code == 422
    assert client.get("/api/v1/customers/999999/adherence", headers=STAFF).status_code == 404


def test_eight_first_answers_for_one_phone_at_once_record_it_once(settings, runtime):
    from services.customers.app import create_app
    from shared.testing import at_once

    clients = [create_app(settings, runtime).test_client() for _ in range(8)]
    answers = at_once(
        clients,
        lambda client: client.put(
            "/api/v1/consent/9876543299", json={"whatsapp": "declined", "source": "reply STOP"}, headers=STAFF
        ),
    )
    assert sorted(a.status_code for a in answers) == [200] * 8, [a.get_json() for a in answers]
    history = clients[0].get("/api/v1/consent/9876543299/history", headers=STAFF).json
    assert history["total"] == 1
    assert len(outbox(runtime, "consent.changed")) == 1
