"""The AsyncAPI document: valid AsyncAPI 3.0.0, every type's channel and message, and publishers and
consumers that match what the services really do."""

import importlib
import json
from pathlib import Path

import jsonschema
import pytest

from shared.asyncapi import FLOWS, INTEGRATIONS, asyncapi_document
from shared.envelope import FORMATS, ContractValidator, make_event, to_json
from shared.events import EVENT_TYPES

FIXTURE = Path(__file__).parents[1] / "fixtures" / "asyncapi-3.0.0.schema.json"
CONSUMING_SERVICES = ("contacts", "customers", "reminders", "reporting")


@pytest.fixture(scope="module")
def document():
    return asyncapi_document()


def test_the_document_is_valid_asyncapi_3(document):
    schema = json.loads(FIXTURE.read_text())
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(document),
        key=lambda e: list(e.path),
    )
    assert [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors] == []
    json.dumps(document)  # JSON-ready as served


def test_the_fixture_rejects_a_broken_document(document):
    """The vendored schema really checks (it is not an empty or permissive file)."""
    schema = json.loads(FIXTURE.read_text())
    broken = {
        **document,
        "operations": {"x": {"action": "publish", "channel": {"$ref": "#/channels/bill.created"}}},
    }
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)
    assert not jsonschema.Draft7Validator(schema).is_valid({**document, "asyncapi": "2.6.0"})


def test_every_event_type_has_a_channel_and_message_on_the_exchange(document):
    assert set(document["channels"]) == set(EVENT_TYPES) == set(document["components"]["messages"])
    for event_type, channel in document["channels"].items():
        assert channel["address"] == event_type
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "pharmacy.events"
        assert channel["bindings"]["amqp"]["exchange"]["type"] == "topic"
        assert document["components"]["schemas"][event_type]["title"] == event_type


def test_publishers_and_consumers_follow_the_table(document):
    operations = document["operations"]
    assert operations["billing.sends.bill.created"]["action"] == "send"
    assert operations[f"{INTEGRATIONS}.sends.bill.created"]["action"] == "send"
    assert {
        name
        for name, op in operations.items()
        if op["channel"]["$ref"] == "#/channels/bill.created" and op["action"] == "receive"
    } == {f"{s}.receives.bill.created" for s in ("contacts", "customers", "reporting")}
    assert operations["gateway.sends.staff.updated"]["channel"] == {"$ref": "#/channels/staff.updated"}
    # Reporting consumes contact.interaction_logged now: the flow is no longer marked planned.
    assert "x-planned" not in operations["reporting.receives.contact.interaction_logged"]


def test_the_consumers_in_the_document_are_the_service_registries():
    """What the document says each service receives is exactly what its registry handles (planned
    flows aside), so the published contract cannot promise a subscription nobody has."""
    for service in CONSUMING_SERVICES:
        handlers = importlib.import_module(f"services.{service}.consumers").HANDLERS
        documented = {flow.event.TYPE for flow in FLOWS if service in flow.consumers and not flow.planned}
        assert set(handlers) == documented, service
    producers = {flow.publisher for flow in FLOWS if not flow.planned}
    assert producers == {"billing", "contacts", "customers", "reminders", "gateway"}


def test_each_message_payload_accepts_its_envelope_and_refuses_another_type(document):
    """The message payload (envelope + the type's data schema), resolved inside the document."""
    from services.customers.tests.events import (  # documents real tests publish
        bill_event,
        contact_event,
    )

    def validator(event_type):
        schema = {
            **document["components"]["messages"][event_type]["payload"],
            "components": document["components"],
        }
        return ContractValidator(schema, format_checker=FORMATS)

    bill = json.loads(to_json(bill_event(1)))
    assert validator("bill.created").is_valid(bill)
    assert not validator("contact.converted").is_valid(bill)
    assert validator("contact.converted").is_valid(json.loads(to_json(contact_event(3))))
    broken = make_event("bill.created", bill["data"], source="/tests")
    broken["data"] = {**broken["data"], "customer_phone": "98765"}
    assert not validator("bill.created").is_valid(broken)
