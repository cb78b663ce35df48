"""Typed events: one frozen dataclass per event type of the contract (EVENTS.md).

Each class holds the type string (``TYPE``, written nowhere else), its ``data`` fields with Python
types (``Decimal`` money, ``date``, aware UTC ``datetime``, E.164 phone ``str``, nested item
dataclasses), ``load`` to parse a received event and ``to_data`` to publish one. Parsing is
driven by the field annotations, so a field is declared once and read the same way everywhere;
``shared/tests/unit/test_events.py`` proves each class and its JSON Schema in ``event_schemas/``
accept and reject the same documents.

Publish with ``tables.add_event(session, BillCreated(...))``; a consumer's handler receives the
loaded event and an ``EventContext`` (``shared.consumer``).

Wire rules (mirroring the schemas): ids are JSON integers or strings (``Id``); integers are never
booleans (``1.0`` counts as ``1``, as in JSON Schema); money is a string with two decimals,
optionally negative; dates are ``YYYY-MM-DD``; instants RFC 3339 with an offset. Fields with a
default are optional: absent (or null) on the wire, and left out of ``to_data`` when None, so
adding one is not a breaking change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar, Union
from zoneinfo import ZoneInfo

from .categories import CATEGORIES
from .envelope import InvalidEvent, isoformat_utc
from .money import CENTS


# -- constraints beyond the Python type (read from ``Annotated``) ----------------------------------
@dataclass(frozen=True)
class Matches:
    """The text matches ``pattern`` whole (ASCII digits only, no trailing newline)."""

    pattern: str
    meaning: str

    def check(self, value: str) -> None:
        if not re.fullmatch(self.pattern, value, re.ASCII):
            raise ValueError(f"{value!r} is not {self.meaning}")


@dataclass(frozen=True)
class MinLength:
    """The text has at least ``length`` characters."""

    length: int

    def check(self, value: str) -> None:
        if len(value) < self.length:
            raise ValueError(f"{value!r} is shorter than {self.length}")


@dataclass(frozen=True)
class OneOf:
    """The text is one of ``choices`` (an enumeration of the contract)."""

    choices: tuple[str, ...]

    def check(self, value: str) -> None:
        if value not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(self.choices)}")


@dataclass(frozen=True)
class Minimum:
    """The number is at least ``minimum``."""

    minimum: int

    def check(self, value: int) -> None:
        if value < self.minimum:
            raise ValueError(f"{value} is less than {self.minimum}")


Id = int | str  # ids owned by a publisher: integers or strings (shared.ids stores them as text)
Phone = Annotated[str, Matches(r"\+[1-9][0-9]{6,14}", "an E.164 phone number")]
MedicineName = Annotated[str, MinLength(1)]
Days = Annotated[int, Minimum(0)]
# Enumerations are plain ``str`` in Python (the services keep them in text columns), checked on load.
Category = Annotated[str, OneOf(CATEGORIES)]
Role = Annotated[str, OneOf(("admin", "staff"))]
InteractionType = Annotated[str, OneOf(("call", "whatsapp", "visit", "email"))]
#: A phone owner's answer for one channel; ``unknown`` until they say.
ConsentValue = Annotated[str, OneOf(("granted", "declined", "unknown"))]

_MONEY = re.compile(r"-?[0-9]+\.[0-9]{2}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# RFC 3339 date-time (what the schemas' ``format: date-time`` accepts); leap seconds are not.
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])",
    re.ASCII,
)


# -- values: wire -> Python -> wire -------------------------------------------------------------
def parse_money(value: object) -> Decimal:
    """A money string (``"12.50"``, ``"-3.00"``) as Decimal; ValueError for anything else."""
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        raise ValueError(f"{value!r} is not an amount with two decimals")
    return Decimal(value)


def money_text(amount: Decimal) -> str:
    """Money on the wire: two decimals when that is exact (``10`` -> ``"10.00"``), never rounded."""
    try:
        cents = amount.quantize(CENTS)
    except InvalidOperation:
        return f"{amount:f}"
    return f"{cents:f}" if cents == amount else f"{amount:f}"


def parse_date(value: object) -> dt.date:
    """A ``YYYY-MM-DD`` calendar date; ValueError for anything else (``20260201`` included)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError(f"{value!r} is not a YYYY-MM-DD date")
    return dt.date.fromisoformat(value)


def parse_instant(value: object) -> dt.datetime:
    """An RFC 3339 instant (offset required) as aware UTC; ValueError for anything else.

    (At the calendar's very edge, where UTC would leave year 1..9999, it keeps its own offset.)
    """
    if not isinstance(value, str) or not _INSTANT.fullmatch(value.upper()):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time with an offset")
    text = value.upper().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python reads at most microseconds; RFC 3339 allows any number of digits
        digits = rest[:-6]
        text = f"{head}.{(digits + '000000')[:6]}{rest[-6:]}"
    instant = dt.datetime.fromisoformat(text)
    try:
        return instant.astimezone(dt.UTC)
    except OverflowError:
        return instant


