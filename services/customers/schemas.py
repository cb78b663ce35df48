"""Customers' HTTP schemas (validation, serialization and OpenAPI from one place)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import validate

from shared.categories import CATEGORIES, FIRST_TIME_PRESCRIPTION
from shared.consent import CHANNELS, CONSENT_VALUES
from shared.fields import (
    ExportFormat,
    ExternalId,
    Money,
    PatchSchema,
    Phone,
    Proportion,
    QuerySchema,
    StrictSchema,
    Text,
    UtcDateTime,
)
from shared.ids import MAX_ID
from shared.web import PageArgs, page_schema, runtime

GENDERS = ("female", "male", "other", "undisclosed")
#: The addresses taken: a dot-separated ASCII local part, a domain with a top-level part of letters
#: (a subset of what marshmallow's Email accepts, written so OpenAPI can say it).
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)
# Optional text a client clears with null or "".
CLEARABLE_TEXT = ("name", "email", "gender", "address", "primary_doctor", "special_notes")


def _condition_list():
    return ma.fields.List(Text(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=50))


class _ProfileFields(StrictSchema):
    """What staff may set on a profile; counters and links come from bills and conversions."""

    name = Text(allow_none=True, validate=validate.Length(max=200))
    # A String with the Email validator, not ma.fields.Email: the spec then says the pattern (what is
    # accepted, a subset of what the validator takes), not JSON Schema's looser ``format: email``.
    email = ma.fields.String(
        allow_none=True, validate=[validate.Length(max=254), validate.Email(), validate.Regexp(EMAIL_PATTERN)]
    )
    age = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=130))
    gender = ma.fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    address = Text(allow_none=True, validate=validate.Length(max=1000))
    chronic_conditions = _condition_list()
    allergies = _condition_list()
    primary_doctor = Text(allow_none=True, validate=validate.Length(max=200))
    category = ma.fields.String(validate=validate.OneOf(CATEGORIES))
    prefers_generic = ma.fields.Boolean()
    generic_education_given = ma.fields.Boolean()
    special_notes = Text(allow_none=True, validate=validate.Length(max=4000))

    @ma.post_load
    def _tidy(self, data, **_kwargs):
        for key in CLEARABLE_TEXT:
            if data.get(key) == "":
                data[key] = None
        if data.get("email"):
            data["email"] = data["email"].strip()
        for key in ("chronic_conditions", "allergies"):
            if key in data:
                data[key] = list(dict.fromkeys(data[key]))  # drop repeats, keep the order given
        return data


class CustomerInSchema(_ProfileFields):
    """A profile entered by hand (``category`` defaults to ``first_time_prescription``)."""

    phone = Phone(required=True)
    # Not defaulted here: only a category staff actually chose stands against a same-day bill.
    category = ma.fields.String(validate=validate.OneOf(CATEGORIES), metadata={"default": FIRST_TIME_PRESCRIPTION})
    prefers_generic = ma.fields.Boolean(load_default=False)
    generic_education_given = ma.fields.Boolean(load_default=False)


class CustomerPatchSchema(_ProfileFields, PatchSchema):
    """Any subset of the editable fields; at least one."""

    phone = Phone()


class ConsentChannelsSchema(ma.Schema):
    """Per channel what the phone's owner said: ``granted``, ``declined`` or ``unknown`` (never asked)."""

    whatsapp = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})
    call = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})
    sms = ma.fields.String(required=True, metadata={"enum": list(CONSENT_VALUES)})


class CategoryChangeSchema(ma.Schema):
    category = ma.fields.String(metadata={"enum": list(CATEGORIES)})
    since = ma.fields.Date(metadata={"description": "the bill's date, or the pharmacy day staff chose it"})
    source = ma.fields.String(metadata={"enum": ["bill", "staff"]})
    bill_id = ExternalId(metadata={"description": "only when a bill gave the category"})


class CustomerListItemSchema(ma.Schema):
    id = ma.fields.Integer()
    phone = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    category = ma.fields.String()
    total_visits = ma.fields.Integer()
    total_purchases = Money()
    first_visit_date = ma.fields.Date(allow_none=True)
    last_visit_date = ma.fields.Date(allow_none=True)
    prefers_generic = ma.fields.Boolean()
    consent = ma.fields.Nested(ConsentChannelsSchema)


