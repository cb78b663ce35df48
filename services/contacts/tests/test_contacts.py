"""Working a contact list through the API: visibility, edits, interactions, status rules, follow-ups."""

import datetime as dt
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from services.contacts.app import create_app
from services.contacts.domain import TRANSITIONS, can_change
from services.contacts.models import messaging
from shared.testing import auth_headers

ADMIN = auth_headers("admin", 1)
ALICE = auth_headers("staff", 11)  # staff users of the roster fixture
BOB = auth_headers("staff", 12)
CONTACTS = "/api/v1/contacts"


@pytest.fixture
def contacts(client, staff):
    """Six contacts, two per staff member: {staff_id: [contact, contact]}."""
    content = "phone,name\n" + "".join(f"98765432{n:02d},Person {n}\n" for n in range(6))
    response = client.post(
        f"{CONTACTS}/uploads",
        data={"file": (io.BytesIO(content.encode()), "list.csv")},
        headers=ADMIN,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    items = client.get(f"{CONTACTS}?per_page=50", headers=ADMIN).json["items"]
    by_staff = {}
    for item in items:
        by_staff.setdefault(item["assigned_to"], []).append(item)
    assert sorted(len(v) for v in by_staff.values()) == [2, 2, 2]
    return by_staff


def events(runtime, event_type):
    with runtime.session_factory() as session:
        rows = session.scalars(
            select(messaging.outbox.c.payload)
            .where(messaging.outbox.c.event_type == event_type)
            .order_by(messaging.outbox.c.id)
        )
        return [json.loads(row)["data"] for row in rows]


def test_staff_see_and_change_only_their_contacts(client, contacts):
    mine, theirs = contacts[11][0], contacts[12][0]
    listed = client.get(CONTACTS, headers=ALICE).json
    assert listed["total"] == 2 and {c["assigned_to"] for c in listed["items"]} == {11}
    assert client.get(f"{CONTACTS}?assigned_to=12", headers=ALICE).json["total"] == 0
    assert client.get(f"{CONTACTS}/{mine['id']}", headers=ALICE).status_code == 200
    for method, path, body in [
        ("get", "", None),
        ("patch", "", {"name": "x"}),
        ("post", "/interactions", {"type": "call"}),
        ("post", "/convert", {}),
        ("post", "/yellow", {}),
        ("get", "/whatsapp-link", None),
    ]:
        response = getattr(client, method)(f"{CONTACTS}/{theirs['id']}{path}", json=body, headers=ALICE)
        assert response.status_code == 404, (method, path, response.json)
        assert response.mimetype == "application/problem+json"
    assert client.get(f"{CONTACTS}/{theirs['id']}", headers=BOB).status_code == 200
    assert client.get(f"{CONTACTS}?per_page=50", headers=ADMIN).json["total"] == 6


def test_list_filters_and_search(client, contacts):
    contact = contacts[11][0]
    client.patch(f"{CONTACTS}/{contact['id']}", json={"whatsapp_status": "available"}, headers=ALICE)
    client.post(f"{CONTACTS}/{contact['id']}/interactions", json={"type": "call"}, headers=ALICE)
    assert [c["id"] for c in client.get(f"{CONTACTS}?status=contacted", headers=ADMIN).json["items"]] == [contact["id"]]
    assert client.get(f"{CONTACTS}?status=pending", headers=ADMIN).json["total"] == 5
    assert client.get(f"{CONTACTS}?whatsapp_status=available", headers=ADMIN).json["total"] == 1
    assert client.get(f"{CONTACTS}?assigned_to=12", headers=ADMIN).json["total"] == 2
    assert client.get(f"{CONTACTS}?upload_id={contact['upload_id']}", headers=ADMIN).json["total"] == 6
    assert client.get(f"{CONTACTS}?upload_id=999", headers=ADMIN).json["total"] == 0
    found = client.get(f"{CONTACTS}?q=person 0", headers=ADMIN).json["items"]
    assert [c["name"] for c in found] == ["Person 0"]
    assert client.get(f"{CONTACTS}?q=87654320", headers=ADMIN).json["total"] == 6
    assert client.get(f"{CONTACTS}?q=9876543205", headers=ADMIN).json["items"][0]["phone"] == "+919876543205"
    assert client.get(f"{CONTACTS}?q=%25", headers=ADMIN).json["total"] == 0
    page = client.get(f"{CONTACTS}?per_page=4&page=2", headers=ADMIN).json
    assert page["total"] == 6 and len(page["items"]) == 2 and page["page"] == 2
    assert client.get(f"{CONTACTS}?per_page=500", headers=ADMIN).status_code == 422
    assert client.get(f"{CONTACTS}?status=lost", headers=ADMIN).status_code == 422


def test_interaction_with_all_fields_contacts_a_pending_contact_and_schedules_a_follow_up(client, runtime, contacts):
    contact = contacts[11][0]
    follow_up = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(microsecond=0)
    body = {
        "type": "call",
        "notes": "Interested in générique",
        "customer_response": "Call back Friday",
        "next_action": "Share price list",
        "call_duration_minutes": 4,
        "call_successful": True,
        "follow_up_at": follow_up.isoformat(),
    }
    response = client.post(f"{CONTACTS}/{contact['id']}/interactions", json=body, headers=ALICE)
    assert response.status_code == 201, response.json
    created = response.json
    assert {k: created[k] for k in body if k != "follow_up_at"} == {
        k: v for k, v in body.items() if k != "follow_up_at"
    }
    assert dt.datetime.fromisoformat(created["follow_up_at"]) == follow_up
    assert created["staff_id"] == 11 and created["contact_id"] == contact["id"]
    detail = client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json
    assert detail["status"] == "contacted" and detail["last_interaction_at"] and detail["first_contacted_at"]
    assert [i["id"] for i in detail["interactions"]] == [created["id"]]
    [follow_up] = detail["follow_ups"]
    assert follow_up["note"] == "Share price list" and follow_up["done_at"] is None
    [changed] = events(runtime, "contact.status_changed")
    assert (changed["from_status"], changed["to_status"], changed["by"], changed["assigned_to"]) == (
        "pending",
        "contacted",
        11,
        11,
    )
    # a second interaction changes no status and publishes nothing more
    second = client.post(
        f"{CONTACTS}/{contact['id']}/interactions", json={"type": "whatsapp", "notes": "sent"}, headers=ALICE
    )
    assert second.status_code == 201
    assert len(events(runtime, "contact.status_changed")) == 1
    assert [i["type"] for i in client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json["interactions"]] == [
        "whatsapp",
        "call",
    ]


def test_interaction_retry_with_the_same_idempotency_key_logs_once(client, contacts):
    contact = contacts[11][0]
    headers = {**ALICE, "Idempotency-Key": "call-42"}
    body = {"type": "call", "follow_up_at": "2030-01-01T10:00:00Z"}
    first = client.post(f"{CONTACTS}/{contact['id']}/interactions", json=body, headers=headers)
    again = client.post(f"{CONTACTS}/{contact['id']}/interactions", json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 200 and again.json == first.json
    detail = client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json
    assert len(detail["interactions"]) == 1 and len(detail["follow_ups"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"type": "fax"},
        {},
        {"type": "call", "call_duration_minutes": -1},
        {"type": "email", "call_duration_minutes": 3},
        {"type": "call", "follow_up_at": "tomorrow"},
        {"type": "call", "status": "converted"},
        {"type": "call", "staff_id": 12},
    ],
)
def test_invalid_interactions_are_422_and_change_nothing(client, contacts, body):
    contact = contacts[11][0]
    response = client.post(f"{CONTACTS}/{contact['id']}/interactions", json=body, headers=ALICE)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json["status"] == "pending"


def test_status_rules(client, runtime, contacts):
    a, b = contacts[11]
    # pending → yellow → contacted is not reachable by an interaction (only pending becomes contacted)
    assert (
        client.post(f"{CONTACTS}/{a['id']}/yellow", json={"notes": "came, compared prices"}, headers=ALICE).json[
            "status"
        ]
        == "yellow"
    )
    again = client.post(f"{CONTACTS}/{a['id']}/yellow", json={}, headers=ALICE)
    assert again.status_code == 200 and again.json["status"] == "yellow"
    converted = client.post(
        f"{CONTACTS}/{a['id']}/convert", json={"conversion_value": "450.5", "bill_id": 77}, headers=ALICE
    )
    assert converted.status_code == 200
    assert converted.json["status"] == "converted" and converted.json["conversion_value"] == "450.50"
    assert converted.json["conversion_bill_id"] == 77 and converted.json["converted_at"]
    # converted is final: converting again changes nothing, yellow is refused
    again = client.post(f"{CONTACTS}/{a['id']}/convert", json={"conversion_value": "999"}, headers=ALICE)
    assert again.status_code == 200 and again.json == converted.json
    refused = client.post(f"{CONTACTS}/{a['id']}/yellow", json={}, headers=ALICE)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    # an interaction on a converted contact is recorded without a status change
    assert client.post(f"{CONTACTS}/{a['id']}/interactions", json={"type": "call"}, headers=ALICE).status_code == 201
    assert client.get(f"{CONTACTS}/{a['id']}", headers=ALICE).json["status"] == "converted"
    # a pending contact converts without a value
    plain = client.post(f"{CONTACTS}/{b['id']}/convert", headers=ALICE)
    assert plain.status_code == 200 and plain.json["conversion_value"] is None
    changes = [(e["contact_id"], e["from_status"], e["to_status"]) for e in events(runtime, "contact.status_changed")]
    assert changes == [
        (a["id"], "pending", "yellow"),
        (a["id"], "yellow", "converted"),
        (b["id"], "pending", "converted"),
    ]
    conversions = events(runtime, "contact.converted")
    assert [(e["contact_id"], e["conversion_value"], e["bill_id"]) for e in conversions] == [
        (a["id"], "450.50", 77),
        (b["id"], None, None),
    ]
    assert conversions[0]["customer_category"] == "contact_sheet" and conversions[0]["phone"] == a["phone"]


def test_transition_table():
    assert can_change("pending", "contacted") and can_change("pending", "converted") and can_change("pending", "yellow")
    assert can_change("contacted", "converted") and can_change("contacted", "yellow")
    assert can_change("yellow", "contacted") and can_change("yellow", "converted")
    assert not can_change("contacted", "pending") and not can_change("yellow", "pending")
    assert TRANSITIONS["converted"] == set()
    assert not any(can_change("converted", s) for s in ("pending", "contacted", "yellow", "converted"))


def test_patch_edits_and_admin_reassignment(client, contacts):
    contact = contacts[11][0]
    edited = client.patch(
        f"{CONTACTS}/{contact['id']}", json={"name": "  Zoë  Rao ", "whatsapp_status": "not_available"}, headers=ALICE
    )
    assert edited.status_code == 200
    assert edited.json["name"] == "Zoë  Rao" and edited.json["whatsapp_status"] == "not_available"
    # staff cannot reassign; unknown fields are refused; nothing is stored
    assert client.patch(f"{CONTACTS}/{contact['id']}", json={"assigned_to": 12}, headers=ALICE).status_code == 403
    for body in (
        {"status": "converted"},
        {"phone": "+919999999999"},
        {"whatsapp_status": "maybe"},
        {"customer_id": 5},
        {"conversion_value": "10"},
    ):
        response = client.patch(f"{CONTACTS}/{contact['id']}", json=body, headers=ALICE)
        assert response.status_code == 422, body
    fetched = client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json
    assert (fetched["status"], fetched["assigned_to"], fetched["phone"]) == ("pending", 11, contact["phone"])
    # admin reassigns to an active staff member only
    assert client.patch(f"{CONTACTS}/{contact['id']}", json={"assigned_to": 99}, headers=ADMIN).status_code == 422
    moved = client.patch(f"{CONTACTS}/{contact['id']}", json={"assigned_to": 12}, headers=ADMIN)
    assert moved.status_code == 200 and moved.json["assigned_to"] == 12
    assert client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).status_code == 404
    assert client.get(f"{CONTACTS}/{contact['id']}", headers=BOB).status_code == 200


