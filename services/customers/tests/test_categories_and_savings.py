"""Categories follow the latest bill (or staff's later choice) and generic purchases keep their savings,
whatever order bills arrive in (handlers against the real database)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal

from sqlalchemy import select

from services.customers import domain
from services.customers.models import Customer, CustomerPurchase, messaging
from services.customers.tests.events import BILLING, bill_data, item
from shared.auth import Principal
from shared.db import unit_of_work
from shared.events import BillCreated, PurchaseRecorded

STAFF = Principal(3, "meera", "staff")


def record(runtime, **bill) -> None:
    with unit_of_work(runtime.session_factory) as session:
        domain.record_bill(session, BILLING, BillCreated.load(bill_data(**bill)))


def profile(runtime, phone: str) -> Customer:
    with unit_of_work(runtime.session_factory) as session:
        customer = session.scalars(select(Customer).where(Customer.phone == phone)).one()
        domain.full_profile(session, customer)
        session.expunge(customer)
        return customer


def test_a_regular_branded_customer_becomes_generic_informed_in_any_delivery_order(runtime):
    bills = [
        {"bill_id": 1, "bill_date": "2026-03-01", "category": "regular_branded"},
        {"bill_id": 2, "bill_date": "2026-03-20", "category": "generic_informed"},
        {"bill_id": 3, "bill_date": "2026-03-10", "category": "regular_branded"},
    ]
    outcomes = set()
    for n, order in enumerate(itertools.permutations(bills)):
        phone = f"+9198700{n:05d}"
        for bill in order:
            record(runtime, **{**bill, "bill_id": n * 10 + bill["bill_id"]}, phone=phone)
        # Redelivery of the oldest bill changes nothing.
        record(runtime, **{**bills[0], "bill_id": n * 10 + 1}, phone=phone)
        customer = profile(runtime, phone)
        history = tuple((h["category"], h["since"].isoformat(), h["source"]) for h in customer.category_history)
        outcomes.add((customer.category, customer.total_visits, history))
    assert outcomes == {
        (
            "generic_informed",
            3,
            (("regular_branded", "2026-03-01", "bill"), ("generic_informed", "2026-03-20", "bill")),
        )
    }


def test_staff_choice_stands_against_same_day_bills_until_a_newer_bill(runtime, client):
    phone = "+919870011111"
    record(runtime, bill_id=11, bill_date="2026-03-01", category="first_time_prescription", phone=phone)
    customer_id = profile(runtime, phone).id
    with unit_of_work(runtime.session_factory) as session:
        domain.update_customer(session, customer_id, {"category": "regular_branded"}, STAFF, today=dt.date(2026, 3, 5))
    # A bill of the same day arriving late does not undo what staff chose that day...
    record(runtime, bill_id=12, bill_date="2026-03-05", category="first_time_prescription", phone=phone)
    assert profile(runtime, phone).category == "regular_branded"
    # ...nor does an older one; a bill of a later day does.
    record(runtime, bill_id=10, bill_date="2026-02-20", category="contact_sheet", phone=phone)
    assert profile(runtime, phone).category == "regular_branded"
    record(runtime, bill_id=13, bill_date="2026-03-09", category="generic_informed", phone=phone)
    customer = profile(runtime, phone)
    assert customer.category == "generic_informed"
    assert [(h["category"], h["source"], h.get("bill_id")) for h in customer.category_history] == [
        ("contact_sheet", "bill", 10),
        ("first_time_prescription", "bill", 11),
        ("regular_branded", "staff", None),
        ("generic_informed", "bill", 13),
    ]


def test_generic_purchases_keep_their_savings_and_the_profile_sums_them(runtime):
    phone = "+919870022222"
    items = [
        item("Atorvastatin (generic)", amount="40.00", is_generic=True) | {"branded_price": "100.00"},
        item("Pantoprazole (generic)", amount="30.00", is_generic=True) | {"branded_price": "25.00"},  # cost more
        item("Metformin (generic)", amount="20.00", is_generic=True),  # no branded price: nothing to compare
        item("Crocin", amount="50.00") | {"branded_price": "80.00"},  # branded: no savings
    ]
    record(runtime, bill_id=21, phone=phone, items=items)
    record(runtime, bill_id=22, phone=phone, items=[items[0]])  # a second bill adds its savings
    record(runtime, bill_id=22, phone=phone, items=[items[0]])  # redelivered: counted once
    with unit_of_work(runtime.session_factory) as session:
        customer = session.scalars(select(Customer).where(Customer.phone == phone)).one()
        purchases = session.scalars(
            select(CustomerPurchase).where(CustomerPurchase.customer_id == customer.id).order_by(CustomerPurchase.id)
        ).all()
        savings = [(p.medicine_name, p.branded_price, p.savings) for p in purchases]
        total = customer.total_generic_savings
        events = [PurchaseRecorded.load(e) for e in _outbox(session) if e["type"] == PurchaseRecorded.TYPE]
    assert savings[:4] == [
        ("Atorvastatin (generic)", Decimal("100.00"), Decimal("60.00")),
        ("Pantoprazole (generic)", Decimal("25.00"), Decimal("0.00")),
        ("Metformin (generic)", None, None),
        ("Crocin", None, None),
    ]
    assert total == Decimal("120.00")
    assert {(e.medicine_name, e.savings) for e in events} >= {("Atorvastatin (generic)", Decimal("60.00"))}


def _outbox(session):
    return [json.loads(payload) for payload in session.execute(select(messaging.outbox.c.payload)).scalars()]


def test_adherence_per_medicine_is_the_proportion_of_days_covered(runtime):
    phone = "+919870033333"
    record(runtime, bill_id=41, bill_date="2026-03-01", phone=phone, items=[item("Metformin 500", duration_days=30)])
    record(
        runtime,
        bill_id=42,
        bill_date="2026-04-15",
        phone=phone,
        items=[item("metformin  500", duration_days=30), item("Crocin", duration_days=None)],
    )
    customer_id = profile(runtime, phone).id
    with unit_of_work(runtime.session_factory) as session:
        result = domain.adherence(session, customer_id, STAFF, dt.date(2026, 4, 30), 90)
    # 1 Mar to 30 Apr is 61 days; 1-30 Mar and 15-30 Apr are covered (46): 0.75. Crocin has no duration.
    assert result["medicines"] == [
        {
            "medicine_name": "metformin  500",
            "period_start": dt.date(2026, 3, 1),
            "period_days": 61,
            "days_covered": 46,
            "pdc": Decimal("0.75"),
        }
    ]


def test_a_profile_created_without_a_category_takes_the_first_bills(runtime, client):
    from shared.testing import auth_headers

    created = client.post("/api/v1/customers", json={"phone": "9870044444", "name": "Walk-in"}, headers=auth_headers())
    assert created.status_code == 201, created.json
    assert created.json["category"] == "first_time_prescription" and created.json["category_history"] == []
    record(
        runtime, bill_id=51, bill_date=dt.date.today().isoformat(), category="regular_branded", phone="+919870044444"
    )
    assert profile(runtime, "+919870044444").category == "regular_branded"
