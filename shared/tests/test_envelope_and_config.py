"""Unit tests of pure rules in the common library: envelope contract and configuration."""

import datetime as dt
from dataclasses import FrozenInstanceError, dataclass
from decimal import Decimal

import pytest

from shared.config import ConfigError, Settings, database_url_for, load_settings, setting
from shared.envelope import InvalidEvent, known_types, make_event, parse_event, to_json

BILL = {
    "bill_id": 1,
    "bill_number": "B1",
    "bill_date": dt.date(2026, 2, 1),
    "customer_phone": "+919876543210",
    "customer_name": "Asha",
    "customer_category": "regular_branded",
    "was_contacted_before": False,
    "visited_no_purchase": False,
    "total_amount": Decimal("10.50"),
    "items": [
        {
            "line_id": 1,
            "medicine_name": "Metformin",
            "is_generic": False,
            "quantity": 1,
            "amount": Decimal("10.50"),
            "duration_days": 30,
        }
    ],
    "created_by": 3,
}


def test_event_round_trips_with_decimal_strings_and_iso_dates():
    event = make_event("bill.created", BILL, source="/services/billing", subject="bills/1", correlation_id="r1")
    assert event["specversion"] == "1.0" and event["time"].endswith("Z")
    assert event["data"]["total_amount"] == "10.50" and event["data"]["bill_date"] == "2026-02-01"
    assert parse_event(to_json(event).encode()) == event


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (
            to_json(
                {
                    "specversion": "1.0",
                    "id": "x",
                    "source": "/s",
                    "type": "bill.created.v9",
                    "time": "2026-02-01T00:00:00Z",
                    "data": {},
                }
            ).encode(),
            "unknown event type",
        ),
        (
            to_json(
                {
                    "specversion": "1.0",
                    "id": "x",
                    "source": "/s",
                    "type": "bill.created",
                    "time": "2026-02-01T00:00:00Z",
                    "data": {**BILL, "total_amount": 10.5},
                }
            ).encode(),
            "total_amount",
        ),
        (
            to_json(
                {
                    "specversion": "1.0",
                    "source": "/s",
                    "type": "bill.created",
                    "time": "2026-02-01T00:00:00Z",
                    "data": BILL,
                }
            ).encode(),
            "'id' is a required property",
        ),
    ],
)
def test_contract_violations_are_invalid_events(body, message):
    with pytest.raises(InvalidEvent, match=message):
        parse_event(body)


def test_publishing_an_event_that_breaks_its_schema_fails():
    with pytest.raises(InvalidEvent, match="customer_phone"):
        make_event("bill.created", {**BILL, "customer_phone": "98765"}, source="/services/billing")


def test_every_catalog_type_has_a_schema():
    assert set(known_types()) >= {
        "bill.created",
        "contacts.uploaded",
        "contact.status_changed",
        "contact.converted",
        "customer.upserted",
        "purchase.recorded",
        "refill_reminder.created",
        "refill_reminder.updated",
        "staff.created",
        "staff.updated",
    }


def test_missing_required_setting_names_the_variable():
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEY_FILE"):
        load_settings("billing", environ={})


def test_database_url_per_service():
    assert database_url_for("billing", {"BILLING_DATABASE_URL": "postgresql://x/y"}) == "postgresql://x/y"
    assert (
        database_url_for("billing", {"DATABASE_URL": "postgresql+psycopg://u@h:5432/pharmacy"})
        == "postgresql+psycopg://u@h:5432/pharmacy_billing"
    )
    assert database_url_for("billing", {"VAR_DIR": "/tmp/v"}) == "sqlite:////tmp/v/billing.db"


def test_bad_integer_setting_is_named():
    with pytest.raises(ConfigError, match="DELIVERY_LIMIT"):
        load_settings("billing", environ={"JWT_PUBLIC_KEY_FILE": "/keys/jwt-public.pem", "DELIVERY_LIMIT": "many"})


def test_instants_in_the_contract_are_checked():
    event = make_event("bill.created", BILL, source="/services/billing")
    with pytest.raises(InvalidEvent, match="time"):
        parse_event(to_json({**event, "time": "yesterday"}).encode())
    with pytest.raises(InvalidEvent, match="changed_at"):
        make_event(
            "contact.status_changed",
            {
                "contact_id": 1,
                "phone": "+919876543210",
                "from_status": "pending",
                "to_status": "contacted",
                "changed_at": "soon",
                "assigned_to": 2,
                "by": 2,
            },
            source="/services/contacts",
        )


