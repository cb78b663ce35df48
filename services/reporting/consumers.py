"""Reporting's event handlers and their one registry: every event type upserts a fact and moves
the per-day rollup (the rules, and why they are order-free, are in ``domain.py``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.consumer import Handler
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

from . import domain


def on_staff_changed(session: Session, staff: StaffCreated | StaffUpdated, context: EventContext) -> None:
    """``staff.created`` / ``staff.updated``: the newest snapshot of the staff member."""
    domain.record_staff(session, staff, context)


def on_contacts_uploaded(session: Session, uploaded: ContactsUploaded, context: EventContext) -> None:
    """``contacts.uploaded``: contacts imported and assigned, dated by upload."""
    domain.record_upload(session, uploaded, context)


def on_contact_status_changed(session: Session, changed: ContactStatusChanged, context: EventContext) -> None:
    """``contact.status_changed``: left pending, and one interaction."""
    domain.record_status_change(session, changed, context)


def on_contact_converted(session: Session, conversion: ContactConverted, context: EventContext) -> None:
    """``contact.converted``: the first conversion counts."""
    domain.record_conversion(session, conversion, context)


def on_customer_upserted(session: Session, profile: CustomerUpserted, context: EventContext) -> None:
    """``customer.upserted``: newest category, earliest first visit."""
    domain.record_customer(session, profile, context)


def on_bill_created(session: Session, bill: BillCreated, context: EventContext) -> None:
    """``bill.created``: a bill of a category, dated and totalled."""
    domain.record_bill(session, bill, context)


def on_purchase_recorded(session: Session, purchase: PurchaseRecorded, context: EventContext) -> None:
    """``purchase.recorded``: a purchase fact."""
    domain.record_purchase(session, purchase, context)


def on_refill_reminder_created(session: Session, created: RefillReminderCreated, context: EventContext) -> None:
    """``refill_reminder.created``: the reminder and its due day."""
    domain.record_refill_reminder(session, created, context)


def on_refill_reminder_updated(session: Session, updated: RefillReminderUpdated, context: EventContext) -> None:
    """``refill_reminder.updated``: contacted, responded, purchased."""
    domain.record_refill_outcome(session, updated, context)


HANDLERS: dict[str, Handler] = {
    BillCreated.TYPE: on_bill_created,
    ContactsUploaded.TYPE: on_contacts_uploaded,
    ContactStatusChanged.TYPE: on_contact_status_changed,
    ContactConverted.TYPE: on_contact_converted,
    CustomerUpserted.TYPE: on_customer_upserted,
    PurchaseRecorded.TYPE: on_purchase_recorded,
    RefillReminderCreated.TYPE: on_refill_reminder_created,
    RefillReminderUpdated.TYPE: on_refill_reminder_updated,
    StaffCreated.TYPE: on_staff_changed,
    StaffUpdated.TYPE: on_staff_changed,
}
