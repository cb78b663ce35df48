"""Events: bills convert or flag contacts, the staff roster, customer links — exactly once, any order."""

import datetime as dt
import io
import itertools
import json
import random

import pytest
from sqlalchemy import select

from services.contacts.consumers import HANDLERS
from services.contacts.domain import bill_order
from services.contacts.models import ContactRecord, StaffMember, messaging
from shared.consumer import ConsumerRunner
from shared.envelope import make_event, to_json, validate_event
from shared.events import ContactConverted, ContactStatusChanged
from shared.relay import OutboxRelay
from shared.testing import Probe, auth_headers, eventually, publish_raw, running

from .conftest import staff_event

ADMIN = auth_headers("admin", 1)
ALICE = auth_headers("staff", 11)
CONTACTS = "/api/v1/contacts"
PHONE_A, PHONE_B, PHONE_C = "+919876543200", "+919876543201", "+919876543202"
bill_ids = itertools.count(1000)


@pytest.fixture
def contacts(client, staff):
    content = "phone,name\n9876543200,Asha\n9876543201,Ravi\n9876543202,Meera\n"
    response = client.post(
        f"{CONTACTS}/uploads",
        data={"file": (io.BytesIO(content.encode()), "list.csv")},
        headers=ADMIN,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    return {c["phone"]: c for c in client.get(CONTACTS, headers=ADMIN).json["items"]}


def bill(
    phone,
    bill_date="2026-02-01",
    total="250.00",
    bill_id=None,
    contacted=True,
    no_purchase=False,
    category="regular_branded",
):
    return {
        "bill_id": bill_id if bill_id is not None else next(bill_ids),
        "bill_number": "B-1",
        "bill_date": bill_date,
        "customer_phone": phone,
        "customer_name": "Asha",
        "customer_category": category,
        "was_contacted_before": contacted,
        "visited_no_purchase": no_purchase,
        "total_amount": "0.00" if no_purchase else total,
        "items": []
        if no_purchase
        else [
            {
                "line_id": 1,
                "medicine_name": "Metformin",
                "is_generic": False,
                "quantity": 1,
                "amount": total,
                "duration_days": 30,
            }
        ],
        "created_by": 11,
    }


def contact(runtime, phone):
    with runtime.session_factory() as session:
        return session.scalar(select(ContactRecord).where(ContactRecord.phone == phone))


def outbox(runtime, event_type):
    with runtime.session_factory() as session:
        rows = session.scalars(
            select(messaging.outbox.c.payload)
            .where(messaging.outbox.c.event_type == event_type)
            .order_by(messaging.outbox.c.id)
        )
        return [json.loads(row) for row in rows]


def state(runtime):
    with runtime.session_factory() as session:
        return sorted(
            (c.phone, c.status, c.converted_at, c.conversion_value, c.conversion_bill_id, c.customer_id)
            for c in session.scalars(select(ContactRecord))
        )


def test_bill_with_was_contacted_before_converts_the_contact(runtime, contacts, deliver):
    deliver("bill.created", bill(PHONE_A, "2026-02-03", "1234.50", bill_id=501), source="/services/billing")
    converted = contact(runtime, PHONE_A)
    assert converted.status == "converted" and converted.converted_at == dt.date(2026, 2, 3)
    assert str(converted.conversion_value) == "1234.50" and converted.conversion_bill_id == "501"
    [event] = outbox(runtime, "contact.converted")
    validate_event(event)
    assert ContactConverted.load(event).to_data() == {
        "contact_id": converted.id,
        "phone": PHONE_A,
        "name": "Asha",
        "converted_at": "2026-02-03",
        "conversion_value": "1234.50",
        "bill_id": 501,
        "assigned_to": converted.assigned_to,
        "customer_category": "regular_branded",
        # EVENTS.md's optional field: consumers rank bills alike
        "bill_date": "2026-02-03",
        # the contact list it came from, so reporting can show each list's ROI
        "upload_id": converted.upload_id,
    }
    [changed] = outbox(runtime, "contact.status_changed")
    changed = ContactStatusChanged.load(changed)
    assert (changed.from_status, changed.to_status, changed.by) == ("pending", "converted", 11)


def test_bills_that_do_not_convert(runtime, contacts, deliver):
    deliver("bill.created", bill(PHONE_A, contacted=False))
    deliver("bill.created", bill("+919811111111"))  # not a contact
    assert contact(runtime, PHONE_A).status == "pending"
    assert outbox(runtime, "contact.converted") == []


def test_visit_without_purchase_flags_yellow_but_never_unconverts(runtime, contacts, deliver):
    deliver("bill.created", bill(PHONE_A, no_purchase=True, contacted=False))
    assert contact(runtime, PHONE_A).status == "yellow"
    deliver("bill.created", bill(PHONE_A, no_purchase=True))
    assert len(outbox(runtime, "contact.status_changed")) == 1
    # yellow → converted by a later bill
    deliver("bill.created", bill(PHONE_A, "2026-02-05", "80.00"))
    assert contact(runtime, PHONE_A).status == "converted"
    deliver("bill.created", bill(PHONE_A, "2026-02-06", no_purchase=True))
    assert contact(runtime, PHONE_A).status == "converted"


def test_converted_stays_converted_and_a_later_bill_is_a_purchase(runtime, contacts, deliver):
    deliver("bill.created", bill(PHONE_A, "2026-02-01", "100.00", bill_id=10))
    deliver("bill.created", bill(PHONE_A, "2026-02-09", "900.00", bill_id=11))
    converted = contact(runtime, PHONE_A)
    assert (converted.converted_at, str(converted.conversion_value), converted.conversion_bill_id) == (
        dt.date(2026, 2, 1),
        "100.00",
        "10",
    )
    assert len(outbox(runtime, "contact.converted")) == 1


def test_the_first_converting_bill_wins_whatever_the_delivery_order(runtime, contacts, deliver):
    # the later bill arrives first; the earlier one then becomes the conversion
    deliver("bill.created", bill(PHONE_A, "2026-02-09", "900.00", bill_id=21))
    deliver("bill.created", bill(PHONE_A, "2026-02-01", "100.00", bill_id=30))
    converted = contact(runtime, PHONE_A)
    assert (converted.converted_at, str(converted.conversion_value), converted.conversion_bill_id) == (
        dt.date(2026, 2, 1),
        "100.00",
        "30",
    )
    assert [ContactConverted.load(e).bill_id for e in outbox(runtime, "contact.converted")] == [21, 30]
    assert len(outbox(runtime, "contact.status_changed")) == 1
    # same date: the lower bill id is first
    deliver("bill.created", bill(PHONE_A, "2026-02-01", "55.00", bill_id=29))
    assert contact(runtime, PHONE_A).conversion_bill_id == "29"


def test_a_manual_conversion_is_not_replaced_by_a_bill(client, runtime, contacts, deliver):
    target = contacts[PHONE_A]
    client.post(f"{CONTACTS}/{target['id']}/convert", json={"conversion_value": "10"}, headers=ADMIN)
    deliver("bill.created", bill(PHONE_A, "2000-01-01", "500.00"))
    assert str(contact(runtime, PHONE_A).conversion_value) == "10.00"


def test_bill_order():
    d1, d2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
    assert bill_order(d1, 99) < bill_order(d2, 1)
    assert bill_order(d1, 9) < bill_order(d1, 10) < bill_order(d1, "pos-1")
    # A bill id an integration sent as text orders as its number, the stored text the same way.
    assert bill_order(d1, 10) == bill_order(d1, "10")
    # Non-ASCII digits ("²".isdigit() is true, int("²") raises) and ids too long for a bigint are text.
    assert bill_order(d1, "²") == (d1, 1, 0, "²") and bill_order(d1, 10) < bill_order(d1, "²")
    assert bill_order(d1, "9" * 30)[1] == 1 and bill_order(d1, None) == (d1, 1, 0, "")


def test_customer_upserted_links_before_and_after_the_conversion(runtime, contacts, deliver, client, staff):
    customer = {
        "phone": PHONE_A,
        "name": "Asha",
        "category": "contact_sheet",
        "first_visit_date": "2026-02-01",
        "last_visit_date": "2026-02-01",
        "total_visits": 1,
        "total_purchases": "100.00",
        "contact_record_id": None,
    }
    # before the conversion (the profile event overtook the bill)
    deliver("customer.upserted", {**customer, "customer_id": 7}, source="/services/customers")
    assert contact(runtime, PHONE_A).customer_id == "7"
    deliver("bill.created", bill(PHONE_A))
    assert contact(runtime, PHONE_A).customer_id == "7"
    # after the conversion
    deliver("bill.created", bill(PHONE_B))
    deliver(
        "customer.upserted",
        {**customer, "phone": PHONE_B, "customer_id": 8, "contact_record_id": contacts[PHONE_B]["id"]},
        source="/services/customers",
    )
    assert contact(runtime, PHONE_B).customer_id == "8"
    assert client.get(f"{CONTACTS}/{contacts[PHONE_B]['id']}", headers=ADMIN).json["customer_id"] == 8
    # a profile that exists before the phone is ever uploaded links the contact at import
    deliver("customer.upserted", {**customer, "phone": "+919876543299", "customer_id": 9})
    response = client.post(
        f"{CONTACTS}/uploads",
        headers=ADMIN,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"phone\n9876543299\n"), "later.csv")},
    )
    assert response.json["imported"] == 1
    assert contact(runtime, "+919876543299").customer_id == "9"


