"""Concurrent retries with one ``Idempotency-Key`` (a double-clicked upload, a flaky network
replaying an interaction): one effect, every answer 201/202 or 200 with that resource, never a 5xx.
On PostgreSQL and on the embedded SQLite default."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from services.contacts.app import create_app
from services.contacts.models import ContactInteraction, ContactRecord, ContactUpload, StaffMember, messaging
from services.contacts.settings import ContactsSettings
from shared.clock import utcnow
from shared.migrations import upgrade
from shared.runtime import Runtime
from shared.testing import at_once, auth_headers, eventually, make_settings

REQUESTS = 8
ADMIN = auth_headers("admin", 1)
ALICE = auth_headers("staff", 11)
CONTACTS = "/api/v1/contacts"
LIST = ("phone,name\n" + "".join(f"98765432{n:02d},Person {n}\n" for n in range(6))).encode()


def upload(client, key, content=LIST):
    return client.post(
        f"{CONTACTS}/uploads",
        data={"file": (io.BytesIO(content), "list.csv")},
        headers={**ADMIN, "Idempotency-Key": key},
        content_type="multipart/form-data",
    )


def assert_one_answer(answers, created=201):
    """One request created (``created``), every other one replayed it (200), all with the same resource."""
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {created, 200}, [(a.status_code, a.get_json()) for a in answers]
    assert statuses.count(created) == 1, statuses
    assert len({a.json["id"] for a in answers}) == 1


def count(runtime, model_or_table, *where):
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model_or_table).where(*where))


def outbox_count(runtime, event_type):
    return count(runtime, messaging.outbox, messaging.outbox.c.event_type == event_type)


def a_contact_of_alice(client):
    assert upload(client, "the-list").status_code == 201
    return client.get(f"{CONTACTS}?assigned_to=11", headers=ADMIN).json["items"][0]


def log_call(contact_id):
    def send(client):
        return client.post(
            f"{CONTACTS}/{contact_id}/interactions",
            json={"type": "call", "follow_up_at": "2030-01-01T10:00:00Z"},
            headers={**ALICE, "Idempotency-Key": "call-race"},
        )

    return send


def check_uploads(runtime, clients):
    answers = at_once(clients, lambda client: upload(client, "upload-race"))
    assert_one_answer(answers)
    assert all(a.json == answers[0].json for a in answers)
    assert count(runtime, ContactUpload) == 1 and count(runtime, ContactRecord) == 6
    assert outbox_count(runtime, "contacts.uploaded") == 1


def check_interactions(runtime, clients):
    contact = a_contact_of_alice(clients[0])
    answers = at_once(clients, log_call(contact["id"]))
    assert_one_answer(answers)
    assert all(a.json == answers[0].json for a in answers)
    assert count(runtime, ContactInteraction) == 1
    assert outbox_count(runtime, "contact.status_changed") == 1
    detail = clients[0].get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json
    assert detail["status"] == "contacted" and len(detail["follow_ups"]) == 1


# -- PostgreSQL --------------------------------------------------------------------------------
def test_concurrent_uploads_with_one_key_import_once(app_for, runtime, staff):
    check_uploads(runtime, [app_for() for _ in range(REQUESTS)])


def test_concurrent_background_uploads_with_one_key_start_one_import(app_for, runtime, staff, importer):
    clients = [app_for(async_upload_bytes=10) for _ in range(REQUESTS)]
    answers = at_once(clients, lambda client: upload(client, "big-upload-race"))
    assert_one_answer(answers, created=202)
    upload_id = answers[0].json["id"]
    assert count(runtime, ContactUpload) == 1

    def completed():
        return clients[0].get(f"{CONTACTS}/uploads/{upload_id}", headers=ADMIN).json["status"] == "completed"

    eventually(completed, message="the one background import completed")
    assert count(runtime, ContactRecord) == 6


def test_concurrent_interactions_with_one_key_log_once(app_for, runtime, staff):
    check_interactions(runtime, [app_for() for _ in range(REQUESTS)])


# -- SQLite (the embedded default) -----------------------------------------------------------
@pytest.fixture
def sqlite_runtime(tmp_path, amqp_url):
    url = f"sqlite:///{tmp_path / 'contacts.db'}"
    upgrade("contacts", url)
    runtime = Runtime.build(make_settings("contacts", url, amqp_url, cls=ContactsSettings))
    with runtime.session_factory() as session:
        session.add_all(
            StaffMember(
                staff_id=staff_id,
                username=f"user{staff_id}",
                name=f"Staff {staff_id}",
                role="staff",
                event_time=utcnow(),
            )
            for staff_id in (11, 12, 13)
        )
        session.commit()
    yield runtime
    runtime.engine.dispose()


def sqlite_clients(runtime):
    return [create_app(runtime.settings, runtime).test_client() for _ in range(REQUESTS)]


def test_concurrent_uploads_with_one_key_import_once_on_sqlite(sqlite_runtime):
    check_uploads(sqlite_runtime, sqlite_clients(sqlite_runtime))


def test_concurrent_interactions_with_one_key_log_once_on_sqlite(sqlite_runtime):
    check_interactions(sqlite_runtime, sqlite_clients(sqlite_runtime))
