"""End to end (issue: every workflow of the user guide): generic education changes a customer's
category and records savings; consent recorded once stops WhatsApps in reminders; a refill
reminder set by hand is closed by the next purchase (real processes, through the gateway)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shared.testing import eventually

from .conftest import bill_body, new_phone, requires
from .e2e_helpers import customer_by_phone, purchases_of

pytestmark = pytest.mark.e2e
DEADLINE = 30.0


@pytest.fixture(autouse=True)
def _services(stack):
    requires(stack, "gateway", "billing", "customers", "reminders")


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()


def post_bill(client, phone, **fields):
    response = client.post("/api/v1/bills", json=bill_body(phone, **fields))
    assert response.status_code == 201, response.text
    return response.json()


def test_workflow_4_generic_education_changes_the_category_and_records_savings(admin):
    phone = new_phone()
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    post_bill(
        admin,
        phone,
        category="regular_branded",
        bill_date=yesterday,
        items=[{"medicine_name": "Lipitor 10", "quantity": 1, "amount": "100.00", "duration_days": 30}],
    )
    customer = eventually(lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer created")
    assert customer["category"] == "regular_branded"
    # Staff explain generics at the counter and record it on the profile.
    educated = admin.patch(f"/api/v1/customers/{customer['id']}", json={"generic_education_given": True})
    assert educated.status_code == 200, educated.text
    assert educated.json()["generic_education_given_on"] == today().isoformat()
    # The next bill: the generic, with what the branded one would have cost.
    bill = post_bill(
        admin,
        phone,
        category="generic_informed",
        items=[
            {
                "medicine_name": "Atorvastatin 10 (generic)",
                "quantity": 1,
                "amount": "40.00",
                "is_generic": True,
                "branded_price": "100.00",
                "duration_days": 30,
            }
        ],
    )
    assert bill["items"][0]["savings"] == "60.00"

    def switched():
        profile = customer_by_phone(admin, phone)
        return profile if profile and profile["category"] == "generic_informed" else None

    profile = eventually(switched, timeout=DEADLINE, message="category follows the latest bill")
    assert Decimal(profile["total_generic_savings"]) == Decimal("60.00")
    assert [(h["category"], h["source"]) for h in profile["category_history"]] == [
        ("regular_branded", "bill"),
        ("generic_informed", "bill"),
    ]
    generic = [p for p in purchases_of(admin, profile["id"]) if p["is_generic"]]
    assert [(p["branded_price"], p["savings"]) for p in generic] == [("100.00", "60.00")]


def test_consent_recorded_once_stops_whatsapp_reminders(admin):
    phone = new_phone()
    # The customer said STOP before the pharmacy ever billed them.
    said = admin.put(f"/api/v1/consent/{phone}", json={"whatsapp": "declined", "source": "reply STOP"})
    assert said.status_code == 200, said.text
    bought = (today() - dt.timedelta(days=25)).isoformat()
    post_bill(
        admin,
        phone,
        bill_date=bought,
        items=[{"medicine_name": "Metformin 500", "quantity": 1, "amount": "99.00", "duration_days": 30}],
    )
    customer = eventually(lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer created")
    assert customer["consent"]["whatsapp"] == "declined"

    def reminder():
        items = admin.get("/api/v1/reminders/refills", params={"customer_id": customer["id"]}).json()["items"]
        return (
            items[0] if items and items[0]["customer_phone"] and items[0]["consent"]["whatsapp"] == "declined" else None
        )

    due = eventually(reminder, timeout=DEADLINE, message="reminder with the customer's consent")
    refused = admin.post(f"/api/v1/reminders/refills/{due['id']}/whatsapp")
    assert refused.status_code == 409, refused.text
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    # Calls were never declined: a call is recorded.
    called = admin.post(f"/api/v1/reminders/refills/{due['id']}/call", json={"notes": "asked", "successful": True})
    assert called.status_code == 200, called.text
    history = admin.get(f"/api/v1/consent/{phone}/history").json()
    assert [(h["whatsapp"], h["source"]) for h in history["items"]] == [("declined", "reply STOP")]


def test_a_refill_reminder_set_by_hand_is_closed_by_the_next_purchase(admin):
    phone = new_phone()
    post_bill(
        admin,
        phone,
        items=[{"medicine_name": "Insulin Glargine", "quantity": 1, "amount": "450.00"}],  # no duration
    )
    customer = eventually(lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer created")

    def set_by_hand():
        response = admin.post(
            "/api/v1/reminders/refills",
            json={
                "customer_id": customer["id"],
                "medicine_name": "Insulin Glargine",
                "reminder_date": (today() + dt.timedelta(days=20)).isoformat(),
            },
        )
        # Until the profile reaches reminders the customer is unknown there (422): try again.
        return response.json() if response.status_code == 201 else None

    reminder = eventually(set_by_hand, timeout=DEADLINE, message="reminder set by hand")
    assert reminder["set_by_hand"] is True and reminder["status"] == "open"
    post_bill(admin, phone, items=[{"medicine_name": "insulin glargine", "quantity": 1, "amount": "450.00"}])

    def closed():
        found = admin.get(f"/api/v1/reminders/refills/{reminder['id']}").json()
        return found if found["status"] == "purchased" else None

    assert eventually(closed, timeout=DEADLINE, message="closed by the next purchase")["purchased_at"]
