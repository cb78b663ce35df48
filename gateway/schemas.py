"""The gateway's HTTP schemas: sign-in, staff, dead-letter overview.

The overview's query is the services' own ``shared.dead_letters_api.DeadLetterQuerySchema``
(the gateway forwards it to each of them).
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shared.fields import PatchSchema, QuerySchema, StrictSchema, Text, UtcDateTime
from shared.web import PageArgs, page_schema

from .models import ROLES
from .staff import MIN_PASSWORD_LENGTH

USERNAME = validate.Regexp(r"^[A-Za-z0-9._@-]{2,64}$", error="2-64 letters, digits or . _ @ - (no spaces)")
PASSWORD = validate.Length(min=MIN_PASSWORD_LENGTH, max=1024)


class LoginSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=1024))


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    role = ma.fields.String()


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    user = ma.fields.Nested(UserSchema)


class StaffSchema(UserSchema):
    active = ma.fields.Boolean()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class StaffInSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=USERNAME)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    password = ma.fields.String(required=True, validate=PASSWORD)
    role = ma.fields.String(load_default="staff", validate=validate.OneOf(ROLES))


class StaffPatchSchema(PatchSchema):
    name = Text(validate=validate.Length(min=1, max=200))
    active = ma.fields.Boolean()
    password = ma.fields.String(validate=PASSWORD)
    role = ma.fields.String(validate=validate.OneOf(ROLES))


class StaffQuerySchema(PageArgs, QuerySchema):
    active = ma.fields.Boolean(load_default=None)
    role = ma.fields.String(load_default=None, validate=validate.OneOf(ROLES))


StaffPageSchema = page_schema(StaffSchema)


class ServiceDeadLettersSchema(ma.Schema):
    available = ma.fields.Boolean()
    detail = ma.fields.String()
    total = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Dict())


class DeadLetterOverviewSchema(ma.Schema):
    services = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ServiceDeadLettersSchema))
    total = ma.fields.Integer()
