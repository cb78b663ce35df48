"""Marshmallow fields shared by the services' HTTP schemas: phones, money, instants, outside ids."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import marshmallow as ma
from flask import current_app, has_app_context

from .envelope import isoformat_utc
from .exports import EXPORT_FORMATS
from .ids import wire_id
from .money import CENTS
from .phones import InvalidPhone, to_e164


def default_region() -> str:
    """The region a phone without a country code is read in: the app's setting, else India."""
    if has_app_context() and "runtime" in current_app.extensions:
        return str(current_app.extensions["runtime"].settings.default_phone_region)
    return "IN"


#: What a phone may look like before libphonenumber reads it: digits, ``+``, spaces, ``( ) . / -``.
PHONE_PATTERN = r"^[0-9+() ./-]{4,32}$"


class Phone(ma.fields.String):
    """A phone in any common written form, loaded as E.164 (libphonenumber's verdict).

    Documented as ``format: phone`` with the characters and length accepted; a string of that
    shape that libphonenumber does not take for a valid number (in the default region when it
    has no country code) is a 422 too.
    """

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "format": "phone",
            "pattern": PHONE_PATTERN,
            "minLength": 4,
            "maxLength": 32,
            "description": "a phone in any common written form (+91 98765 43210, 098765-43210, ...); "
            "without a country code it is read in the default region; answered in E.164",
        }
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(PHONE_PATTERN, raw):
            raise ma.ValidationError("4-32 digits, spaces and + ( ) . / - (a phone number)")
        try:
            return to_e164(raw, default_region())
        except InvalidPhone:
            raise ma.ValidationError("not a valid phone number") from None


def money_pattern(integer_digits: int = 10) -> str:
    """Money on the wire: a decimal string, at most ``integer_digits`` before the point and two after."""
    return rf"^[0-9]{{1,{integer_digits}}}(\.[0-9]{{1,2}})?$"


#: What fits the NUMERIC(12, 2) columns that keep money.
MONEY_PATTERN = money_pattern(10)


class Money(ma.fields.Decimal):
    """A non-negative amount with at most two decimals, as a string ``"1234.50"`` both ways
    (API.md: "a decimal string with two places, never a float"): a JSON number is refused.

    ``integer_digits`` bounds what a request may give (10 fits a NUMERIC(12, 2) column; less
    where amounts are summed into one, such as a bill's lines into its total).
    """

    def __init__(self, integer_digits: int = 10, **kwargs: Any) -> None:
        self.pattern = money_pattern(integer_digits)
        kwargs.setdefault("metadata", {}).update(
            {"type": "string", "format": "decimal", "pattern": self.pattern, "example": "1234.50"}
        )
        super().__init__(places=2, as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise ma.ValidationError('a decimal string with at most two decimals, such as "1234.50"')
        return Decimal(value).quantize(CENTS)


class ExportFormat(ma.fields.String):
    """``?format=csv|xlsx`` of a file download (``shared.exports``); CSV when omitted."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("description", "csv (default) or xlsx")
        super().__init__(load_default="csv", validate=ma.validate.OneOf(EXPORT_FORMATS), **kwargs)


class Proportion(ma.fields.Decimal):
    """A proportion between 0 and 1 with two decimals, written as a string (``"0.87"``), like money."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update(
            {"type": "string", "format": "decimal", "pattern": r"^(0\.[0-9]{2}|1\.00)$", "example": "0.87"}
        )
        super().__init__(places=2, as_string=True, allow_nan=False, **kwargs)


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
                {"type": "string", "minLength": 1, "maxLength": self.MAX_LENGTH, "pattern": NO_NUL_PATTERN},
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
        if isinstance(value, str) and 0 < len(value.strip()) <= self.MAX_LENGTH and "\x00" not in value:
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


class JsonBoolean(ma.fields.Boolean):
    """``true`` or ``false``, nothing that merely looks like one (``0``, ``"yes"``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JsonInteger(ma.fields.Integer):
    """A JSON integer, nothing that merely converts to one (``"5"``, ``5.5``, ``true``)."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return int(super()._validated(value))


#: Text without NUL characters, which no column (PostgreSQL text) can hold.
NO_NUL_PATTERN = r"^[^\u0000]*$"


class _NoNul(ma.validate.Regexp):
    """The NUL check of a text field; a value the field already turned into something else
    (a date, an instant) is not text any more and passes (documented as the field's pattern)."""

    def __call__(self, value: Any) -> Any:
        return super().__call__(value) if isinstance(value, str) else value


_NO_NUL = _NoNul(NO_NUL_PATTERN, error="must not contain NUL characters")


def _no_nul(field: ma.fields.Field[Any]) -> None:
    """Refuse NUL in a text field (documented as its ``pattern``) unless its own pattern says more."""
    if (
        isinstance(field, ma.fields.String)
        and "pattern" not in field.metadata
        and not any(isinstance(v, ma.validate.Regexp) for v in field.validators)
    ):
        field.validators = [*field.validators, _NO_NUL]
    elif isinstance(field, ma.fields.List):
        _no_nul(field.inner)


def _json_typed(field: ma.fields.Field[Any]) -> None:
    """Make a body's booleans and integers (also inside lists) take only their own JSON type."""
    if type(field) is ma.fields.Boolean:
        field.__class__ = JsonBoolean
    elif type(field) is ma.fields.Integer:
        field.__class__ = JsonInteger
    elif isinstance(field, ma.fields.List):
        _json_typed(field.inner)


class StrictSchema(ma.Schema):
    """Request bodies reject unknown fields (no mass assignment of role, status, assigned_to...)
    and values of another JSON type (a boolean is ``true``/``false``, an integer is not ``"5"``).

    Documented as ``additionalProperties: false``; ``openapi_extra`` adds to a schema's OpenAPI
    what its fields cannot say (``shared.web.openapi`` reads it).
    """

    openapi_extra: ClassVar[dict[str, Any]] = {}

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field[Any]) -> None:
        _json_typed(field_obj)
        _no_nul(field_obj)


class PatchSchema(StrictSchema):
    """A PATCH body: any subset of the fields, at least one (``minProperties: 1``)."""

    openapi_extra: ClassVar[dict[str, Any]] = {"minProperties": 1}

    @ma.validates_schema
    def _at_least_one_field(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change", "_schema")


class QuerySchema(ma.Schema):
    """Query strings ignore parameters they do not know (paging and filters are allow-listed);
    their texts may not contain NUL (they are compared with columns)."""

    class Meta:
        unknown = ma.EXCLUDE

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field[Any]) -> None:
        _no_nul(field_obj)
