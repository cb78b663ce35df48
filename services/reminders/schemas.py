"""Reminders' HTTP schemas (validation, serialization and OpenAPI from one place)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.consent import CONSENT_VALUES
from shared.fields import ExportFormat, ExternalId, QuerySchema, StrictSchema, Text, UtcDateTime
from shared.web import PageArgs, page_schema

from .domain import DAYS_AHEAD_CHOICES, STATUS_FILTERS


class ConsentChannelsSchema(ma.Schema):
    """Per channel what the customer said: ``granted``, ``declined`` or ``unknown`` (never asked)."""

    whatsapp = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})
    call = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})
    sms = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})


class RefillReminderSchema(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ExternalId()
    customer_name = ma.fields.String(allow_none=True)
    customer_phone = ma.fields.String(
        allow_none=True, metadata={"description": "E.164; null until the customer is known"}
    )
    medicine_name = ma.fields.String()
    purchase_id = ExternalId()
    purchase_date = ma.fields.Date()
    duration_days = ma.fields.Integer(allow_none=True, metadata={"description": "null for a reminder set by hand"})
    reminder_date = ma.fields.Date()
    days_until_due = ma.fields.Integer(metadata={"description": "0 today (pharmacy time zone), negative when overdue"})
    whatsapp_sent_at = UtcDateTime(allow_none=True)
    call_made_at = UtcDateTime(allow_none=True)
    call_notes = ma.fields.String(allow_none=True)
    call_successful = ma.fields.Boolean(allow_none=True)
    responded = ma.fields.Boolean()
    customer_response = ma.fields.String(allow_none=True)
    purchased_at = UtcDateTime(allow_none=True)
    closed_by_purchase_id = ExternalId(
        allow_none=True,
        metadata={"description": "the later purchase that closed it; null when staff marked it purchased"},
    )
    set_by_hand = ma.fields.Boolean(metadata={"description": "set on the profile, not made by a purchase"})
    status = ma.fields.String(metadata={"enum": ["open", "responded", "purchased"]})
    consent = ma.fields.Nested(ConsentChannelsSchema)


class WhatsappReminderSchema(RefillReminderSchema):
    whatsapp_url = ma.fields.String(metadata={"description": "https://wa.me link with the message typed in"})


class RefillFilters(QuerySchema):
    """What the due list is filtered by (the list and its export)."""

    days_ahead = ma.fields.Integer(
        load_default=None,
        validate=validate.OneOf(DAYS_AHEAD_CHOICES),
        metadata={"description": "only reminders due on or before today + N (overdue included); omitted: any date"},
    )
    status = ma.fields.String(
        load_default=None,
        validate=validate.OneOf(STATUS_FILTERS),
        metadata={"description": "omitted: still due (open or responded)"},
    )


class RefillQuerySchema(PageArgs, RefillFilters):
    customer_id = ma.fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class ReminderByHandInSchema(StrictSchema):
    """A refill reminder set from a profile for a medicine billed without a duration."""

    customer_id = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    medicine_name = Text(required=True, validate=validate.Length(min=1, max=200))
    reminder_date = ma.fields.Date(required=True, metadata={"description": "today or later (pharmacy time zone)"})


class RefillExportQuerySchema(RefillFilters):
    format = ExportFormat()


class CallInSchema(StrictSchema):
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    successful = ma.fields.Boolean(load_default=None, allow_none=True)


class ResponseInSchema(StrictSchema):
    customer_response = Text(required=True, validate=validate.Length(min=1, max=2000))


RefillReminderPageSchema = page_schema(RefillReminderSchema)