def test_follow_ups_due_list_and_done(client, contacts):
    now = dt.datetime.now(dt.UTC)
    mine_a, mine_b = contacts[11]
    theirs = contacts[12][0]

    def log(contact, headers, days, note):
        body = {"type": "call", "next_action": note, "follow_up_at": (now + dt.timedelta(days=days)).isoformat()}
        assert client.post(f"{CONTACTS}/{contact['id']}/interactions", json=body, headers=headers).status_code == 201

    log(mine_a, ALICE, 1, "tomorrow")
    log(mine_b, ALICE, -1, "overdue")
    log(mine_a, ALICE, 10, "later")
    log(theirs, BOB, 1, "bob's")
    due = client.get(f"{CONTACTS}/follow-ups?due_within_days=7", headers=ALICE).json
    assert [r["note"] for r in due["items"]] == ["overdue", "tomorrow"]
    assert due["items"][0]["contact_phone"] == mine_b["phone"] and due["items"][0]["contact_name"] == mine_b["name"]
    assert [
        r["note"] for r in client.get(f"{CONTACTS}/follow-ups?due_within_days=30", headers=ALICE).json["items"]
    ] == ["overdue", "tomorrow", "later"]
    assert client.get(f"{CONTACTS}/follow-ups?due_within_days=0", headers=ALICE).json["total"] == 1
    assert client.get(f"{CONTACTS}/follow-ups", headers=ADMIN).json["total"] == 3
    assert client.get(f"{CONTACTS}/follow-ups?due_within_days=-1", headers=ALICE).status_code == 422
    overdue = due["items"][0]
    bobs = client.get(f"{CONTACTS}/follow-ups", headers=BOB).json["items"][0]
    assert client.post(f"{CONTACTS}/follow-ups/{bobs['id']}/done", headers=ALICE).status_code == 404
    done = client.post(f"{CONTACTS}/follow-ups/{overdue['id']}/done", headers=ALICE)
    assert done.status_code == 200 and done.json["done_at"] and done.json["done_by"] == 11
    again = client.post(f"{CONTACTS}/follow-ups/{overdue['id']}/done", headers=ALICE)
    assert again.status_code == 200 and again.json["done_at"] == done.json["done_at"]
    assert [r["note"] for r in client.get(f"{CONTACTS}/follow-ups", headers=ALICE).json["items"]] == ["tomorrow"]
    assert client.post(f"{CONTACTS}/follow-ups/999999/done", headers=ALICE).status_code == 404


