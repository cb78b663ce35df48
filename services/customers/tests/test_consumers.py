"""Customers' consumers against real PostgreSQL and RabbitMQ: profiles and purchases from bills,
conversions in either order, duplicates, replicas, dead letters and their replay."""

import datetime as dt
import json
import uuid
from decimal import Decimal

from sqlalchemy import func, select

from services.customers.models import CountedBill, Customer, CustomerPurchase, messaging
from services.customers.tests.events import BILLING, bill_data, bill_event, contact_event, item, publish
from shared.envelope import to_json, validate_event
from shared.relay import OutboxRelay
from shared.testing import Probe, eventually, publish_raw, running

PHONE = "+919876543210"


def customer(runtime, phone=PHONE) -> Customer | None:
    with runtime.session_factory() as session:
        return session.scalars(select(Customer).where(Customer.phone == phone)).one_or_none()


def purchases(runtime, phone=PHONE) -> list[CustomerPurchase]:
    with runtime.session_factory() as session:
        return session.scalars(
            select(CustomerPurchase)
            .join(Customer, Customer.id == CustomerPurchase.customer_id)
            .where(Customer.phone == phone)
            .order_by(CustomerPurchase.id)
        ).all()


def outbox_events(runtime, event_type=None) -> list[dict]:
    with runtime.session_factory() as session:
        stmt = select(messaging.outbox.c.payload).order_by(messaging.outbox.c.id)
        if event_type:
            stmt = stmt.where(messaging.outbox.c.event_type == event_type)
        return [json.loads(payload) for payload in session.scalars(stmt)]


def count(runtime, model) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def visits_reach(runtime, visits, phone=PHONE):
    def check():
        found = customer(runtime, phone)
        assert found is not None and found.total_visits == visits, found and found.total_visits
        return found

    return eventually(check, timeout=20, message=f"{phone} with {visits} visits")


def test_first_bill_creates_the_customer_and_its_purchases(workers, runtime, amqp_url):
    event = bill_event(
        1, items=[item("Metformin 500", "120.50", 30, quantity=2), item("Vitamin D", "80.00", None, is_generic=True)]
    )
    with running(workers.runner()):
        publish_raw(amqp_url, "bill.created", to_json(event), message_id=event["id"])
        created = visits_reach(runtime, 1)
    assert created.name == "Asha Rao" and created.category == "regular_branded"
    assert created.first_visit_date == created.last_visit_date == dt.date(2026, 2, 1)
    assert created.total_purchases == Decimal("200.50")
    bought = purchases(runtime)
    assert [
        (p.medicine_name, p.quantity, p.amount, p.is_generic, p.duration_days, p.refill_due_date) for p in bought
    ] == [
        ("Metformin 500", 2, Decimal("120.50"), False, 30, dt.date(2026, 2, 26)),
        ("Vitamin D", 1, Decimal("80.00"), True, None, None),
    ]
    assert {p.bill_id for p in bought} == {"1"}
    upserted = outbox_events(runtime, "customer.upserted")
    recorded = outbox_events(runtime, "purchase.recorded")
    assert len(upserted) == 1 and len(recorded) == 2
    for event in upserted + recorded:
        validate_event(event)
        assert event["source"] == "/services/customers"
    assert upserted[0]["data"] == {
        "customer_id": created.id,
        "phone": PHONE,
        "name": "Asha Rao",
        "category": "regular_branded",
        "first_visit_date": "2026-02-01",
        "last_visit_date": "2026-02-01",
        "total_visits": 1,
        "total_purchases": "200.50",
        "contact_record_id": None,
    }
    assert recorded[0]["data"]["bill_id"] == 1 and recorded[0]["data"]["purchase_id"] == bought[0].id
    assert recorded[0]["subject"] == f"customers/{created.id}/purchases/{bought[0].id}"


