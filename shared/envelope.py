"""CloudEvents 1.0 envelope (structured JSON) with per-type JSON Schema validation.

The schemas in ``shared/event_schemas/<type>.json`` are the machine-readable event contract
(EVENTS.md): publishers validate before writing to the outbox, consumers before handling.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import jsonschema

from .context import current_request_id

SCHEMA_DIR = Path(__file__).resolve().parent / "event_schemas"
CONTENT_TYPE = "application/cloudevents+json"
SPECVERSION = "1.0"


class InvalidEvent(ValueError):
    """An event that breaks the contract: bad JSON, missing envelope field, unknown type, bad data."""


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return isoformat_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__} in an event")


def isoformat_utc(instant: dt.datetime) -> str:
    """ISO 8601 in UTC with a trailing Z (naive datetimes are taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.timezone.utc)
    return instant.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def to_json(payload) -> str:
    """Serialize an event or data dict: Decimal as string, dates ISO, instants UTC."""
    return json.dumps(payload, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def known_types() -> list[str]:
    """Every event type the contract describes."""
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.json") if not p.stem.startswith("_"))


@lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.Draft202012Validator:
    path = SCHEMA_DIR / f"{name}.json"
    if not path.exists():
        raise InvalidEvent(f"unknown event type {name!r}")
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _check(validator, instance, what: str) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        raise InvalidEvent(f"{what} invalid at {where}: {first.message}")


def validate_event(event: dict) -> dict:
    """Check envelope and data against the contract; return the event or raise InvalidEvent."""
    if not isinstance(event, dict):
        raise InvalidEvent("event is not a JSON object")
    _check(_validator("_envelope"), event, "envelope")
    _check(_validator(event["type"]), event["data"], f"{event['type']} data")
    return event


def make_event(event_type: str, data: dict, *, source: str, subject: str | None = None,
               correlation_id: str | None = None, event_id: str | None = None,
               time: dt.datetime | None = None) -> dict:
    """Build and validate a CloudEvent; ``data`` is round-tripped through JSON so it is wire-exact."""
    event = {
        "specversion": SPECVERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": isoformat_utc(time or dt.datetime.now(dt.timezone.utc)),
        "datacontenttype": "application/json",
        "data": json.loads(to_json(data)),
    }
    if subject:
        event["subject"] = subject
    correlation_id = correlation_id or current_request_id()
    if correlation_id:
        event["correlationid"] = correlation_id
    return validate_event(event)


def parse_event(body: bytes | str) -> dict:
    """Decode and validate an event received from the broker; raise InvalidEvent when it is not one."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from None
    return validate_event(event)
