"""What customers does with the events it consumes (one registry, ``HANDLERS``)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from . import domain


def on_bill_created(session: Session, event: dict) -> None:
    """A bill from billing or an outside point of sale (its ``source``): profile, visit, purchases."""
    domain.record_bill(session, event["source"], event["data"])


def on_contact_converted(session: Session, event: dict) -> None:
    """A contact became a customer: link the contact record (before or after the bill arrives)."""
    domain.link_conversion(session, event["data"])


HANDLERS = {
    "bill.created": on_bill_created,
    "contact.converted": on_contact_converted,
}
