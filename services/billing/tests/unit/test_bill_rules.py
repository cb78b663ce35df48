"""Billing's pure rules: what a bill must meet, and the ``bill.created`` event a stored bill makes."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.billing.domain import EARLIEST_BILL_DATE, NewBill, NewItem, bill_created, check_bill
from services.billing.models import Bill, BillItem
from shared.envelope import make_event, parse_event, to_json
from shared.errors import ValidationFailed
from shared.events import BillCreated

TODAY = dt.date(2026, 2, 20)
METFORMIN = NewItem(medicine_name="Metformin 500", quantity=2, amount=Decimal("120.50"), duration_days=30)


def new_bill(**overrides) -> NewBill:
    sale = NewBill(
        customer_phone="+919876543210", customer_category="regular_branded", bill_date=TODAY, items=[METFORMIN]
    )
    return dataclasses.replace(sale, **overrides)


@pytest.mark.parametrize("bill_date", [EARLIEST_BILL_DATE, TODAY, TODAY + dt.timedelta(days=1)])
def test_a_bill_may_be_dated_from_2000_to_tomorrow(bill_date):
    check_bill(new_bill(bill_date=bill_date), TODAY)


@pytest.mark.parametrize("bill_date", [EARLIEST_BILL_DATE - dt.timedelta(days=1), TODAY + dt.timedelta(days=2)])
def test_a_bill_dated_outside_that_range_is_refused_naming_the_field(bill_date):
    with pytest.raises(ValidationFailed) as refused:
        check_bill(new_bill(bill_date=bill_date), TODAY)
    assert refused.value.errors is not None and set(refused.value.errors) == {"bill_date"}


def test_a_visit_without_purchase_takes_no_items_and_a_sale_needs_one():
    check_bill(new_bill(visited_no_purchase=True, items=[]), TODAY)
    for refused_bill in (new_bill(visited_no_purchase=True), new_bill(items=[])):
        with pytest.raises(ValidationFailed) as refused:
            check_bill(refused_bill, TODAY)
        assert refused.value.errors is not None and set(refused.value.errors) == {"items"}


def test_a_stored_bill_makes_a_bill_created_event_that_meets_the_contract():
    bill = Bill(
        id=7,
        bill_number="B-000007",
        bill_date=TODAY,
        customer_phone="+919876543210",
        customer_name="Asha Rao",
        customer_category="regular_branded",
        was_contacted_before=True,
        visited_no_purchase=False,
        total_amount=Decimal("120.50"),
        created_by=3,
        items=[
            BillItem(
                id=11,
                line_no=1,
                medicine_name="Metformin 500",
                is_generic=False,
                quantity=2,
                amount=Decimal("120.50"),
                duration_days=30,
            )
        ],
    )
    event = bill_created(bill)
    assert event.subject() == "bills/7"
    envelope = make_event(BillCreated.TYPE, event.to_data(), source="/services/billing", subject=event.subject())
    # What a consumer receives (the wire form, checked against the JSON Schema) loads back unchanged.
    assert BillCreated.load(parse_event(to_json(envelope))) == event
