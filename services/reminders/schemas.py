"""Reminders' HTTP schemas (validation, serialization and OpenAPI from one place)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.fields import ExternalId, QuerySchema, StrictSchema, Text, UtcDateTime
from shared.web import PageArgs, page_schema

from .domain import DAYS_AHEAD_CHOICES, STATUS_FILTERS


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
    duration_days = ma.fields.Integer()
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
    status = ma.fields.String(metadata={"enum": ["open", "responded", "purchased"]})


class WhatsappReminderSchema(RefillReminderSchema):
    whatsapp_url = ma.fields.String(metadata={"description": "https://wa.me link with the message typed in"})


class RefillQuerySchema(PageArgs, QuerySchema):
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
    customer_id = ma.fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class CallInSchema(StrictSchema):
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    successful = ma.fields.Boolean(load_default=None, allow_none=True)


class ResponseInSchema(StrictSchema):
    customer_response = Text(required=True, validate=validate.Length(min=1, max=2000))


RefillReminderPageSchema = page_schema(RefillReminderSchema)
