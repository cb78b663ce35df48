"""Reporting ranks converting bills exactly as contacts does (EVENTS.md: earliest ``bill_date``, then
lowest ``bill_id``), and dates a bill's status change by the bill: contacts' real handlers turn bills
into events, reporting's real handlers consume them, both on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from services.contacts.consumers import HANDLERS as CONTACT_HANDLERS
from services.contacts.domain import bill_order
from services.contacts.models import Base as ContactsBase
from services.contacts.models import ContactRecord
from services.contacts.models import messaging as contacts_messaging
from services.contacts.settings import ContactsSettings
from services.reporting import domain, rules
from services.reporting.consumers import HANDLERS as REPORTING_HANDLERS
from services.reporting.consumers import PREPARE
from services.reporting.models import ReportContact
from services.reporting.models import messaging as reporting_messaging
from shared.consumer import ConsumerRunner
from shared.envelope import make_event
from shared.runtime import Runtime
from shared.testing import make_settings, truncate_all

from .conftest import NOW

PHONE = "+919876543210"
STAFF_ID = 11
BILLING = "/services/billing"


@pytest.fixture(scope="module")
def contacts_db(databases):
    return databases.create("rank_contacts", service="contacts")


@pytest.fixture
def contacts(contacts_db, amqp_url):
    """Contacts' runtime with one pending contact of PHONE assigned to staff 11."""
    runtime = Runtime.build(make_settings("contacts", contacts_db, amqp_url, cls=ContactsSettings))
    truncate_all(runtime.engine, ContactsBase.metadata)
    with runtime.session_factory() as session:
        session.add(ContactRecord(phone=PHONE, name="Asha", status="pending", assigned_to=STAFF_ID))
        session.commit()
    yield runtime
    runtime.engine.dispose()


def contacts_runner(runtime):
    return ConsumerRunner(runtime.settings, runtime.session_factory, contacts_messaging, "contacts", CONTACT_HANDLERS)


def reporting_runner(settings, runtime):
    return ConsumerRunner(
        settings, runtime.session_factory, reporting_messaging, "reporting", REPORTING_HANDLERS, prepare=PREPARE
    )


def bill_event(bill_id, bill_date, total, *, no_purchase=False, time=None):
    data = {
        "bill_id": bill_id,
        "bill_number": f"B{bill_id}",
        "bill_date": bill_date,
        "customer_phone": PHONE,
        "customer_name": "Asha",
        "customer_category": "regular_branded",
        "was_contacted_before": not no_purchase,
        "visited_no_purchase": no_purchase,
        "total_amount": "0.00" if no_purchase else total,
        "items": []
        if no_purchase
        else [
            {
                "line_id": bill_id * 10,
                "medicine_name": "Metformin",
                "is_generic": False,
                "quantity": 1,
                "amount": total,
                "duration_days": 30,
            }
        ],
        "created_by": 11,
    }
    return make_event("bill.created", data, source=BILLING, time=time)


def published(runtime):
    """What contacts put in its outbox, in publishing order."""
    with runtime.session_factory() as session:
        rows = session.scalars(select(contacts_messaging.outbox.c.payload).order_by(contacts_messaging.outbox.c.id))
        return [json.loads(row) for row in rows]


def contact_row(runtime):
    with runtime.session_factory() as session:
        return session.scalar(select(ContactRecord).where(ContactRecord.phone == PHONE))


def report_row(runtime, contact_id):
    with runtime.session_factory() as session:
        return session.get(ReportContact, str(contact_id))


def conversion_figures(runtime, window="all"):
    with runtime.session_factory() as session:
        report = domain.conversion_report(session, rules.window_for(window, NOW.date()))
    return report["converted"], report["total_conversion_value"]


def test_same_day_bills_in_reverse_order_rank_alike_in_contacts_and_reporting(contacts, settings, runtime):
    incoming = contacts_runner(contacts)
    # Bill 702 reaches contacts before bill 701, both on 20 March and both converting the contact.
    incoming.handle(bill_event(702, "2026-03-20", "900.00"))
    incoming.handle(bill_event(701, "2026-03-20", "150.00"))

    contact = contact_row(contacts)
    assert (contact.converted_at, contact.conversion_value, contact.conversion_bill_id) == (
        dt.date(2026, 3, 20),
        Decimal("150.00"),
        "701",
    )

    # Reporting consumes contacts' events in the order contacts published them...
    events = published(contacts)
    assert [e["type"] for e in events].count("contact.converted") == 2
    reporting = reporting_runner(settings, runtime)
    for event in events:
        reporting.handle(event)
    fact = report_row(runtime, contact.id)
    assert (fact.converted_on, fact.conversion_value, fact.conversion_bill_id) == (
        dt.date(2026, 3, 20),
        Decimal("150.00"),
        "701",
    )
    assert conversion_figures(runtime) == (1, Decimal("150.00"))