def test_the_old_reminders_paths_still_answer_as_deprecated_aliases(client, contacts):
    contact = contacts[11][0]
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    body = {"type": "call", "next_action": "call back", "follow_up_at": due}
    assert client.post(f"{CONTACTS}/{contact['id']}/interactions", json=body, headers=ALICE).status_code == 201
    old = client.get(f"{CONTACTS}/reminders?due_within_days=7", headers=ALICE)
    new = client.get(f"{CONTACTS}/follow-ups?due_within_days=7", headers=ALICE)
    assert old.status_code == 200 and old.json == new.json and [r["note"] for r in old.json["items"]] == ["call back"]
    assert old.headers["Deprecation"] == "true" and "/api/v1/contacts/follow-ups" in old.headers["Link"]
    assert "Deprecation" not in new.headers
    follow_up_id = new.json["items"][0]["id"]
    done = client.post(f"{CONTACTS}/reminders/{follow_up_id}/done", headers=ALICE)
    assert done.status_code == 200 and done.json["done_by"] == 11 and done.headers["Deprecation"] == "true"
    assert client.post(f"{CONTACTS}/follow-ups/{follow_up_id}/done", headers=ALICE).json == done.json
    assert client.get(f"{CONTACTS}/reminders", headers=ALICE).json["total"] == 0
    assert client.post(f"{CONTACTS}/reminders/999999/done", headers=ALICE).status_code == 404
    detail = client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json
    assert detail["reminders"] == detail["follow_ups"] and detail["follow_ups"][0]["done_at"]