class CustomerSchema(CustomerListItemSchema):
    """The full profile, medical fields included."""

    email = ma.fields.String(allow_none=True)
    age = ma.fields.Integer(allow_none=True)
    gender = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    chronic_conditions = ma.fields.List(ma.fields.String())
    allergies = ma.fields.List(ma.fields.String())
    primary_doctor = ma.fields.String(allow_none=True)
    generic_education_given = ma.fields.Boolean()
    generic_education_given_on = ma.fields.Date(allow_none=True)
    special_notes = ma.fields.String(allow_none=True)
    total_generic_savings = Money(metadata={"description": "what choosing generics saved, all purchases"})
    category_history = ma.fields.List(
        ma.fields.Nested(CategoryChangeSchema), metadata={"description": "oldest first, one entry per change"}
    )
    contact_record_id = ExternalId(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class PhonePathSchema(ma.Schema):
    """``/by-phone/{phone}``: a phone in any common written form, loaded as E.164."""

    phone = Phone(required=True, metadata={"description": "a phone in any common written form"})


class CustomerQuerySchema(PageArgs, QuerySchema):
    category = ma.fields.String(load_default=None, validate=validate.OneOf(("all", *CATEGORIES)))
    q = ma.fields.String(load_default=None, validate=validate.Length(max=100))


class PurchaseQuerySchema(PageArgs, QuerySchema):
    pass


class PurchaseSchema(ma.Schema):
    id = ma.fields.Integer()
    bill_id = ExternalId()
    purchase_date = ma.fields.Date()
    medicine_name = ma.fields.String()
    is_generic = ma.fields.Boolean()
    quantity = ma.fields.Integer()
    amount = Money()
    branded_price = Money(allow_none=True, metadata={"description": "generics: the branded equivalent's price"})
    savings = Money(allow_none=True, metadata={"description": "generics: branded_price − amount, never negative"})
    duration_days = ma.fields.Integer(allow_none=True)
    refill_due_date = ma.fields.Date(allow_none=True)


class Instant(ma.fields.String):
    """An ISO date-time (UTC when it has no offset) or a date, a date meaning the start of that day
    in the pharmacy's time zone, or with ``end_of_day`` the start of the next (an inclusive end)."""

    def __init__(self, end_of_day: bool = False, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault(
            "anyOf", [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
        )
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text) + dt.timedelta(days=1 if self.end_of_day else 0)
                return dt.datetime.combine(day, dt.time(), ZoneInfo(runtime().settings.pharmacy_tz))
            instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError("not an ISO date or date-time") from None
        return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


class AuditQuerySchema(PageArgs, QuerySchema):
    subject = ma.fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "customer id"}
    )
    user = ma.fields.String(
        load_default=None, validate=validate.Length(min=1, max=100), metadata={"description": "user id or username"}
    )
    from_ = Instant(
        data_key="from",
        load_default=None,
        metadata={"description": "date (pharmacy time zone) or date-time, inclusive"},
    )
    to = Instant(
        end_of_day=True, load_default=None, metadata={"description": "date (inclusive) or date-time (exclusive)"}
    )


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    at = UtcDateTime()
    user_id = ma.fields.Integer(allow_none=True)
    username = ma.fields.String(allow_none=True)
    role = ma.fields.String(allow_none=True)
    customer_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    fields_changed = ma.fields.List(ma.fields.String(), allow_none=True)
    request_id = ma.fields.String(allow_none=True)


class CustomerExportQuerySchema(QuerySchema):
    format = ExportFormat()
    category = ma.fields.String(load_default=None, validate=validate.OneOf(("all", *CATEGORIES)))
    q = ma.fields.String(load_default=None, validate=validate.Length(max=100))


class AdherenceQuerySchema(QuerySchema):
    days = ma.fields.Integer(
        load_default=180, validate=validate.Range(min=1, max=730), metadata={"description": "the period, up to today"}
    )


class MedicineAdherenceSchema(ma.Schema):
    medicine_name = ma.fields.String()
    period_start = ma.fields.Date(metadata={"description": "the first fill in the period, or its first day"})
    period_days = ma.fields.Integer()
    days_covered = ma.fields.Integer()
    pdc = Proportion(metadata={"description": "proportion of days covered, 0.00 to 1.00"})


class AdherenceSchema(ma.Schema):
    customer_id = ma.fields.Integer()
    period_days = ma.fields.Integer()
    as_of = ma.fields.Date(metadata={"description": "today in the pharmacy's time zone"})
    medicines = ma.fields.List(ma.fields.Nested(MedicineAdherenceSchema), metadata={"description": "lowest PDC first"})


class ConsentSchema(ConsentChannelsSchema):
    phone = ma.fields.String(metadata={"description": "E.164"})
    updated_at = UtcDateTime(allow_none=True, metadata={"description": "null when never recorded"})
    source = ma.fields.String(allow_none=True, metadata={"description": "where it was last given or withdrawn"})


class ConsentInSchema(StrictSchema):
    """The channels the owner answered for (the others keep their value) and where they said it."""

    # ``source`` and at least one channel (the only other fields there are).
    openapi_extra: ClassVar[dict[str, Any]] = {"minProperties": 2}

    whatsapp = ma.fields.String(validate=validate.OneOf(CONSENT_VALUES))
    call = ma.fields.String(validate=validate.OneOf(CONSENT_VALUES))
    sms = ma.fields.String(validate=validate.OneOf(CONSENT_VALUES))
    source = Text(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "where it was given, e.g. counter, phone call, reply STOP"},
    )

    @ma.validates_schema
    def _some_channel(self, data, **_kwargs):
        if not any(channel in data for channel in CHANNELS):
            raise ma.ValidationError("give at least one of whatsapp, call, sms", field_name="whatsapp")


class ConsentChangeSchema(ConsentChannelsSchema):
    id = ma.fields.Integer()
    phone = ma.fields.String()
    source = ma.fields.String()
    changed_at = UtcDateTime()
    changed_by = ma.fields.Integer(allow_none=True)
    changed_by_username = ma.fields.String(allow_none=True)


class ConsentHistoryQuerySchema(PageArgs, QuerySchema):
    pass


CustomerPageSchema = page_schema(CustomerListItemSchema)
ConsentChangePageSchema = page_schema(ConsentChangeSchema)
PurchasePageSchema = page_schema(PurchaseSchema)
AuditPageSchema = page_schema(AuditEntrySchema)