def test_staff_roster_follows_staff_events_in_event_time_order(runtime, deliver):
    t0 = dt.datetime(2026, 2, 1, 10, tzinfo=dt.UTC)
    deliver("staff.created", staff_event(21), time=t0)
    deliver("staff.updated", {**staff_event(21), "active": False, "name": "Renamed"}, time=t0 + dt.timedelta(minutes=5))
    # an older event delivered late changes nothing
    deliver("staff.updated", {**staff_event(21), "active": True}, time=t0 + dt.timedelta(minutes=1))
    with runtime.session_factory() as session:
        member = session.get(StaffMember, 21)
        assert (member.active, member.name) == (False, "Renamed")


def test_redelivered_and_shuffled_events_give_the_in_order_state(runtime, contacts, runner, staff):
    customer = {
        "name": "x",
        "category": "contact_sheet",
        "first_visit_date": None,
        "last_visit_date": None,
        "total_visits": 1,
        "total_purchases": "1.00",
        "contact_record_id": None,
    }
    events = [
        make_event(t, d, source="/services/billing" if t == "bill.created" else "/services/customers")
        for t, d in [
            ("bill.created", bill(PHONE_A, "2026-02-03", "300.00", bill_id=3)),
            ("bill.created", bill(PHONE_A, "2026-02-01", "100.00", bill_id=1)),
            ("bill.created", bill(PHONE_B, no_purchase=True)),
            ("bill.created", bill(PHONE_B, "2026-02-04", "40.00", bill_id=4)),
            ("bill.created", bill(PHONE_C, no_purchase=True)),
            ("customer.upserted", {**customer, "phone": PHONE_A, "customer_id": 70}),
            ("customer.upserted", {**customer, "phone": PHONE_B, "customer_id": 71}),
        ]
    ]
    for event in events:
        runner.handle(event)
    expected = state(runtime)
    converted_events = len(outbox(runtime, "contact.converted"))
    for seed in range(3):
        # reset the contacts and the inbox, then apply every event 2-4 times in a shuffled order
        with runtime.session_factory() as session:
            for row in session.scalars(select(ContactRecord)):
                row.status, row.converted_at, row.conversion_value = "pending", None, None
                row.conversion_bill_id = row.conversion_source = row.customer_id = None
            session.execute(messaging.inbox.delete())
            session.commit()
        rng = random.Random(seed)
        deliveries = [e for e in events for _ in range(rng.randint(2, 4))]
        rng.shuffle(deliveries)
        applied = sum(runner.handle(e) for e in deliveries)
        assert applied == len(events)  # each event applied once, duplicates ignored
        assert state(runtime) == expected
    assert expected == [
        (PHONE_A, "converted", dt.date(2026, 2, 1), pytest.approx(100), "1", "70"),
        (PHONE_B, "converted", dt.date(2026, 2, 4), pytest.approx(40), "4", "71"),
        (PHONE_C, "yellow", None, None, None, None),
    ]
    assert converted_events >= 2


