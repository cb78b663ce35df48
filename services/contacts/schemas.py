"""Contacts' HTTP schemas (validation, serialization and OpenAPI from one place)."""

from __future__ import annotations

import datetime as dt
import re
from typing import ClassVar

import marshmallow as ma
from marshmallow import validate

from shared.consent import CONSENT_VALUES
from shared.fields import ExportFormat, ExternalId, Money, PatchSchema, QuerySchema, StrictSchema, Text, UtcDateTime
from shared.ids import MAX_ID, ascii_int
from shared.web import PageArgs, page_schema

from .models import CONTACT_STATUSES, INTERACTION_TYPES, WHATSAPP_STATUSES

UTC = dt.UTC


#: ``assign_to``: staff ids (up to nine digits) separated by commas, spaces around them allowed.
STAFF_IDS_PATTERN = r"^ *([0-9]{1,9} *)?(, *([0-9]{1,9} *)?)*$"


class StaffIdList(ma.fields.String):
    """``assign_to``: comma-separated staff ids (``"3,5,8"``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"pattern": STAFF_IDS_PATTERN, "maxLength": 5000})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > 5000 or not re.fullmatch(STAFF_IDS_PATTERN, raw):
            raise ma.ValidationError("staff ids separated by commas, such as 3,5,8")
        ids = []
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            staff_id = ascii_int(part) if len(part) <= 9 else None
            if staff_id is None:
                raise ma.ValidationError(f"{part!r} is not a staff id")
            ids.append(staff_id)
        if len(ids) > 500:
            raise ma.ValidationError("at most 500 staff ids")
        return ids or None


# -- uploads -----------------------------------------------------------------------------------
class UploadFormSchema(StrictSchema):
    list_name = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    assign_to = StaffIdList(
        load_default=None,
        allow_none=True,
        metadata={"description": "comma-separated staff ids (default: every active staff user)"},
    )


class UploadFileSchema(UploadFormSchema):
    """The multipart body as documented (the form fields are read by ``UploadFormSchema``)."""

    file = ma.fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": ".csv, .xlsx or .xls with a header row"},
    )


class UploadSchema(ma.Schema):
    id = ma.fields.Integer()
    filename = ma.fields.String()
    list_name = ma.fields.String(allow_none=True)
    file_kind = ma.fields.String(allow_none=True)
    uploaded_by = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"enum": ["processing", "completed", "failed"]})
    total_rows = ma.fields.Integer(allow_none=True, metadata={"description": "an estimate while processing"})
    rows_done = ma.fields.Integer()
    imported = ma.fields.Integer()
    duplicates_in_file = ma.fields.Integer()
    already_known = ma.fields.Integer()
    do_not_contact = ma.fields.Integer(
        metadata={"description": "imported contacts whose phone declined every channel (kept pending)"}
    )
    invalid = ma.fields.Integer()
    assigned = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    failure_reason = ma.fields.String(allow_none=True)
    errors_url = ma.fields.Method("_errors_url")
    created_at = UtcDateTime()
    completed_at = UtcDateTime(allow_none=True)

    def _errors_url(self, upload):
        return f"/api/v1/contacts/uploads/{upload.id}/errors"


class UploadQuerySchema(PageArgs, QuerySchema):
    pass


class ErrorReportQuerySchema(QuerySchema):
    format = ExportFormat()


# -- contacts ----------------------------------------------------------------------------------
class InteractionSchema(ma.Schema):
    id = ma.fields.Integer()
    contact_id = ma.fields.Integer()
    staff_id = ma.fields.Integer(allow_none=True)
    type = ma.fields.String()
    notes = ma.fields.String(allow_none=True)
    customer_response = ma.fields.String(allow_none=True)
    next_action = ma.fields.String(allow_none=True)
    call_duration_minutes = ma.fields.Integer(allow_none=True)
    call_successful = ma.fields.Boolean(allow_none=True)
    follow_up_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()


class FollowUpSchema(ma.Schema):
    id = ma.fields.Integer()
    contact_id = ma.fields.Integer()
    interaction_id = ma.fields.Integer(allow_none=True)
    staff_id = ma.fields.Integer(allow_none=True)
    due_at = UtcDateTime()
    note = ma.fields.String(allow_none=True)
    done_at = UtcDateTime(allow_none=True)
    done_by = ma.fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class DueFollowUpSchema(FollowUpSchema):
    contact_name = ma.fields.String(allow_none=True)
    contact_phone = ma.fields.String()
    contact_status = ma.fields.String()


class ConsentChannelsSchema(ma.Schema):
    """Per channel what the phone's owner said: ``granted``, ``declined`` or ``unknown`` (never asked)."""

    whatsapp = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})
    call = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})
    sms = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})