def test_later_bills_add_visits_and_totals(workers, runtime, amqp_url):
    with running(workers.runner()):
        publish(amqp_url, bill_event(1, bill_date="2026-02-10", items=[item(amount="100.00")], name=None))
        visits_reach(runtime, 1)
        # An earlier bill arriving late moves the first visit back (and brings its name); the latest
        # bill gives the category.
        publish(
            amqp_url,
            bill_event(
                2, bill_date="2026-01-05", items=[item(amount="50.25")], name="Asha", category="first_time_prescription"
            ),
            bill_event(3, bill_date="2026-03-01", visited_no_purchase=True, category="generic_informed"),
        )
        updated = visits_reach(runtime, 3)
    assert updated.total_purchases == Decimal("150.25")
    assert (updated.first_visit_date, updated.last_visit_date) == (dt.date(2026, 1, 5), dt.date(2026, 3, 1))
    assert updated.name == "Asha"  # filled when missing
    assert updated.category == "generic_informed"  # the latest bill's (1 March)
    assert len(purchases(runtime)) == 2  # a visit without purchase records none
    assert outbox_events(runtime, "customer.upserted")[-1]["data"]["total_visits"] == 3


def test_the_same_bill_twice_changes_nothing(workers, runtime, amqp_url):
    event = bill_event(1)
    republished = bill_event(1)  # the same bill under a new event id (a relay or POS resending)
    with running(workers.runner()):
        publish(amqp_url, event, event, republished, bill_event(2, bill_date="2026-02-02"))
        visits_reach(runtime, 2)
        eventually(lambda: _inbox_count(runtime) == 3, message="all events handled")
    assert customer(runtime).total_purchases == Decimal("200.00")
    assert len(purchases(runtime)) == 2 and count(runtime, CountedBill) == 2
    assert len(outbox_events(runtime, "customer.upserted")) == 2


def _inbox_count(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(messaging.inbox))


def test_a_bill_from_an_outside_point_of_sale_counts_the_same(workers, runtime, amqp_url):
    with running(workers.runner()):
        # The POS numbers its bills too: bill 1 there is not billing's bill 1.
        publish(
            amqp_url,
            bill_event(1),
            bill_event(1, source="/integrations/pos-17", bill_date="2026-02-03"),
            bill_event("POS-0007", source="/integrations/pos-17", bill_date="2026-02-04"),
            bill_event("POS-0007", source="/integrations/pos-17", bill_date="2026-02-04"),
        )
        found = visits_reach(runtime, 3)
        eventually(lambda: _inbox_count(runtime) == 4, message="all events handled")
    assert found.total_purchases == Decimal("300.00") and found.last_visit_date == dt.date(2026, 2, 4)
    assert sorted((p.source, p.bill_id) for p in purchases(runtime)) == [
        ("/integrations/pos-17", "1"),
        ("/integrations/pos-17", "POS-0007"),
        ("/services/billing", "1"),
    ]
    assert outbox_events(runtime, "purchase.recorded")[-1]["data"]["bill_id"] == "POS-0007"


def test_conversion_after_the_bill_links_the_contact(workers, runtime, amqp_url):
    with running(workers.runner()):
        publish(amqp_url, bill_event(1, name=None))
        visits_reach(runtime, 1)
        publish(amqp_url, contact_event(55, bill_id=1))
        linked = eventually(lambda: (c := customer(runtime)) and c.contact_record_id == "55" and c)
    assert linked.total_visits == 1 and linked.total_purchases == Decimal("100.00")
    assert linked.name == "Asha (list)" and linked.category == "regular_branded"
    assert outbox_events(runtime, "customer.upserted")[-1]["data"]["contact_record_id"] == 55


def test_conversion_before_the_bill_ends_the_same(workers, runtime, amqp_url):
    with running(workers.runner()):
        publish(amqp_url, contact_event(55, bill_id=1))
        early = eventually(lambda: customer(runtime))
        assert (early.contact_record_id, early.total_visits, early.category) == ("55", 0, "contact_sheet")
        publish(amqp_url, bill_event(1), contact_event(55, bill_id=1))  # and a second conversion event
        linked = visits_reach(runtime, 1)
        eventually(lambda: _inbox_count(runtime) == 3, message="all events handled")
    # As if the bill had come first: its category and name, counted once, the link kept.
    assert linked.contact_record_id == "55" and linked.total_purchases == Decimal("100.00")
    assert linked.category == "regular_branded" and linked.name == "Asha Rao"
    assert count(runtime, Customer) == 1 and len(purchases(runtime)) == 1


