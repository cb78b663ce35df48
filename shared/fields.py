"""Marshmallow fields shared by the services' HTTP schemas: phones, money, instants, outside ids."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from flask import current_app, has_app_context

from .envelope import isoformat_utc
from .ids import wire_id
from .money import CENTS
from .phones import InvalidPhone, to_e164


def default_region() -> str:
    """The region a phone without a country code is read in: the app's setting, else India."""
    if has_app_context() and "runtime" in current_app.extensions:
        return str(current_app.extensions["runtime"].settings.default_phone_region)
    return "IN"


class Phone(ma.fields.String):
    """A phone in any common written form, loaded as E.164 (libphonenumber's verdict)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return to_e164(raw, default_region())
        except InvalidPhone:
            raise ma.ValidationError("not a valid phone number") from None


class Money(ma.fields.Decimal):
    """A non-negative amount with at most two decimals, serialized as a string ``"1234.50"``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "decimal", "example": "1234.50"})
        super().__init__(places=2, as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Decimal:
        if isinstance(value, float):
            value = repr(value)
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise ma.ValidationError("not a decimal amount") from None
        if not amount.is_finite():
            raise ma.ValidationError("not a decimal amount")
        if amount < 0:
            raise ma.ValidationError("must not be negative")
        if int(amount.as_tuple().exponent) < -2:  # finite, so an int (not "n"/"N"/"F")
            raise ma.ValidationError("at most two decimal places")
        if amount >= Decimal("10000000000"):
            raise ma.ValidationError("too large")
        return amount.quantize(CENTS)


class UtcDateTime(ma.fields.DateTime):
    """An instant written as ISO 8601 UTC with ``Z`` (columns are ``shared.db.UTCDateTime``: aware UTC)."""

    def _serialize(self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else isoformat_utc(value)


class ExternalId(ma.fields.Field[str]):
    """An id owned by another service or an integration (a bill, purchase or customer id).

    It arrives as a positive integer or a short text, is loaded as the text kept in a column
    (``shared.ids.stored_id``'s form), and is written back in the type it came in
    (``shared.ids.wire_id``): ``42`` stays ``42``, ``"POS-0007"`` stays ``"POS-0007"``.
    """

    MAX_LENGTH = 64

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "oneOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "minLength": 1, "maxLength": self.MAX_LENGTH},
            ]
        }
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if isinstance(value, bool):  # bool is an int subclass; True is not id 1
            raise ma.ValidationError("not an id")
        if isinstance(value, int):
            if value < 1:
                raise ma.ValidationError("must be positive")
            return str(value)
        if isinstance(value, str) and 0 < len(value.strip()) <= self.MAX_LENGTH:
            return value.strip()
        raise ma.ValidationError(f"an integer or a text of at most {self.MAX_LENGTH} characters")

    def _serialize(self, value: str | None, attr: str | None, obj: Any, **kwargs: Any) -> int | str | None:
        id_: int | str | None = wire_id(value)
        return id_


class Text(ma.fields.String):
    """Free text kept exactly as typed, in Unicode NFC, surrounding whitespace trimmed."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return unicodedata.normalize("NFC", text).strip()


class StrictSchema(ma.Schema):
    """Request bodies reject unknown fields (no mass assignment of role, status, assigned_to...)."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
    """Query strings ignore parameters they do not know (paging and filters are allow-listed)."""

    class Meta:
        unknown = ma.EXCLUDE