class ContactSchema(ma.Schema):
    id = ma.fields.Integer()
    phone = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(CONTACT_STATUSES)})
    whatsapp_status = ma.fields.String(metadata={"enum": list(WHATSAPP_STATUSES)})
    assigned_to = ma.fields.Integer(allow_none=True)
    upload_id = ma.fields.Integer(allow_none=True)
    last_interaction_at = UtcDateTime(allow_none=True)
    first_contacted_at = UtcDateTime(allow_none=True)
    converted_at = ma.fields.Date(allow_none=True)
    conversion_value = Money(allow_none=True)
    conversion_bill_id = ExternalId(allow_none=True)
    customer_id = ExternalId(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    consent = ma.fields.Nested(
        ConsentChannelsSchema,
        metadata={"description": "the phone's consent; a declined WhatsApp or call is refused (409)"},
    )


class ContactDetailSchema(ContactSchema):
    interactions = ma.fields.List(ma.fields.Nested(InteractionSchema))
    follow_ups = ma.fields.List(ma.fields.Nested(FollowUpSchema))
    # API.md's first name for the same list: kept until every client reads ``follow_ups``.
    reminders = ma.fields.List(
        ma.fields.Nested(FollowUpSchema),
        attribute="follow_ups",
        dump_only=True,
        metadata={"deprecated": True, "description": "the same list as follow_ups"},
    )


class ContactFilters(QuerySchema):
    """What the contact list is filtered by (the list and its export)."""

    status = ma.fields.String(load_default=None, validate=validate.OneOf(CONTACT_STATUSES))
    whatsapp_status = ma.fields.String(load_default=None, validate=validate.OneOf(WHATSAPP_STATUSES))
    assigned_to = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    upload_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    q = ma.fields.String(load_default=None, validate=validate.Length(max=100))


class ContactQuerySchema(PageArgs, ContactFilters):
    pass


class ContactExportQuerySchema(ContactFilters):
    format = ExportFormat()


class ContactPatchSchema(PatchSchema):
    name = Text(allow_none=True, validate=validate.Length(max=200))
    whatsapp_status = ma.fields.String(validate=validate.OneOf(WHATSAPP_STATUSES))
    assigned_to = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "admins only"})


class InteractionInSchema(StrictSchema):
    # Call details belong to calls.
    openapi_extra: ClassVar[dict] = {
        "anyOf": [
            {"properties": {"type": {"enum": ["call"]}}},
            {
                "properties": {
                    "call_duration_minutes": {"nullable": True, "enum": [None]},
                    "call_successful": {"nullable": True, "enum": [None]},
                }
            },
        ]
    }

    type = ma.fields.String(required=True, validate=validate.OneOf(INTERACTION_TYPES))
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    customer_response = Text(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    next_action = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    call_duration_minutes = ma.fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=1440)
    )
    call_successful = ma.fields.Boolean(load_default=None, allow_none=True)
    follow_up_at = ma.fields.AwareDateTime(
        load_default=None, allow_none=True, default_timezone=UTC, metadata={"description": "creates a follow-up"}
    )


class ConvertInSchema(StrictSchema):
    conversion_value = Money(load_default=None, allow_none=True)
    bill_id = ExternalId(load_default=None, allow_none=True)


class YellowInSchema(StrictSchema):
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class FollowUpQuerySchema(PageArgs, QuerySchema):
    due_within_days = ma.fields.Integer(load_default=7, validate=validate.Range(min=0, max=366))


class WhatsappQuerySchema(QuerySchema):
    template = Text(
        load_default=None,
        validate=validate.Length(max=1000),
        metadata={"description": "message text; {name} becomes the contact's name"},
    )


class WhatsappLinkSchema(ma.Schema):
    url = ma.fields.String()


class WhatsappInSchema(StrictSchema):
    template = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "message text; {name} becomes the contact's name (default: a greeting)"},
    )


class WhatsappSentSchema(ma.Schema):
    url = ma.fields.String(metadata={"description": "https://wa.me link with the message typed in"})
    contact = ma.fields.Nested(ContactSchema)


UploadPageSchema = page_schema(UploadSchema)
ContactPageSchema = page_schema(ContactSchema)
DueFollowUpPageSchema = page_schema(DueFollowUpSchema)
