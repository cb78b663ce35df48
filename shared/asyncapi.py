"""The event contract as an AsyncAPI 3.0 document, built from the typed events and their schemas.

Channels are the routing keys on the ``pharmacy.events`` topic exchange (one per event type,
``shared.events.EVENT_TYPES``); each message is the CloudEvents envelope whose ``data`` is the
type's JSON Schema (``shared/event_schemas``). ``FLOWS`` says who publishes and who consumes each
type (EVENTS.md's table); ``shared/tests/unit/test_asyncapi.py`` checks it against every service's
handler registry and validates the document against the official AsyncAPI 3.0.0 schema. The
gateway serves it at ``/api/v1/asyncapi.json``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .broker import queue_names
from .envelope import CONTENT_TYPE, schema_of
from .events import (
    EVENT_TYPES,
    BillCreated,
    ConsentChanged,
    ContactConverted,
    ContactInteractionLogged,
    ContactStatusChanged,
    ContactsUploaded,
    CustomerUpserted,
    Event,
    PurchaseRecorded,
    RefillReminderCreated,
    RefillReminderUpdated,
    StaffCreated,
    StaffUpdated,
)

ASYNCAPI_VERSION = "3.0.0"
CONTRACT_VERSION = "1.0.0"
AMQP_BINDING = "0.3.0"
INTEGRATIONS = "integrations"


@dataclass(frozen=True)
class Flow:
    """Who publishes an event type and which services consume it."""

    event: type[Event]
    publisher: str
    consumers: tuple[str, ...]
    # In the contract but not yet published or consumed by any service (so integrations know).
    planned: bool = False
    # Outside systems may publish it too, under their own ``source`` (EVENTS.md: a point of sale).
    integrations_publish: bool = False


FLOWS: tuple[Flow, ...] = (
    Flow(
        BillCreated,
        "billing",
        ("contacts", "customers", "reporting"),
        integrations_publish=True,
    ),
    Flow(ContactsUploaded, "contacts", ("reporting",)),
    Flow(ContactStatusChanged, "contacts", ("reporting",)),
    Flow(ContactConverted, "contacts", ("customers", "reporting")),
    Flow(CustomerUpserted, "customers", ("contacts", "reminders", "reporting")),
    Flow(PurchaseRecorded, "customers", ("reminders", "reporting")),
    Flow(RefillReminderCreated, "reminders", ("reporting",)),
    Flow(RefillReminderUpdated, "reminders", ("reporting",)),
    Flow(StaffCreated, "gateway", ("contacts", "reporting")),
    Flow(StaffUpdated, "gateway", ("contacts", "reporting")),
    Flow(ConsentChanged, "customers", ("contacts", "reminders", "reporting")),
    Flow(ContactInteractionLogged, "contacts", ("reporting",)),
)


def _plain_schema(name: str) -> dict[str, Any]:
    """A contract schema as an AsyncAPI Schema Object (its JSON Schema dialect line dropped)."""
    schema = copy.deepcopy(schema_of(name))
    schema.pop("$schema", None)
    return schema


def _message(event: type[Event]) -> dict[str, Any]:
    description = " ".join((event.__doc__ or "").split())
    return {
        "name": event.TYPE,
        "title": event.__name__,
        "summary": description,
        "contentType": CONTENT_TYPE,
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {
                    "type": "object",
                    "required": ["type", "data"],
                    "properties": {
                        "type": {"const": event.TYPE},
                        "data": {"$ref": f"#/components/schemas/{event.TYPE}"},
                    },
                },
            ]
        },
        "correlationId": {
            "description": "The X-Request-ID of the request that caused the event.",
            "location": "$message.payload#/correlationid",
        },
        "bindings": {"amqp": {"messageType": event.TYPE, "bindingVersion": AMQP_BINDING}},
    }


def _channel(event: type[Event], exchange: str) -> dict[str, Any]:
    return {
        "address": event.TYPE,
        "title": event.TYPE,
        "description": f"Routing key `{event.TYPE}` on the `{exchange}` topic exchange.",
        "messages": {event.TYPE: {"$ref": f"#/components/messages/{event.TYPE}"}},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {
                    "name": exchange,
                    "type": "topic",
                    "durable": True,
                    "autoDelete": False,
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDING,
            }
        },
    }


def _operations(flow: Flow, dead_letter_exchange: str) -> dict[str, dict[str, Any]]:
    event_type = flow.event.TYPE
    channel = {"$ref": f"#/channels/{event_type}"}
    messages = [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}]
    planned = {"x-planned": True} if flow.planned else {}
    note = " Planned: in the contract, not yet sent or received by the services." if flow.planned else ""
    publishers = [flow.publisher] + ([INTEGRATIONS] if flow.integrations_publish else [])
    operations: dict[str, dict[str, Any]] = {}
    for publisher in publishers:
        who = (
            "An outside integration, under its own CloudEvents `source`"
            if publisher == INTEGRATIONS
            else f"`{publisher}`, from its outbox in the same transaction as the change"
        )
        operations[f"{publisher}.sends.{event_type}"] = {
            "action": "send",
            "channel": channel,
            "messages": messages,
            "title": f"{publisher} sends {event_type}",
            "summary": f"{who}; persistent, with publisher confirms.{note}",
            "bindings": {
                "amqp": {
                    "deliveryMode": 2,
                    "mandatory": True,
                    "bindingVersion": AMQP_BINDING,
                }
            },
            **planned,
        }
    for consumer in flow.consumers:
        queue, dlq = queue_names(consumer)
        operations[f"{consumer}.receives.{event_type}"] = {
            "action": "receive",
            "channel": channel,
            "messages": messages,
            "title": f"{consumer} receives {event_type}",
            "summary": (
                f"Queue `{queue}`: deduplicated on (source, id), acked after the effect commits; an invalid "
                f"event or one failing at the delivery limit goes to `{dlq}` via `{dead_letter_exchange}`."
                f"{note}"
            ),
            "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING}},
            **planned,
        }
    return operations


def asyncapi_document(
    exchange: str = "pharmacy.events",
    dead_letter_exchange: str = "pharmacy.dlx",
    broker_host: str = "rabbitmq:5672",
) -> dict[str, Any]:
    """Every channel, message and operation of the event contract, as an AsyncAPI 3.0.0 document."""
    missing = set(EVENT_TYPES) - {flow.event.TYPE for flow in FLOWS}
    if missing:
        raise RuntimeError(f"event types without a flow in shared.asyncapi.FLOWS: {sorted(missing)}")
    envelope = _plain_schema("_envelope")
    envelope["title"] = "CloudEvent"
    envelope["description"] = (
        "CloudEvents 1.0 structured mode. `(source, id)` identifies an event; AMQP message_id = id and type = type."
    )
    operations: dict[str, dict[str, Any]] = {}
    for flow in FLOWS:
        operations.update(_operations(flow, dead_letter_exchange))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Pharmacy customer tracking events",
            "version": CONTRACT_VERSION,
            "description": (
                "The public, versioned event contract of the system. Integrations may publish and "
                "consume these; an invalid event from anyone is dead-lettered with the reason. Adding an "
                "optional field is not breaking; a breaking change is a new type (`bill.created.v2`). "
                "Money is a decimal string with two places, phones E.164, dates ISO, instants RFC 3339."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "broker": {
                "host": broker_host,
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The deployment's RabbitMQ (AMQP_URL); the host shown is docker-compose's.",
            }
        },
        "channels": {event_type: _channel(cls, exchange) for event_type, cls in sorted(EVENT_TYPES.items())},
        "operations": operations,
        "components": {
            "schemas": {
                "CloudEvent": envelope,
                **{event_type: _plain_schema(event_type) for event_type in sorted(EVENT_TYPES)},
            },
            "messages": {event_type: _message(cls) for event_type, cls in sorted(EVENT_TYPES.items())},
        },
    }
