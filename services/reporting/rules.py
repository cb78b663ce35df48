"""Reporting's pure rules: windows, rates, which fact wins, and what each fact adds to the rollup.

No database, no Flask: everything here is a function of plain values or fact rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from shared.adherence import Fill, coverage
from shared.clock import as_utc
from shared.envelope import isoformat_utc
from shared.ids import MAX_INT_DIGITS, id_order
from shared.money import CENTS, money

ZERO = Decimal("0")

# -- windows -----------------------------------------------------------------------------
WINDOW_DAYS = {"7d": 7, "30d": 30, "90d": 90, "all": None}
WINDOWS = tuple(WINDOW_DAYS)


@dataclass(frozen=True)
class Window:
    """A report window: the last N pharmacy days ending today (inclusive), or everything up to today."""

    name: str
    start: dt.date | None  # None: no lower bound ("all")
    end: dt.date

    def contains(self, day: dt.date | None) -> bool:
        return day is not None and (self.start is None or self.start <= day) and day <= self.end


def window_for(name: str, today: dt.date) -> Window:
    """``7d`` is today and the 6 days before it; ``all`` is every day up to and including today."""
    if name not in WINDOW_DAYS:
        raise ValueError(f"unknown window {name!r}; choose from {', '.join(WINDOWS)}")
    days = WINDOW_DAYS[name]
    return Window(name, None if days is None else today - dt.timedelta(days=days - 1), today)


# -- figures -----------------------------------------------------------------------------
def percentage(part: int, whole: int) -> Decimal:
    """``part / whole × 100`` rounded half-up to two decimals; 0 when ``whole`` is 0."""
    if not whole:
        return ZERO.quantize(CENTS)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENTS, rounding=ROUND_HALF_UP)


def average(total: Decimal, count: int) -> Decimal:
    """``total / count`` with two places (half-up); 0.00 when there is nothing to average."""
    return money(Decimal(total) / count) if count else money(0)


# -- event values (ids: shared.ids.stored_id / wire_id; instants: shared.events) -----------
def local_date(instant: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The pharmacy's calendar date of an instant."""
    return instant.astimezone(zone).date()


def supersedes(fact, event_time: dt.datetime, event_id: str) -> bool:
    """True when an event is at least as new as the one that last wrote a snapshot-style fact.

    Snapshot events (staff, customer, upload, bill) carry the whole state; the newest event time
    wins, the event id breaking ties, so any delivery order ends in the same state.
    """
    if fact.as_of is None:
        return True
    return (event_time, event_id) >= (fact.as_of, fact.as_of_event or "")


def stamp(fact, event_time: dt.datetime, event_id: str) -> None:
    fact.as_of, fact.as_of_event = event_time, event_id


# -- which fact wins ---------------------------------------------------------------------
def _left_pending_rank(day: dt.date, instant: dt.datetime | None, staff: str | None):
    # A status change (with its instant) sorts before a conversion known only by its date.
    return day, instant is None, isoformat_utc(instant) if instant else "", staff or ""


def offer_left_pending(contact, day: dt.date, instant: dt.datetime | None, staff: str | None) -> None:
    """Record that a contact was out of ``pending`` at ``day``; the earliest such moment wins."""
    if contact.left_pending_on is not None:
        current = _left_pending_rank(contact.left_pending_on, contact.left_pending_at, contact.left_pending_staff)
        if current <= _left_pending_rank(day, instant, staff):
            return
    contact.left_pending_on, contact.left_pending_at, contact.left_pending_staff = day, instant, staff


def conversion_rank(bill_date: dt.date | None, bill_id: str | None, event_time: dt.datetime, event_id: str) -> str:
    """How a conversion ranks among those of its day (lowest first), as text for ``conversion_rank``.

    A bill's conversion ranks by its bill exactly as contacts chooses the converting bill (EVENTS.md:
    earliest ``bill_date``, then lowest bill id, numeric ids by value before text ones), so every
    delivery order ends on contacts' bill. One without a bill (manual, or an event older than
    ``bill_date``) ranks by event time, then id; "#" sorts before those (and before the digits of
    ranks stored before bills ranked so).
    """
    if bill_date is None or bill_id is None:
        return f"{isoformat_utc(event_time)}|{event_id}"
    kind, number, text = id_order(bill_id)
    return f"#{bill_date.isoformat()}|{kind}|{number:0{MAX_INT_DIGITS}d}|{text}"


