"""A contact turning yellow (by hand or by a "visited but no purchase" bill) gets one follow-up,
due ``YELLOW_FOLLOW_UP_DAYS`` after the yellow date, for the contact's staff member (real PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from services.contacts.consumers import HANDLERS
from services.contacts.models import ContactRecord, FollowUp, messaging
from services.contacts.settings import ContactsSettings
from shared.config import load_settings
from shared.consumer import ConsumerRunner
from shared.envelope import make_event
from shared.events import parse_instant
from shared.testing import auth_headers

ADMIN = auth_headers("admin", 1)
ALICE = auth_headers("staff", 11)
BOB = auth_headers("staff", 12)
CONTACTS = "/api/v1/contacts"
PHONE = "+919876543260"


@pytest.fixture
def contact(client, staff):
    """One pending contact of Alice (staff 11)."""
    response = client.post(
        f"{CONTACTS}/uploads",
        data={"file": (io.BytesIO(b"phone,name\n9876543260,Asha\n"), "list.csv"), "assign_to": "11"},
        headers=ADMIN,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    [item] = client.get(CONTACTS, headers=ADMIN).json["items"]
    return item


def visit_bill(bill_id, bill_date="2026-02-01"):
    return {
        "bill_id": bill_id,
        "bill_number": f"B-{bill_id}",
        "bill_date": bill_date,
        "customer_phone": PHONE,
        "customer_name": "Asha",
        "customer_category": "contact_sheet",
        "was_contacted_before": False,
        "visited_no_purchase": True,
        "total_amount": "0.00",
        "items": [],
        "created_by": 12,
    }


def follow_ups(runtime, contact_id):
    with runtime.session_factory() as session:
        return list(session.scalars(select(FollowUp).where(FollowUp.contact_id == contact_id).order_by(FollowUp.id)))


def listed(client, headers, days=7):
    return client.get(f"{CONTACTS}/follow-ups?due_within_days={days}", headers=headers).json["items"]


def test_the_setting_defaults_to_three_days():
    assert load_settings("contacts", {}, cls=ContactsSettings, jwt_public_key_file="k").yellow_follow_up_days == 3
    env = {"YELLOW_FOLLOW_UP_DAYS": "5"}
    assert load_settings("contacts", env, cls=ContactsSettings, jwt_public_key_file="k").yellow_follow_up_days == 5


def test_flagging_yellow_by_hand_schedules_a_follow_up_for_the_contacts_staff(client, runtime, contact):
    before = dt.datetime.now(dt.UTC)
    assert client.post(f"{CONTACTS}/{contact['id']}/yellow", json={}, headers=ADMIN).json["status"] == "yellow"
    after = dt.datetime.now(dt.UTC)

    [follow_up] = follow_ups(runtime, contact["id"])
    assert follow_up.staff_id == 11  # the contact's staff member, not the admin who flagged it
    assert before + dt.timedelta(days=3) <= follow_up.due_at <= after + dt.timedelta(days=3)
    [shown] = listed(client, ALICE, days=3)
    assert shown["id"] == follow_up.id and shown["contact_id"] == contact["id"]
    assert shown["contact_status"] == "yellow" and shown["done_at"] is None
    assert listed(client, ALICE, days=2) == [] and listed(client, BOB) == []

    # Flagging again changes nothing: still one follow-up.
    assert client.post(f"{CONTACTS}/{contact['id']}/yellow", json={"notes": "again"}, headers=ALICE).status_code == 200
    assert len(follow_ups(runtime, contact["id"])) == 1


def test_the_delay_is_the_yellow_follow_up_days_setting(app_for, runtime, contact):
    client = app_for(yellow_follow_up_days=10)
    before = dt.datetime.now(dt.UTC)
    client.post(f"{CONTACTS}/{contact['id']}/yellow", json={"notes": "came, looked, left"}, headers=ALICE)
    [follow_up] = follow_ups(runtime, contact["id"])
    assert follow_up.due_at >= before + dt.timedelta(days=10)
    assert follow_up.interaction_id is not None  # the visit the notes recorded


def test_a_visit_without_purchase_schedules_it_from_the_bills_date(client, runtime, contact, deliver):
    # Handled days later (a backlog): the follow-up is 3 days after the bill's date in the pharmacy's
    # zone (the start of 2026-02-01 in Asia/Kolkata), not after the handling.
    deliver("bill.created", visit_bill(901), source="/services/billing", time=parse_instant("2026-02-05T12:00:00Z"))
    [follow_up] = follow_ups(runtime, contact["id"])
    assert follow_up.due_at == parse_instant("2026-02-03T18:30:00Z")
    assert follow_up.staff_id == 11
    [shown] = listed(client, ALICE)
    assert shown["id"] == follow_up.id and shown["contact_status"] == "yellow"


def test_the_consumer_takes_the_delay_from_the_workers_settings(runtime, contact):
    settings = runtime.settings.with_overrides(yellow_follow_up_days=7)
    runner = ConsumerRunner(settings, runtime.session_factory, messaging, "contacts", HANDLERS)
    runner.handle(
        make_event(
            "bill.created", visit_bill(902), source="/services/billing", time=parse_instant("2026-02-05T12:00:00Z")
        )
    )
    [follow_up] = follow_ups(runtime, contact["id"])
    assert follow_up.due_at == parse_instant("2026-02-07T18:30:00Z")


def _back_to_contacted(runtime, contact_id):
    # Nothing in the API moves a yellow contact back yet (the rules allow yellow -> contacted), but
    # the key must not rely on that: put it back by hand, as a reset or a future rule would.
    with runtime.session_factory.begin() as session:
        session.get(ContactRecord, contact_id).status = "contacted"


def test_one_follow_up_per_yellow_flag_even_when_the_bill_is_republished(client, runtime, contact, deliver):
    bill = visit_bill(903)
    first = deliver("bill.created", bill, source="/services/billing")
    deliver("bill.created", bill, source="/services/billing", event=first)  # redelivery: the inbox drops it
    deliver("bill.created", bill, source="/services/billing")  # republished while yellow
    assert len(follow_ups(runtime, contact["id"])) == 1

    # Republished under a new event id after the contact left yellow: flagged again, no second follow-up.
    _back_to_contacted(runtime, contact["id"])
    deliver("bill.created", bill, source="/services/billing")
    assert client.get(f"{CONTACTS}/{contact['id']}", headers=ALICE).json["status"] == "yellow"
    assert len(follow_ups(runtime, contact["id"])) == 1

    # Another visit without purchase is another yellow flag: its own follow-up.
    _back_to_contacted(runtime, contact["id"])
    deliver("bill.created", visit_bill(904, "2026-02-02"), source="/services/billing")
    assert [f.due_at for f in follow_ups(runtime, contact["id"])] == [
        parse_instant("2026-02-03T18:30:00Z"),
        parse_instant("2026-02-04T18:30:00Z"),
    ]
