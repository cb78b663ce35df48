"""CloudEvents 1.0 envelope (structured JSON) with per-type JSON Schema validation.

The schemas in ``shared/event_schemas/<type>.json`` are the machine-readable event contract
(EVENTS.md): publishers validate before writing to the outbox, consumers before handling.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators
from jsonschema.exceptions import ValidationError
from rfc3339_validator import validate_rfc3339

from .context import current_request_id

SCHEMA_DIR = Path(__file__).resolve().parent / "event_schemas"
CONTENT_TYPE = "application/cloudevents+json"
SPECVERSION = "1.0"


class InvalidEvent(ValueError):
    """An event that breaks the contract: bad JSON, missing envelope field, unknown type, bad data."""


def _json_default(value: object) -> object:
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
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def to_json(payload: Any) -> str:
    """Serialize an event or data dict: Decimal as string, dates ISO, instants UTC."""
    return json.dumps(payload, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def known_types() -> list[str]:
    """Every event type the contract describes."""
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.json") if not p.stem.startswith("_"))


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA-262: ``$`` ends the text and ``\d`` is an ASCII digit. Python's
    # ``re`` lets ``$`` match before a trailing newline and ``\d`` match any Unicode digit, so
    # "+919876543210\n" or Arabic-Indic digits would pass. (Our patterns put ``$`` only at the end.)
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern), re.ASCII)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


ContractValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})
FORMATS = jsonschema.FormatChecker()  # its own copy of the checkers, so the override below stays here


def _rfc3339(instance: object) -> bool:
    # The stock checker matches with ``$`` as well and so lets a trailing newline through.
    return not isinstance(instance, str) or (not instance.endswith("\n") and bool(validate_rfc3339(instance.upper())))


FORMATS.checks("date-time")(_rfc3339)


def schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema of an event type's ``data`` (or ``_envelope``); InvalidEvent when there is none."""
    path = SCHEMA_DIR / f"{name}.json"
    if not path.exists():
        raise InvalidEvent(f"unknown event type {name!r}")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


@cache
def _validator(name: str) -> Any:
    return ContractValidator(schema_of(name), format_checker=FORMATS)


def data_errors(event_type: str, data: Any) -> list[str]:
    """Why ``data`` breaks the schema of ``event_type`` (empty when it is valid)."""
    return [error.message for error in _validator(event_type).iter_errors(data)]


def _check(validator: Any, instance: Any, what: str) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        raise InvalidEvent(f"{what} invalid at {where}: {first.message}")


def validate_event(event: Any) -> dict[str, Any]:
    """Check envelope and data against the contract; return the event or raise InvalidEvent."""
    if not isinstance(event, dict):
        raise InvalidEvent("event is not a JSON object")
    _check(_validator("_envelope"), event, "envelope")
    _check(_validator(event["type"]), event["data"], f"{event['type']} data")
    return event


def make_event(
    event_type: str,
    data: dict[str, Any],
    *,
    source: str,
    subject: str | None = None,
    correlation_id: str | None = None,
    event_id: str | None = None,
    time: dt.datetime | None = None,
) -> dict[str, Any]:
    """Build and validate a CloudEvent; ``data`` is round-tripped through JSON so it is wire-exact."""
    event: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": isoformat_utc(time or dt.datetime.now(dt.UTC)),
        "datacontenttype": "application/json",
        "data": json.loads(to_json(data)),
    }
    if subject:
        event["subject"] = subject
    correlation_id = correlation_id or current_request_id()
    if correlation_id:
        event["correlationid"] = correlation_id
    return validate_event(event)


def parse_event(body: bytes | str) -> dict[str, Any]:
    """Decode and validate an event received from the broker; raise InvalidEvent when it is not one."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from None
    return validate_event(event)
