"""Reminders' event handlers and their one registry (the rules are in ``domain.py``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.consumer import Handler
from shared.events import ConsentChanged, CustomerUpserted, EventContext, PurchaseRecorded

from . import domain


def on_purchase_recorded(session: Session, purchase: PurchaseRecorded, context: EventContext) -> None:
    """A customer bought a medicine: close older reminders of it and open (or file) this one's."""
    domain.record_purchase(session, domain.Purchase.recorded(context.source, purchase, context.time))


def on_customer_upserted(session: Session, customer: CustomerUpserted, context: EventContext) -> None:
    """Keep the customer's name and phone for the reminder list and WhatsApp links."""
    domain.upsert_customer(session, customer.customer_id, customer.name, customer.phone, context.time)


def on_consent_changed(session: Session, change: ConsentChanged, context: EventContext) -> None:
    """Keep what the phone's owner agreed to, so declined channels are refused."""
    domain.record_consent(session, change)


HANDLERS: dict[str, Handler] = {
    PurchaseRecorded.TYPE: on_purchase_recorded,
    CustomerUpserted.TYPE: on_customer_upserted,
    ConsentChanged.TYPE: on_consent_changed,
}

#: Before a batch's handlers: lock its customers' rows in one order (no deadlocks between replicas).
PREPARE = domain.lock_customers