@dataclass(frozen=True, kw_only=True)
class ToySettings(Settings):
    """A service's own settings, declared the way contacts and the gateway declare theirs."""

    batch_size: int = setting("TOY_BATCH_SIZE", 100)
    timeout: float = setting("TOY_TIMEOUT", 1.5)
    dry_run: bool = setting("TOY_DRY_RUN", False)
    label: str = setting("TOY_LABEL", "toy")
    api_key: str = setting("TOY_API_KEY", secret=True)


TOY_ENV = {"JWT_PUBLIC_KEY_FILE": "/keys/jwt-public.pem", "TOY_API_KEY": "k"}


def test_common_settings_come_from_their_variables_or_defaults():
    settings = load_settings(
        "billing",
        environ={
            "JWT_PUBLIC_KEY_FILE": "/keys/jwt-public.pem",
            "PHARMACY_TZ": "Europe/Paris",
            "DELIVERY_LIMIT": "7",
            "MAX_JSON_BYTES": "",
        },
    )
    assert type(settings) is Settings and settings.service == "billing"
    assert settings.pharmacy_tz == "Europe/Paris" and settings.delivery_limit == 7
    assert settings.max_json_bytes == 1024 * 1024  # an empty variable is an unset one
    assert settings.amqp_url == "amqp://guest:guest@127.0.0.1:5672/%2F" and settings.prefetch == 50
    with pytest.raises(FrozenInstanceError):
        settings.delivery_limit = 1  # type: ignore[misc]


def test_a_service_subclass_is_loaded_the_same_way_converted_by_annotation():
    defaults = load_settings("toy", environ=TOY_ENV, cls=ToySettings)
    assert (defaults.batch_size, defaults.timeout, defaults.dry_run, defaults.label) == (100, 1.5, False, "toy")
    loaded = load_settings(
        "toy",
        cls=ToySettings,
        environ={**TOY_ENV, "TOY_BATCH_SIZE": "5", "TOY_TIMEOUT": "0.25", "TOY_DRY_RUN": "Yes", "TOY_LABEL": "x"},
    )
    assert isinstance(loaded, ToySettings) and loaded.jwt_public_key_file == "/keys/jwt-public.pem"
    assert (loaded.batch_size, loaded.timeout, loaded.dry_run, loaded.label) == (5, 0.25, True, "x")
    assert load_settings("toy", cls=ToySettings, environ={**TOY_ENV, "TOY_DRY_RUN": "0"}).dry_run is False


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("TOY_BATCH_SIZE", "lots", "TOY_BATCH_SIZE must be an integer"),
        ("TOY_TIMEOUT", "soon", "TOY_TIMEOUT must be a number"),
        ("TOY_DRY_RUN", "maybe", "TOY_DRY_RUN must be true or false"),
    ],
)
def test_a_bad_value_names_its_variable(variable, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings("toy", cls=ToySettings, environ={**TOY_ENV, variable: value})


def test_a_required_setting_of_a_subclass_is_named_and_overrides_skip_the_environment():
    with pytest.raises(ConfigError, match="TOY_API_KEY"):
        load_settings("toy", cls=ToySettings, environ={"JWT_PUBLIC_KEY_FILE": "/keys/jwt-public.pem"})
    settings = load_settings(
        "toy",
        cls=ToySettings,
        environ={"TOY_BATCH_SIZE": "bad"},
        jwt_public_key_file="/elsewhere/public.pem",
        api_key="k",
        batch_size=3,
        database_url="sqlite://",
    )
    assert (settings.batch_size, settings.database_url, settings.jwt_public_key_file) == (
        3,
        "sqlite://",
        "/elsewhere/public.pem",
    )


def test_secrets_stay_out_of_the_repr():
    settings = load_settings("toy", cls=ToySettings, environ={**TOY_ENV, "TOY_API_KEY": "key-value"})
    assert "key-value" not in repr(settings)
    assert "batch_size=100" in repr(settings)


def test_the_database_url_rules_apply_to_every_settings_class():
    settings = load_settings("toy", cls=ToySettings, environ={**TOY_ENV, "DATABASE_URL": "postgresql://h/pharmacy"})
    assert settings.database_url == "postgresql://h/pharmacy_toy"
