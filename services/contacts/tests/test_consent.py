"""Consent in contacts (real PostgreSQL): ``consent.changed`` kept per phone, newest wins in any
order; a declined channel refuses WhatsApps and calls (409, nothing written); contacts carry their
consent; ``POST /contacts/{id}/whatsapp`` logs a WhatsApp and answers the wa.me link."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, func, select

from services.contacts.models import ContactInteraction, ContactRecord, consents, messaging
from shared.testing import auth_headers

ADMIN = auth_headers("admin", 1)
ALICE = auth_headers("staff", 11)
BOB = auth_headers("staff", 12)
CONTACTS = "/api/v1/contacts"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def consent_changed(phone, minute, whatsapp="unknown", call="unknown", sms="unknown"):
    return {
        "phone": phone,
        "whatsapp": whatsapp,
        "call": call,
        "sms": sms,
        "source": "counter",
        "changed_at": (T0 + dt.timedelta(minutes=minute)).isoformat(),
        "by": 1,
    }


def upload(client, phones):
    content = "phone,name\n" + "".join(f"{phone},Person {n}\n" for n, phone in enumerate(phones))
    response = client.post(
        f"{CONTACTS}/uploads",
        data={"file": (io.BytesIO(content.encode()), "list.csv"), "assign_to": "11"},
        headers=ADMIN,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return {c["phone"]: c for c in client.get(f"{CONTACTS}?per_page=200", headers=ADMIN).json["items"]}


def outbox_count(runtime):
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(messaging.outbox))


def outbox(runtime, event_type):
    with runtime.session_factory() as session:
        rows = session.scalars(
            select(messaging.outbox.c.payload)
            .where(messaging.outbox.c.event_type == event_type)
            .order_by(messaging.outbox.c.id)
        )
        return [json.loads(row)["data"] for row in rows]


def interactions_of(runtime, contact_id):
    with runtime.session_factory() as session:
        return list(session.scalars(select(ContactInteraction).where(ContactInteraction.contact_id == contact_id)))


# -- the copy of consent -------------------------------------------------------------------------
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_newest_consent_wins_whatever_the_delivery_order(runtime, deliver, order):
    phone = "+919876543210"
    changes = [
        consent_changed(phone, 1, whatsapp="granted", call="granted"),
        consent_changed(phone, 2, whatsapp="declined", call="granted", sms="granted"),
        consent_changed(phone, 3, whatsapp="declined", call="declined", sms="granted"),
    ]
    for index in order:
        deliver("consent.changed", changes[index], source="/services/customers")
    with runtime.session_factory() as session:
        kept = consents.of(session, phone)
        changed_at = consents.changed_at(session, phone)
    assert kept.as_dict() == {"whatsapp": "declined", "call": "declined", "sms": "granted"}
    assert changed_at == T0 + dt.timedelta(minutes=3)


def test_consent_given_before_the_phone_is_in_a_list_applies_when_it_is_uploaded(client, staff, deliver):
    phone = "+919876543220"
    deliver("consent.changed", consent_changed(phone, 1, whatsapp="declined"), source="/services/customers")
    contacts = upload(client, ["9876543220", "9876543221"])

    declined, other = contacts[phone], contacts["+919876543221"]
    assert declined["consent"] == {"whatsapp": "declined", "call": "unknown", "sms": "unknown"}
    assert other["consent"] == {"whatsapp": "unknown", "call": "unknown", "sms": "unknown"}
    detail = client.get(f"{CONTACTS}/{declined['id']}", headers=ALICE).json
    assert detail["consent"]["whatsapp"] == "declined"
    refused = client.post(f"{CONTACTS}/{declined['id']}/whatsapp", json={}, headers=ALICE)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "consent" in refused.json["errors"]


def test_a_page_of_contacts_reads_consent_in_one_query(client, staff, deliver, runtime):
    phones = [f"98765432{n:02d}" for n in range(30, 40)]
    deliver("consent.changed", consent_changed("+919876543231", 1, call="declined"), source="/services/customers")
    upload(client, phones)
    statements = []

    def count(conn, cursor, statement, *args):
        if "consent_copies" in statement:
            statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        page = client.get(f"{CONTACTS}?per_page=200", headers=ALICE).json
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert page["total"] == 10 and len(statements) == 1
    by_phone = {c["phone"]: c["consent"] for c in page["items"]}
    assert by_phone["+919876543231"]["call"] == "declined"
    assert {c["whatsapp"] for c in by_phone.values()} == {"unknown"}


# -- refusals ---------------------------------------------------------------------------------
def test_declined_whatsapp_refuses_the_whatsapp_the_link_and_a_whatsapp_interaction(client, staff, deliver, runtime):
    phone = "+919876543240"
    contact = upload(client, ["9876543240"])[phone]
    deliver("consent.changed", consent_changed(phone, 1, whatsapp="declined"), source="/services/customers")
    before = outbox_count(runtime)

    for method, path, body in [
        ("post", "/whatsapp", {"template": "Hi {name}"}),
        ("get", "/whatsapp-link", None),
        ("post", "/interactions", {"type": "whatsapp", "notes": "sent offer"}),
    ]:
        response = getattr(client, method)(f"{CONTACTS}/{contact['id']}{path}", json=body, headers=ALICE)
        assert response.status_code == 409, (path, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["errors"] == {"consent": ["whatsapp declined"]}

    # Nothing half-written: no interaction, no event, still pending.
    assert interactions_of(runtime, contact["id"]) == []
    assert outbox_count(runtime) == before
    assert client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json["status"] == "pending"
    # Calls and visits are still allowed.
    assert (
        client.post(f"{CONTACTS}/{contact['id']}/interactions", json={"type": "call"}, headers=ALICE).status_code == 201
    )
    assert (
        client.post(f"{CONTACTS}/{contact['id']}/interactions", json={"type": "visit"}, headers=ALICE).status_code
        == 201
    )


def test_declined_calls_refuse_logging_a_call_until_consent_is_given_again(client, staff, deliver, runtime):
    phone = "+919876543241"
    contact = upload(client, ["9876543241"])[phone]
    deliver("consent.changed", consent_changed(phone, 1, call="declined"), source="/services/customers")

    refused = client.post(
        f"{CONTACTS}/{contact['id']}/interactions",
        json={"type": "call", "call_duration_minutes": 2, "call_successful": True},
        headers=ALICE,
    )
    assert refused.status_code == 409 and refused.json["errors"] == {"consent": ["call declined"]}
    assert interactions_of(runtime, contact["id"]) == []
    assert client.post(f"{CONTACTS}/{contact['id']}/whatsapp", json={}, headers=ALICE).status_code == 201

    deliver("consent.changed", consent_changed(phone, 2, call="granted"), source="/services/customers")
    assert (
        client.post(f"{CONTACTS}/{contact['id']}/interactions", json={"type": "call"}, headers=ALICE).status_code == 201
    )


# -- POST /contacts/{id}/whatsapp ------------------------------------------------------------------
def test_sending_a_whatsapp_logs_it_makes_the_contact_contacted_and_answers_the_link(client, staff, runtime):
    phone = "+919876543250"
    contact = upload(client, ["9876543250"])[phone]
    key = {"Idempotency-Key": "wa-1", **ALICE}

    response = client.post(f"{CONTACTS}/{contact['id']}/whatsapp", json={"template": "Hello {name}!"}, headers=key)
    assert response.status_code == 201, response.json
    url = urlsplit(response.json["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/919876543250")
    assert parse_qs(url.query)["text"] == ["Hello Person 0!"]
    sent = response.json["contact"]
    assert sent["id"] == contact["id"] and sent["status"] == "contacted" and sent["last_interaction_at"]
    assert sent["consent"] == {"whatsapp": "unknown", "call": "unknown", "sms": "unknown"}

    [interaction] = interactions_of(runtime, contact["id"])
    assert interaction.type == "whatsapp" and interaction.staff_id == 11
    [logged] = outbox(runtime, "contact.interaction_logged")
    assert logged["type"] == "whatsapp" and logged["interaction_id"] == interaction.id and logged["by"] == 11
    [changed] = outbox(runtime, "contact.status_changed")
    assert (changed["from_status"], changed["to_status"]) == ("pending", "contacted")
    detail = client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json
    assert [i["type"] for i in detail["interactions"]] == ["whatsapp"]

    # A retry with the same key answers the same and logs nothing new.
    again = client.post(f"{CONTACTS}/{contact['id']}/whatsapp", json={"template": "Hello {name}!"}, headers=key)
    assert again.status_code == 200 and again.json["url"] == response.json["url"]
    assert len(interactions_of(runtime, contact["id"])) == 1
    assert len(outbox(runtime, "contact.interaction_logged")) == 1

    # Without a key, a second WhatsApp is a second interaction (the contact stays contacted).
    second = client.post(f"{CONTACTS}/{contact['id']}/whatsapp", headers=ALICE)
    assert second.status_code == 201 and second.json["contact"]["status"] == "contacted"
    assert "greetings" in parse_qs(urlsplit(second.json["url"]).query)["text"][0]
    assert len(interactions_of(runtime, contact["id"])) == 2


def test_whatsapp_bad_input_and_other_staffs_contacts(client, staff, runtime):
    contact = upload(client, ["9876543251"])["+919876543251"]
    path = f"{CONTACTS}/{contact['id']}/whatsapp"
    for body, field in [
        ({"template": "x" * 1001}, "template"),
        ({"message": "hi"}, "message"),
        ({"template": 5}, "template"),
    ]:
        response = client.post(path, json=body, headers=ALICE)
        assert response.status_code == 422 and response.mimetype == "application/problem+json", body
        assert field in json.dumps(response.json["errors"]), response.json
    assert client.post(path, json={}, headers=BOB).status_code == 404  # Bob's list does not have it
    assert client.post(f"{CONTACTS}/99999/whatsapp", json={}, headers=ADMIN).status_code == 404
    assert interactions_of(runtime, contact["id"]) == []
    with runtime.session_factory() as session:
        assert session.get(ContactRecord, contact["id"]).status == "pending"


def test_a_converted_contact_can_still_get_a_whatsapp(client, staff, runtime):
    contact = upload(client, ["9876543252"])["+919876543252"]
    assert client.post(f"{CONTACTS}/{contact['id']}/convert", json={}, headers=ALICE).status_code == 200
    response = client.post(f"{CONTACTS}/{contact['id']}/whatsapp", json={}, headers=ALICE)
    assert response.status_code == 201 and response.json["contact"]["status"] == "converted"


def test_an_upload_counts_the_phones_that_declined_every_channel_and_still_imports_them(client, staff, deliver):
    everything = {"whatsapp": "declined", "call": "declined", "sms": "declined"}
    deliver("consent.changed", consent_changed("+919876543250", 1, **everything), source="/services/customers")
    deliver("consent.changed", consent_changed("+919876543251", 1, whatsapp="declined"), source="/services/customers")
    contacts = upload(client, ["9876543250", "9876543251", "9876543252"])
    assert contacts["+919876543250"]["status"] == "pending"
    assert contacts["+919876543250"]["consent"] == everything
    [summary] = client.get(f"{CONTACTS}/uploads", headers=ADMIN).json["items"]
    assert (summary["imported"], summary["do_not_contact"]) == (3, 1)
