"""Reminders' consumer on real PostgreSQL and RabbitMQ: purchases, customers, redelivery, reordering."""

import datetime as dt
import json

from sqlalchemy import select

from services.reminders.consumers import HANDLERS, PREPARE
from services.reminders.models import RefillReminder, ReminderCustomer, messaging
from shared.consumer import ConsumerRunner
from shared.envelope import make_event, to_json
from shared.testing import apply_meeting_halfway, eventually, publish_raw

CUSTOMERS = "/services/customers"


def purchase_event(
    purchase_id,
    medicine="Metformin 500",
    purchase_date="2026-02-01",
    duration_days=30,
    customer_id=42,
    source=CUSTOMERS,
    **kwargs,
):
    data = {
        "purchase_id": purchase_id,
        "customer_id": customer_id,
        "bill_id": 7,
        "purchase_date": purchase_date,
        "medicine_name": medicine,
        "is_generic": False,
        "quantity": 1,
        "amount": "120.50",
        "duration_days": duration_days,
    }
    return make_event("purchase.recorded", data, source=source, **kwargs)


def customer_event(customer_id=42, name="Asha Rao", phone="+919876543210", **kwargs):
    data = {
        "customer_id": customer_id,
        "phone": phone,
        "name": name,
        "category": "regular_branded",
        "first_visit_date": "2026-02-01",
        "last_visit_date": "2026-02-01",
        "total_visits": 1,
        "total_purchases": "120.50",
        "contact_record_id": None,
    }
    return make_event("customer.upserted", data, source=CUSTOMERS, **kwargs)


def publish(settings, *events):
    for event in events:
        publish_raw(settings.amqp_url, event["type"], to_json(event), message_id=event["id"])


def reminders(runtime):
    with runtime.session_factory() as session:
        return session.scalars(select(RefillReminder).order_by(RefillReminder.purchase_date, RefillReminder.id)).all()


def outbox_events(runtime):
    with runtime.session_factory() as session:
        return [
            json.loads(row.payload) for row in session.execute(select(messaging.outbox).order_by(messaging.outbox.c.id))
        ]


def applied(consumer, count):
    return eventually(lambda: len(consumer.handled) >= count, message=f"{count} events handled")


def test_a_purchase_with_a_duration_makes_one_reminder_due_26_feb(consumer, settings, runtime):
    publish(settings, purchase_event(1001))
    [reminder] = eventually(lambda: reminders(runtime), message="reminder created")
    assert reminder.reminder_date == dt.date(2026, 2, 26)
    assert (reminder.status, reminder.customer_id, reminder.purchase_id) == ("open", "42", "1001")
    assert reminder.medicine_key == "metformin 500" and reminder.duration_days == 30
    [created] = outbox_events(runtime)
    assert created["type"] == "refill_reminder.created" and created["source"] == "/services/reminders"
    assert created["data"] == {
        "reminder_id": reminder.id,
        "customer_id": 42,
        "purchase_id": 1001,
        "medicine_name": "Metformin 500",
        "reminder_date": "2026-02-26",
    }


def test_a_purchase_without_a_duration_makes_no_reminder(consumer, settings, runtime):
    publish(settings, purchase_event(1001, duration_days=None))
    applied(consumer, 1)
    assert reminders(runtime) == [] and outbox_events(runtime) == []


def test_the_same_event_delivered_three_times_makes_one_reminder(consumer, settings, runtime):
    event = purchase_event(1001)
    publish(settings, event, event, event)
    applied(consumer, 3)
    assert [applied_ for _, applied_ in consumer.handled] == [True, False, False]
    assert len(reminders(runtime)) == 1
    assert [e["type"] for e in outbox_events(runtime)] == ["refill_reminder.created"]


def test_the_same_purchase_republished_under_a_new_event_id_makes_no_second_reminder(consumer, settings, runtime):
    publish(settings, purchase_event(1001), purchase_event(1001))
    applied(consumer, 2)
    assert len(reminders(runtime)) == 1
    # Another publisher's purchase 1001 is a different purchase.
    publish(settings, purchase_event(1001, source="/integrations/pos-17", customer_id=43))
    eventually(lambda: len(reminders(runtime)) == 2)


def test_next_purchase_of_the_same_medicine_closes_the_first_and_opens_the_next(consumer, settings, runtime):
    publish(settings, purchase_event(1001, medicine="metformin  500"))
    eventually(lambda: reminders(runtime))
    publish(settings, purchase_event(1002, medicine="Metformin 500", purchase_date="2026-02-27"))
    first, second = eventually(lambda: (r := reminders(runtime)) and len(r) == 2 and r)
    assert first.status == "purchased" and first.closed_by_purchase_id == "1002" and first.purchased_at
    assert second.status == "open" and second.reminder_date == dt.date(2026, 3, 24)
    types = [(e["type"], e["data"]["reminder_id"]) for e in outbox_events(runtime)]
    assert types == [
        ("refill_reminder.created", first.id),
        ("refill_reminder.updated", first.id),
        ("refill_reminder.created", second.id),
    ]
    closed = outbox_events(runtime)[1]["data"]
    assert closed["status"] == "purchased" and closed["by"] is None and closed["purchased_at"]


