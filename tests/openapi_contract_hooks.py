"""Schemathesis hooks of ``tests/test_e2e_openapi_contract.py`` (its CLI run loads them through ``hooks``).

They teach the generator what JSON Schema cannot say, and keep the run meaningful; each says why:

- ``format: phone`` (``shared.fields.Phone``): the strings libphonenumber takes for a valid number
  in the default region, written in the common forms the API documents. A pattern cannot say
  "a valid number", so without this most schema-valid phones would be (rightly) refused. The
  coverage phase builds strings from the pattern alone; one that has the documented shape but
  is no valid number is replaced by a valid number written the same way.
- A bill's date must lie between 2000-01-01 and tomorrow in the pharmacy's time zone: a rule
  relative to today that a schema cannot state. A valid date outside it is moved to today.
- ``assigned_to`` of a contact must be an active staff member: a generated id becomes the seeded
  staff member's (``CONTRACT_STAFF_ID``).
- The run signs every request as one admin (``CONTRACT_ADMIN_ID``); a PATCH of that very account
  could disable or demote it (or change its password) once a generated second admin exists,
  after which every answer would be a 401 and the rest of the run would test nothing. That
  PATCH, and one of the seeded staff member (who must stay active, see above), is sent to an id
  that does not exist instead (still a valid request: 404).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo

import schemathesis
from hypothesis import strategies as st

from shared.fields import PHONE_PATTERN
from shared.ids import MAX_ID
from shared.phones import InvalidPhone, to_e164

REGION = os.environ.get("DEFAULT_PHONE_REGION", "IN")
PHARMACY_TZ = ZoneInfo(os.environ.get("PHARMACY_TZ", "Asia/Kolkata"))
ADMIN_ID = int(os.environ["CONTRACT_ADMIN_ID"])
STAFF_ID = int(os.environ["CONTRACT_STAFF_ID"])
EARLIEST_BILL_DATE = dt.date(2000, 1, 1)
PROTECTED = {str(ADMIN_ID), str(STAFF_ID)}
PHONE_FIELDS = ("phone", "customer_phone")
A_VALID_PHONE = "+91 98765 43210"


def _valid(phone: str) -> bool:
    try:
        to_e164(phone, REGION)
    except InvalidPhone:
        return False
    return True


_subscriber = st.from_regex(r"[6-9][0-9]{9}", fullmatch=True)
_written = st.one_of(
    _subscriber,
    _subscriber.map(lambda n: f"+91{n}"),
    _subscriber.map(lambda n: f"+91 {n[:5]} {n[5:]}"),
    _subscriber.map(lambda n: f"0{n[:5]}-{n[5:]}"),
    _subscriber.map(lambda n: f"(+91) {n[:5]}.{n[5:]}"),
)
schemathesis.openapi.format("phone", _written.filter(_valid))


def _valid_phones(values) -> None:
    """Replace, in place, phones of the documented shape that are not valid numbers."""
    if not isinstance(values, dict):
        return
    for name in PHONE_FIELDS:
        value = values.get(name)
        if isinstance(value, str) and re.fullmatch(PHONE_PATTERN, value) and not _valid(value):
            values[name] = A_VALID_PHONE


@schemathesis.hook
def before_call(context, case, kwargs):
    operation = (case.operation.method.upper(), case.operation.path)
    body = case.body if isinstance(case.body, dict) else None
    for values in (case.path_parameters, case.query, body):
        _valid_phones(values)
    staff_id = str((case.path_parameters or {}).get("staff_id"))
    if operation == ("PATCH", "/api/v1/staff/{staff_id}") and staff_id in PROTECTED:
        case.path_parameters["staff_id"] = MAX_ID
    elif operation == ("POST", "/api/v1/bills") and body is not None and isinstance(body.get("bill_date"), str):
        try:
            day = dt.date.fromisoformat(body["bill_date"])
        except ValueError:
            return  # not a date: the case is about that
        today = dt.datetime.now(PHARMACY_TZ).date()
        if not EARLIEST_BILL_DATE <= day <= today:
            body["bill_date"] = today.isoformat()
    elif operation == ("PATCH", "/api/v1/contacts/{contact_id}") and body is not None:
        assigned = body.get("assigned_to")
        if isinstance(assigned, int) and not isinstance(assigned, bool) and 1 <= assigned <= MAX_ID:
            body["assigned_to"] = STAFF_ID
