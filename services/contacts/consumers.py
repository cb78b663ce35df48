"""What contacts does with other services' events: conversions and yellow flags from bills, the
staff roster, customer links. The runner's inbox makes each event apply once; the handlers make
the result independent of delivery order (and of replicas, by locking the contact row)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db import dialect_insert
from shared.ids import id_order
from shared.messaging import utcnow

from .domain import can_change, change_status, publish_converted
from .models import CONVERTED, YELLOW, ContactRecord, CustomerLink, StaffMember


def _contact_by_phone(session: Session, phone: str) -> ContactRecord | None:
    # FOR UPDATE: two replicas handling two bills of one phone apply them one after the other.
    return session.scalar(select(ContactRecord).where(ContactRecord.phone == phone).with_for_update())


def bill_order(bill_date: dt.date, bill_id) -> tuple:
    """Which of two converting bills came first: earlier bill date, then lower bill id (numeric ids
    before textual ones). The first converting bill's date, value and id are the conversion's."""
    return (bill_date, *id_order("" if bill_id is None else str(bill_id)))


def on_bill_created(session: Session, event: dict) -> None:
    """A bill with ``was_contacted_before`` converts the contact of its phone; a visit without purchase
    flags it yellow (only from pending/contacted). Converted stays converted; when bills arrive out of
    order, the earliest bill (date, then id) ends up as the conversion."""
    data = event["data"]
    contact = _contact_by_phone(session, data["customer_phone"])
    if contact is None:
        return
    bill_date = dt.date.fromisoformat(data["bill_date"])
    by = data.get("created_by")
    if data["visited_no_purchase"]:
        if can_change(contact.status, YELLOW):  # pending or contacted; never un-converts
            change_status(session, contact, YELLOW, by)
        return
    if not data["was_contacted_before"]:
        return
    total = Decimal(data["total_amount"])
    if contact.status != CONVERTED:
        change_status(session, contact, CONVERTED, by)
    elif not (contact.conversion_source == "bill" and contact.converted_at is not None
              and bill_order(bill_date, data["bill_id"]) < bill_order(contact.converted_at,
                                                                       contact.conversion_bill_id)):
        return  # a later bill of a converted contact is a purchase, not a conversion
    # First conversion, or an earlier converting bill that arrived late: it is the conversion.
    contact.converted_at = bill_date
    contact.conversion_value = total
    contact.conversion_bill_id = str(data["bill_id"])
    contact.conversion_source = "bill"
    contact.updated_at = utcnow()
    publish_converted(session, contact, data["customer_category"])


def _upsert(session: Session, model, values: dict, key: str, update_when=None) -> None:
    stmt = dialect_insert(session)(model).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=[key],
                                      set_={k: stmt.excluded[k] for k in values if k != key},
                                      where=update_when(stmt.excluded) if update_when else None)
    session.execute(stmt)


def on_staff_changed(session: Session, event: dict) -> None:
    """``staff.created``/``staff.updated``: upsert the roster row unless a newer event already wrote it."""
    data = event["data"]
    event_time = dt.datetime.fromisoformat(event["time"])
    _upsert(session, StaffMember, {
        "staff_id": int(data["staff_id"]), "username": data["username"], "name": data["name"],
        "role": data["role"], "active": data["active"], "event_time": event_time,
    }, "staff_id", update_when=lambda new: StaffMember.event_time <= new.event_time)


def on_customer_upserted(session: Session, event: dict) -> None:
    """Remember the phone's customer and link the contact of that phone, whenever both exist."""
    data = event["data"]
    customer_id = str(data["customer_id"])
    _upsert(session, CustomerLink, {"phone": data["phone"], "customer_id": customer_id, "updated_at": utcnow()},
            "phone")
    session.execute(update(ContactRecord)
                    .where(ContactRecord.phone == data["phone"],
                           (ContactRecord.customer_id.is_(None)) | (ContactRecord.customer_id != customer_id))
                    .values(customer_id=customer_id, updated_at=utcnow()))


HANDLERS = {
    "bill.created": on_bill_created,
    "staff.created": on_staff_changed,
    "staff.updated": on_staff_changed,
    "customer.upserted": on_customer_upserted,
}