def offer_conversion(
    contact, converted_on: dt.date, rank: str, value: Decimal | None, bill_id: str | None, staff: str | None
) -> None:
    """Record a converting event; the first conversion (date, then ``conversion_rank``) wins."""
    if contact.converted_on is not None and (contact.converted_on, contact.conversion_rank or "") <= (
        converted_on,
        rank,
    ):
        return
    contact.converted_on, contact.conversion_rank = converted_on, rank
    contact.conversion_value, contact.conversion_bill_id, contact.converted_staff = value, bill_id, staff


def instant_key(instant: dt.datetime) -> str:
    """An instant as fixed-width UTC text, so texts sort as the instants do."""
    return as_utc(instant).strftime("%Y-%m-%dT%H:%M:%S.%f")


def first_rank(action_at: dt.datetime, event_time: dt.datetime, event_id: str) -> str:
    """How a report of a staff action ranks (lowest first): the action's instant, then the event.

    Every later update of a reminder repeats its ``whatsapp_sent_at``; the first event that carried
    the earliest instant is the one that reported the action, so its ``by`` did it.
    """
    return f"{instant_key(action_at)}|{instant_key(event_time)}|{event_id}"


def offer_first(fact, action: str, rank: str, at: dt.datetime, on: dt.date, staff: str | None) -> None:
    """Record ``action`` (``whatsapp``, ``call``, ``responded``) of a reminder at instant ``at``
    (pharmacy day ``on``) by ``staff``; the lowest rank wins."""
    current = getattr(fact, f"{action}_rank")
    if current is not None and current <= rank:
        return
    for name, value in (("rank", rank), ("at", at), ("on", on), ("by", staff)):
        setattr(fact, f"{action}_{name}", value)


def offer_purchase(reminder, purchased_at: dt.datetime, purchased_on: dt.date, purchase_id: str | None) -> None:
    """Record that a reminder was purchased; the earliest report wins, the closing purchase once known."""
    if reminder.purchased_at is None or purchased_at < reminder.purchased_at:
        reminder.purchased_at, reminder.purchased_on = purchased_at, purchased_on
    if purchase_id is not None and reminder.closed_by_purchase_id is None:
        reminder.closed_by_purchase_id = purchase_id


# -- what each fact adds to the per-day rollup -------------------------------------------
UPLOADED = "contacts.uploaded"  # count: contacts imported (dimension "")
ASSIGNED = "contacts.assigned"  # count: contacts assigned (dimension: staff id)
CONTACTED = "contacts.contacted"  # count: contacts that left pending (dimension: assignee or "")
CONVERTED = "contacts.converted"  # count and value of conversions (dimension: assignee or "")
LIST_CONTACTS = "lists.contacts"  # count: contacts imported (dimension: upload id)
LIST_CONTACTED = "lists.contacted"  # count: contacts that left pending (dimension: their upload id)
LIST_CONVERTED = "lists.converted"  # count and value of conversions (dimension: their upload id)
INTERACTION_TYPES = ("call", "whatsapp", "visit", "email")
# count: interactions logged (dimension: staff id), one metric per type
INTERACTIONS_OF = {kind: f"staff.interactions.{kind}" for kind in INTERACTION_TYPES}
NEW_CUSTOMERS = "customers.new"  # count: customers by first visit (dimension: category)
BILLS = "bills"  # count and total of bills (dimension: category)
REFILLS_DUE = "refills.due"  # reminders by reminder date (dimension "")
REFILLS_CONTACTED = "refills.contacted"
REFILLS_RESPONDED = "refills.responded"
REFILLS_PURCHASED = "refills.purchased"
# The refill funnel per staff member (dimension: staff id), each by the date of its own action.
STAFF_REFILL_WHATSAPP = "staff.refills.whatsapp"
STAFF_REFILL_CALLS = "staff.refills.calls"
STAFF_REFILLS_RESPONDED = "staff.refills.responded"
STAFF_REFILLS_PURCHASED = "staff.refills.purchased"  # count and recovered value
# Purchases by purchase date: lines and sales (dimension "generic" or "branded"), savings ("").
PURCHASE_LINES = "purchases.lines"
GENERIC_SAVINGS = "purchases.savings"
EDUCATED = "customers.educated"  # by the day education was recorded (dimension "")
EDUCATED_THEN_GENERIC = "customers.educated_generic"  # by their first generic on or after it


@dataclass(frozen=True, order=True)
class Contribution:
    """What one fact adds to one daily total: ``count`` and ``amount`` under (metric, day, dimension)."""

    metric: str
    day: dt.date
    dimension: str
    count: int
    amount: Decimal = ZERO


def upload_contributions(upload) -> list[Contribution]:
    if upload.uploaded_on is None:
        return []
    day = upload.uploaded_on
    return [Contribution(UPLOADED, day, "", upload.imported or 0)] + [
        Contribution(ASSIGNED, day, staff, int(n)) for staff, n in sorted((upload.assigned or {}).items())
    ]


