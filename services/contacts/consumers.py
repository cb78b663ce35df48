"""What contacts does with other services' events (one registry, ``HANDLERS``): conversions and
yellow flags from bills, the staff roster, customer links, consent. The rules are in ``domain.py``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.consumer import Handler
from shared.events import (
    BillCreated,
    ConsentChanged,
    CustomerUpserted,
    EventContext,
    StaffCreated,
    StaffUpdated,
)

from . import domain
from .settings import ContactsSettings


def on_bill_created(session: Session, bill: BillCreated, context: EventContext) -> None:
    """A bill may convert the contact of its phone, or flag it yellow (and schedule its follow-up),
    on the bill's date."""
    domain.apply_bill(
        session,
        bill,
        domain.bill_instant(bill.bill_date, context.time, context.pharmacy_zone),
        source=context.source,
        follow_up_days=context.settings_of(ContactsSettings).yellow_follow_up_days,
    )


def on_staff_changed(session: Session, staff: StaffCreated | StaffUpdated, context: EventContext) -> None:
    """``staff.created``/``staff.updated``: the roster row, newest event wins."""
    domain.record_staff_member(session, staff, context.time)


def on_customer_upserted(session: Session, customer: CustomerUpserted, context: EventContext) -> None:
    """Link the contact of the customer's phone."""
    domain.link_customer(session, customer)


def on_consent_changed(session: Session, change: ConsentChanged, context: EventContext) -> None:
    """Keep the phone's newest consent (a WhatsApp or call it declined is refused)."""
    domain.record_consent(session, change)


HANDLERS: dict[str, Handler] = {
    BillCreated.TYPE: on_bill_created,
    StaffCreated.TYPE: on_staff_changed,
    StaffUpdated.TYPE: on_staff_changed,
    CustomerUpserted.TYPE: on_customer_upserted,
    ConsentChanged.TYPE: on_consent_changed,
}
