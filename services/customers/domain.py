"""Customer use cases: profiles kept from bills and conversions, staff edits, purchases, the audit log.

Counters (visits, total purchases, first/last visit) only ever change under a row lock on the
customer (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers are serialized by BEGIN
IMMEDIATE), and each bill is counted once per ``(source, bill_id)``, so redeliveries, republished
bills and competing replicas all end in the state one in-order delivery gives.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from shared.adherence import Fill, coverage, medicine_key
from shared.auth import Principal
from shared.categories import CONTACT_SHEET, FIRST_TIME_PRESCRIPTION
from shared.clock import utcnow
from shared.context import current_request_id
from shared.db import dialect_insert, escape_like
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events import BillCreated, ContactConverted, CustomerUpserted, PurchaseRecorded
from shared.ids import MAX_ID, ascii_int, id_order, wire_id
from shared.money import CENTS, generic_savings
from shared.refills import refill_reminder_date

from .categories import CategoryDecision, category_history, current_category, from_bill, from_staff
from .models import (
    BY_BILL,
    BY_CONVERSION,
    BY_STAFF,
    AuditEntry,
    CategoryChoice,
    CountedBill,
    Customer,
    CustomerPurchase,
    idempotency,
    messaging,
)

log = logging.getLogger(__name__)

# What staff may set on a profile (counters and links are kept by events only).
EDITABLE_FIELDS = (
    "name",
    "phone",
    "email",
    "age",
    "gender",
    "address",
    "chronic_conditions",
    "allergies",
    "primary_doctor",
    "category",
    "prefers_generic",
    "generic_education_given",
    "special_notes",
)
READ, CREATE, UPDATE, READ_PURCHASES = "read", "create", "update", "read_purchases"
READ_ADHERENCE, EXPORT = "read_adherence", "export"


# -- pure rules -----------------------------------------------------------------------------
def refill_due_date(purchase_date: dt.date, duration_days: int | None) -> dt.date | None:
    """When a refill is due (the shared refill rule, ``shared.refills``); None without a duration."""
    if duration_days is None:
        return None
    return refill_reminder_date(purchase_date, duration_days)


# -- categories -----------------------------------------------------------------------------
def counted_bills(session: Session, customer_id: int) -> list[Any]:
    """The customer's counted bills: rows of (customer_category, bill_date, source, bill_id)."""
    return list(
        session.execute(
            select(CountedBill.customer_category, CountedBill.bill_date, CountedBill.source, CountedBill.bill_id).where(
                CountedBill.customer_id == customer_id
            )
        )
    )


def category_decisions(session: Session, customer_id: int, bills: list[Any] | None = None) -> list[CategoryDecision]:
    """Every bill that gave the customer a category and every choice staff made (``bills``: the
    customer's ``counted_bills`` when the caller has them already)."""
    if bills is None:
        bills = counted_bills(session, customer_id)
    choices = session.scalars(select(CategoryChoice).where(CategoryChoice.customer_id == customer_id)).all()
    return [
        from_bill(row.customer_category, row.bill_date, row.source, row.bill_id)
        for row in bills
        if row.customer_category is not None
    ] + [from_staff(choice.category, choice.chosen_on, choice.chosen_at, choice.id) for choice in choices]


def _apply_category(session: Session, customer: Customer, bills: list[Any] | None = None) -> None:
    """Set the category the stored decisions give (a profile nobody decided yet keeps its own)."""
    decision = current_category(category_decisions(session, customer.id, bills))
    if decision is not None:
        customer.category = decision.category
        customer.category_source = BY_BILL if decision.source == "bill" else BY_STAFF


def full_profile(session: Session, customer: Customer) -> Customer:
    """The profile as a detail shows it: with ``category_history`` ([{category, since, source,
    bill_id?}], oldest first) and its consent loaded while the session is open."""
    customer.category_history = category_history(category_decisions(session, customer.id))  # type: ignore[attr-defined]
    session.refresh(customer, ["consent_record"])
    return customer