def list_contributions(upload) -> list[Contribution]:
    if upload.uploaded_on is None:
        return []
    return [Contribution(LIST_CONTACTS, upload.uploaded_on, upload.upload_id, upload.imported or 0)]


def contact_contributions(contact) -> list[Contribution]:
    out = []
    upload = contact.upload_id
    if contact.left_pending_on is not None:
        out.append(Contribution(CONTACTED, contact.left_pending_on, contact.left_pending_staff or "", 1))
        if upload is not None:
            out.append(Contribution(LIST_CONTACTED, contact.left_pending_on, upload, 1))
    if contact.converted_on is not None:
        value = money(contact.conversion_value)
        out.append(Contribution(CONVERTED, contact.converted_on, contact.converted_staff or "", 1, value))
        if upload is not None:
            out.append(Contribution(LIST_CONVERTED, contact.converted_on, upload, 1, value))
    return out


def interaction_contributions(interaction) -> list[Contribution]:
    """One logged interaction counts for the staff member who logged it (``by``), by its date and type.

    Interactions logged by nobody (``by: null``, an integration) count for no one.
    """
    if interaction.logged_on is None or interaction.by_staff is None or interaction.type not in INTERACTIONS_OF:
        return []
    return [Contribution(INTERACTIONS_OF[interaction.type], interaction.logged_on, interaction.by_staff, 1)]


def customer_contributions(customer) -> list[Contribution]:
    out = []
    if customer.first_visit_date is not None and customer.category is not None:
        out.append(Contribution(NEW_CUSTOMERS, customer.first_visit_date, customer.category, 1))
    if customer.generic_education_on is not None:
        out.append(Contribution(EDUCATED, customer.generic_education_on, "", 1))
        if customer.educated_generic_on is not None:
            out.append(Contribution(EDUCATED_THEN_GENERIC, customer.educated_generic_on, "", 1))
    return out


def first_generic_after(education_on: dt.date | None, generic_purchase_days: Iterable[dt.date]) -> dt.date | None:
    """The first day on or after the education day the customer bought a generic (None: not yet)."""
    if education_on is None:
        return None
    return min((day for day in generic_purchase_days if day >= education_on), default=None)


def purchase_contributions(purchase) -> list[Contribution]:
    """A purchased line: one generic or branded line and its amount, and the generic's savings."""
    if purchase.purchase_date is None:
        return []  # known only as the purchase a reminder names: counted once its event arrives
    day = purchase.purchase_date
    kind = "generic" if purchase.is_generic else "branded"
    out = [Contribution(PURCHASE_LINES, day, kind, 1, money(purchase.amount))]
    if purchase.is_generic and purchase.savings is not None:
        out.append(Contribution(GENERIC_SAVINGS, day, "", 1, money(purchase.savings)))
    return out


def bill_contributions(bill) -> list[Contribution]:
    if bill.bill_date is None:
        return []
    return [Contribution(BILLS, bill.bill_date, bill.customer_category or "", 1, money(bill.total_amount))]


def refill_reminder_contributions(reminder) -> list[Contribution]:
    return _refill_report_contributions(reminder) + staff_refill_contributions(reminder)


def _refill_report_contributions(reminder) -> list[Contribution]:
    if reminder.reminder_date is None:
        return []  # an update that arrived before its reminder: counted once the reminder is known
    day = reminder.reminder_date
    flags = [
        (REFILLS_DUE, True),
        (REFILLS_CONTACTED, reminder.contacted),
        (REFILLS_RESPONDED, reminder.responded),
        (REFILLS_PURCHASED, reminder.purchased),
    ]
    return [Contribution(metric, day, "", 1) for metric, on in flags if on]


def refill_workers(reminder) -> list[str]:
    """The staff members who worked a reminder before it was purchased: sent its WhatsApp, made its
    call or recorded the customer's response (each the first report of that action), at or before
    the purchase (when its instant is known). Sorted, each once."""
    workers = set()
    for action in ("whatsapp", "call", "responded"):
        staff, at = getattr(reminder, f"{action}_by"), getattr(reminder, f"{action}_at")
        if staff is None or at is None:
            continue
        if reminder.purchased_at is None or at <= reminder.purchased_at:
            workers.add(staff)
    return sorted(workers)


