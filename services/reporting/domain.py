"""Reporting use cases: the four reports, read from the per-day rollup for one window, and the
facts each consumed event upserts (called by the thin handlers of ``consumers.py``).

Each event locks the fact row it changes (created empty when missing), computes the fact's
contribution to ``report_daily_totals`` before and after the change, and applies the
difference. Facts merge order-free (newest snapshot, earliest date, first conversion, flags
that only turn on), so the rollup ends the same whatever the order, duplication or number of
workers. The runner's inbox already drops exact redeliveries; the facts make a re-sent event
under a new id harmless too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.categories import CATEGORIES
from shared.db import dialect_insert
from shared.envelope import isoformat_utc
from shared.events import (
    BillCreated,
    ContactConverted,
    ContactStatusChanged,
    ContactsUploaded,
    CustomerUpserted,
    EventContext,
    PurchaseRecorded,
    RefillReminderCreated,
    RefillReminderUpdated,
    StaffCreated,
    StaffUpdated,
)
from shared.ids import id_order, stored_id, wire_id

from . import rules
from .models import (
    DailyTotal,
    ReportBill,
    ReportContact,
    ReportContactStatusChange,
    ReportContactUpload,
    ReportCustomer,
    ReportPurchase,
    ReportRefillReminder,
    ReportStaff,
)
from .rules import Window


def totals(session: Session, window: Window, metrics: list[str]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """``{(metric, dimension): (count, amount)}`` summed over the window's days."""
    stmt = (
        select(DailyTotal.metric, DailyTotal.dimension, func.sum(DailyTotal.count), func.sum(DailyTotal.amount))
        .where(DailyTotal.metric.in_(metrics), DailyTotal.day <= window.end)
        .group_by(DailyTotal.metric, DailyTotal.dimension)
    )
    if window.start is not None:
        stmt = stmt.where(DailyTotal.day >= window.start)
    return {
        (metric, dimension): (int(count or 0), rules.money(amount))
        for metric, dimension, count, amount in session.execute(stmt)
    }


def _sum(figures: dict, metric: str) -> tuple[int, Decimal]:
    """A metric over every dimension."""
    count, amount = 0, Decimal("0")
    for (name, _dimension), (n, value) in figures.items():
        if name == metric:
            count, amount = count + n, amount + value
    return count, rules.money(amount)


def _window_fields(window: Window) -> dict:
    return {"window": window.name, "from": window.start, "to": window.end}


def conversion_report(session: Session, window: Window) -> dict:
    """Contacts uploaded, contacted (left pending), converted and their value in the window.

    Each figure counts by the date of its own event: upload, first move out of pending, conversion.
    """
    figures = totals(session, window, [rules.UPLOADED, rules.CONTACTED, rules.CONVERTED])
    total_contacts, _ = _sum(figures, rules.UPLOADED)
    contacted, _ = _sum(figures, rules.CONTACTED)
    converted, value = _sum(figures, rules.CONVERTED)
    return {
        **_window_fields(window),
        "total_contacts": total_contacts,
        "contacted": contacted,
        "converted": converted,
        "conversion_rate": rules.percentage(converted, contacted),
        "total_conversion_value": value,
        "average_conversion_value": rules.average(value, converted),
    }


def staff_report(session: Session, window: Window) -> dict:
    """Per staff member: contacts assigned (by upload), contacted, converted, value, interactions.

    Contacted and converted go to whoever the contact was assigned to at that event; interactions
    are the status changes a staff member made. Listed: every active staff-role member, and anyone
    else with a figure in the window; contacts assigned to nobody are left out.
    """
    figures = totals(session, window, [rules.ASSIGNED, rules.CONTACTED, rules.CONVERTED, rules.INTERACTIONS])
    per_staff: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: (0, Decimal("0"))))
    for (metric, staff_id), figure in figures.items():
        if staff_id:
            per_staff[staff_id][metric] = figure
    roster = {s.staff_id: s for s in session.scalars(select(ReportStaff))}
    listed = {sid for sid, s in roster.items() if s.role == "staff" and s.active}
    listed |= {sid for sid, metrics in per_staff.items() if any(n or v for n, v in metrics.values())}
    items = []
    for staff_id in sorted(listed, key=lambda sid: (id_order(sid), sid)):
        metrics = per_staff[staff_id]
        contacted, converted = metrics[rules.CONTACTED][0], metrics[rules.CONVERTED][0]
        member = roster.get(staff_id)
        items.append(
            {
                "staff_id": wire_id(staff_id),
                "name": member.name if member else None,
                "assigned": metrics[rules.ASSIGNED][0],
                "contacted": contacted,
                "converted": converted,
                "conversion_rate": rules.percentage(converted, contacted),
                "conversion_value": rules.money(metrics[rules.CONVERTED][1]),
                "interactions": metrics[rules.INTERACTIONS][0],
            }
        )
    return {**_window_fields(window), "items": items}