# -- consumed events ------------------------------------------------------------------------
def _ensure_locked_customer(
    session: Session, phone: str, *, name: str | None, category: str, category_source: str
) -> Customer:
    """The customer with ``phone``, created if missing, locked for this transaction.

    One ``INSERT ... ON CONFLICT (phone) DO UPDATE ... RETURNING``: the update (the phone set to
    itself) locks an existing row, and two replicas creating the same phone at once are safe: the
    second waits on the unique key, then locks and returns the first's row.
    """
    now = utcnow()
    stmt = dialect_insert(session)(Customer).values(
        phone=phone,
        name=name,
        name_source=category_source if name else None,
        category=category,
        category_source=category_source,
        chronic_conditions=[],
        allergies=[],
        prefers_generic=False,
        generic_education_given=False,
        total_visits=0,
        total_purchases=Decimal("0.00"),
        created_at=now,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(index_elements=["phone"], set_={"phone": stmt.excluded.phone})
    stmt = stmt.returning(Customer).options(lazyload(Customer.consent_record))  # handlers never read consent
    return session.scalars(stmt, execution_options={"populate_existing": True}).one()


def record_bill(session: Session, source: str, bill: BillCreated) -> Customer | None:
    """Apply a ``bill.created`` from ``source`` to the buyer's profile and purchases.

    The first bill of a phone creates the profile; each later one adds a visit and its total.
    A bill already counted (same source and bill id, whatever the event id) changes nothing and
    returns None.
    """
    bill_id = str(bill.bill_id)
    bill_date = bill.bill_date
    visited_only = bill.visited_no_purchase
    total = Decimal("0.00") if visited_only else bill.total_amount.quantize(CENTS)
    name = (bill.customer_name or "").strip() or None
    if _bill_counted(session, source, bill_id):
        return None
    customer = _ensure_locked_customer(
        session, bill.customer_phone, name=name, category=bill.customer_category, category_source=BY_BILL
    )
    # Checked again under the lock: a replica may have counted it while this one waited.
    counted = session.scalar(
        dialect_insert(session)(CountedBill.__table__)
        .values(
            customer_id=customer.id,
            source=source,
            bill_id=bill_id,
            bill_date=bill_date,
            total_amount=total,
            customer_category=bill.customer_category,
            counted_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["source", "bill_id"])
        .returning(CountedBill.__table__.c.id)
    )
    if counted is None:
        return None

    bills = counted_bills(session, customer.id)
    earliest = _is_earliest_bill(bills, source, bill_id, bill_date)
    _apply_category(session, customer, bills)
    # The name follows the customer's earliest bill (by date, then source and bill id, so delivery
    # order never matters) unless staff set it; a profile made by a conversion takes its first
    # bill's name, as if the bill had come first.
    if name and (
        customer.name is None
        or customer.name_source == BY_CONVERSION
        or (customer.name_source in (BY_BILL, None) and earliest)
    ):
        customer.name, customer.name_source = name, BY_BILL
    customer.total_visits += 1
    customer.total_purchases = (Decimal(customer.total_purchases) + total).quantize(CENTS)
    customer.first_visit_date = min(filter(None, (customer.first_visit_date, bill_date)))
    customer.last_visit_date = max(filter(None, (customer.last_visit_date, bill_date)))
    customer.updated_at = utcnow()

    purchases = (
        []
        if visited_only
        else [
            CustomerPurchase(
                customer_id=customer.id,
                source=source,
                bill_id=bill_id,
                bill_line_id=str(item.line_id),
                purchase_date=bill_date,
                medicine_name=item.medicine_name.strip(),
                is_generic=item.is_generic,
                quantity=item.quantity,
                amount=item.amount.quantize(CENTS),
                branded_price=item.branded_price.quantize(CENTS)
                if item.is_generic and item.branded_price is not None
                else None,
                savings=generic_savings(item.is_generic, item.amount.quantize(CENTS), item.branded_price),
                duration_days=item.duration_days,
                refill_due_date=refill_due_date(bill_date, item.duration_days),
            )
            for item in bill.items
        ]
    )
    saved = sum((purchase.savings for purchase in purchases if purchase.savings is not None), Decimal("0"))
    customer.total_generic_savings = (Decimal(customer.total_generic_savings or 0) + saved).quantize(CENTS)
    session.add_all(purchases)
    session.flush()
    messaging.add_events(session, [customer_upserted(customer), *map(purchase_recorded, purchases)])
    log.info(
        "bill counted",
        extra={"customer_id": customer.id, "bill_id": bill_id, "source": source, "purchases": len(purchases)},
    )
    return customer


def _is_earliest_bill(bills: list[Any], source: str, bill_id: str, bill_date: dt.date) -> bool:
    """Whether this bill comes first among the customer's counted ``bills`` (date, source, bill id)."""
    key = (bill_date, source, id_order(bill_id))
    return all(
        key < (row.bill_date, row.source, id_order(row.bill_id))
        for row in bills
        if not (row.source == source and row.bill_id == bill_id)
    )


def _bill_counted(session: Session, source: str, bill_id: str) -> bool:
    return (
        session.scalar(select(CountedBill.id).where(CountedBill.source == source, CountedBill.bill_id == bill_id))
        is not None
    )


def link_conversion(session: Session, conversion: ContactConverted) -> Customer:
    """Apply a ``contact.converted``: link the contact record to the profile.

    It may come before the bill that caused it: the profile is then created with no visits (the
    bill counts itself when it arrives, once) and takes that bill's category.
    """
    name = (conversion.name or "").strip() or None
    customer = _ensure_locked_customer(
        session, conversion.phone, name=name, category=CONTACT_SHEET, category_source=BY_CONVERSION
    )
    contact_id = str(conversion.contact_id)
    changed = False
    if customer.contact_record_id is None:
        customer.contact_record_id = contact_id
        changed = True
    elif customer.contact_record_id != contact_id:
        # One profile links one contact record; the first conversion keeps it.
        log.warning(
            "customer already linked to another contact record",
            extra={"customer_id": customer.id, "contact_id": contact_id},
        )
    if not customer.name and name:
        customer.name, customer.name_source = name, BY_CONVERSION
        changed = True
    if changed:
        customer.updated_at = utcnow()
        session.flush()
        publish_customer(session, customer)
    return customer


# -- events published -----------------------------------------------------------------------
def customer_upserted(customer: Customer) -> CustomerUpserted:
    """The ``customer.upserted`` event: identity and counters only, never a medical field."""
    return CustomerUpserted(
        customer_id=customer.id,
        phone=customer.phone,
        name=customer.name,
        category=customer.category,
        first_visit_date=customer.first_visit_date,
        last_visit_date=customer.last_visit_date,
        total_visits=customer.total_visits,
        total_purchases=Decimal(customer.total_purchases).quantize(CENTS),
        contact_record_id=wire_id(customer.contact_record_id),
        generic_education_given_on=customer.generic_education_given_on,
    )


def purchase_recorded(purchase: CustomerPurchase) -> PurchaseRecorded:
    """The ``purchase.recorded`` event of one stored purchase."""
    return PurchaseRecorded(
        purchase_id=purchase.id,
        customer_id=purchase.customer_id,
        bill_id=wire_id(purchase.bill_id),
        purchase_date=purchase.purchase_date,
        medicine_name=purchase.medicine_name,
        is_generic=purchase.is_generic,
        quantity=purchase.quantity,
        amount=purchase.amount,
        duration_days=purchase.duration_days,
        branded_price=purchase.branded_price,
        savings=purchase.savings,
    )


def publish_customer(session: Session, customer: Customer) -> None:
    """Publish the profile's current ``customer.upserted``."""
    messaging.add_event(session, customer_upserted(customer))


# -- the audit log --------------------------------------------------------------------------
def audit(
    session: Session, actor: Principal, customer_id: int | None, action: str, fields: list[str] | None = None
) -> None:
    """Record who did what to which profile; ``fields`` are names, never values."""
    session.add(
        AuditEntry(
            at=utcnow(),
            user_id=actor.id,
            username=actor.username,
            role=actor.role,
            customer_id=customer_id,
            action=action,
            fields_changed=fields,
            request_id=current_request_id(),
        )
    )


def audit_query(
    subject: int | None = None,
    user: str | None = None,
    instant_from: dt.datetime | None = None,
    instant_to: dt.datetime | None = None,
):
    """Audit entries newest first; ``user`` is a user id or a username."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if subject is not None:
        stmt = stmt.where(AuditEntry.customer_id == subject)
    if user:
        user_id = ascii_int(user)
        if user_id is None:
            stmt = stmt.where(AuditEntry.username == user)
        else:  # a user id beyond the column's range was nobody's
            stmt = stmt.where(AuditEntry.user_id == user_id if user_id <= MAX_ID else false())
    if instant_from:
        stmt = stmt.where(AuditEntry.at >= instant_from)
    if instant_to:
        stmt = stmt.where(AuditEntry.at < instant_to)
    return stmt


# -- staff use cases ------------------------------------------------------------------------
def create_customer(
    session: Session, fields: dict, actor: Principal, idempotency_key: str | None = None, *, today: dt.date
) -> tuple[Customer, bool]:
    """A profile entered by staff on the pharmacy day ``today``; ``(customer, created)``, a retried
    key returns the first one. A phone that already has a profile is a Conflict.
    """
    scope = f"customers:{actor.id}"  # a client's keys are its own
    existing = idempotency.lookup(session, scope, idempotency_key)
    if existing:
        return _replayed(session, int(existing), actor), False
    _check_phone_free(session, fields["phone"])
    now = utcnow()
    chosen = "category" in fields  # a category staff picked, not the default of a new profile
    fields = {"category": FIRST_TIME_PRESCRIPTION, **fields}
    customer = Customer(
        **{"chronic_conditions": [], "allergies": [], **fields},
        category_source=BY_STAFF,
        name_source=BY_STAFF if fields.get("name") else None,
        total_visits=0,
        total_purchases=Decimal("0.00"),
        created_at=now,
        updated_at=now,
    )
    session.add(customer)
    try:
        with session.begin_nested():
            session.flush()
            idempotency.remember(session, scope, idempotency_key, customer.id)
    except IntegrityError:
        # A concurrent request won the phone or the key.
        if customer in session:
            session.expunge(customer)
        existing = idempotency.lookup(session, scope, idempotency_key)
        if existing:
            return _replayed(session, int(existing), actor), False
        _check_phone_free(session, fields["phone"])
        raise
    if chosen:
        _choose_category(session, customer, actor, today)
    if customer.generic_education_given:
        customer.generic_education_given_on = today
    audit(session, actor, customer.id, CREATE, sorted(k for k, v in fields.items() if v not in (None, [], "")))
    publish_customer(session, customer)
    log.info("customer created", extra={"customer_id": customer.id})
    return full_profile(session, customer), True


def _choose_category(session: Session, customer: Customer, actor: Principal, today: dt.date) -> None:
    """Keep staff's choice of ``customer.category`` (it stands until a bill of a later day)."""
    session.add(
        CategoryChoice(
            customer_id=customer.id, category=customer.category, chosen_on=today, chosen_at=utcnow(), chosen_by=actor.id
        )
    )
    session.flush()
    _apply_category(session, customer)


def _replayed(session: Session, customer_id: int, actor: Principal) -> Customer:
    """The profile a retried create answers with; showing it again is a read."""
    customer = _get(session, customer_id)
    audit(session, actor, customer.id, READ)
    return full_profile(session, customer)


def _check_phone_free(session: Session, phone: str, but: int | None = None) -> None:
    owner = session.scalar(select(Customer.id).where(Customer.phone == phone))
    if owner is not None and owner != but:
        raise Conflict(
            f"customer {owner} already has this phone number", errors={"phone": [f"already used by customer {owner}"]}
        )


def _get(session: Session, customer_id: int, lock: bool = False) -> Customer:
    stmt = select(Customer).where(Customer.id == customer_id)
    customer = session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def read_customer(session: Session, customer_id: int, actor: Principal) -> Customer:
    """One full profile (medical fields included); the read is audited."""
    customer = _get(session, customer_id)
    audit(session, actor, customer.id, READ)
    return full_profile(session, customer)


def read_customer_by_phone(session: Session, phone: str, actor: Principal) -> Customer:
    """The profile of an E.164 phone; the read is audited."""
    customer = session.scalars(select(Customer).where(Customer.phone == phone)).one_or_none()
    if customer is None:
        raise NotFound("no customer has this phone number")
    audit(session, actor, customer.id, READ)
    return full_profile(session, customer)


def update_customer(session: Session, customer_id: int, changes: dict, actor: Principal, *, today: dt.date) -> Customer:
    """Staff edits any profile field on the pharmacy day ``today``; the change is audited (names of
    changed fields) and published. A category staff set stands until a bill of a later day."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed("these fields cannot be changed", errors={k: ["cannot be changed"] for k in unknown})
    customer = _get(session, customer_id, lock=True)
    if "phone" in changes and changes["phone"] != customer.phone:
        _check_phone_free(session, changes["phone"], but=customer.id)
    changed = sorted(k for k, v in changes.items() if getattr(customer, k) != v)
    for key in changed:
        setattr(customer, key, changes[key])
    if "category" in changed:
        _choose_category(session, customer, actor, today)
    if "generic_education_given" in changed:
        customer.generic_education_given_on = today if customer.generic_education_given else None
    if "name" in changes:
        customer.name_source = BY_STAFF
    if changed:
        customer.updated_at = utcnow()
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            raise Conflict(
                "another customer took this phone number at the same time",
                errors={"phone": ["already used by another customer"]},
            ) from None
        publish_customer(session, customer)
    audit(session, actor, customer.id, UPDATE, changed)
    log.info("customer updated", extra={"customer_id": customer.id, "fields": changed})
    return full_profile(session, customer)


def customers_query(category: str | None = None, q: str | None = None):
    """Profiles newest first, by category (None/"all" for every one) and a name or phone fragment."""
    stmt = select(Customer).order_by(Customer.id.desc())
    if category and category != "all":
        stmt = stmt.where(Customer.category == category)
    q = (q or "").strip()
    if q:
        matches: list[ColumnElement[bool]] = [Customer.name.ilike(f"%{escape_like(q)}%", escape="\\")]
        digits = re.sub(r"\D", "", q)
        if digits:
            matches.append(Customer.phone.contains(digits))
        stmt = stmt.where(or_(*matches))
    return stmt


def purchases_query(session: Session, customer_id: int, actor: Principal):
    """A customer's purchases, newest first; reading them (medication history) is audited."""
    customer = _get(session, customer_id)
    audit(session, actor, customer.id, READ_PURCHASES)
    return (
        select(CustomerPurchase)
        .where(CustomerPurchase.customer_id == customer.id)
        .order_by(CustomerPurchase.purchase_date.desc(), CustomerPurchase.id.desc())
    )


def adherence(session: Session, customer_id: int, actor: Principal, today: dt.date, days: int) -> dict:
    """PDC per medicine over the last ``days`` days (``shared.adherence``), lowest first; audited.

    Only purchases with a duration count (without one nobody knows how long the supply lasts);
    purchases of one medicine are grouped by ``medicine_key`` and shown under their latest name.
    """
    customer = _get(session, customer_id)
    audit(session, actor, customer.id, READ_ADHERENCE)
    rows = session.execute(
        select(CustomerPurchase.medicine_name, CustomerPurchase.purchase_date, CustomerPurchase.duration_days)
        .where(
            CustomerPurchase.customer_id == customer.id,
            CustomerPurchase.duration_days.is_not(None),
            CustomerPurchase.purchase_date <= today,
        )
        .order_by(CustomerPurchase.purchase_date, CustomerPurchase.id)
    ).all()
    fills: dict[str, list[Fill]] = {}
    names: dict[str, str] = {}
    for row in rows:
        key = medicine_key(row.medicine_name)
        fills.setdefault(key, []).append(Fill(row.purchase_date, row.duration_days))
        names[key] = row.medicine_name  # the latest purchase's spelling
    medicines = []
    for key, medicine_fills in fills.items():
        result = coverage(medicine_fills, today, days)
        if result is not None:
            medicines.append(
                {
                    "medicine_name": names[key],
                    "period_start": result.period_start,
                    "period_days": result.period_days,
                    "days_covered": result.days_covered,
                    "pdc": result.pdc,
                }
            )
    medicines.sort(key=lambda m: (m["pdc"], m["medicine_name"]))
    return {"customer_id": customer.id, "period_days": days, "as_of": today, "medicines": medicines}


# -- export ---------------------------------------------------------------------------------
#: What a customer export holds: identity and counters, never a medical field.
EXPORT_COLUMNS = (
    "id",
    "phone",
    "name",
    "category",
    "total_visits",
    "total_purchases",
    "total_generic_savings",
    "first_visit_date",
    "last_visit_date",
    "prefers_generic",
)


def record_export(session: Session, actor: Principal, filters: dict) -> None:
    """Audit an export of customers (who, when, which filters: names only, like every audit row)."""
    audit(session, actor, None, EXPORT, sorted(k for k in ("category", "q") if filters.get(k)))


def export_rows(session: Session, category: str | None, q: str | None) -> Iterator[tuple[object, ...]]:
    """Every matching customer's export row, read in batches (constant memory)."""
    columns = [getattr(Customer, name) for name in EXPORT_COLUMNS]
    stmt = customers_query(category, q).with_only_columns(*columns).execution_options(yield_per=1000)
    for row in session.execute(stmt):
        yield tuple(row)