class _Bad(ValueError):
    """A value that breaks the contract, with the path of the field it sits in."""

    def __init__(self, path: list[str | int], message: str):
        super().__init__(message)
        self.path, self.message = path, message


def _at(key: str | int, exc: ValueError) -> _Bad:
    """``exc`` one level further down (inside ``key``)."""
    if isinstance(exc, _Bad):
        return _Bad([key, *exc.path], exc.message)
    return _Bad([key], str(exc))


def _decode(hint: Any, value: object) -> Any:
    """``value`` from the JSON wire as the Python value of annotation ``hint``; ValueError if not."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *marks = typing.get_args(hint)
        decoded = _decode(base, value)
        for mark in marks:
            mark.check(decoded)
        return decoded
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        problems = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, value)
            except ValueError as exc:
                problems.append(str(exc))
        raise ValueError("; ".join(problems))
    if origin is Literal:
        if isinstance(value, str) and value in typing.get_args(hint):
            return value
        raise ValueError(f"{value!r} is not one of {', '.join(typing.get_args(hint))}")
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{value!r} is not a list")
        (item,) = typing.get_args(hint)
        elements = []
        for index, element in enumerate(value):
            try:
                elements.append(_decode(item, element))
            except ValueError as exc:
                raise _at(index, exc) from None
        return elements
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{value!r} is not an object")
        _key, item = typing.get_args(hint)
        entries = {}
        for key, entry in value.items():
            try:
                entries[str(key)] = _decode(item, entry)
            except ValueError as exc:
                raise _at(str(key), exc) from None
        return entries
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{value!r} is not a boolean")
    if hint is int:
        # JSON Schema: booleans are not integers, 1.0 is one.
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"{value!r} is not an integer")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"{value!r} is not a string")
    if hint is Decimal:
        return parse_money(value)
    if hint is dt.datetime:
        return parse_instant(value)
    if hint is dt.date:
        return parse_date(value)
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint._decode_fields(value)
    raise TypeError(f"no wire form for {hint!r}")


def _encode(value: Any) -> Any:
    """A Python value of an event field as its JSON-ready wire value."""
    if isinstance(value, Record):
        return value.to_data()
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, dt.datetime):
        return isoformat_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


_FIELDS: dict[type, tuple[tuple[str, Any, bool], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """``(name, annotation, required)`` of each field of a record class (read once per class)."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls, include_extras=True)
        _FIELDS[cls] = tuple(
            (
                f.name,
                hints[f.name],
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)
        )
    return _FIELDS[cls]


