"""Reporting's event handlers: every event type upserts a fact and moves the per-day rollup.

Each handler locks the fact row it changes (created empty when missing), computes the fact's
contribution to ``report_daily_totals`` before and after the change, and applies the
difference. Facts merge order-free (newest snapshot, earliest date, first conversion, flags
that only turn on), so the rollup ends the same whatever the order, duplication or number of
workers. The runner's inbox already drops exact redeliveries; the facts make a re-sent event
under a new id harmless too.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import dialect_insert
from shared.envelope import isoformat_utc
from shared.ids import stored_id

from . import rules
from .models import (DailyTotal, ReportBill, ReportContact, ReportContactStatusChange, ReportContactUpload,
                     ReportCustomer, ReportPurchase, ReportRefillReminder, ReportStaff)


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def pharmacy_zone(session: Session) -> ZoneInfo:
    """The pharmacy's time zone (``PHARMACY_TZ``) for dating instants, from the runner's settings."""
    settings = session.info.get("settings")
    return _zone(settings.pharmacy_tz if settings else "Asia/Kolkata")


# -- persistence helpers -----------------------------------------------------------------
def locked_fact(session: Session, model, **key):
    """The fact row with this key, created empty when missing, locked until the transaction ends."""
    session.execute(dialect_insert(session)(model.__table__).values(**key).on_conflict_do_nothing())
    stmt = select(model).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one()


def move_totals(session: Session, before: list[rules.Contribution], after: list[rules.Contribution]) -> None:
    """Add ``after - before`` to the per-day rollup."""
    table = DailyTotal.__table__
    for change in rules.difference(before, after):
        stmt = dialect_insert(session)(table).values(metric=change.metric, day=change.day, dimension=change.dimension,
                                              count=change.count, amount=change.amount)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["metric", "day", "dimension"],
            set_={"count": table.c.count + stmt.excluded.count, "amount": table.c.amount + stmt.excluded.amount}))


class _Tracked:
    """``with _Tracked(session, fact, contributions):`` moves the rollup by what the block changed."""

    def __init__(self, session: Session, fact, contributions: Callable):
        self.session, self.fact, self.contributions = session, fact, contributions

    def __enter__(self):
        self.before = self.contributions(self.fact)
        return self.fact

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            move_totals(self.session, self.before, self.contributions(self.fact))
        return False


def _event_time(event: dict) -> dt.datetime:
    return rules.parse_instant(event["time"])


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


# -- handlers ----------------------------------------------------------------------------
def on_staff_changed(session: Session, event: dict) -> None:
    """``staff.created`` / ``staff.updated``: keep the newest snapshot of the staff member."""
    data = event["data"]
    staff = locked_fact(session, ReportStaff, staff_id=stored_id(data["staff_id"]))
    if rules.supersedes(staff, _event_time(event), event["id"]):
        staff.username, staff.name, staff.role, staff.active = data["username"], data["name"], data["role"], data["active"]
        rules.stamp(staff, _event_time(event), event["id"])


def on_contacts_uploaded(session: Session, event: dict) -> None:
    """``contacts.uploaded``: contacts imported and assigned per staff member, dated by upload."""
    data = event["data"]
    upload = locked_fact(session, ReportContactUpload, upload_id=stored_id(data["upload_id"]))
    if not rules.supersedes(upload, _event_time(event), event["id"]):
        return
    with _Tracked(session, upload, rules.upload_contributions):
        upload.uploaded_at = rules.parse_instant(data["uploaded_at"])
        upload.uploaded_on = rules.local_date(upload.uploaded_at, pharmacy_zone(session))
        upload.uploaded_by = stored_id(data["uploaded_by"])
        upload.imported = data["imported"]
        upload.assigned = {stored_id(staff): n for staff, n in data["assigned"].items()}
        rules.stamp(upload, _event_time(event), event["id"])


def on_contact_status_changed(session: Session, event: dict) -> None:
    """``contact.status_changed``: the first move out of pending, and one interaction of ``by``."""
    data = event["data"]
    contact_id = stored_id(data["contact_id"])
    changed_at = rules.parse_instant(data["changed_at"])
    changed_on = rules.local_date(changed_at, pharmacy_zone(session))
    # Lock order: the contact, then its status change (every handler touching both does the same).
    contact = locked_fact(session, ReportContact, contact_id=contact_id)
    change = locked_fact(session, ReportContactStatusChange, contact_id=contact_id, changed_at=changed_at,
                         from_status=data["from_status"], to_status=data["to_status"])
    before = rules.status_change_contributions(change) + rules.contact_contributions(contact)
    change.changed_on, change.by_staff = changed_on, stored_id(data["by"])
    if data["to_status"] != "pending":
        rules.offer_left_pending(contact, changed_on, changed_at, stored_id(data["assigned_to"]))
    # One sorted batch for both facts, so concurrent workers lock rollup rows in a single order.
    move_totals(session, before, rules.status_change_contributions(change) + rules.contact_contributions(contact))


def on_contact_converted(session: Session, event: dict) -> None:
    """``contact.converted``: the first conversion counts (and a conversion means it left pending)."""
    data = event["data"]
    contact = locked_fact(session, ReportContact, contact_id=stored_id(data["contact_id"]))
    converted_on = dt.date.fromisoformat(data["converted_at"])
    assignee = stored_id(data["assigned_to"])
    with _Tracked(session, contact, rules.contact_contributions):
        rules.offer_left_pending(contact, converted_on, None, assignee)
        rules.offer_conversion(contact, converted_on, f"{isoformat_utc(_event_time(event))}|{event['id']}",
                               _amount(data["conversion_value"]), stored_id(data["bill_id"]), assignee)


def on_customer_upserted(session: Session, event: dict) -> None:
    """``customer.upserted``: newest category, earliest first visit."""
    data = event["data"]
    customer = locked_fact(session, ReportCustomer, customer_id=stored_id(data["customer_id"]))
    with _Tracked(session, customer, rules.customer_contributions):
        first_visit = _date(data["first_visit_date"])
        if first_visit is not None and (customer.first_visit_date is None or first_visit < customer.first_visit_date):
            customer.first_visit_date = first_visit
        if rules.supersedes(customer, _event_time(event), event["id"]):
            customer.category = data["category"]
            rules.stamp(customer, _event_time(event), event["id"])


def on_bill_created(session: Session, event: dict) -> None:
    """``bill.created``: a bill of a category, dated and totalled (bill ids are per source)."""
    data = event["data"]
    bill = locked_fact(session, ReportBill, source=event["source"], bill_id=stored_id(data["bill_id"]))
    if not rules.supersedes(bill, _event_time(event), event["id"]):
        return
    with _Tracked(session, bill, rules.bill_contributions):
        bill.bill_date = dt.date.fromisoformat(data["bill_date"])
        bill.customer_category = data["customer_category"]
        bill.total_amount = Decimal(data["total_amount"])
        bill.visited_no_purchase = data["visited_no_purchase"]
        rules.stamp(bill, _event_time(event), event["id"])


def on_purchase_recorded(session: Session, event: dict) -> None:
    """``purchase.recorded``: kept as a fact for purchase-level reports."""
    data = event["data"]
    purchase = locked_fact(session, ReportPurchase, purchase_id=stored_id(data["purchase_id"]))
    if rules.supersedes(purchase, _event_time(event), event["id"]):
        purchase.customer_id = stored_id(data["customer_id"])
        purchase.bill_id = stored_id(data["bill_id"])
        purchase.purchase_date = dt.date.fromisoformat(data["purchase_date"])
        purchase.is_generic = data["is_generic"]
        purchase.amount = Decimal(data["amount"])
        rules.stamp(purchase, _event_time(event), event["id"])


def on_refill_reminder_created(session: Session, event: dict) -> None:
    """``refill_reminder.created``: the reminder and the day it falls due."""
    data = event["data"]
    reminder = locked_fact(session, ReportRefillReminder, reminder_id=stored_id(data["reminder_id"]))
    with _Tracked(session, reminder, rules.refill_reminder_contributions):
        reminder.reminder_date = dt.date.fromisoformat(data["reminder_date"])
        reminder.customer_id = stored_id(data["customer_id"])


def on_refill_reminder_updated(session: Session, event: dict) -> None:
    """``refill_reminder.updated``: contacted (WhatsApp or call), responded, purchased - once on, stays on."""
    data = event["data"]
    reminder = locked_fact(session, ReportRefillReminder, reminder_id=stored_id(data["reminder_id"]))
    with _Tracked(session, reminder, rules.refill_reminder_contributions):
        reminder.contacted = reminder.contacted or bool(data["whatsapp_sent_at"] or data["call_made_at"])
        reminder.responded = reminder.responded or bool(data["responded"])
        reminder.purchased = reminder.purchased or bool(data["purchased_at"]) or data["status"] == "purchased"


HANDLERS = {
    "bill.created": on_bill_created,
    "contacts.uploaded": on_contacts_uploaded,
    "contact.status_changed": on_contact_status_changed,
    "contact.converted": on_contact_converted,
    "customer.upserted": on_customer_upserted,
    "purchase.recorded": on_purchase_recorded,
    "refill_reminder.created": on_refill_reminder_created,
    "refill_reminder.updated": on_refill_reminder_updated,
    "staff.created": on_staff_changed,
    "staff.updated": on_staff_changed,
}
