"""End to end: a bill posted through the gateway becomes a customer with purchases (real processes)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shared.envelope import make_event, to_json
from shared.testing import eventually, publish_raw

from .conftest import bill_body, new_phone, requires
from .e2e_helpers import customer_by_phone, money, purchases_of

pytestmark = pytest.mark.e2e
DEADLINE = 30.0  # seconds for a bill's effects to show up


@pytest.fixture(autouse=True)
def _services(stack):
    requires(stack, "gateway", "billing", "customers")


def pharmacy_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()


def post_bill(client, body, **kwargs) -> dict:
    response = client.post("/api/v1/bills", json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_bill_creates_the_customer_and_its_purchases(admin):
    phone = new_phone()
    day = pharmacy_today() - dt.timedelta(days=3)
    bill = post_bill(admin, bill_body(phone.replace("+91", "0"), name="Asha Rao", bill_date=day.isoformat()))
    assert bill["customer_phone"] == phone and money(bill["total_amount"]) == Decimal("200.50")

    customer = eventually(
        lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer created from the bill"
    )
    assert customer["name"] == "Asha Rao"
    assert customer["category"] == "regular_branded"
    assert customer["total_visits"] == 1
    assert money(customer["total_purchases"]) == Decimal("200.50")
    assert customer["first_visit_date"] == customer["last_visit_date"] == day.isoformat()

    purchases = eventually(
        lambda: (p := purchases_of(admin, customer["id"])) and len(p) == 2 and p,
        timeout=DEADLINE,
        message="two purchases recorded",
    )
    by_name = {p["medicine_name"]: p for p in purchases}
    assert set(by_name) == {"Metformin 500", "Vitamin D3"}
    assert all(p["bill_id"] == bill["id"] for p in purchases)
    metformin, vitamin = by_name["Metformin 500"], by_name["Vitamin D3"]
    assert metformin["duration_days"] == 30 and metformin["refill_due_date"]
    assert metformin["quantity"] == 2 and money(metformin["amount"]) == Decimal("120.50")
    assert vitamin["is_generic"] is True and vitamin["duration_days"] is None and vitamin["refill_due_date"] is None
    assert metformin["purchase_date"] == day.isoformat()


def test_a_second_bill_updates_the_totals(admin):
    phone = new_phone()
    first_day = pharmacy_today() - dt.timedelta(days=10)
    second_day = pharmacy_today() - dt.timedelta(days=1)
    post_bill(admin, bill_body(phone, bill_date=first_day.isoformat()))
    eventually(lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer from the first bill")
    post_bill(
        admin,
        bill_body(
            phone,
            bill_date=second_day.isoformat(),
            items=[{"medicine_name": "Amlodipine 5", "quantity": 1, "amount": "99.50", "duration_days": 15}],
        ),
    )

    customer = eventually(
        lambda: (c := customer_by_phone(admin, phone)) and c["total_visits"] == 2 and c,
        timeout=DEADLINE,
        message="second visit counted",
    )
    assert money(customer["total_purchases"]) == Decimal("300.00")
    assert customer["first_visit_date"] == first_day.isoformat()
    assert customer["last_visit_date"] == second_day.isoformat()
    purchases = eventually(
        lambda: (p := purchases_of(admin, customer["id"])) and len(p) == 3 and p,
        timeout=DEADLINE,
        message="three purchases",
    )
    assert sorted(p["medicine_name"] for p in purchases) == ["Amlodipine 5", "Metformin 500", "Vitamin D3"]


def test_a_retried_bill_with_the_same_idempotency_key_counts_once(admin):
    phone = new_phone()
    key = str(uuid.uuid4())
    first = post_bill(admin, bill_body(phone), headers={"Idempotency-Key": key})
    again = admin.post("/api/v1/bills", json=bill_body(phone), headers={"Idempotency-Key": key})
    assert again.status_code in (200, 201) and again.json()["id"] == first["id"]
    eventually(lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer created")
    marker = new_phone()  # a later bill of another customer: once it shows, the retry had its chance
    post_bill(admin, bill_body(marker))
    eventually(lambda: customer_by_phone(admin, marker), timeout=DEADLINE, message="marker customer")
    assert customer_by_phone(admin, phone)["total_visits"] == 1


def test_a_visit_without_purchase_has_no_items(admin):
    phone = new_phone()
    bill = post_bill(admin, bill_body(phone, items=[], visited_no_purchase=True))
    assert money(bill["total_amount"]) == 0 and bill["items"] == []
    customer = eventually(lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer created")
    assert purchases_of(admin, customer["id"]) == []


def test_invalid_bills_are_refused_with_problem_details(admin):
    response = admin.post("/api/v1/bills", json=bill_body("12345", customer_category="vip", role="admin"))
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert {"customer_phone", "customer_category"} <= set(response.json()["errors"])


def _outside_bill_created(phone: str, bill_id: int) -> dict:
    today = pharmacy_today()
    return make_event(
        "bill.created",
        {
            "bill_id": bill_id,
            "bill_number": f"TILL-{bill_id}",
            "bill_date": today,
            "customer_phone": phone,
            "customer_name": "Walk In",
            "customer_category": "first_time_prescription",
            "was_contacted_before": False,
            "visited_no_purchase": False,
            "total_amount": Decimal("45.00"),
            "items": [
                {
                    "line_id": 1,
                    "medicine_name": "Paracetamol 650",
                    "is_generic": True,
                    "quantity": 1,
                    "amount": Decimal("45.00"),
                    "duration_days": None,
                }
            ],
            "created_by": None,
        },
        source="/integrations/e2e-till",
        subject=f"bills/{bill_id}",
    )


def test_bill_created_from_an_outside_integration_delivered_twice_counts_once(stack, admin):
    phone = new_phone()
    event = _outside_bill_created(phone, 900000 + int(phone[-4:]))
    for _ in range(2):
        publish_raw(stack.amqp_url, "bill.created", to_json(event), message_id=event["id"])
    customer = eventually(
        lambda: customer_by_phone(admin, phone), timeout=DEADLINE, message="customer from the outside bill.created"
    )
    assert customer["category"] == "first_time_prescription"
    marker = new_phone()
    post_bill(admin, bill_body(marker))
    eventually(lambda: customer_by_phone(admin, marker), timeout=DEADLINE, message="marker customer")
    customer = customer_by_phone(admin, phone)
    assert customer["total_visits"] == 1 and money(customer["total_purchases"]) == Decimal("45.00")
    assert len(purchases_of(admin, customer["id"])) == 1