def test_any_delivery_order_of_the_conversions_gives_the_first_bill(contacts, settings, runtime):
    incoming = contacts_runner(contacts)
    incoming.handle(bill_event(702, "2026-03-20", "900.00"))
    incoming.handle(bill_event(701, "2026-03-20", "150.00"))
    conversions = [e for e in published(contacts) if e["type"] == "contact.converted"]
    reporting = reporting_runner(settings, runtime)
    for event in reversed(conversions):  # ...and when the broker hands them over the other way round
        reporting.handle(event)
    fact = report_row(runtime, contact_row(contacts).id)
    assert (fact.conversion_value, fact.conversion_bill_id) == (Decimal("150.00"), "701")
    assert conversion_figures(runtime) == (1, Decimal("150.00"))


def test_an_earlier_day_still_wins_over_a_lower_bill_id(contacts, settings, runtime):
    incoming = contacts_runner(contacts)
    incoming.handle(bill_event(5, "2026-03-21", "900.00"))
    incoming.handle(bill_event(9, "2026-03-19", "150.00"))
    contact = contact_row(contacts)
    assert (contact.converted_at, contact.conversion_bill_id) == (dt.date(2026, 3, 19), "9")
    reporting = reporting_runner(settings, runtime)
    for event in published(contacts):
        reporting.handle(event)
    fact = report_row(runtime, contact.id)
    assert (fact.converted_on, fact.conversion_value, fact.conversion_bill_id) == (
        dt.date(2026, 3, 19),
        Decimal("150.00"),
        "9",
    )


def test_a_backlogged_bill_dates_the_conversion_and_leaving_pending_by_the_bill(contacts, settings, runtime):
    # A bill of 20 March handled on 31 March (a backlog): every date follows the bill.
    contacts_runner(contacts).handle(
        bill_event(801, "2026-03-20", "400.00", time=dt.datetime(2026, 3, 20, 5, 0, tzinfo=dt.UTC))
    )
    contact = contact_row(contacts)
    zone = ZoneInfo(contacts.settings.pharmacy_tz)
    assert contact.first_contacted_at.astimezone(zone).date() == dt.date(2026, 3, 20)
    [changed] = [e for e in published(contacts) if e["type"] == "contact.status_changed"]
    changed_at = dt.datetime.fromisoformat(changed["data"]["changed_at"].replace("Z", "+00:00"))
    assert changed_at.astimezone(zone).date() == dt.date(2026, 3, 20)

    reporting = reporting_runner(settings, runtime)
    for event in published(contacts):
        reporting.handle(event)
    fact = report_row(runtime, contact.id)
    assert fact.left_pending_on == dt.date(2026, 3, 20) == fact.converted_on
    with runtime.session_factory() as session:
        week = domain.conversion_report(session, rules.window_for("7d", NOW.date()))
    assert (week["contacted"], week["converted"]) == (0, 0)  # 20 March is outside 25-31 March


def test_a_backlogged_visit_without_purchase_flags_yellow_on_the_bill_day(contacts, settings, runtime):
    # Bill of 20 March (late evening in Kolkata) handled much later: the yellow flag stays on the 20th.
    contacts_runner(contacts).handle(
        bill_event(802, "2026-03-20", "0.00", no_purchase=True, time=dt.datetime(2026, 3, 28, 9, 0, tzinfo=dt.UTC))
    )
    contact = contact_row(contacts)
    assert contact.status == "yellow"
    zone = ZoneInfo(contacts.settings.pharmacy_tz)
    assert contact.first_contacted_at.astimezone(zone).date() == dt.date(2026, 3, 20)
    [changed] = [e for e in published(contacts) if e["type"] == "contact.status_changed"]
    assert changed["data"]["to_status"] == "yellow"
    changed_at = dt.datetime.fromisoformat(changed["data"]["changed_at"].replace("Z", "+00:00"))
    assert changed_at.astimezone(zone).date() == dt.date(2026, 3, 20)

    reporting = reporting_runner(settings, runtime)
    for event in published(contacts):
        reporting.handle(event)
    assert report_row(runtime, contact.id).left_pending_on == dt.date(2026, 3, 20)
    with runtime.session_factory() as session:
        week = domain.conversion_report(session, rules.window_for("7d", NOW.date()))
    assert week["contacted"] == 0


bill_ids = st.one_of(
    st.integers(min_value=0, max_value=10**20).map(str),
    st.text(alphabet="0123456789POS-| ", min_size=1, max_size=12),
)
days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@given(days, bill_ids, days, bill_ids)
def test_reporting_orders_two_converting_bills_as_contacts_does(day_a, bill_a, day_b, bill_b):
    time, event = dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "e"
    contacts_says = (bill_order(day_a, bill_a) > bill_order(day_b, bill_b)) - (
        bill_order(day_a, bill_a) < bill_order(day_b, bill_b)
    )
    rank_a = (day_a, rules.conversion_rank(day_a, bill_a, time, event))
    rank_b = (day_b, rules.conversion_rank(day_b, bill_b, time, event))
    assert ((rank_a > rank_b) - (rank_a < rank_b)) == contacts_says
