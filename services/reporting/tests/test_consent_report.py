"""The consent report: how many phones decline each channel now, newest change winning in any
delivery order and under redelivery (real PostgreSQL and the consumer's inbox)."""

from __future__ import annotations

import datetime as dt
import itertools

from services.reporting.models import Base
from shared.envelope import make_event
from shared.testing import auth_headers, truncate_all

STAFF = auth_headers("staff", 7)
T0 = dt.datetime(2026, 3, 30, 9, 0, tzinfo=dt.UTC)


def consent(phone, minute, **answers):
    data = {
        "phone": phone,
        "whatsapp": answers.get("whatsapp", "unknown"),
        "call": answers.get("call", "unknown"),
        "sms": answers.get("sms", "unknown"),
        "source": "reply STOP",
        "changed_at": (T0 + dt.timedelta(minutes=minute)).isoformat(),
        "by": 3,
    }
    return make_event("consent.changed", data, source="/services/customers")


def test_the_newest_consent_of_each_phone_counts_in_any_order(client, runner, runtime):
    events = [
        consent("+919876543210", 1, whatsapp="declined"),
        consent("+919876543210", 5, whatsapp="granted", call="declined"),  # changed their mind
        consent("+919876543211", 2, whatsapp="declined", call="declined", sms="declined"),
        consent("+919876543212", 3, sms="granted"),
    ]
    reports = set()
    for order in itertools.permutations(events):
        truncate_all(runtime.engine, Base.metadata)
        for event in (*order, order[0]):  # the first delivered twice: the inbox drops it
            runner.handle(event)
        reports.add(tuple(sorted(client.get("/api/v1/reports/consent", headers=STAFF).json.items())))
    assert reports == {
        (
            ("call_declined", 2),
            ("declined_every_channel", 1),
            ("phones", 3),
            ("sms_declined", 1),
            ("whatsapp_declined", 1),
        )
    }


def test_the_consent_report_starts_at_zero(client):
    assert client.get("/api/v1/reports/consent", headers=STAFF).json == {
        "phones": 0,
        "whatsapp_declined": 0,
        "call_declined": 0,
        "sms_declined": 0,
        "declined_every_channel": 0,
    }
