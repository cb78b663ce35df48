"""Reminders' event handlers and their one registry."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from . import domain


def on_purchase_recorded(session: Session, event: dict) -> None:
    """A customer bought a medicine: close older reminders of it and open (or file) this one's."""
    data = event["data"]
    domain.record_purchase(session, domain.Purchase(
        source=event["source"], purchase_id=str(data["purchase_id"]), customer_id=str(data["customer_id"]),
        medicine_name=data["medicine_name"], purchase_date=dt.date.fromisoformat(data["purchase_date"]),
        duration_days=data["duration_days"]))


def on_customer_upserted(session: Session, event: dict) -> None:
    """Keep the customer's name and phone for the reminder list and WhatsApp links."""
    data = event["data"]
    domain.upsert_customer(session, data["customer_id"], data["name"], data["phone"],
                           dt.datetime.fromisoformat(event["time"]))


HANDLERS = {
    "purchase.recorded": on_purchase_recorded,
    "customer.upserted": on_customer_upserted,
}
