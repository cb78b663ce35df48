"""Marshmallow fields shared by the services' HTTP schemas: phones, money, dates."""
from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from flask import current_app, has_app_context

from .envelope import isoformat_utc
from .phones import InvalidPhone, to_e164


def default_region() -> str:
    if has_app_context() and "runtime" in current_app.extensions:
        return current_app.extensions["runtime"].settings.default_phone_region
    return "IN"


class Phone(ma.fields.String):
    """A phone in any common written form, loaded as E.164 (libphonenumber's verdict)."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return to_e164(raw, default_region())
        except InvalidPhone:
            raise ma.ValidationError("not a valid phone number") from None


class Money(ma.fields.Decimal):
    """A non-negative amount with at most two decimals, serialized as a string ``"1234.50"``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "decimal", "example": "1234.50"})
        super().__init__(places=2, as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
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
        if amount.as_tuple().exponent < -2:
            raise ma.ValidationError("at most two decimal places")
        if amount >= Decimal("10000000000"):
            raise ma.ValidationError("too large")
        return amount.quantize(Decimal("0.01"))


class UtcDateTime(ma.fields.DateTime):
    """An instant written as ISO 8601 UTC with ``Z`` (SQLite hands back naive UTC, PostgreSQL aware)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else isoformat_utc(value)


class Text(ma.fields.String):
    """Free text kept exactly as typed, in Unicode NFC, surrounding whitespace trimmed."""

    def _deserialize(self, value, attr, data, **kwargs):
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
