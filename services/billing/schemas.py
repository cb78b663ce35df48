"""Billing's HTTP schemas (validation, serialization and OpenAPI from one place)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.categories import CATEGORIES
from shared.fields import Money, Phone, QuerySchema, StrictSchema, Text, UtcDateTime
from shared.web import PageArgs, page_schema


class BillItemInSchema(StrictSchema):
    medicine_name = Text(required=True, validate=validate.Length(min=1, max=200))
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    amount = Money(required=True)
    is_generic = ma.fields.Boolean(load_default=False)
    duration_days = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=3650))


class BillInSchema(StrictSchema):
    customer_phone = Phone(required=True)
    customer_name = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    customer_category = ma.fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    was_contacted_before = ma.fields.Boolean(load_default=False)
    visited_no_purchase = ma.fields.Boolean(load_default=False)
    bill_date = ma.fields.Date(load_default=None)
    items = ma.fields.List(ma.fields.Nested(BillItemInSchema), load_default=list, validate=validate.Length(max=500))


class BillItemSchema(ma.Schema):
    id = ma.fields.Integer()
    line_no = ma.fields.Integer()
    medicine_name = ma.fields.String()
    is_generic = ma.fields.Boolean()
    quantity = ma.fields.Integer()
    amount = Money()
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