def test_whatsapp_link(client, contacts):
    contact = contacts[11][0]
    url = client.get(f"{CONTACTS}/{contact['id']}/whatsapp-link", headers=ALICE).json["url"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/" + contact["phone"].lstrip("+"))
    assert contact["name"] in parse_qs(parts.query)["text"][0]
    custom = client.get(
        f"{CONTACTS}/{contact['id']}/whatsapp-link",
        query_string={"template": "Namaste {name}! Your refill & offer: 10% off"},
        headers=ALICE,
    )
    text = parse_qs(urlsplit(custom.json["url"]).query)["text"][0]
    assert text == f"Namaste {contact['name']}! Your refill & offer: 10% off"
    assert client.get(f"{CONTACTS}/999999/whatsapp-link", headers=ALICE).status_code == 404


def test_unknown_contact_is_404(client, staff):
    assert client.get(f"{CONTACTS}/424242", headers=ADMIN).status_code == 404
    assert client.get(f"{CONTACTS}/uploads/424242", headers=ADMIN).status_code == 404
    assert client.get(f"{CONTACTS}/uploads/424242/errors", headers=ADMIN).status_code == 404
    # Ids beyond the INTEGER columns' range are unknown too (they used to be a database error, 500).
    for method, path in [
        ("get", "/2147483648"),
        ("get", "/99999999999999999999"),
        ("post", "/99999999999/convert"),
        ("get", "/uploads/99999999999"),
        ("post", "/follow-ups/99999999999/done"),
        ("post", "/reminders/99999999999/done"),
    ]:
        response = getattr(client, method)(f"{CONTACTS}{path}", json={} if method == "post" else None, headers=ADMIN)
        assert response.status_code == 404 and response.mimetype == "application/problem+json", path


def test_every_route_needs_a_token(settings, runtime):
    app = create_app(settings, runtime)
    client = app.test_client()
    public = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/static/<path:filename>"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule in public:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", "1").replace(f"<{name}>", "1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.mimetype == "application/problem+json"
            bad = client.open(path, method=method, headers={"Authorization": "Bearer forged"})
            assert bad.status_code == 401
            checked += 1
    assert checked >= 15  # with GET /contacts/export and POST /contacts/{id}/whatsapp


def test_openapi_documents_every_route_and_the_upload_form(client):
    spec = client.get("/openapi.json").json
    assert {
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/contacts/uploads",
        "/api/v1/contacts/uploads/{upload_id}/errors",
        "/api/v1/contacts/reminders",
        "/api/v1/contacts/follow-ups",
        "/api/v1/contacts/follow-ups/{follow_up_id}/done",
        "/api/v1/contacts/{contact_id}/whatsapp-link",
        "/api/v1/contacts/{contact_id}/whatsapp",
        "/api/v1/contacts/export",
    } <= set(spec["paths"])
    upload_form = spec["components"]["schemas"]["UploadFile"]["properties"]
    assert {"file", "list_name", "assign_to"} <= set(upload_form)
    paths = spec["paths"]
    assert paths["/api/v1/contacts/reminders"]["get"]["deprecated"] is True
    assert paths["/api/v1/contacts/reminders/{reminder_id}/done"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/v1/contacts/follow-ups"]["get"]
    assert "deprecated" not in paths["/api/v1/contacts/follow-ups/{follow_up_id}/done"]["post"]
    detail = spec["components"]["schemas"]["ContactDetail"]["properties"]
    assert "follow_ups" in detail and detail["reminders"]["deprecated"] is True


@pytest.mark.parametrize("bill_id, shown", [("²", "²"), ("١٢", "١٢"), ("007", "007"), ("42", 42)])
def test_bill_ids_that_are_not_canonical_integers_stay_text(client, runtime, contacts, bill_id, shown):
    # "²".isdigit() is true but int("²") raises: it used to be a 500; "007" used to become 7.
    contact = contacts[11][0]
    converted = client.post(f"{CONTACTS}/{contact['id']}/convert", json={"bill_id": bill_id}, headers=ALICE)
    assert converted.status_code == 200, converted.json
    assert converted.json["conversion_bill_id"] == shown
    assert client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json["conversion_bill_id"] == shown
    assert [e["bill_id"] for e in events(runtime, "contact.converted")] == [shown]


@pytest.mark.parametrize(
    "query",
    [
        "assigned_to=99999999999999999999",
        "upload_id=99999999999999999999",
        "assigned_to=2147483648",
        "upload_id=0",
        "assigned_to=-1",
    ],
)
def test_integer_filters_out_of_range_are_422(client, contacts, query):
    response = client.get(f"{CONTACTS}?{query}", headers=ADMIN)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert client.get(f"{CONTACTS}?assigned_to=2147483647", headers=ADMIN).json["total"] == 0


@pytest.mark.parametrize("assigned_to", [99999999999999999999, 2147483648, 0])
def test_reassigning_to_an_out_of_range_staff_id_is_422(client, contacts, assigned_to):
    contact = contacts[11][0]
    response = client.patch(f"{CONTACTS}/{contact['id']}", json={"assigned_to": assigned_to}, headers=ADMIN)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert client.get(f"{CONTACTS}/{contact['id']}", headers=ADMIN).json["assigned_to"] == 11
