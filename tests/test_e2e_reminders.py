"""End to end (issue: customer profiles and refill reminders): a bill with medicine durations
becomes due reminders with the customer's details, staff actions are recorded, the next purchase
starts the next cycle, and profiles carry audited medical information (real processes)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from shared.testing import eventually

from .conftest import bill_body, new_phone, requires
from .e2e_helpers import customer_by_phone

pytestmark = pytest.mark.e2e
DEADLINE = 30.0


@pytest.fixture(autouse=True)
def _services(stack):
    requires(stack, "gateway", "billing", "customers", "reminders")


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()


def reminders(client, **params) -> list[dict]:
    response = client.get("/api/v1/reminders/refills", params={"per_page": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def reminder_of(client, customer_id, medicine, **params):
    found = [r for r in reminders(client, customer_id=customer_id, **params) if r["medicine_name"] == medicine]
    return found[0] if found else None


def test_bill_to_due_reminder_to_actions_to_next_cycle(admin):
    phone = new_phone()
    bought = today() - dt.timedelta(days=25)  # 30-day supply: reminder 5 days before, i.e. today
    response = admin.post(
        "/api/v1/bills",
        json=bill_body(
            phone,
            name="Meera Nair",
            bill_date=bought.isoformat(),
            items=[
                {"medicine_name": "Metformin 500", "quantity": 1, "amount": "99.00", "duration_days": 30},
                {"medicine_name": "Amlodipine 5", "quantity": 1, "amount": "45.00", "duration_days": 60},
            ],
        ),
    )
    assert response.status_code == 201, response.text
    customer = eventually(lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer created")

    due = eventually(
        lambda: (r := reminder_of(admin, customer["id"], "Metformin 500", days_ahead=0)) and r["customer_name"] and r,
        timeout=DEADLINE,
        message="reminder due today with the name",
    )
    assert due["reminder_date"] == today().isoformat() and due["days_until_due"] == 0
    assert due["customer_name"] == "Meera Nair" and due["customer_phone"] == phone
    assert due["status"] == "open"
    # The 60-day medicine is due in 30 days: in the 30-day list, not the 7-day one.
    assert reminder_of(admin, customer["id"], "Amlodipine 5", days_ahead=7) is None
    later = reminder_of(admin, customer["id"], "Amlodipine 5", days_ahead=30)
    assert later and later["days_until_due"] == 30

    sent = admin.post(f"/api/v1/reminders/refills/{due['id']}/whatsapp")
    assert sent.status_code == 200, sent.text
    link = urlsplit(sent.json()["whatsapp_url"])
    assert link.netloc == "wa.me" and link.path == "/" + phone.lstrip("+")
    message = parse_qs(link.query)["text"][0]
    assert "Meera Nair" in message and "Metformin 500" in message
    assert sent.json()["whatsapp_sent_at"]
    called = admin.post(
        f"/api/v1/reminders/refills/{due['id']}/call", json={"notes": "will come Friday", "successful": True}
    )
    assert called.status_code == 200 and called.json()["call_made_at"]
    answered = admin.post(
        f"/api/v1/reminders/refills/{due['id']}/response", json={"customer_response": "Coming on Friday"}
    )
    assert answered.status_code == 200 and answered.json()["responded"] is True

    # The next purchase of the same medicine (typed differently) closes this one and opens the next.
    response = admin.post(
        "/api/v1/bills",
        json=bill_body(
            phone,
            name="Meera Nair",
            bill_date=today().isoformat(),
            items=[{"medicine_name": "metformin  500", "quantity": 1, "amount": "99.00", "duration_days": 30}],
        ),
    )
    assert response.status_code == 201
    closed = eventually(
        lambda: (
            (r := [x for x in reminders(admin, customer_id=customer["id"], status="purchased") if x["id"] == due["id"]])
            and r[0]
        ),
        timeout=DEADLINE,
        message="first reminder closed by the next purchase",
    )
    assert closed["purchased_at"]
    nxt = eventually(
        lambda: [
            r
            for r in reminders(admin, customer_id=customer["id"], status="open")
            if r["medicine_name"].lower().split() == ["metformin", "500"]
        ],
        timeout=DEADLINE,
        message="next cycle opened",
    )
    assert [r["reminder_date"] for r in nxt] == [(today() + dt.timedelta(days=25)).isoformat()]


def test_profile_medical_fields_are_kept_and_every_read_and_change_is_audited(admin):
    phone = new_phone()
    created = admin.post(
        "/api/v1/customers", json={"phone": phone, "name": "Ravi Kumar", "category": "first_time_prescription"}
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    patched = admin.patch(
        f"/api/v1/customers/{customer_id}",
        json={
            "chronic_conditions": ["Type 2 diabetes"],
            "allergies": ["Penicillin"],
            "primary_doctor": "Dr. Rao",
            "prefers_generic": True,
            "special_notes": "Prefers evening calls",
        },
        headers={"X-Request-ID": "e2e-audit-1"},
    )
    assert patched.status_code == 200, patched.text
    profile = admin.get(f"/api/v1/customers/{customer_id}").json()
    assert profile["chronic_conditions"] == ["Type 2 diabetes"] and profile["allergies"] == ["Penicillin"]
    assert (
        admin.post(
            "/api/v1/customers", json={"phone": phone, "name": "Dup", "category": "first_time_prescription"}
        ).status_code
        == 409
    )

    audit = admin.get("/api/v1/admin/audit", params={"subject": customer_id}).json()["items"]
    actions = sorted(a["action"] for a in audit)
    assert "create" in actions and "update" in actions and "read" in actions
    update = next(a for a in audit if a["action"] == "update")
    assert update["request_id"] == "e2e-audit-1"
    assert set(update["fields_changed"]) >= {"chronic_conditions", "allergies", "primary_doctor"}
    assert "Penicillin" not in str(audit)
