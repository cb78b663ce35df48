"""Reporting's HTTP schemas: the window, export and adherence queries and the report bodies."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from marshmallow import validate

from shared.categories import CATEGORIES
from shared.fields import ExportFormat, ExternalId, Money, Proportion, QuerySchema, UtcDateTime
from shared.web import PageArgs

from .rules import ADHERENCE_WINDOWS, DEFAULT_ADHERENCE_DAYS, WINDOWS

RATE = "a percentage rounded half-up to two decimals, as a JSON number (57.14, 12.5, 0); 0 when the divisor is 0"


class ReportQuerySchema(QuerySchema):
    window = ma.fields.String(
        load_default="all",
        validate=validate.OneOf(WINDOWS),
        metadata={
            "description": "7d, 30d or 90d: today and the days before it, in the pharmacy's time zone; "
            "all: everything up to today"
        },
    )


class ListReportQuerySchema(ReportQuerySchema, PageArgs):
    pass


class ExportQuerySchema(ReportQuerySchema):
    format = ExportFormat()


def _between_zero_and_one(value: Decimal) -> None:
    # Not validate.Range: apispec would write its bounds as the field's strings ("1.00").
    if not Decimal(0) <= value <= Decimal(1):
        raise ma.ValidationError("must be between 0 and 1")


class AdherenceQuerySchema(QuerySchema):
    # Not rounded on the way in: -0.001 or 1.004 are refused, not taken as 0.00 or 1.00.
    threshold = ma.fields.Decimal(
        load_default=Decimal("0.80"),
        validate=_between_zero_and_one,
        allow_nan=False,
        metadata={
            "description": "list (customer, medicine) pairs whose PDC is below this, 0 to 1",
            "type": "number",
            "default": 0.8,
            "minimum": 0,
            "maximum": 1,
        },
    )
    days = ma.fields.Integer(
        load_default=DEFAULT_ADHERENCE_DAYS,
        validate=validate.OneOf(ADHERENCE_WINDOWS),
        metadata={"description": "the PDC window in days up to today: " + ", ".join(map(str, ADHERENCE_WINDOWS))},
    )


class AdherencePageQuerySchema(AdherenceQuerySchema, PageArgs):
    pass


class AdherenceExportQuerySchema(AdherenceQuerySchema):
    format = ExportFormat()


class _WindowSchema(ma.Schema):
    window = ma.fields.String()
    from_ = ma.fields.Date(
        data_key="from", attribute="from", allow_none=True, metadata={"description": "first day (null for all)"}
    )
    to = ma.fields.Date(metadata={"description": "last day: today in the pharmacy's time zone"})


class ConversionReportSchema(_WindowSchema):
    total_contacts = ma.fields.Integer(metadata={"description": "contacts imported by uploads in the window"})
    contacted = ma.fields.Integer(metadata={"description": "contacts that first left pending in the window"})
    converted = ma.fields.Integer(metadata={"description": "contacts converted in the window"})
    conversion_rate = ma.fields.Float(metadata={"description": "converted / contacted × 100: " + RATE})
    total_conversion_value = Money()
    average_conversion_value = Money(metadata={"description": "total value / converted"})


class InteractionsByTypeSchema(ma.Schema):
    call = ma.fields.Integer()
    whatsapp = ma.fields.Integer()
    visit = ma.fields.Integer()
    email = ma.fields.Integer()


class StaffFiguresSchema(ma.Schema):
    staff_id = ExternalId(metadata={"description": "the staff member's id (integer when numeric)"})
    name = ma.fields.String(allow_none=True)
    assigned = ma.fields.Integer(metadata={"description": "contacts assigned to them by uploads in the window"})
    contacted = ma.fields.Integer(metadata={"description": "their contacts that first left pending in the window"})
    converted = ma.fields.Integer(metadata={"description": "their contacts converted in the window"})
    conversion_rate = ma.fields.Float(metadata={"description": RATE})
    conversion_value = Money()
    interactions = ma.fields.Integer(metadata={"description": "interactions they logged in the window (every type)"})
    interactions_by_type = ma.fields.Nested(
        InteractionsByTypeSchema, metadata={"description": "interactions they logged in the window, per type"}
    )
    refill_whatsapp_sent = ma.fields.Integer(metadata={"description": "refill reminders they sent a WhatsApp for"})
    refill_calls = ma.fields.Integer(metadata={"description": "refill reminders they called about"})
    refills_responded = ma.fields.Integer(metadata={"description": "refill responses they recorded"})
    refills_purchased = ma.fields.Integer(
        metadata={"description": "reminders they worked (WhatsApp, call or response) that were then purchased"}
    )
    refill_recovered_value = Money(metadata={"description": "the amounts of the purchases that closed those"})


class StaffReportSchema(_WindowSchema):
    items = ma.fields.List(ma.fields.Nested(StaffFiguresSchema))


class CategoryFiguresSchema(ma.Schema):
    category = ma.fields.String(validate=validate.OneOf(CATEGORIES))
    customers = ma.fields.Integer(metadata={"description": "new customers: first visit in the window"})
    bills = ma.fields.Integer(metadata={"description": "bills dated in the window (visits without purchase included)"})
    sales = Money(metadata={"description": "total of those bills"})


class CategoryReportSchema(_WindowSchema):
    items = ma.fields.List(ma.fields.Nested(CategoryFiguresSchema))


class RefillReportSchema(_WindowSchema):
    due = ma.fields.Integer(metadata={"description": "refill reminders whose date falls in the window"})
    contacted = ma.fields.Integer(metadata={"description": "of those, sent a WhatsApp or called"})
    responded = ma.fields.Integer()
    purchased = ma.fields.Integer()
    recovery_rate = ma.fields.Float(metadata={"description": "purchased / due × 100: " + RATE})


class ListFiguresSchema(ma.Schema):
    upload_id = ExternalId(metadata={"description": "the contact list (upload)"})
    list_name = ma.fields.String(allow_none=True)
    uploaded_at = UtcDateTime(allow_none=True)
    contacts = ma.fields.Integer(metadata={"description": "contacts it imported, if uploaded in the window"})
    contacted = ma.fields.Integer(metadata={"description": "its contacts that first left pending in the window"})
    converted = ma.fields.Integer(metadata={"description": "its contacts converted in the window"})
    conversion_rate = ma.fields.Float(metadata={"description": "converted / contacted × 100: " + RATE})
    conversion_value = Money()


class ListReportSchema(_WindowSchema):
    items = ma.fields.List(ma.fields.Nested(ListFiguresSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()


class ConversionDaySchema(ma.Schema):
    date = ma.fields.Date(metadata={"description": "a pharmacy day"})
    contacted = ma.fields.Integer()
    converted = ma.fields.Integer()
    conversion_value = Money()


class DailyConversionReportSchema(_WindowSchema):
    days = ma.fields.List(
        ma.fields.Nested(ConversionDaySchema),
        metadata={"description": "one row per day of the window, oldest first (all: from the first day with data)"},
    )


class GenericsReportSchema(_WindowSchema):
    generic_items = ma.fields.Integer(metadata={"description": "generic lines bought in the window"})
    branded_items = ma.fields.Integer(metadata={"description": "branded lines bought in the window"})
    generic_share = ma.fields.Float(metadata={"description": "generic / all lines × 100: " + RATE})
    generic_sales = Money()
    savings = Money(metadata={"description": "branded price minus price paid, over the generic lines"})
    customers_educated = ma.fields.Integer(metadata={"description": "generics education recorded in the window"})
    educated_then_generic = ma.fields.Integer(
        metadata={"description": "educated customers whose first generic on or after it falls in the window"}
    )


class ConsentReportSchema(ma.Schema):
    phones = ma.fields.Integer(metadata={"description": "phones whose consent was ever recorded"})
    whatsapp_declined = ma.fields.Integer(metadata={"description": "of them, declining WhatsApp now"})
    call_declined = ma.fields.Integer(metadata={"description": "declining calls now"})
    sms_declined = ma.fields.Integer(metadata={"description": "declining SMS now"})
    declined_every_channel = ma.fields.Integer(metadata={"description": "declining every channel now"})


class AdherenceItemSchema(ma.Schema):
    customer_id = ExternalId()
    name = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    medicine_name = ma.fields.String(allow_none=True)
    pdc = Proportion(metadata={"description": "proportion of days covered"})
    as_of = ma.fields.Date(allow_none=True, metadata={"description": "the day the PDC was computed for"})


class AdherenceReportSchema(ma.Schema):
    threshold = Proportion()
    days = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(AdherenceItemSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
