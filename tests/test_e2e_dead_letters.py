"""End to end: a poison message is dead-lettered, visible to admins through the gateway, and replayable."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.testing import eventually, publish_raw

from .conftest import bill_body, new_phone, requires
from .e2e_helpers import customer_by_phone

pytestmark = pytest.mark.e2e


def _dead_letters_of(admin, service: str, marker: str, status: str = "archived") -> list[dict]:
    response = admin.get("/api/v1/admin/dead-letters", params={"status": status, "per_page": 200})
    assert response.status_code == 200, response.text
    listing = response.json()["services"][service]
    assert listing["available"], listing
    return [item for item in listing["items"] if marker in item["body"]]


def test_poison_message_is_dead_lettered_listed_and_replayed(stack, admin):
    requires(stack, "gateway", "billing", "customers", "contacts", "reporting")
    marker = f"poison-{uuid.uuid4().hex}"
    # A bill.created without data: it can never succeed, so it is dead-lettered at once.
    body = json.dumps(
        {
            "specversion": "1.0",
            "id": marker,
            "source": "/integrations/e2e-poison",
            "type": "bill.created",
            "time": "2026-01-01T00:00:00Z",
        }
    )
    publish_raw(stack.amqp_url, "bill.created", body, message_id=marker)

    # Every service consuming bill.created archives it on its own.
    consumers = ("customers", "contacts", "reporting")
    archived = {
        service: eventually(
            lambda service=service: _dead_letters_of(admin, service, marker),
            timeout=30,
            message=f"poison message archived by {service}",
        )[0]
        for service in consumers
    }
    assert all(d["event_type"] == "bill.created" and d["reason"] for d in archived.values())

    # Others keep flowing.
    phone = new_phone()
    assert admin.post("/api/v1/bills", json=bill_body(phone)).status_code == 201
    eventually(lambda: customer_by_phone(admin, phone), timeout=30, message="a later bill still processed")

    for service, first in archived.items():
        replay = admin.post(f"/api/v1/admin/dead-letters/{service}/replay", json={"ids": [first["id"]]})
        assert replay.status_code == 200, replay.text
        assert replay.json()["replayed"] == 1
        assert [i["id"] for i in _dead_letters_of(admin, service, marker, "replayed")] == [first["id"]]
        # Still poison after the replay: the service's relay sent it through its queue again and it is
        # back in the archive as a new dead letter (nothing lost, nothing looping).
        again = eventually(
            lambda service=service, first=first: [
                i for i in _dead_letters_of(admin, service, marker) if i["id"] != first["id"]
            ],
            timeout=30,
            message=f"{service}: replayed message went through the queue again",
        )
        assert len(again) == 1


def test_staff_cannot_see_dead_letters(gateway_url, admin):
    from .conftest import Client, login

    username = f"staff-{uuid.uuid4().hex[:8]}"
    created = admin.post(
        "/api/v1/staff", json={"username": username, "name": "Meena", "password": "staff-password-2", "role": "staff"}
    )
    assert created.status_code == 201, created.text
    staff = Client(gateway_url, login(gateway_url, username, "staff-password-2"))
    assert staff.get("/api/v1/admin/dead-letters").status_code == 403
    assert staff.post("/api/v1/admin/dead-letters/customers/replay", json={}).status_code == 403
