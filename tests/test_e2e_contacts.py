"""End to end (issue: contacts): upload a sample list as admin, spread evenly over three staff; a
staff member logs a call; a bill "was contacted before" converts that contact with its value and
links the customer; "visited but no purchase" turns another yellow (real processes)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.testing import eventually

from .conftest import Client, login, requires

pytestmark = pytest.mark.e2e
DEADLINE = 30.0
FIXTURES = Path(__file__).resolve().parent.parent / "services/contacts/tests/fixtures/contact-lists"


@pytest.fixture(autouse=True)
def _services(stack):
    requires(stack, "gateway", "billing", "customers", "contacts")


def new_staff(admin: Client, gateway_url: str) -> tuple[int, Client]:
    username = f"staff-{uuid.uuid4().hex[:8]}"
    response = admin.post(
        "/api/v1/staff",
        json={"username": username, "name": f"Staff {username[-4:]}", "password": "counter-pass-123", "role": "staff"},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], Client(gateway_url, login(gateway_url, username, "counter-pass-123"))


def upload(admin: Client, staff_ids: list[int]):
    with open(FIXTURES / "contacts.csv", "rb") as handle:
        return admin.post(
            "/api/v1/contacts/uploads",
            files={"file": ("contacts.csv", handle, "text/csv")},
            data={"list_name": "Diwali list", "assign_to": ",".join(map(str, staff_ids))},
        )


def contacts_of(client: Client, **params) -> list[dict]:
    items, page = [], 1
    while True:
        body = client.get("/api/v1/contacts", params={**params, "page": page, "per_page": 200}).json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def test_upload_assign_call_convert_and_yellow(admin, gateway_url):
    expected = json.loads((FIXTURES / "expected.json").read_text())
    staff = [new_staff(admin, gateway_url) for _ in range(3)]
    staff_ids = [staff_id for staff_id, _ in staff]

    # The contacts service learns of new staff from staff.created events: retry until it has.
    def uploaded():
        response = upload(admin, staff_ids)
        if response.status_code == 422 and "staff" in response.text.lower():
            return None
        assert response.status_code == 201, response.text
        return response.json()

    result = eventually(uploaded, timeout=DEADLINE, interval=0.5, message="roster knows the three staff")
    assert result["imported"] == len(expected["imported_phones"])
    assert result["invalid"] == len(expected["rejected"])
    counts = sorted(result["assigned"].get(str(i), 0) for i in staff_ids)
    assert sum(counts) == result["imported"] and counts[-1] - counts[0] <= 1, result["assigned"]

    errors = admin.get(result["errors_url"])
    assert errors.status_code == 200 and errors.text.count("\n") >= len(expected["rejected"])

    first_id, first = staff[0]
    mine = contacts_of(first, upload_id=result["id"])
    assert len(mine) == result["assigned"][str(first_id)]
    assert {c["assigned_to"] for c in mine} == {first_id} and {c["status"] for c in mine} == {"pending"}
    others = contacts_of(admin, upload_id=result["id"], assigned_to=staff_ids[1])
    assert first.get(f"/api/v1/contacts/{others[0]['id']}").status_code == 404

    called = mine[0]
    logged = first.post(
        f"/api/v1/contacts/{called['id']}/interactions",
        json={
            "type": "call",
            "notes": "asked about BP medicine",
            "call_duration_minutes": 3,
            "call_successful": True,
            "customer_response": "will visit",
        },
    )
    assert logged.status_code == 201, logged.text
    assert first.get(f"/api/v1/contacts/{called['id']}").json()["status"] == "contacted"

    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date().isoformat()
    bill = admin.post(
        "/api/v1/bills",
        json={
            "customer_phone": called["phone"],
            "customer_name": called["name"] or "Walk-in",
            "customer_category": "contact_sheet",
            "was_contacted_before": True,
            "bill_date": today,
            "items": [{"medicine_name": "Telmisartan 40", "quantity": 1, "amount": "310.00", "duration_days": 30}],
        },
    )
    assert bill.status_code == 201, bill.text
    converted = eventually(
        lambda: (
            (c := first.get(f"/api/v1/contacts/{called['id']}").json())
            and c["status"] == "converted"
            and c["customer_id"]
            and c
        ),
        timeout=DEADLINE,
        message="contact converted and linked to its customer",
    )
    assert converted["conversion_value"] == "310.00" and converted["converted_at"] == today
    assert converted["conversion_bill_id"] == bill.json()["id"]
    # customers links the contact record when contact.converted reaches it (eventually, too).
    customer = eventually(
        lambda: (
            (c := admin.get(f"/api/v1/customers/{converted['customer_id']}").json())
            and c["contact_record_id"] is not None
            and c
        ),
        timeout=DEADLINE,
        message="customer linked to its contact record",
    )
    assert customer["phone"] == called["phone"] and customer["contact_record_id"] == called["id"]

    walked_in = mine[1]
    visit = admin.post(
        "/api/v1/bills",
        json={
            "customer_phone": walked_in["phone"],
            "customer_category": "contact_sheet",
            "visited_no_purchase": True,
            "bill_date": today,
            "items": [],
        },
    )
    assert visit.status_code == 201, visit.text
    eventually(
        lambda: first.get(f"/api/v1/contacts/{walked_in['id']}").json()["status"] == "yellow",
        timeout=DEADLINE,
        message="visit without purchase turns the contact yellow",
    )