def category_report(session: Session, window: Window) -> dict:
    """Per customer category: new customers (by first visit), bills and sales in the window."""
    figures = totals(session, window, [rules.NEW_CUSTOMERS, rules.BILLS])
    zero = (0, Decimal("0"))
    items = []
    for category in CATEGORIES:
        bills, sales = figures.get((rules.BILLS, category), zero)
        items.append(
            {
                "category": category,
                "customers": figures.get((rules.NEW_CUSTOMERS, category), zero)[0],
                "bills": bills,
                "sales": rules.money(sales),
            }
        )
    return {**_window_fields(window), "items": items}


def refill_report(session: Session, window: Window) -> dict:
    """Refill reminders falling due in the window and what came of them."""
    metrics = [rules.REFILLS_DUE, rules.REFILLS_CONTACTED, rules.REFILLS_RESPONDED, rules.REFILLS_PURCHASED]
    figures = totals(session, window, metrics)
    due, contacted, responded, purchased = (_sum(figures, metric)[0] for metric in metrics)
    return {
        **_window_fields(window),
        "due": due,
        "contacted": contacted,
        "responded": responded,
        "purchased": purchased,
        "recovery_rate": rules.percentage(purchased, due),
    }


# -- facts from consumed events ------------------------------------------------------------------
def locked_fact(session: Session, model: Any, **key: Any) -> Any:
    """The fact row with this key, created empty when missing, locked until the transaction ends."""
    session.execute(dialect_insert(session)(model.__table__).values(**key).on_conflict_do_nothing())
    stmt = select(model).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one()


def move_totals(session: Session, before: list[rules.Contribution], after: list[rules.Contribution]) -> None:
    """Add ``after - before`` to the per-day rollup."""
    table = DailyTotal.__table__
    for change in rules.difference(before, after):
        stmt = dialect_insert(session)(table).values(
            metric=change.metric, day=change.day, dimension=change.dimension, count=change.count, amount=change.amount
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["metric", "day", "dimension"],
                set_={"count": table.c.count + stmt.excluded.count, "amount": table.c.amount + stmt.excluded.amount},
            )
        )


class _Tracked:
    """``with _Tracked(session, fact, contributions):`` moves the rollup by what the block changed."""

    def __init__(self, session: Session, fact: Any, contributions: Callable[[Any], list[rules.Contribution]]):
        self.session, self.fact, self.contributions = session, fact, contributions

    def __enter__(self) -> Any:
        self.before = self.contributions(self.fact)
        return self.fact

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:  # a failed block changes nothing, so the rollup must not move either
            move_totals(self.session, self.before, self.contributions(self.fact))


def record_staff(session: Session, staff: StaffCreated | StaffUpdated, context: EventContext) -> None:
    """``staff.created`` / ``staff.updated``: keep the newest snapshot of the staff member."""
    fact = locked_fact(session, ReportStaff, staff_id=stored_id(staff.staff_id))
    if rules.supersedes(fact, context.time, context.event_id):
        fact.username, fact.name, fact.role, fact.active = staff.username, staff.name, staff.role, staff.active
        rules.stamp(fact, context.time, context.event_id)


def record_upload(session: Session, uploaded: ContactsUploaded, context: EventContext) -> None:
    """``contacts.uploaded``: contacts imported and assigned per staff member, dated by upload."""
    upload = locked_fact(session, ReportContactUpload, upload_id=stored_id(uploaded.upload_id))
    if not rules.supersedes(upload, context.time, context.event_id):
        return
    with _Tracked(session, upload, rules.upload_contributions):
        upload.uploaded_at = uploaded.uploaded_at
        upload.uploaded_on = context.local_date(uploaded.uploaded_at)
        upload.uploaded_by = stored_id(uploaded.uploaded_by)
        upload.imported = uploaded.imported
        upload.assigned = {stored_id(staff): n for staff, n in uploaded.assigned.items()}
        rules.stamp(upload, context.time, context.event_id)