# -- records and events -------------------------------------------------------------------------
class Record:
    """A frozen dataclass read from and written to JSON by its field annotations."""

    @classmethod
    def fields(cls) -> tuple[tuple[str, Any, bool], ...]:
        """``(name, annotation, required)`` of every field, in declaration order."""
        return _fields(cls)

    @classmethod
    def load_data(cls, data: Mapping[str, Any]) -> Self:
        """Parse a ``data`` object; raise InvalidEvent naming the first field that breaks the contract."""
        try:
            return cls._decode_fields(data)
        except _Bad as exc:
            where = "/".join(str(p) for p in exc.path) or "(root)"
            raise InvalidEvent(f"{cls.what()} invalid at {where}: {exc.message}") from None

    @classmethod
    def what(cls) -> str:
        """How error messages name this record."""
        return cls.__name__

    @classmethod
    def _decode_fields(cls, data: object) -> Self:
        if not isinstance(data, Mapping):
            raise _Bad([], f"{data!r} is not an object")
        values: dict[str, Any] = {}
        for name, hint, required in cls.fields():
            if name not in data:
                if required:
                    raise _Bad([name], "required field missing")
                continue
            if data[name] is None and not required:
                continue  # an optional field sent as null is the same as one left out
            try:
                values[name] = _decode(hint, data[name])
            except ValueError as exc:
                raise _at(name, exc) from None
        return cls(**values)

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready ``data`` object (optional fields left out when None)."""
        out: dict[str, Any] = {}
        for name, _hint, required in self.fields():
            value = getattr(self, name)
            if value is None and not required:
                continue
            out[name] = _encode(value)
        return out


class Event(Record):
    """One event type of the contract; subclasses set ``TYPE`` and declare the ``data`` fields."""

    TYPE: ClassVar[str]

    @classmethod
    def what(cls) -> str:
        return f"{cls.TYPE} data"

    @classmethod
    def load(cls, event_or_data: Mapping[str, Any]) -> Self:
        """Parse a CloudEvent envelope of this type, or its bare ``data``; raise InvalidEvent on bad input."""
        if not isinstance(event_or_data, Mapping):
            raise InvalidEvent(f"{cls.TYPE} event is not an object")
        if "specversion" in event_or_data:
            if event_or_data.get("type") != cls.TYPE:
                raise InvalidEvent(f"expected a {cls.TYPE} event, got {event_or_data.get('type')!r}")
            if "data" not in event_or_data:
                raise InvalidEvent(f"{cls.TYPE} event has no data")
            return cls.load_data(event_or_data["data"])
        return cls.load_data(event_or_data)

    def subject(self) -> str | None:
        """The CloudEvents ``subject``: the resource the event is about (None: none)."""
        return None


SettingsT = TypeVar("SettingsT")


@dataclass(frozen=True)
class EventContext:
    """What a handler may know about a received event beyond its data, and the settings it needs."""

    source: str
    event_id: str
    time: dt.datetime
    correlation_id: str | None
    pharmacy_zone: ZoneInfo
    # The consuming process's settings (a service's own Settings subclass): see ``settings_of``.
    settings: object = None

    @classmethod
    def of(cls, envelope: Mapping[str, Any], pharmacy_zone: ZoneInfo, settings: object = None) -> Self:
        """The context of a validated envelope (``time`` as aware UTC)."""
        try:
            time = parse_instant(envelope["time"])
        except (KeyError, ValueError) as exc:
            raise InvalidEvent(f"envelope invalid at time: {exc}") from None
        return cls(
            source=envelope["source"],
            event_id=envelope["id"],
            time=time,
            correlation_id=envelope.get("correlationid"),
            pharmacy_zone=pharmacy_zone,
            settings=settings,
        )

    def settings_of(self, cls: type[SettingsT]) -> SettingsT:
        """The consumer's settings as the service's own ``cls`` (TypeError when the worker was started
        with other settings: a handler must never run on defaults it did not ask for)."""
        if not isinstance(self.settings, cls):
            raise TypeError(f"this consumer runs with {type(self.settings).__name__}, not {cls.__name__}")
        return self.settings

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The pharmacy's calendar date of an instant."""
        return instant.astimezone(self.pharmacy_zone).date()


# -- the event types (EVENTS.md) ----------------------------------------------------------------
@dataclass(frozen=True)
class BillItem(Record):
    """One line of a bill."""

    line_id: Id
    medicine_name: MedicineName
    is_generic: bool
    quantity: int
    amount: Decimal
    duration_days: Days | None
    branded_price: Decimal | None = None  # for generics: what the branded medicine costs


@dataclass(frozen=True)
class BillCreated(Event):
    """A bill was created at the till (billing or an outside point of sale)."""

    TYPE: ClassVar[str] = "bill.created"

    bill_id: Id
    bill_number: str
    bill_date: dt.date
    customer_phone: Phone
    customer_name: str | None
    customer_category: Category
    was_contacted_before: bool
    visited_no_purchase: bool
    total_amount: Decimal
    items: list[BillItem]
    created_by: Id | None

    def subject(self) -> str:
        return f"bills/{self.bill_id}"


@dataclass(frozen=True)
class ContactsUploaded(Event):
    """A contact list was imported and its contacts assigned to staff."""

    TYPE: ClassVar[str] = "contacts.uploaded"

    upload_id: Id
    list_name: str | None
    uploaded_by: Id | None
    uploaded_at: dt.datetime
    imported: int
    assigned: dict[str, int]  # staff id -> contacts assigned to them (empty when none)

    def subject(self) -> str:
        return f"contact-uploads/{self.upload_id}"


@dataclass(frozen=True)
class ContactStatusChanged(Event):
    """A contact moved from one status to another (``changed_at``: the bill's date when a bill did it)."""

    TYPE: ClassVar[str] = "contact.status_changed"

    contact_id: Id
    phone: Phone
    from_status: str
    to_status: str
    changed_at: dt.datetime
    assigned_to: Id | None
    by: Id | None
    upload_id: Id | None = None  # the contact list the contact came from (ROI per list)

    def subject(self) -> str:
        return f"contacts/{self.contact_id}"


@dataclass(frozen=True)
class ContactConverted(Event):
    """A contact became a customer: the conversion's date, value and bill (sent again when corrected)."""

    TYPE: ClassVar[str] = "contact.converted"

    contact_id: Id
    phone: Phone
    name: str | None
    converted_at: dt.date
    conversion_value: Decimal | None
    bill_id: Id | None
    assigned_to: Id | None
    customer_category: Category | None
    bill_date: dt.date | None = None  # the converting bill's date: consumers rank bills by it
    upload_id: Id | None = None  # the contact list the contact came from (ROI per list)

    def subject(self) -> str:
        return f"contacts/{self.contact_id}"


