"""Reporting's HTTP schemas: the window query and the four report bodies."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.categories import CATEGORIES
from shared.fields import ExternalId, Money, QuerySchema

from .rules import WINDOWS

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


class StaffFiguresSchema(ma.Schema):
    staff_id = ExternalId(metadata={"description": "the staff member's id (integer when numeric)"})
    name = ma.fields.String(allow_none=True)
    assigned = ma.fields.Integer(metadata={"description": "contacts assigned to them by uploads in the window"})
    contacted = ma.fields.Integer(metadata={"description": "their contacts that first left pending in the window"})
    converted = ma.fields.Integer(metadata={"description": "their contacts converted in the window"})
    conversion_rate = ma.fields.Float(metadata={"description": RATE})
    conversion_value = Money()
    interactions = ma.fields.Integer(metadata={"description": "contact status changes they made in the window"})


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