def test_refill_due_dates(workers, runtime):
    runner = workers.runner()
    runner.handle(
        bill_event(
            1,
            bill_date="2026-02-01",
            items=[
                item("A", duration_days=30),
                item("B", duration_days=6),
                item("C", duration_days=5),
                item("D", duration_days=0),
                item("E", duration_days=None),
                item("F", duration_days=90),
            ],
        )
    )
    due = {p.medicine_name: p.refill_due_date for p in purchases(runtime)}
    assert due == {
        "A": dt.date(2026, 2, 26),
        "B": dt.date(2026, 2, 2),
        "C": dt.date(2026, 2, 1),
        "D": dt.date(2026, 2, 1),
        "E": None,
        "F": dt.date(2026, 4, 27),
    }


def test_handle_directly_dedupes_on_the_inbox(workers, runtime):
    runner = workers.runner()
    event = bill_event(1)
    assert runner.handle(event) is True
    assert runner.handle(event) is False
    assert customer(runtime).total_visits == 1


def test_an_invalid_bill_is_dead_lettered_with_its_reason(workers, runtime, amqp_url):
    data = bill_data(1)
    del data["items"]
    broken = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/integrations/pos-17",
        "type": "bill.created",
        "time": "2026-02-01T10:00:00Z",
        "data": data,
    }
    with running(workers.runner()):
        publish_raw(amqp_url, "bill.created", json.dumps(broken), message_id=broken["id"])
        publish(amqp_url, bill_event(2))  # others keep flowing
        letters = eventually(lambda: messaging_dead_letters(runtime), message="a dead letter")
        visits_reach(runtime, 1)
    assert len(letters) == 1
    assert letters[0]["message_id"] == broken["id"] and letters[0]["event_type"] == "bill.created"
    assert "items" in letters[0]["reason"] and letters[0]["reason"].startswith("invalid event")
    assert count(runtime, CountedBill) == 1


def messaging_dead_letters(runtime) -> list[dict]:
    with runtime.session_factory() as session:
        return messaging.list_dead_letters(session)


def test_a_failing_handler_is_dead_lettered_then_replayed_once_after_the_fix(workers, runtime, settings):
    attempts = []

    def buggy(session, bill, context):
        attempts.append(context.event_id)
        raise RuntimeError("bug in the handler")

    event = bill_event(1)
    with running(workers.runner({"bill.created": buggy})):
        publish(settings.amqp_url, event)
        [letter] = eventually(lambda: messaging_dead_letters(runtime), message="a dead letter")
    assert len(attempts) == settings.delivery_limit
    assert "bug in the handler" in letter["reason"] and f"{settings.delivery_limit} times" in letter["reason"]
    assert customer(runtime) is None

    with runtime.session_factory.begin() as session:
        assert messaging.replay_dead_letters(session) == 1
    probe = Probe(settings.amqp_url, ["customer.upserted", "purchase.recorded"])
    try:
        with running(workers.runner(), OutboxRelay(settings, runtime.session_factory, messaging)):
            fixed = visits_reach(runtime, 1)
            published = sorted(event["type"] for _, event in probe.messages(2))
            eventually(lambda: _pending(runtime) == 0, message="replay and effects relayed")
            # Replaying again finds nothing archived; the effect stays single.
            with runtime.session_factory.begin() as session:
                assert messaging.replay_dead_letters(session) == 0
    finally:
        probe.close()
    assert published == ["customer.upserted", "purchase.recorded"]
    assert fixed.total_purchases == Decimal("100.00") and len(purchases(runtime)) == 1
    assert _inbox_count(runtime) == 1
    assert messaging_dead_letters(runtime) == []
    with runtime.session_factory() as session:
        assert messaging.list_dead_letters(session, status="replayed")[0]["replayed_at"] is not None


def _pending(runtime) -> int:
    with runtime.session_factory() as session:
        return messaging.pending_count(session)


