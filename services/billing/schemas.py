"""Billing's HTTP schemas (validation, serialization and OpenAPI from one place)."""

from __future__ import annotations

from typing import ClassVar

import marshmallow as ma
from marshmallow import validate

from shared.categories import CATEGORIES
from shared.fields import Money, Phone, QuerySchema, StrictSchema, Text, UtcDateTime
from shared.web import PageArgs, page_schema


class BillItemInSchema(StrictSchema):
    medicine_name = Text(required=True, validate=validate.Length(min=1, max=200))
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    # At most 500 lines of 9,999,999.99 keep the bill's total within its NUMERIC(12, 2) column.
    amount = Money(required=True, integer_digits=7)
    is_generic = ma.fields.Boolean(load_default=False)
    branded_price = Money(
        load_default=None,
        allow_none=True,
        integer_digits=7,
        metadata={"description": "generics only: what the branded equivalent of the same quantity costs"},
    )
    duration_days = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=3650))


class BillInSchema(StrictSchema):
    # A purchase has items; a visit without purchase has none (check_bill's rule).
    openapi_extra: ClassVar[dict] = {
        "anyOf": [
            {
                "required": ["items"],
                "properties": {"visited_no_purchase": {"enum": [False]}, "items": {"minItems": 1}},
            },
            {
                "required": ["visited_no_purchase"],
                "properties": {"visited_no_purchase": {"enum": [True]}, "items": {"maxItems": 0}},
            },
        ]
    }

    customer_phone = Phone(required=True)
    customer_name = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    customer_category = ma.fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    was_contacted_before = ma.fields.Boolean(load_default=False)
    visited_no_purchase = ma.fields.Boolean(load_default=False)
    bill_date = ma.fields.Date(
        load_default=None,
        metadata={"description": "from 2000-01-01 to tomorrow (pharmacy time zone); default today"},
    )
    items = ma.fields.List(ma.fields.Nested(BillItemInSchema), load_default=list, validate=validate.Length(max=500))


class BillItemSchema(ma.Schema):
    id = ma.fields.Integer()
    line_no = ma.fields.Integer()
    medicine_name = ma.fields.String()
    is_generic = ma.fields.Boolean()
    quantity = ma.fields.Integer()
    amount = Money()
    branded_price = Money(allow_none=True)
    savings = Money(allow_none=True, metadata={"description": "branded_price − amount, never negative (generics)"})
    duration_days = ma.fields.Integer(allow_none=True)


class BillSchema(ma.Schema):
    id = ma.fields.Integer()
    bill_number = ma.fields.String()
    bill_date = ma.fields.Date()
    customer_phone = ma.fields.String()
    customer_name = ma.fields.String(allow_none=True)
    customer_category = ma.fields.String()
    was_contacted_before = ma.fields.Boolean()
    visited_no_purchase = ma.fields.Boolean()
    total_amount = Money()
    created_by = ma.fields.Integer(allow_none=True)
    created_at = UtcDateTime()
    items = ma.fields.List(ma.fields.Nested(BillItemSchema))


class BillQuerySchema(PageArgs, QuerySchema):
    phone = Phone(load_default=None)
    from_ = ma.fields.Date(data_key="from", load_default=None)
    to = ma.fields.Date(load_default=None)


BillPageSchema = page_schema(BillSchema)