def test_consumer_on_rabbitmq_and_relay_publish(settings, runtime, amqp_url, contacts):
    """Through the broker: bill.created in, contact.converted and contact.status_changed out."""
    probe = Probe(amqp_url, ["contact.converted", "contact.status_changed", "contacts.uploaded"])
    try:
        runner = ConsumerRunner(runtime.settings, runtime.session_factory, messaging, "contacts", HANDLERS)
        relay = OutboxRelay(runtime.settings, runtime.session_factory, messaging)
        with running(runner, relay):
            event = make_event(
                "bill.created", bill(PHONE_A, "2026-02-02", "75.00", bill_id=900), source="/integrations/pos-17"
            )
            body = to_json(event)

            def published():
                publish_raw(amqp_url, "bill.created", body, message_id=event["id"])
                return contact(runtime, PHONE_A).status == "converted"

            eventually(published, timeout=45, interval=1.0)
            publish_raw(amqp_url, "bill.created", body, message_id=event["id"])  # a redelivery
            messages = probe.messages(3, timeout=45)
        types = sorted(m[1]["type"] for m in messages)
        assert types == ["contact.converted", "contact.status_changed", "contacts.uploaded"]
        for properties, published_event in messages:
            validate_event(published_event)
            assert properties.message_id == published_event["id"] and properties.delivery_mode == 2
        assert len(outbox(runtime, "contact.converted")) == 1
    finally:
        probe.close()


def test_replicas_handling_the_same_deliveries_concurrently(runtime, contacts, staff):
    import threading

    events = [
        make_event(
            "bill.created",
            bill(phone, f"2026-02-0{day}", f"{day}0.00", bill_id=day * 10 + n),
            source="/services/billing",
        )
        for n, phone in enumerate((PHONE_A, PHONE_B))
        for day in (5, 3, 4)
    ]
    runners = [
        ConsumerRunner(runtime.settings, runtime.session_factory, messaging, "contacts", HANDLERS) for _ in range(3)
    ]
    applied = []

    def work(runner, seed):
        order = list(events)
        random.Random(seed).shuffle(order)
        applied.extend(runner.handle(e) for e in order)

    threads = [threading.Thread(target=work, args=(r, i)) for i, r in enumerate(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert applied.count(True) == len(events)
    a, b = contact(runtime, PHONE_A), contact(runtime, PHONE_B)
    assert (a.status, a.converted_at, a.conversion_bill_id) == ("converted", dt.date(2026, 2, 3), "30")
    assert (b.status, b.converted_at, b.conversion_bill_id) == ("converted", dt.date(2026, 2, 3), "31")
    assert len(outbox(runtime, "contact.status_changed")) == 2