def record_status_change(session: Session, changed: ContactStatusChanged, context: EventContext) -> None:
    """``contact.status_changed``: the first move out of pending, and one interaction of ``by``."""
    contact_id = stored_id(changed.contact_id)
    changed_on = context.local_date(changed.changed_at)
    # Lock order: the contact, then its status change (every handler touching both does the same).
    contact = locked_fact(session, ReportContact, contact_id=contact_id)
    change = locked_fact(
        session,
        ReportContactStatusChange,
        contact_id=contact_id,
        changed_at=changed.changed_at,
        from_status=changed.from_status,
        to_status=changed.to_status,
    )
    before = rules.status_change_contributions(change) + rules.contact_contributions(contact)
    change.changed_on, change.by_staff = changed_on, stored_id(changed.by)
    if changed.to_status != "pending":
        rules.offer_left_pending(contact, changed_on, changed.changed_at, stored_id(changed.assigned_to))
    # One sorted batch for both facts, so concurrent workers lock rollup rows in a single order.
    move_totals(session, before, rules.status_change_contributions(change) + rules.contact_contributions(contact))


def record_conversion(session: Session, conversion: ContactConverted, context: EventContext) -> None:
    """``contact.converted``: the first conversion counts (and a conversion means it left pending)."""
    contact = locked_fact(session, ReportContact, contact_id=stored_id(conversion.contact_id))
    assignee = stored_id(conversion.assigned_to)
    with _Tracked(session, contact, rules.contact_contributions):
        rules.offer_left_pending(contact, conversion.converted_at, None, assignee)
        rules.offer_conversion(
            contact,
            conversion.converted_at,
            f"{isoformat_utc(context.time)}|{context.event_id}",
            conversion.conversion_value,
            stored_id(conversion.bill_id),
            assignee,
        )


def record_customer(session: Session, profile: CustomerUpserted, context: EventContext) -> None:
    """``customer.upserted``: newest category, earliest first visit."""
    customer = locked_fact(session, ReportCustomer, customer_id=stored_id(profile.customer_id))
    with _Tracked(session, customer, rules.customer_contributions):
        first_visit = profile.first_visit_date
        if first_visit is not None and (customer.first_visit_date is None or first_visit < customer.first_visit_date):
            customer.first_visit_date = first_visit
        if rules.supersedes(customer, context.time, context.event_id):
            customer.category = profile.category
            rules.stamp(customer, context.time, context.event_id)


def record_bill(session: Session, bill: BillCreated, context: EventContext) -> None:
    """``bill.created``: a bill of a category, dated and totalled (bill ids are per source)."""
    fact = locked_fact(session, ReportBill, source=context.source, bill_id=stored_id(bill.bill_id))
    if not rules.supersedes(fact, context.time, context.event_id):
        return
    with _Tracked(session, fact, rules.bill_contributions):
        fact.bill_date = bill.bill_date
        fact.customer_category = bill.customer_category
        fact.total_amount = bill.total_amount
        fact.visited_no_purchase = bill.visited_no_purchase
        rules.stamp(fact, context.time, context.event_id)


def record_purchase(session: Session, purchase: PurchaseRecorded, context: EventContext) -> None:
    """``purchase.recorded``: kept as a fact for purchase-level reports."""
    fact = locked_fact(session, ReportPurchase, purchase_id=stored_id(purchase.purchase_id))
    if rules.supersedes(fact, context.time, context.event_id):
        fact.customer_id = stored_id(purchase.customer_id)
        fact.bill_id = stored_id(purchase.bill_id)
        fact.purchase_date = purchase.purchase_date
        fact.is_generic = purchase.is_generic
        fact.amount = purchase.amount
        rules.stamp(fact, context.time, context.event_id)


def record_refill_reminder(session: Session, created: RefillReminderCreated, context: EventContext) -> None:
    """``refill_reminder.created``: the reminder and the day it falls due."""
    reminder = locked_fact(session, ReportRefillReminder, reminder_id=stored_id(created.reminder_id))
    with _Tracked(session, reminder, rules.refill_reminder_contributions):
        reminder.reminder_date = created.reminder_date
        reminder.customer_id = stored_id(created.customer_id)


def record_refill_outcome(session: Session, updated: RefillReminderUpdated, context: EventContext) -> None:
    """``refill_reminder.updated``: contacted (WhatsApp or call), responded, purchased - once on, stays on."""
    reminder = locked_fact(session, ReportRefillReminder, reminder_id=stored_id(updated.reminder_id))
    with _Tracked(session, reminder, rules.refill_reminder_contributions):
        reminder.contacted = reminder.contacted or bool(updated.whatsapp_sent_at or updated.call_made_at)
        reminder.responded = reminder.responded or updated.responded
        reminder.purchased = reminder.purchased or bool(updated.purchased_at) or updated.status == "purchased"
