"""End to end (issue 9): after a randomized but seeded workload through the gateway, reporting's
all-time figures equal what the owning services show (real processes).

The workload: two new staff members, a small contact list assigned to them, interactions they log,
bills "was contacted before" that convert contacts (with generics carrying a branded price), a
customer educated about generics, WhatsApps and calls on the refill reminders those bills make, and
later bills that close the reminders. Then, polling with a deadline, the list report's row of the
upload and the staff report's rows of the two members must equal the counts read from contacts,
customers and reminders, and the generics report must have moved by exactly the workload's purchases.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shared.testing import eventually

from .conftest import Client, login, new_phone, requires
from .e2e_helpers import customer_by_phone, purchases_of

pytestmark = pytest.mark.e2e
SEED = 9_06
DEADLINE = 45.0
TYPES = ("call", "whatsapp", "visit", "email")


@pytest.fixture(autouse=True)
def _services(stack):
    requires(stack, "gateway", "billing", "customers", "contacts", "reminders", "reporting")


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()


def ok(response, status=(200, 201)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), response.text
    return response.json()


def new_staff(admin: Client, gateway_url: str) -> tuple[int, Client]:
    username = f"recon-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "name": f"Recon {username[-4:]}", "password": "counter-pass-123", "role": "staff"}
    staff_id = ok(admin.post("/api/v1/staff", json=body), 201)["id"]
    return staff_id, Client(gateway_url, login(gateway_url, username, "counter-pass-123"))


def every(client: Client, path: str, **params) -> list[dict]:
    items, page = [], 1
    while True:
        body = ok(client.get(path, params={**params, "page": page, "per_page": 200}))
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def report(admin: Client, name: str) -> dict:
    return ok(admin.get(f"/api/v1/reports/{name}", params={"window": "all", "per_page": 200}))


def test_reports_reconcile_with_the_owning_services_after_a_random_workload(admin, gateway_url):
    rng = random.Random(SEED)
    generics_before = report(admin, "generics")
    staff = dict(new_staff(admin, gateway_url) for _ in range(2))
    (first_id, first), (second_id, second) = staff.items()

    phones = [new_phone() for _ in range(8)]
    csv = "phone,name\n" + "".join(f"{p},Recon {i}\n" for i, p in enumerate(phones))

    def uploaded():
        response = admin.post(
            "/api/v1/contacts/uploads",
            files={"file": ("recon.csv", csv.encode(), "text/csv")},
            data={"list_name": f"Recon {SEED}", "assign_to": f"{first_id},{second_id}"},
        )
        if response.status_code == 422 and "staff" in response.text.lower():
            return None  # contacts has not heard of the new staff yet
        return ok(response, 201)

    upload = eventually(uploaded, timeout=DEADLINE, interval=0.5, message="roster knows the two staff")
    contacts = every(admin, "/api/v1/contacts", upload_id=upload["id"])
    assert len(contacts) == len(phones)

    # Interactions by each contact's assignee; some contacts are then converted by a bill.
    day = today().isoformat()
    converted_phones = []
    for contact in contacts:
        member = staff[contact["assigned_to"]]
        for _ in range(rng.randint(0, 2)):
            kind = rng.choice(TYPES)
            ok(member.post(f"/api/v1/contacts/{contact['id']}/interactions", json={"type": kind}), 201)
        if rng.random() < 0.6:
            items = [
                {
                    "medicine_name": rng.choice(["Metformin 500", "Telmisartan 40"]),
                    "quantity": 1,
                    "amount": f"{rng.randint(50, 400)}.{rng.randint(0, 99):02d}",
                    "duration_days": 30,
                }
            ]
            if rng.random() < 0.5:
                price = rng.randint(20, 60)
                items.append(
                    {
                        "medicine_name": "Atorvastatin 10",
                        "quantity": 1,
                        "amount": f"{price}.00",
                        "is_generic": True,
                        "branded_price": f"{price + rng.randint(5, 90)}.00",
                    }
                )
            bill = {
                "customer_phone": contact["phone"],
                "customer_name": contact["name"],
                "customer_category": "contact_sheet",
                "was_contacted_before": True,
                "bill_date": day,
                "items": items,
            }
            ok(admin.post("/api/v1/bills", json=bill), 201)
            converted_phones.append(contact["phone"])
    assert converted_phones, "the seed converts some contacts"

    customers = [
        eventually(lambda p=p: customer_by_phone(admin, p), timeout=DEADLINE, message="customer from the bill")
        for p in converted_phones
    ]
    # One customer is told about generics, then buys one.
    educated = customers[0]
    ok(admin.patch(f"/api/v1/customers/{educated['id']}", json={"generic_education_given": True}))
    generic_bill = {
        "customer_phone": educated["phone"],
        "customer_category": "generic_informed",
        "bill_date": day,
        "items": [
            {
                "medicine_name": "Amlodipine 5",
                "quantity": 1,
                "amount": "30.00",
                "is_generic": True,
                "branded_price": "75.00",
            }
        ],
    }
    ok(admin.post("/api/v1/bills", json=generic_bill), 201)

    # Refill reminders of those bills: the first staff member sends WhatsApps, the second calls;
    # a later bill of the same medicine closes some of them.
    def reminders_of(customer):
        found = every(admin, "/api/v1/reminders/refills", customer_id=str(customer["id"]), status="all")
        return found or None

    reminders = [
        r
        for customer in customers
        for r in eventually(lambda c=customer: reminders_of(c), timeout=DEADLINE, message="refill reminder made")
    ]
    for reminder in reminders:
        if rng.random() < 0.7:
            ok(first.post(f"/api/v1/reminders/refills/{reminder['id']}/whatsapp"))
        if rng.random() < 0.5:
            ok(second.post(f"/api/v1/reminders/refills/{reminder['id']}/call", json={"successful": True}))
        if rng.random() < 0.6:
            closing = {
                "customer_phone": reminder["customer_phone"],
                "customer_category": "regular_branded",
                "bill_date": day,
                "items": [
                    {
                        "medicine_name": reminder["medicine_name"],
                        "quantity": 1,
                        "amount": f"{rng.randint(50, 300)}.00",
                        "duration_days": 30,
                    }
                ],
            }
            ok(admin.post("/api/v1/bills", json=closing), 201)
    workload_customers = {c["id"]: c for c in customers}

    def expected_from_the_services() -> dict:
        contacts = every(admin, "/api/v1/contacts", upload_id=upload["id"])
        left_pending = [c for c in contacts if c["status"] != "pending"]
        converted = [c for c in contacts if c["status"] == "converted"]
        value = sum((Decimal(c["conversion_value"] or "0") for c in converted), Decimal("0"))
        lists = {
            "contacts": len(contacts),
            "contacted": len(left_pending),
            "converted": len(converted),
            "conversion_value": f"{value:.2f}",
        }
        per_staff = {}
        purchases = {c: purchases_of(admin, c) for c in workload_customers}
        amount_of = {p["id"]: Decimal(p["amount"]) for ps in purchases.values() for p in ps}
        reminders = [
            r
            for c in workload_customers
            for r in every(admin, "/api/v1/reminders/refills", customer_id=str(c), status="all")
        ]
        for staff_id in staff:
            mine = [c for c in contacts if c["assigned_to"] == staff_id]
            interactions = collections.Counter(
                i["type"]
                for c in contacts
                for i in ok(admin.get(f"/api/v1/contacts/{c['id']}"))["interactions"]
                if i["staff_id"] == staff_id
            )
            action = "whatsapp_sent_at" if staff_id == first_id else "call_made_at"
            worked = [r for r in reminders if r[action]]
            purchased = [r for r in worked if r["status"] == "purchased"]
            recovered = sum((amount_of.get(r["closed_by_purchase_id"], Decimal("0")) for r in purchased), Decimal(0))
            per_staff[staff_id] = {
                "assigned": upload["assigned"].get(str(staff_id), 0),
                "contacted": sum(c["status"] != "pending" for c in mine),
                "converted": sum(c["status"] == "converted" for c in mine),
                "conversion_value": f"{sum((Decimal(c['conversion_value'] or '0') for c in mine if c['status'] == 'converted'), Decimal(0)):.2f}",
                "interactions": sum(interactions.values()),
                "interactions_by_type": {kind: interactions[kind] for kind in TYPES},
                "refill_whatsapp_sent": len(worked) if staff_id == first_id else 0,
                "refill_calls": len(worked) if staff_id == second_id else 0,
                "refills_responded": 0,
                "refills_purchased": len(purchased),
                "refill_recovered_value": f"{recovered:.2f}",
            }
        lines = [p for ps in purchases.values() for p in ps]
        generic = [p for p in lines if p["is_generic"]]
        generics = {
            "generic_items": len(generic),
            "branded_items": len(lines) - len(generic),
            "generic_sales": sum((Decimal(p["amount"]) for p in generic), Decimal(0)),
            "savings": sum((Decimal(p["savings"] or "0") for p in generic), Decimal(0)),
            "customers_educated": 1,
            "educated_then_generic": 1,
        }
        return {"lists": lists, "staff": per_staff, "generics": generics}

    def reported(expected: dict) -> dict:
        rows = [r for r in report(admin, "lists")["items"] if r["upload_id"] == upload["id"]]
        assert rows, "the list is not reported yet"
        row = rows[0]
        staff_rows = {r["staff_id"]: r for r in report(admin, "staff")["items"] if r["staff_id"] in staff}
        fields = expected["staff"][first_id].keys()
        generics = report(admin, "generics")
        return {
            "lists": {k: row[k] for k in ("contacts", "contacted", "converted", "conversion_value")},
            "staff": {sid: {k: staff_rows[sid][k] for k in fields} if sid in staff_rows else None for sid in staff},
            "generics": {
                "generic_items": generics["generic_items"] - generics_before["generic_items"],
                "branded_items": generics["branded_items"] - generics_before["branded_items"],
                "generic_sales": Decimal(generics["generic_sales"]) - Decimal(generics_before["generic_sales"]),
                "savings": Decimal(generics["savings"]) - Decimal(generics_before["savings"]),
                "customers_educated": generics["customers_educated"] - generics_before["customers_educated"],
                "educated_then_generic": generics["educated_then_generic"] - generics_before["educated_then_generic"],
            },
        }

    def reconciled():
        expected = expected_from_the_services()
        assert reported(expected) == expected
        return expected

    expected = eventually(reconciled, timeout=DEADLINE, interval=1.0, message="reports equal the owning services")
    assert expected["staff"][first_id]["refill_whatsapp_sent"] > 0 and expected["lists"]["converted"] > 0
