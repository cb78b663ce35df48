"""Unit tests of pure rules in the common library: envelope contract and configuration."""
import datetime as dt
from decimal import Decimal

import pytest

from shared.config import ConfigError, database_url_for, load_settings
from shared.envelope import InvalidEvent, known_types, make_event, parse_event, to_json

BILL = {"bill_id": 1, "bill_number": "B1", "bill_date": dt.date(2026, 2, 1), "customer_phone": "+919876543210",
        "customer_name": "Asha", "customer_category": "regular_branded", "was_contacted_before": False,
        "visited_no_purchase": False, "total_amount": Decimal("10.50"),
        "items": [{"line_id": 1, "medicine_name": "Metformin", "is_generic": False, "quantity": 1,
                   "amount": Decimal("10.50"), "duration_days": 30}], "created_by": 3}


def test_event_round_trips_with_decimal_strings_and_iso_dates():
    event = make_event("bill.created", BILL, source="/services/billing", subject="bills/1", correlation_id="r1")
    assert event["specversion"] == "1.0" and event["time"].endswith("Z")
    assert event["data"]["total_amount"] == "10.50" and event["data"]["bill_date"] == "2026-02-01"
    assert parse_event(to_json(event).encode()) == event


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not JSON"),
    (b"[]", "not a JSON object"),
    (to_json({"specversion": "1.0", "id": "x", "source": "/s", "type": "bill.created.v9",
              "time": "2026-02-01T00:00:00Z", "data": {}}).encode(), "unknown event type"),
    (to_json({"specversion": "1.0", "id": "x", "source": "/s", "type": "bill.created",
              "time": "2026-02-01T00:00:00Z", "data": {**BILL, "total_amount": 10.5}}).encode(), "total_amount"),
    (to_json({"specversion": "1.0", "source": "/s", "type": "bill.created",
              "time": "2026-02-01T00:00:00Z", "data": BILL}).encode(), "'id' is a required property"),
])
def test_contract_violations_are_invalid_events(body, message):
    with pytest.raises(InvalidEvent, match=message):
        parse_event(body)


def test_publishing_an_event_that_breaks_its_schema_fails():
    with pytest.raises(InvalidEvent, match="customer_phone"):
        make_event("bill.created", {**BILL, "customer_phone": "98765"}, source="/services/billing")


def test_every_catalog_type_has_a_schema():
    assert set(known_types()) >= {"bill.created", "contacts.uploaded", "contact.status_changed", "contact.converted",
                                  "customer.upserted", "purchase.recorded", "refill_reminder.created",
                                  "refill_reminder.updated", "staff.created", "staff.updated"}


def test_missing_required_setting_names_the_variable():
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings("billing", environ={})


def test_database_url_per_service():
    assert database_url_for("billing", {"BILLING_DATABASE_URL": "postgresql://x/y"}) == "postgresql://x/y"
    assert database_url_for("billing", {"DATABASE_URL": "postgresql+psycopg://u@h:5432/pharmacy"}) \
        == "postgresql+psycopg://u@h:5432/pharmacy_billing"
    assert database_url_for("billing", {"VAR_DIR": "/tmp/v"}) == "sqlite:////tmp/v/billing.db"


def test_bad_integer_setting_is_named():
    with pytest.raises(ConfigError, match="DELIVERY_LIMIT"):
        load_settings("billing", environ={"JWT_SECRET": "s", "DELIVERY_LIMIT": "many"})


def test_instants_in_the_contract_are_checked():
    event = make_event("bill.created", BILL, source="/services/billing")
    with pytest.raises(InvalidEvent, match="time"):
        parse_event(to_json({**event, "time": "yesterday"}).encode())
    with pytest.raises(InvalidEvent, match="changed_at"):
        make_event("contact.status_changed", {"contact_id": 1, "phone": "+919876543210", "from_status": "pending",
                                              "to_status": "contacted", "changed_at": "soon", "assigned_to": 2,
                                              "by": 2}, source="/services/contacts")
