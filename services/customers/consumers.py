"""What customers does with the events it consumes (one registry, ``HANDLERS``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.consumer import Handler
from shared.events import BillCreated, ContactConverted, EventContext

from . import domain


def on_bill_created(session: Session, bill: BillCreated, context: EventContext) -> None:
    """A bill from billing or an outside point of sale (its ``source``): profile, visit, purchases."""
    domain.record_bill(session, context.source, bill)


def on_contact_converted(session: Session, conversion: ContactConverted, context: EventContext) -> None:
    """A contact became a customer: link the contact record (before or after the bill arrives)."""
    domain.link_conversion(session, conversion)


HANDLERS: dict[str, Handler] = {
    BillCreated.TYPE: on_bill_created,
    ContactConverted.TYPE: on_contact_converted,
}