def staff_refill_contributions(reminder) -> list[Contribution]:
    """The staff report's refill funnel, per staff member, each figure by the date of its own action
    in the pharmacy's time zone (``*_on`` are set by the handler):

    - ``refill_whatsapp_sent``: reminders whose (first) WhatsApp they sent, by its ``whatsapp_sent_at``;
    - ``refill_calls``: reminders whose (first) call they made, by its ``call_made_at``;
    - ``refills_responded``: reminders whose customer's response they recorded, by that event's time;
    - ``refills_purchased``: reminders they worked (``refill_workers``) that were then purchased, by
      the purchase's date; ``refill_recovered_value``: the amount of the purchase that closed each of
      them (``closed_by_purchase_id``; 0 when marked purchased by hand or the purchase is not known yet).
      Two staff members who both worked a reminder are each credited with it.
    """
    out = []
    for action, metric in (
        ("whatsapp", STAFF_REFILL_WHATSAPP),
        ("call", STAFF_REFILL_CALLS),
        ("responded", STAFF_REFILLS_RESPONDED),
    ):
        staff, day = getattr(reminder, f"{action}_by"), getattr(reminder, f"{action}_on")
        if staff is not None and day is not None:
            out.append(Contribution(metric, day, staff, 1))
    if reminder.purchased and reminder.purchased_on is not None:
        value = money(reminder.recovered_value)
        out += [
            Contribution(STAFF_REFILLS_PURCHASED, reminder.purchased_on, staff, 1, value)
            for staff in refill_workers(reminder)
        ]
    return out


def difference(before: Iterable[Contribution], after: Iterable[Contribution]) -> list[Contribution]:
    """What to add to the rollup to go from ``before`` to ``after`` (zero changes left out), sorted.

    Sorted so concurrent workers touch rollup rows in one order (no deadlocks).
    """
    change: dict[tuple[str, dt.date, str], list] = defaultdict(lambda: [0, ZERO])
    for sign, contributions in ((-1, before), (1, after)):
        for c in contributions:
            entry = change[(c.metric, c.day, c.dimension)]
            entry[0] += sign * c.count
            entry[1] += sign * c.amount
    return [
        Contribution(metric, day, dimension, count, amount)
        for (metric, day, dimension), (count, amount) in sorted(change.items())
        if count or amount
    ]


# -- series and adherence ---------------------------------------------------------------------
def daily_series(start: dt.date, end: dt.date, figures: dict[dt.date, dict]) -> list[dict]:
    """One row per day from ``start`` to ``end`` (both included), zeros where ``figures`` has none.

    ``figures`` maps a day to ``{contacted, converted, conversion_value}``; days outside the range
    are left out.
    """
    days = []
    day = start
    while day <= end:
        figure = figures.get(day, {})
        days.append(
            {
                "date": day,
                "contacted": figure.get("contacted", 0),
                "converted": figure.get("converted", 0),
                "conversion_value": money(figure.get("conversion_value", ZERO)),
            }
        )
        day += dt.timedelta(days=1)
    return days


#: The windows (days) the adherence report offers; 180 by default. Each has its stored PDC.
ADHERENCE_WINDOWS = (90, 180, 365)
DEFAULT_ADHERENCE_DAYS = 180


def fills_of(stored: dict) -> list[Fill]:
    """The fills of a ``report_adherence.fills`` mapping (``{purchase_id: [date, days]}``)."""
    return [Fill(dt.date.fromisoformat(day), int(days)) for day, days in stored.values()]


def adherence_pdcs(fills: list[Fill], today: dt.date) -> dict[int, Decimal | None]:
    """PDC of the fills over each window of ``ADHERENCE_WINDOWS`` up to ``today`` (``shared.adherence``)."""
    out: dict[int, Decimal | None] = {}
    for days in ADHERENCE_WINDOWS:
        measured = coverage(fills, today, days)
        out[days] = None if measured is None else measured.pdc
    return out


def adherence_buckets(row) -> list[tuple[int, Decimal]]:
    """The ``(window_days, pdc)`` buckets a ``report_adherence`` row counts in (None counts nowhere)."""
    out = []
    for days in ADHERENCE_WINDOWS:
        pdc = getattr(row, f"pdc_{days}")
        if pdc is not None:
            out.append((days, Decimal(pdc).quantize(CENTS)))
    return out


def bucket_changes(before: Iterable[tuple[int, Decimal]], after: Iterable[tuple[int, Decimal]]) -> list[tuple]:
    """``[(window_days, pdc, change)]`` to go from ``before`` to ``after`` (zeros left out), sorted
    (concurrent workers lock bucket rows in one order)."""
    change: dict[tuple[int, Decimal], int] = defaultdict(int)
    for bucket in before:
        change[bucket] -= 1
    for bucket in after:
        change[bucket] += 1
    return [(days, pdc, n) for (days, pdc), n in sorted(change.items()) if n]
