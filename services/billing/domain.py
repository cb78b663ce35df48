"""Billing use cases: create a bill (with its ``bill.created`` event) and read bills."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import events
from shared.errors import NotFound, ValidationFailed
from shared.events import BillCreated
from shared.idempotency import KeyAlreadyUsed
from shared.money import CENTS

from .models import Bill, BillItem, idempotency, messaging


@dataclass(frozen=True)
class NewItem:
    medicine_name: str
    quantity: int
    amount: Decimal
    is_generic: bool = False
    duration_days: int | None = None
    branded_price: Decimal | None = None  # generics only: the branded equivalent's price


@dataclass(frozen=True)
class NewBill:
    """A bill as the till sends it (phone already in E.164)."""

    customer_phone: str
    customer_category: str
    bill_date: dt.date
    customer_name: str | None = None
    was_contacted_before: bool = False
    visited_no_purchase: bool = False
    items: list[NewItem] = field(default_factory=list)


EARLIEST_BILL_DATE = dt.date(2000, 1, 1)


def check_bill(new: NewBill, today: dt.date) -> None:
    """The rules a bill must meet beyond field types."""
    if not EARLIEST_BILL_DATE <= new.bill_date <= today + dt.timedelta(days=1):
        # A till's clock may run a little ahead; anything further is a typo that would
        # poison every date computed downstream (refill dates, reports).
        raise ValidationFailed(
            "the bill date is out of range", errors={"bill_date": [f"between {EARLIEST_BILL_DATE} and tomorrow"]}
        )
    if new.visited_no_purchase and new.items:
        raise ValidationFailed(
            "a visit without purchase takes no items",
            errors={"items": ["must be empty when visited_no_purchase is true"]},
        )
    if not new.visited_no_purchase and not new.items:
        raise ValidationFailed(
            "a bill needs at least one item", errors={"items": ["at least one item, or visited_no_purchase: true"]}
        )
    for n, item in enumerate(new.items):
        if item.branded_price is not None and not item.is_generic:
            # Savings are what a generic saves against its branded equivalent: a branded item has none.
            raise ValidationFailed(
                "only a generic item has a branded price",
                errors={f"items.{n}.branded_price": ["only for items with is_generic: true"]},
            )


def create_bill(
    session: Session, new: NewBill, created_by: int | None, today: dt.date, idempotency_key: str | None = None
) -> tuple[Bill, bool]:
    """Store a bill and its ``bill.created`` event in one transaction.

    Returns ``(bill, created)``; a retry carrying the same ``Idempotency-Key`` returns the first
    bill with ``created=False``.
    """
    check_bill(new, today)
    # Keys are the client's: scoped per user so two tills reusing a key never see each other's bill.
    scope = f"bills:{created_by}"
    existing = idempotency.lookup(session, scope, idempotency_key)
    if existing:
        return get_bill(session, int(existing)), False
    total = sum((item.amount for item in new.items), Decimal("0")).quantize(CENTS)
    bill = Bill(
        bill_date=new.bill_date,
        customer_phone=new.customer_phone,
        customer_name=new.customer_name,
        customer_category=new.customer_category,
        was_contacted_before=new.was_contacted_before,
        visited_no_purchase=new.visited_no_purchase,
        total_amount=total,
        created_by=created_by,
        items=[
            BillItem(
                line_no=n,
                medicine_name=i.medicine_name.strip(),
                quantity=i.quantity,
                amount=i.amount.quantize(CENTS),
                is_generic=i.is_generic,
                branded_price=i.branded_price.quantize(CENTS) if i.branded_price is not None else None,
                duration_days=i.duration_days,
            )
            for n, i in enumerate(new.items, start=1)
        ],
    )
    session.add(bill)
    session.flush()
    try:
        idempotency.remember(session, scope, idempotency_key, bill.id)
    except KeyAlreadyUsed as first:
        # A concurrent request with the same key won: drop this twin bill and answer with that one.
        session.rollback()
        return get_bill(session, int(first.resource_id)), False
    bill.bill_number = f"B{bill.bill_date:%Y%m%d}-{bill.id:06d}"
    messaging.add_event(session, bill_created(bill))
    return bill, True


def bill_created(bill: Bill) -> BillCreated:
    """The ``bill.created`` event of a stored bill (EVENTS.md)."""
    assert bill.bill_number is not None, "a bill is numbered (create_bill) before it is published"
    return BillCreated(
        bill_id=bill.id,
        bill_number=bill.bill_number,
        bill_date=bill.bill_date,
        customer_phone=bill.customer_phone,
        customer_name=bill.customer_name,
        customer_category=bill.customer_category,
        was_contacted_before=bill.was_contacted_before,
        visited_no_purchase=bill.visited_no_purchase,
        total_amount=bill.total_amount,
        items=[
            events.BillItem(
                line_id=item.id,
                medicine_name=item.medicine_name,
                is_generic=item.is_generic,
                quantity=item.quantity,
                amount=item.amount,
                duration_days=item.duration_days,
                branded_price=item.branded_price,
            )
            for item in bill.items
        ],
        created_by=bill.created_by,
    )


def get_bill(session: Session, bill_id: int) -> Bill:
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise NotFound(f"bill {bill_id} does not exist")
    return bill


def bills_query(phone: str | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None):
    """Bills newest first, filtered by phone and date range."""
    stmt = select(Bill).order_by(Bill.bill_date.desc(), Bill.id.desc())
    if phone:
        stmt = stmt.where(Bill.customer_phone == phone)
    if date_from:
        stmt = stmt.where(Bill.bill_date >= date_from)
    if date_to:
        stmt = stmt.where(Bill.bill_date <= date_to)
    return stmt
