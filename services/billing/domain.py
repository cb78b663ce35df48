"""Billing use cases: create a bill (with its ``bill.created`` event) and read bills."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared import events
from shared.clock import utcnow
from shared.db import is_postgres
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events import BillCreated
from shared.idempotency import KeyAlreadyUsed, check_key
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
    """Store a bill, its items, the client's ``Idempotency-Key`` and its ``bill.created`` event at once.

    Returns ``(bill, created)``; a retry carrying the same ``Idempotency-Key`` returns the first
    bill with ``created=False``. Keys are the client's: scoped per user so two tills reusing a key
    never see each other's bill.

    On PostgreSQL, two round trips (``_create_on_postgresql``); on SQLite the ORM in the session's
    transaction (in-process, nothing to save).
    """
    check_bill(new, today)
    scope = f"bills:{created_by}"
    if idempotency_key:
        check_key(idempotency_key)
    if is_postgres(session):
        return _create_on_postgresql(session, new, created_by, scope, idempotency_key)
    existing = idempotency.lookup(session, scope, idempotency_key)
    if existing:
        return get_bill(session, int(existing)), False
    bill = new_bill(new, created_by)
    session.add(bill)
    session.flush()
    try:
        idempotency.remember(session, scope, idempotency_key, bill.id)
    except KeyAlreadyUsed as first:
        # A concurrent request with the same key won: drop this twin bill and answer with that one.
        session.rollback()
        return get_bill(session, int(first.resource_id)), False
    bill.bill_number = bill_number(bill.bill_date, bill.id)
    messaging.add_event(session, bill_created(bill))
    return bill, True


def new_bill(
    new: NewBill,
    created_by: int | None,
    bill_id: int | None = None,
    item_ids: Sequence[int] = (),
) -> Bill:
    """The ``Bill`` of ``new``, not added to any session; numbered when its id (and its items' ids)
    are given, else the database gives them when the bill is flushed."""
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
        created_at=utcnow(),
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
    if bill_id is not None:
        bill.id, bill.bill_number = bill_id, bill_number(new.bill_date, bill_id)
        for item, item_id in zip(bill.items, item_ids, strict=True):
            item.id, item.bill_id = item_id, bill_id
    return bill


def bill_number(bill_date: dt.date, bill_id: int) -> str:
    return f"B{bill_date:%Y%m%d}-{bill_id:06d}"


# -- PostgreSQL: a bill in two round trips -------------------------------------------------------
#: 1. The bill's and its items' ids from their sequences, and the bill an earlier request with the
#: same key created (NULL without a key). Sequence values are never rolled back anyway.
ALLOCATE = text(
    """
    SELECT nextval(pg_get_serial_sequence('bills', 'id')) AS bill_id,
           ARRAY(SELECT nextval(pg_get_serial_sequence('bill_items', 'id'))
                 FROM generate_series(1, :items)) AS item_ids,
           (SELECT resource_id FROM idempotency_keys WHERE scope = :scope AND key = :key) AS existing
    """
)
#: 2. Everything in one statement, so atomic without a transaction around it: the key first, then
#: the bill only when the key was inserted (a concurrent twin holding it makes ``gate`` empty, after
#: waiting for the twin's commit), the items, and the outbox row, which RETURNING reports.
_WRITE = """
    WITH gate AS ({gate}),
    bill AS (
        INSERT INTO bills (id, bill_number, bill_date, customer_phone, customer_name, customer_category,
                           was_contacted_before, visited_no_purchase, total_amount, created_by, created_at)
        SELECT :bill_id, :bill_number, :bill_date, :customer_phone, :customer_name, :customer_category,
               :was_contacted_before, :visited_no_purchase, :total_amount, :created_by, :created_at
        FROM gate
        RETURNING id
    ),
    items AS (
        INSERT INTO bill_items (id, bill_id, line_no, medicine_name, is_generic, quantity, amount,
                                branded_price, duration_days)
        SELECT item.id, bill.id, item.line_no, item.medicine_name, item.is_generic, item.quantity,
               item.amount, item.branded_price, item.duration_days
        FROM bill, unnest(CAST(:item_ids AS integer[]), CAST(:line_nos AS integer[]),
                          CAST(:medicine_names AS varchar[]), CAST(:generics AS boolean[]),
                          CAST(:quantities AS integer[]), CAST(:amounts AS numeric[]),
                          CAST(:branded_prices AS numeric[]), CAST(:durations AS integer[]))
             AS item(id, line_no, medicine_name, is_generic, quantity, amount, branded_price, duration_days)
    )
    INSERT INTO outbox ({outbox_columns})
    SELECT {outbox_values}
    FROM bill
    RETURNING id
"""
#: The columns of ``messaging.outbox_row``, bound as ``:outbox_<column>``.
OUTBOX_COLUMNS = (
    "event_id",
    "event_type",
    "exchange",
    "routing_key",
    "payload",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
)
_OUTBOX = {
    "outbox_columns": ", ".join(OUTBOX_COLUMNS),
    "outbox_values": ", ".join(f":outbox_{column}" for column in OUTBOX_COLUMNS),
}
WRITE = text(_WRITE.format(gate="SELECT 1", **_OUTBOX))
WRITE_WITH_KEY = text(
    _WRITE.format(
        gate="""INSERT INTO idempotency_keys (scope, key, resource_id, created_at)
                 VALUES (:scope, :key, CAST(:bill_id AS varchar), :created_at)
                 ON CONFLICT (scope, key) DO NOTHING
                 RETURNING 1""",
        **_OUTBOX,
    )
)


def _create_on_postgresql(
    session: Session, new: NewBill, created_by: int | None, scope: str, key: str | None
) -> tuple[Bill, bool]:
    """``create_bill`` in two statements: ``ALLOCATE``, then ``WRITE`` (or ``WRITE_WITH_KEY``).

    A session that has not begun yet (a request's) runs them in autocommit: no BEGIN and COMMIT
    round trips, as the write is one statement. One already in a transaction runs them in it.
    """
    connection = session.connection(
        execution_options=None if session.in_transaction() else {"isolation_level": "AUTOCOMMIT"}
    )
    ids = connection.execute(ALLOCATE, {"items": len(new.items), "scope": scope, "key": key}).one()
    if ids.existing is not None:
        return get_bill(session, int(ids.existing)), False
    bill = new_bill(new, created_by, ids.bill_id, ids.item_ids)
    _envelope, outbox = messaging.outbox_row(bill_created(bill))
    if set(outbox) != set(OUTBOX_COLUMNS):  # the outbox changed: WRITE must follow
        raise RuntimeError(f"the outbox row has the columns {sorted(outbox)}, WRITE writes {OUTBOX_COLUMNS}")
    items = bill.items
    params = {
        "scope": scope,
        "key": key,
        "bill_id": bill.id,
        "bill_number": bill.bill_number,
        "bill_date": bill.bill_date,
        "customer_phone": bill.customer_phone,
        "customer_name": bill.customer_name,
        "customer_category": bill.customer_category,
        "was_contacted_before": bill.was_contacted_before,
        "visited_no_purchase": bill.visited_no_purchase,
        "total_amount": bill.total_amount,
        "created_by": bill.created_by,
        "created_at": bill.created_at,
        "item_ids": [i.id for i in items],
        "line_nos": [i.line_no for i in items],
        "medicine_names": [i.medicine_name for i in items],
        "generics": [i.is_generic for i in items],
        "quantities": [i.quantity for i in items],
        "amounts": [i.amount for i in items],
        "branded_prices": [i.branded_price for i in items],
        "durations": [i.duration_days for i in items],
        **{f"outbox_{column}": value for column, value in outbox.items()},
    }
    if connection.execute(WRITE_WITH_KEY if key else WRITE, params).first() is not None:
        return bill, True
    # A concurrent request with the same key committed first: answer with its bill.
    first = idempotency.lookup(session, scope, key)
    if first is None:  # only under a snapshot older than the twin's commit (not READ COMMITTED)
        raise Conflict("a request with this Idempotency-Key is in progress; send it again shortly")
    return get_bill(session, int(first)), False


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