def test_other_medicines_and_other_customers_stay_open(consumer, settings, runtime):
    publish(
        settings,
        purchase_event(1001),
        purchase_event(1002, medicine="Metformin 1000"),
        purchase_event(1003, customer_id=43),
        purchase_event(1004, medicine="METFORMIN 500", purchase_date="2026-02-20"),
    )
    applied(consumer, 4)
    status = {r.purchase_id: r.status for r in reminders(runtime)}
    assert status == {"1001": "purchased", "1002": "open", "1003": "open", "1004": "open"}


def test_an_older_purchase_arriving_after_a_newer_one_is_filed_as_already_bought(consumer, settings, runtime):
    publish(settings, purchase_event(1002, purchase_date="2026-03-03"))
    publish(settings, purchase_event(1001, purchase_date="2026-02-01"))
    applied(consumer, 2)
    older, newer = reminders(runtime)
    assert (older.purchase_id, older.status, older.closed_by_purchase_id) == ("1001", "purchased", "1002")
    assert (newer.purchase_id, newer.status, newer.purchased_at) == ("1002", "open", None)
    assert [(e["type"], e["data"].get("status")) for e in outbox_events(runtime)] == [
        ("refill_reminder.created", None),
        ("refill_reminder.created", None),
        ("refill_reminder.updated", "purchased"),
    ]


def test_a_purchase_before_its_customer_gains_name_and_phone_when_the_customer_arrives(
    consumer, settings, runtime, client
):
    from shared.testing import auth_headers

    headers = auth_headers("staff", 7)
    publish(settings, purchase_event(1001))
    [reminder] = eventually(lambda: reminders(runtime))
    listed = client.get("/api/v1/reminders/refills", headers=headers).json["items"]
    assert listed[0]["customer_name"] is None and listed[0]["customer_phone"] is None
    publish(settings, customer_event())
    fetched = eventually(
        lambda: (
            (r := client.get(f"/api/v1/reminders/refills/{reminder.id}", headers=headers).json)["customer_phone"] and r
        )
    )
    assert fetched["customer_name"] == "Asha Rao" and fetched["customer_phone"] == "+919876543210"


def test_an_older_customer_profile_arriving_late_does_not_overwrite_a_newer_one(consumer, settings, runtime):
    now = dt.datetime.now(dt.UTC)
    publish(settings, customer_event(name="Asha R. Rao", phone="+919812345678", time=now))
    publish(settings, customer_event(name="Asha", time=now - dt.timedelta(minutes=5)))
    applied(consumer, 2)
    with runtime.session_factory() as session:
        customer = session.get(ReminderCustomer, "42")
    assert (customer.name, customer.phone) == ("Asha R. Rao", "+919812345678")


def test_an_invalid_purchase_is_dead_lettered_not_stored(consumer, settings, runtime):
    body = to_json({**purchase_event(1001), "data": {"purchase_id": 1001}})
    publish_raw(settings.amqp_url, "purchase.recorded", body)

    def archived():
        with runtime.session_factory() as session:
            return messaging.list_dead_letters(session)

    [dead] = eventually(archived, message="dead letter archived")
    assert "invalid event" in dead["reason"] and reminders(runtime) == []


def test_replicas_batches_touching_the_same_customers_in_opposite_orders_both_commit(settings, runtime):
    """One worker's batch has customer 1's profile then a purchase of customer 2, another's customer
    2's profile then a purchase of customer 1: both commit (no deadlock), because each batch locks
    its customers' rows first, in one order (``lock_customers``), so one waits for the other."""
    batches = [
        [customer_event(1, name="Asha Rao"), purchase_event(21, customer_id=2)],
        [customer_event(2, name="Ravi Kumar"), purchase_event(11, customer_id=1)],
    ]
    outcomes = apply_meeting_halfway(
        lambda handlers: ConsumerRunner(
            settings, runtime.session_factory, messaging, "reminders", handlers, prepare=PREPARE
        ),
        HANDLERS,
        batches,
    )
    assert outcomes == [[True, True], [True, True]]
    assert sorted((r.customer_id, r.customer.name) for r in reminders(runtime)) == [
        ("1", "Asha Rao"),
        ("2", "Ravi Kumar"),
    ]