def test_three_replicas_and_duplicates_end_like_one_in_order_delivery(workers, runtime, amqp_url, caplog):
    phones = ["+919876543210", "+919812345678", "+918765432109"]
    events = []
    for n in range(30):
        phone = phones[n % 3]
        events.append(
            bill_event(
                n + 1,
                phone=phone,
                bill_date=f"2026-02-{n % 28 + 1:02d}",
                items=[item(amount=f"{n + 1}.50"), item(amount="1.00", duration_days=None)],
            )
        )
    conversions = [contact_event(100 + i, phone=phone) for i, phone in enumerate(phones)]
    deliveries = []
    for n, event in enumerate(events + conversions):
        deliveries += [event] * (2 + n % 2)  # each delivered 2-3 times
    deliveries += [
        bill_event(
            n + 1,
            phone=phones[n % 3],
            bill_date=f"2026-02-{n % 28 + 1:02d}",
            items=[item(amount=f"{n + 1}.50"), item(amount="1.00", duration_days=None)],
        )
        for n in range(0, 30, 4)
    ]  # some bills republished under new event ids
    deliveries.reverse()  # and the conversions first
    with running(workers.runner(), workers.runner(), workers.runner()):
        publish(amqp_url, *deliveries)
        eventually(
            lambda: _inbox_count(runtime) == len(events) + len(conversions) + 8,
            timeout=30,
            message="every distinct event handled",
        )
    for i, phone in enumerate(phones):
        mine = [e["data"] for e in events if e["data"]["customer_phone"] == phone]
        found = customer(runtime, phone)
        assert found.total_visits == len(mine) == 10
        assert found.total_purchases == sum(Decimal(d["total_amount"]) for d in mine)
        assert found.first_visit_date == min(dt.date.fromisoformat(d["bill_date"]) for d in mine)
        assert found.last_visit_date == max(dt.date.fromisoformat(d["bill_date"]) for d in mine)
        assert found.contact_record_id == str(100 + i) and found.category == "regular_branded"
        assert len(purchases(runtime, phone)) == 20
    assert count(runtime, Customer) == 3 and count(runtime, CountedBill) == 30
    assert messaging_dead_letters(runtime) == []
    # Replicas racing on the same new phone or bill neither failed nor retried (no unique violation).
    assert not [r for r in caplog.records if r.name == "shared.consumer" and "failed" in r.getMessage()]


def test_name_follows_the_earliest_bill_and_category_the_latest_in_any_delivery_order(runtime):
    """Bills with different names and categories (two on the same day) end in the same profile
    whatever order they are handled in; a staff edit of the name is never overwritten by bills."""
    import itertools

    from services.customers import domain
    from shared.db import unit_of_work
    from shared.events import BillCreated

    bills = [
        {"bill_id": 31, "bill_date": "2026-03-05", "name": "Asha R.", "category": "regular_branded"},
        {"bill_id": 32, "bill_date": "2026-03-01", "name": "Asha Rao", "category": "first_time_prescription"},
        {"bill_id": 30, "bill_date": "2026-03-01", "name": "A. Rao", "category": "generic_informed"},
    ]
    results = set()
    for n, order in enumerate(itertools.permutations(bills)):
        phone = f"+9198765{n:05d}"
        for bill in order:
            with unit_of_work(runtime.session_factory) as session:
                # Bill ids are unique per source: each permutation gets its own (same relative order).
                domain.record_bill(
                    session,
                    BILLING,
                    BillCreated.load(bill_data(phone=phone, **{**bill, "bill_id": n * 100 + bill["bill_id"]})),
                )
        profile = customer(runtime, phone)
        results.add(
            (
                profile.name,
                profile.category,
                profile.first_visit_date.isoformat(),
                profile.last_visit_date.isoformat(),
                profile.total_visits,
            )
        )
    # The name follows the earliest bill (same day: bill …30 before …32, lower id); the category
    # follows the most recent one (5 March), whatever the delivery order.
    assert results == {("A. Rao", "regular_branded", "2026-03-01", "2026-03-05", 3)}

    from shared.auth import Principal

    with unit_of_work(runtime.session_factory) as session:
        edited = domain.update_customer(
            session,
            customer(runtime, "+919876500000").id,
            {"name": "Asha Rao (Mrs)"},
            Principal(1, "admin", "admin"),
            today=dt.date(2026, 3, 6),
        )
    with unit_of_work(runtime.session_factory) as session:
        domain.record_bill(
            session,
            BILLING,
            BillCreated.load(bill_data(phone="+919876500000", bill_id=29, bill_date="2026-02-01", name="Someone else")),
        )
    assert customer(runtime, edited.phone).name == "Asha Rao (Mrs)"
