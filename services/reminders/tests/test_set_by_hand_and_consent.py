"""Reminders set by hand from a profile, and consent refusing WhatsApps and calls (real PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from services.reminders import domain
from services.reminders.models import PURCHASED, RefillReminder
from shared.db import unit_of_work
from shared.errors import Conflict, ValidationFailed
from shared.events import ConsentChanged, PurchaseRecorded

CUSTOMERS = "/services/customers"
TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 6, 0, tzinfo=dt.UTC)
PHONE = "+919876543210"


def known_customer(runtime, customer_id="42", phone=PHONE):
    with unit_of_work(runtime.session_factory) as session:
        domain.upsert_customer(session, customer_id, "Asha Rao", phone, NOW)


def purchase(runtime, purchase_id, purchase_date, medicine="Insulin Glargine", duration_days=None):
    event = PurchaseRecorded(
        purchase_id=purchase_id,
        customer_id=42,
        bill_id=purchase_id,
        purchase_date=purchase_date,
        medicine_name=medicine,
        is_generic=False,
        quantity=1,
        amount="450.00",
        duration_days=duration_days,
    )
    with unit_of_work(runtime.session_factory) as session:
        domain.record_purchase(session, domain.Purchase.recorded(CUSTOMERS, event))


def consent(runtime, at_minute, **answers):
    change = ConsentChanged(
        phone=PHONE,
        whatsapp=answers.get("whatsapp", "unknown"),
        call=answers.get("call", "unknown"),
        sms=answers.get("sms", "unknown"),
        source="reply STOP",
        changed_at=NOW + dt.timedelta(minutes=at_minute),
        by=3,
    )
    with unit_of_work(runtime.session_factory) as session:
        domain.record_consent(session, change)


def set_by_hand(runtime, reminder_on, customer_id="42", medicine="Insulin Glargine"):
    with unit_of_work(runtime.session_factory) as session:
        return domain.set_reminder_by_hand(session, customer_id, medicine, reminder_on, 3, TODAY).id


def reminder(runtime, reminder_id) -> RefillReminder:
    with runtime.session_factory() as session:
        return session.scalars(select(RefillReminder).where(RefillReminder.id == reminder_id)).one()


def test_a_reminder_set_by_hand_is_due_and_closed_by_the_next_purchase(runtime):
    known_customer(runtime)
    reminder_id = set_by_hand(runtime, TODAY + dt.timedelta(days=20))
    with runtime.session_factory() as session:
        due = session.scalars(domain.reminders_query(None, TODAY + dt.timedelta(days=30))).all()
        view = domain.reminder_views(session, due, TODAY)[0]
    assert (view["id"], view["set_by_hand"], view["days_until_due"], view["duration_days"]) == (
        reminder_id,
        True,
        20,
        None,
    )
    # An older purchase arriving late does not close it; the next purchase of the medicine does.
    purchase(runtime, 501, TODAY - dt.timedelta(days=40))
    assert reminder(runtime, reminder_id).status == "open"
    purchase(runtime, 502, TODAY + dt.timedelta(days=18), medicine="insulin  glargine")
    closed = reminder(runtime, reminder_id)
    assert (closed.status, closed.closed_by_purchase_id) == (PURCHASED, "502")


def test_a_reminder_cannot_be_set_in_the_past_or_for_an_unknown_customer(runtime):
    known_customer(runtime)
    with pytest.raises(ValidationFailed) as past:
        set_by_hand(runtime, TODAY - dt.timedelta(days=1))
    assert "reminder_date" in past.value.errors
    with pytest.raises(ValidationFailed) as unknown:
        set_by_hand(runtime, TODAY, customer_id="999")
    assert "customer_id" in unknown.value.errors
    with runtime.session_factory() as session:
        assert session.scalars(select(RefillReminder)).all() == []


def test_declined_whatsapp_or_calls_are_refused_and_the_newest_consent_wins(runtime):
    known_customer(runtime)
    reminder_id = set_by_hand(runtime, TODAY)
    # Declined at minute 5; an older "granted" (minute 1) delivered later changes nothing.
    consent(runtime, 5, whatsapp="declined", call="granted")
    consent(runtime, 1, whatsapp="granted", call="granted")
    with unit_of_work(runtime.session_factory) as session, pytest.raises(Conflict) as refused:
        domain.send_whatsapp(session, reminder_id, 3, NOW)
    assert "declined WhatsApp" in refused.value.detail
    with unit_of_work(runtime.session_factory) as session:
        domain.record_call(session, reminder_id, 3, NOW, "asked about refill", True)
    with runtime.session_factory() as session:
        view = domain.reminder_views(session, [domain.get_reminder(session, reminder_id)], TODAY)[0]
    assert view["consent"] == {"whatsapp": "declined", "call": "granted", "sms": "unknown"}
    assert view["whatsapp_sent_at"] is None and view["call_made_at"] is not None
    # Declining calls too refuses the next call; granting WhatsApp again allows the message.
    consent(runtime, 9, whatsapp="granted", call="declined")
    with unit_of_work(runtime.session_factory) as session, pytest.raises(Conflict):
        domain.record_call(session, reminder_id, 3, NOW, None, None)
    with unit_of_work(runtime.session_factory) as session:
        _, url = domain.send_whatsapp(session, reminder_id, 3, NOW)
    assert url.startswith("https://wa.me/919876543210?text=")


def test_a_purchase_recorded_before_the_reminder_was_set_does_not_close_it_when_it_arrives_late(runtime):
    known_customer(runtime)
    reminder_id = set_by_hand(runtime, TODAY + dt.timedelta(days=20))
    set_at = reminder(runtime, reminder_id).created_at
    # The bill that made staff set the reminder: recorded (by customers) before it, delivered after it.
    event = PurchaseRecorded(
        purchase_id=601,
        customer_id=42,
        bill_id=601,
        purchase_date=TODAY,
        medicine_name="Insulin Glargine",
        is_generic=False,
        quantity=1,
        amount="450.00",
        duration_days=None,
    )
    with unit_of_work(runtime.session_factory) as session:
        domain.record_purchase(session, domain.Purchase.recorded(CUSTOMERS, event, at=set_at - dt.timedelta(minutes=2)))
    assert reminder(runtime, reminder_id).status == "open"
    # A purchase recorded after it, the same day, is the next purchase: it closes it.
    later = dataclasses.replace(event, purchase_id=602, bill_id=602)
    with unit_of_work(runtime.session_factory) as session:
        domain.record_purchase(session, domain.Purchase.recorded(CUSTOMERS, later, at=set_at + dt.timedelta(minutes=2)))
    assert (reminder(runtime, reminder_id).status, reminder(runtime, reminder_id).closed_by_purchase_id) == (
        PURCHASED,
        "602",
    )