@dataclass(frozen=True)
class CustomerUpserted(Event):
    """A customer profile was created or changed. Carries no medical fields."""

    TYPE: ClassVar[str] = "customer.upserted"

    customer_id: Id
    phone: Phone
    name: str | None
    category: Category
    first_visit_date: dt.date | None
    last_visit_date: dt.date | None
    total_visits: int
    total_purchases: Decimal
    contact_record_id: Id | None
    # The pharmacy day staff recorded that generics were explained (not a medical field).
    generic_education_given_on: dt.date | None = None

    def subject(self) -> str:
        return f"customers/{self.customer_id}"


@dataclass(frozen=True)
class PurchaseRecorded(Event):
    """A customer bought a medicine (one line of a counted bill)."""

    TYPE: ClassVar[str] = "purchase.recorded"

    purchase_id: Id
    customer_id: Id
    bill_id: Id | None
    purchase_date: dt.date
    medicine_name: str
    is_generic: bool
    quantity: int
    amount: Decimal
    duration_days: Days | None
    branded_price: Decimal | None = None  # for generics: what the branded medicine costs
    savings: Decimal | None = None  # branded price minus what the customer paid

    def subject(self) -> str:
        return f"customers/{self.customer_id}/purchases/{self.purchase_id}"


@dataclass(frozen=True)
class RefillReminderCreated(Event):
    """A purchase with a duration made a refill reminder, due on ``reminder_date``."""

    TYPE: ClassVar[str] = "refill_reminder.created"

    reminder_id: Id
    customer_id: Id
    purchase_id: Id
    medicine_name: str
    reminder_date: dt.date

    def subject(self) -> str:
        return f"refill_reminders/{self.reminder_id}"


@dataclass(frozen=True)
class RefillReminderUpdated(Event):
    """Staff acted on a refill reminder, or a later purchase closed it."""

    TYPE: ClassVar[str] = "refill_reminder.updated"

    reminder_id: Id
    status: str
    whatsapp_sent_at: dt.datetime | None
    call_made_at: dt.datetime | None
    responded: bool
    purchased_at: dt.datetime | None
    by: Id | None
    # The purchase that closed the reminder (None: open, or marked purchased by hand).
    closed_by_purchase_id: Id | None = None

    def subject(self) -> str:
        return f"refill_reminders/{self.reminder_id}"


@dataclass(frozen=True)
class StaffChanged(Event):
    """A staff account as it now is (no password material): the data of ``staff.created`` and
    ``staff.updated``, which consumers handle alike (the newest snapshot wins). Not a type of its own."""

    staff_id: Id
    username: str
    name: str | None
    role: Role
    active: bool

    def subject(self) -> str:
        return f"staff/{self.staff_id}"


@dataclass(frozen=True)
class StaffCreated(StaffChanged):
    """A staff member or admin account was created."""

    TYPE: ClassVar[str] = "staff.created"


@dataclass(frozen=True)
class StaffUpdated(StaffChanged):
    """A staff account's name, role, active flag or password changed."""

    TYPE: ClassVar[str] = "staff.updated"


@dataclass(frozen=True)
class ConsentChanged(Event):
    """What a phone's owner agreed to be contacted by changed (WhatsApp, call, SMS)."""

    TYPE: ClassVar[str] = "consent.changed"

    phone: Phone
    whatsapp: ConsentValue
    call: ConsentValue
    sms: ConsentValue
    source: str  # where the consent was given or withdrawn (e.g. "counter", "reply STOP")
    changed_at: dt.datetime
    by: Id | None

    def subject(self) -> str:
        return f"consents/{self.phone}"


@dataclass(frozen=True)
class ContactInteractionLogged(Event):
    """Staff logged an interaction (call, WhatsApp, visit, email) with a contact."""

    TYPE: ClassVar[str] = "contact.interaction_logged"

    contact_id: Id
    interaction_id: Id
    type: InteractionType
    logged_at: dt.datetime
    by: Id | None
    call_successful: bool | None

    def subject(self) -> str:
        return f"contacts/{self.contact_id}"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        BillCreated,
        ContactsUploaded,
        ContactStatusChanged,
        ContactConverted,
        CustomerUpserted,
        PurchaseRecorded,
        RefillReminderCreated,
        RefillReminderUpdated,
        StaffCreated,
        StaffUpdated,
        ConsentChanged,
        ContactInteractionLogged,
    )
}


def load_event(envelope: Mapping[str, Any]) -> Event:
    """The typed event of an envelope, by its ``type``; InvalidEvent when the type is unknown or the data bad."""
    event_type = envelope.get("type") if isinstance(envelope, Mapping) else None
    cls = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if cls is None:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    return cls.load(envelope)
