"""Customers' HTTP schemas (validation, serialization and OpenAPI from one place)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import validate

from shared.categories import CATEGORIES, FIRST_TIME_PRESCRIPTION
from shared.fields import ExternalId, Money, Phone, QuerySchema, StrictSchema, Text, UtcDateTime
from shared.ids import MAX_ID
from shared.web import PageArgs, page_schema, runtime

GENDERS = ("female", "male", "other", "undisclosed")
# Optional text a client clears with null or "".
CLEARABLE_TEXT = ("name", "email", "gender", "address", "primary_doctor", "special_notes")


def _condition_list():
    return ma.fields.List(Text(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=50))


class _ProfileFields(StrictSchema):
    """What staff may set on a profile; counters and links come from bills and conversions."""

    name = Text(allow_none=True, validate=validate.Length(max=200))
    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=254))
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
    category = ma.fields.String(load_default=FIRST_TIME_PRESCRIPTION, validate=validate.OneOf(CATEGORIES))
    prefers_generic = ma.fields.Boolean(load_default=False)
    generic_education_given = ma.fields.Boolean(load_default=False)


class CustomerPatchSchema(_ProfileFields):
    """Any subset of the editable fields; at least one."""

    phone = Phone()

    @ma.validates_schema
    def _not_empty(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("give at least one field to change", "_schema")


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
    special_notes = ma.fields.String(allow_none=True)
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
    duration_days = ma.fields.Integer(allow_none=True)
    refill_due_date = ma.fields.Date(allow_none=True)


class Instant(ma.fields.String):
    """An ISO date-time (UTC when it has no offset) or a date, a date meaning the start of that day
    in the pharmacy's time zone, or with ``end_of_day`` the start of the next (an inclusive end)."""

    def __init__(self, end_of_day: bool = False, **kwargs):
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


CustomerPageSchema = page_schema(CustomerListItemSchema)
PurchasePageSchema = page_schema(PurchaseSchema)
AuditPageSchema = page_schema(AuditEntrySchema)
