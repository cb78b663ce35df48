"""Customers' HTTP API against real PostgreSQL: lists, profiles, edits, purchases, the audit log."""

import json
import logging
import re

from sqlalchemy import select

from services.customers.models import MEDICAL_FIELDS, AuditEntry, messaging
from services.customers.tests.events import bill_event, item
from shared.testing import auth_headers

ADMIN = auth_headers("admin", 1)
STAFF = auth_headers("staff", 7)
OTHER_STAFF = auth_headers("staff", 8)

MEDICAL = {
    "chronic_conditions": ["Zqdiabetes type 2", "Zqhypertension"],
    "allergies": ["Zqpenicillin"],
    "primary_doctor": "Dr. Zqmehta",
    "special_notes": "Zqhard of hearing, call twice",
}
MEDICAL_VALUES = ["Zqdiabetes", "Zqhypertension", "Zqpenicillin", "Zqmehta", "Zqhard of hearing"]


def new_customer(**overrides):
    body = {"phone": "98765 43210", "name": "Asha Rao", "category": "regular_branded"}
    body.update(overrides)
    return body


def create(client, headers=STAFF, **overrides):
    response = client.post("/api/v1/customers", json=new_customer(**overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def audit_rows(runtime) -> list[AuditEntry]:
    with runtime.session_factory() as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_create_read_and_by_phone(client, runtime):
    created = create(
        client, email="asha@example.com", age=54, gender="female", address="12 MG Road", prefers_generic=True, **MEDICAL
    )
    assert created["phone"] == "+919876543210" and created["total_visits"] == 0
    assert created["total_purchases"] == "0.00" and created["first_visit_date"] is None
    assert created["chronic_conditions"] == MEDICAL["chronic_conditions"]
    fetched = client.get(f"/api/v1/customers/{created['id']}", headers=STAFF).json
    assert fetched == created
    for written in ("+91 98765 43210", "098765-43210", "9876543210", "%2B919876543210"):
        response = client.get(f"/api/v1/customers/by-phone/{written}", headers=STAFF)
        assert response.status_code == 200 and response.json["id"] == created["id"], written
    missing = client.get("/api/v1/customers/by-phone/9123456789", headers=STAFF)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    invalid = client.get("/api/v1/customers/by-phone/12345", headers=STAFF)
    assert invalid.status_code == 422 and invalid.json["errors"] == {"phone": ["not a valid phone number"]}
    assert client.get("/api/v1/customers/999999", headers=STAFF).status_code == 404


def test_manual_create_defaults_and_conflicts(client):
    created = client.post("/api/v1/customers", json={"phone": "+91 91234 56789"}, headers=STAFF).json
    assert created["category"] == "first_time_prescription" and created["chronic_conditions"] == []
    assert created["prefers_generic"] is False and created["name"] is None
    again = client.post("/api/v1/customers", json={"phone": "09123456789", "name": "X"}, headers=STAFF)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert "phone" in again.json["errors"]


def test_idempotency_key_returns_the_first_customer(client, runtime):
    headers = {**STAFF, "Idempotency-Key": "desk-1-0001"}
    first = client.post("/api/v1/customers", json=new_customer(), headers=headers)
    again = client.post("/api/v1/customers", json=new_customer(), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["id"] == first.json["id"]
    assert client.get("/api/v1/customers", headers=STAFF).json["total"] == 1
    assert [r.action for r in audit_rows(runtime)] == ["create", "read"]


INVALID_CREATES = [
    {"phone": "12345"},
    {"phone": "+919876543210", "category": "vip"},
    {"phone": "+919876543210", "total_visits": 40},
    {"phone": "+919876543210", "contact_record_id": 3},
    {"phone": "+919876543210", "email": "not-an-email"},
    {"phone": "+919876543210", "age": -1},
    {"phone": "+919876543210", "age": "forty"},
    {"phone": "+919876543210", "allergies": "penicillin"},
    {"phone": "+919876543210", "allergies": [""]},
    {"name": "no phone"},
]


def test_invalid_creates_are_422(client):
    for body in INVALID_CREATES:
        response = client.post("/api/v1/customers", json=body, headers=STAFF)
        assert response.status_code == 422, (body, response.json)
        assert response.mimetype == "application/problem+json" and response.json["errors"]
    assert client.get("/api/v1/customers", headers=STAFF).json["total"] == 0


def test_patch_changes_every_kind_of_field(client, runtime):
    created = create(client)
    changes = {
        "name": "Asha R. Rao",
        "email": "asha@example.com",
        "age": 55,
        "gender": "female",
        "address": "14 MG Road",
        "category": "generic_informed",
        "prefers_generic": True,
        "generic_education_given": True,
        **MEDICAL,
    }
    response = client.patch(f"/api/v1/customers/{created['id']}", json=changes, headers=OTHER_STAFF)
    assert response.status_code == 200, response.json
    for key, value in changes.items():
        assert response.json[key] == value, key
    cleared = client.patch(
        f"/api/v1/customers/{created['id']}", json={"email": None, "allergies": [], "special_notes": ""}, headers=STAFF
    ).json
    assert (cleared["email"], cleared["allergies"], cleared["special_notes"]) == (None, [], None)
    moved = client.patch(f"/api/v1/customers/{created['id']}", json={"phone": "+91 91234 56789"}, headers=STAFF)
    assert moved.json["phone"] == "+919123456789"
    upserts = [json.loads(p) for p in _outbox_payloads(runtime) if '"customer.upserted"' in p]
    assert len(upserts) == 4 and upserts[-1]["data"]["phone"] == "+919123456789"


INVALID_PATCHES = [
    ({"category": "vip"}, "category"),
    ({"category": None}, "category"),
    ({"phone": "12345"}, "phone"),
    ({"phone": None}, "phone"),
    ({"age": 200}, "age"),
    ({"gender": "robot"}, "gender"),
    ({"prefers_generic": "maybe"}, "prefers_generic"),
    ({"chronic_conditions": None}, "chronic_conditions"),
    ({"chronic_conditions": ["x" * 201]}, "chronic_conditions"),
    ({"special_notes": "x" * 4001}, "special_notes"),
    ({"total_purchases": "0.00"}, "total_purchases"),
    ({"first_visit_date": "2020-01-01"}, "first_visit_date"),
    ({"id": 5}, "id"),
    ({}, "_schema"),
]


def test_patch_validation_is_422_naming_the_field(client):
    created = create(client)
    for body, field in INVALID_PATCHES:
        response = client.patch(f"/api/v1/customers/{created['id']}", json=body, headers=STAFF)
        assert response.status_code == 422, (body, response.json)
        assert response.mimetype == "application/problem+json" and field in response.json["errors"], body
    assert client.get(f"/api/v1/customers/{created['id']}", headers=STAFF).json == created


def test_patch_to_a_taken_phone_is_409_and_unknown_is_404(client):
    first = create(client)
    second = create(client, phone="+919123456789")
    response = client.patch(f"/api/v1/customers/{second['id']}", json={"phone": "098765 43210"}, headers=STAFF)
    assert response.status_code == 409 and "phone" in response.json["errors"]
    same = client.patch(f"/api/v1/customers/{first['id']}", json={"phone": "9876543210"}, headers=STAFF)
    assert same.status_code == 200
    assert client.patch("/api/v1/customers/999999", json={"name": "x"}, headers=STAFF).status_code == 404


def test_list_filters_searches_and_pages(client):
    create(client, phone="+919876543210", name="Asha Rao", category="regular_branded")
    create(client, phone="+919123456789", name="Ravi Kumar", category="generic_informed", prefers_generic=True)
    create(client, phone="+918765432109", name="Asha Menon", category="contact_sheet")
    create(client, phone="+917654321098", name="100%_sure", category="contact_sheet")

    def listed(query):
        response = client.get(f"/api/v1/customers?{query}", headers=STAFF)
        assert response.status_code == 200, response.json
        return response.json

    everyone = listed("")
    assert everyone["total"] == 4 and everyone["page"] == 1 and everyone["per_page"] == 50
    assert set(everyone["items"][0]) == {
        "id",
        "phone",
        "name",
        "category",
        "total_visits",
        "total_purchases",
        "first_visit_date",
        "last_visit_date",
        "prefers_generic",
        "consent",
    }
    assert everyone["items"][0]["consent"] == {"whatsapp": "unknown", "call": "unknown", "sms": "unknown"}
    assert listed("category=all")["total"] == 4
    assert {c["name"] for c in listed("category=contact_sheet")["items"]} == {"Asha Menon", "100%_sure"}
    assert {c["name"] for c in listed("q=asha")["items"]} == {"Asha Rao", "Asha Menon"}
    assert [c["name"] for c in listed("q=91234")["items"]] == ["Ravi Kumar"]
    assert [c["name"] for c in listed("q=98765 43210")["items"]] == ["Asha Rao"]
    assert [c["name"] for c in listed("q=%25_")["items"]] == ["100%_sure"]  # wildcards are literal
    assert [c["name"] for c in listed("q=asha&category=contact_sheet")["items"]] == ["Asha Menon"]
    page2 = listed("per_page=3&page=2")
    assert page2["total"] == 4 and len(page2["items"]) == 1 and page2["items"][0]["name"] == "Asha Rao"
    assert client.get("/api/v1/customers?per_page=500", headers=STAFF).status_code == 422
    assert client.get("/api/v1/customers?category=vip", headers=STAFF).status_code == 422
    assert client.get("/api/v1/customers?page=0", headers=STAFF).status_code == 422


def test_purchases_newest_first_and_paged(client, workers):
    runner = workers.runner()
    runner.handle(bill_event(1, bill_date="2026-01-10", items=[item("A", "10.00", 30)]))
    runner.handle(bill_event(2, bill_date="2026-02-10", items=[item("B", "20.00", 3), item("C", "30.00", None)]))
    customer = client.get("/api/v1/customers/by-phone/9876543210", headers=STAFF).json
    assert customer["total_visits"] == 2 and customer["total_purchases"] == "60.00"
    page = client.get(f"/api/v1/customers/{customer['id']}/purchases", headers=STAFF).json
    assert page["total"] == 3
    assert [p["medicine_name"] for p in page["items"]] == ["C", "B", "A"]
    assert page["items"][2] == {
        "id": page["items"][2]["id"],
        "bill_id": 1,
        "purchase_date": "2026-01-10",
        "medicine_name": "A",
        "is_generic": False,
        "quantity": 1,
        "amount": "10.00",
        "branded_price": None,
        "savings": None,
        "duration_days": 30,
        "refill_due_date": "2026-02-04",
    }
    assert page["items"][1]["refill_due_date"] == "2026-02-10"
    second = client.get(f"/api/v1/customers/{customer['id']}/purchases?per_page=2&page=2", headers=STAFF).json
    assert [p["medicine_name"] for p in second["items"]] == ["A"]
    assert client.get("/api/v1/customers/999999/purchases", headers=STAFF).status_code == 404
    # Beyond the INTEGER id column's range: unknown too (it used to be a database error, 500).
    for path in ("/api/v1/customers/2147483648", "/api/v1/customers/99999999999999999999/purchases"):
        response = client.get(path, headers=STAFF)
        assert response.status_code == 404 and response.mimetype == "application/problem+json", path
    assert client.patch("/api/v1/customers/99999999999", json={"name": "x"}, headers=STAFF).status_code == 404


def test_every_read_and_change_is_audited_without_values(client, runtime):
    created = create(client, headers={**STAFF, "X-Request-ID": "req-create"}, **MEDICAL)
    cid = created["id"]
    client.get(f"/api/v1/customers/{cid}", headers={**OTHER_STAFF, "X-Request-ID": "req-read"})
    client.get("/api/v1/customers/by-phone/9876543210", headers=ADMIN)
    client.patch(
        f"/api/v1/customers/{cid}", json={"allergies": ["Zqsulfa"], "name": "Asha Rao", "age": 40}, headers=STAFF
    )
    client.get(f"/api/v1/customers/{cid}/purchases", headers=STAFF)
    client.get("/api/v1/customers", headers=STAFF)  # lists show no profile, so they are not audited
    client.get("/api/v1/customers/999999", headers=STAFF)
    rows = audit_rows(runtime)
    assert [(r.action, r.user_id, r.role, r.customer_id) for r in rows] == [
        ("create", 7, "staff", cid),
        ("read", 8, "staff", cid),
        ("read", 1, "admin", cid),
        ("update", 7, "staff", cid),
        ("read_purchases", 7, "staff", cid),
    ]
    assert rows[0].request_id == "req-create" and rows[1].request_id == "req-read"
    assert rows[1].username == "staff8" and rows[0].at.tzinfo is not None
    assert rows[3].fields_changed == ["age", "allergies"]  # names of what changed, never the values
    assert set(rows[0].fields_changed) >= {"phone", "name", "chronic_conditions", "allergies", "special_notes"}
    assert "Zq" not in json.dumps([r.fields_changed for r in rows])


def test_admin_reads_the_audit_log_staff_cannot(client):
    first = create(client)
    second = create(client, phone="+919123456789")
    client.get(f"/api/v1/customers/{first['id']}", headers=OTHER_STAFF)
    client.get(f"/api/v1/customers/{second['id']}", headers=STAFF)

    def audit(query=""):
        response = client.get(f"/api/v1/admin/audit?{query}", headers=ADMIN)
        assert response.status_code == 200, response.json
        return response.json

    everything = audit()
    assert everything["total"] == 4
    assert [e["action"] for e in everything["items"]] == ["read", "read", "create", "create"]  # newest first
    assert set(everything["items"][0]) == {
        "id",
        "at",
        "user_id",
        "username",
        "role",
        "customer_id",
        "action",
        "fields_changed",
        "request_id",
    }
    assert everything["items"][0]["at"].endswith(("Z", "+00:00"))
    assert [e["action"] for e in audit(f"subject={first['id']}")["items"]] == ["read", "create"]
    assert audit("user=8")["total"] == 1 and audit("user=staff8")["total"] == 1
    assert audit(f"user=7&subject={second['id']}")["total"] == 2
    assert audit("from=2000-01-01&to=2999-12-31")["total"] == 4
    assert audit("to=2000-01-01")["total"] == 0 and audit("from=2999-01-01T00:00:00Z")["total"] == 0
    assert audit("per_page=1&page=2")["items"][0]["action"] == "read"
    assert client.get("/api/v1/admin/audit?from=yesterday", headers=ADMIN).status_code == 422
    # A user that is not ASCII digits is a username ("²".isdigit() is true, int("²") used to 500);
    # so is a number too long for an id.
    for user in ("²", "١٢", "99999999999999999999", "2147483648", "999999999999999999"):
        assert audit(f"user={user}")["total"] == 0
    for subject in ("99999999999999999999", "2147483648", "0", "-1"):
        refused = client.get(f"/api/v1/admin/audit?subject={subject}", headers=ADMIN)
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json", subject
    assert audit("subject=2147483647")["total"] == 0
    forbidden = client.get("/api/v1/admin/audit", headers=STAFF)
    assert forbidden.status_code == 403 and forbidden.mimetype == "application/problem+json"


def test_every_route_needs_a_token(client):
    app = client.application
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"healthz", "readyz", "metrics", "static", "api-docs.openapi_json"}:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "9876543210" if m.group(1) == "phone" else "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
                response = client.open(path, method=method, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers)
                assert response.mimetype == "application/problem+json"
            checked += 1
    # list, create, read, patch, by-phone, purchases, adherence, export, audit, consent (read, set,
    # history), dead letters, replay
    assert checked == 14
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_medical_fields_never_reach_logs_or_events(client, runtime, workers, caplog):
    caplog.set_level(logging.DEBUG)
    created = create(client, **MEDICAL)
    cid = created["id"]
    client.get(f"/api/v1/customers/{cid}", headers=STAFF)
    client.get("/api/v1/customers/by-phone/9876543210", headers=STAFF)
    client.patch(
        f"/api/v1/customers/{cid}",
        json={"chronic_conditions": ["Zqhypertension", "Zqasthma"], "special_notes": "Zqhard of hearing, left ear"},
        headers=STAFF,
    )
    client.patch(f"/api/v1/customers/{cid}", json={"allergies": "Zqpenicillin"}, headers=STAFF)  # a 422
    workers.runner().handle(bill_event(1))
    client.get(f"/api/v1/customers/{cid}/purchases", headers=STAFF)
    assert any(r.getMessage() == "customer updated" for r in caplog.records)  # the capture works
    logged = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)
    payloads = _outbox_payloads(runtime)
    assert len(payloads) >= 4
    for value in [*MEDICAL_VALUES, "Zqasthma"]:
        assert value not in logged, value
        assert all(value not in payload for payload in payloads), value
    for payload in payloads:
        assert not set(json.loads(payload)["data"]) & set(MEDICAL_FIELDS)


def _outbox_payloads(runtime) -> list[str]:
    with runtime.session_factory() as session:
        return list(session.scalars(select(messaging.outbox.c.payload).order_by(messaging.outbox.c.id)))
