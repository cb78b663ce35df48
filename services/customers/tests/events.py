"""Events as billing, contacts or an outside point of sale would publish them."""

import itertools
import uuid

import pika

from shared.envelope import CONTENT_TYPE, make_event, to_json

BILLING = "/services/billing"
_line_ids = itertools.count(1000)


def item(medicine_name="Metformin 500", amount="100.00", duration_days=30, quantity=1, is_generic=False, line_id=None):
    return {
        "line_id": line_id if line_id is not None else next(_line_ids),
        "medicine_name": medicine_name,
        "is_generic": is_generic,
        "quantity": quantity,
        "amount": amount,
        "duration_days": duration_days,
    }


def bill_data(
    bill_id,
    phone="+919876543210",
    bill_date="2026-02-01",
    items=None,
    name="Asha Rao",
    category="regular_branded",
    visited_no_purchase=False,
    total=None,
):
    items = [item()] if items is None and not visited_no_purchase else (items or [])
    if total is None:
        total = f"{sum(float(i['amount']) for i in items):.2f}"
    return {
        "bill_id": bill_id,
        "bill_number": f"B-{bill_id}",
        "bill_date": bill_date,
        "customer_phone": phone,
        "customer_name": name,
        "customer_category": category,
        "was_contacted_before": False,
        "visited_no_purchase": visited_no_purchase,
        "total_amount": total,
        "items": items,
        "created_by": 7,
    }


def bill_event(bill_id, source=BILLING, event_id=None, **kwargs) -> dict:
    return make_event(
        "bill.created", bill_data(bill_id, **kwargs), source=source, subject=f"bills/{bill_id}", event_id=event_id
    )


def contact_event(contact_id, phone="+919876543210", name="Asha (list)", bill_id=None, event_id=None) -> dict:
    return make_event(
        "contact.converted",
        {
            "contact_id": contact_id,
            "phone": phone,
            "name": name,
            "converted_at": "2026-02-01",
            "conversion_value": None,
            "bill_id": bill_id,
            "assigned_to": 7,
            "customer_category": None,
        },
        source="/services/contacts",
        subject=f"contacts/{contact_id}",
        event_id=event_id or str(uuid.uuid4()),
    )


def publish(amqp_url, *events) -> None:
    """Publish as an outside integration would (persistent, with confirms), on one connection."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for event in events:
            channel.basic_publish(
                exchange="pharmacy.events",
                routing_key=event["type"],
                body=to_json(event).encode(),
                properties=pika.BasicProperties(
                    delivery_mode=2, message_id=event["id"], content_type=CONTENT_TYPE, type=event["type"]
                ),
            )
    finally:
        connection.close()
