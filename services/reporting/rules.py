"""Reporting's pure rules: windows, rates, which fact wins, and what each fact adds to the rollup.

No database, no Flask: everything here is a function of plain values or fact rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from shared.envelope import isoformat_utc
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


def offer_conversion(
    contact, converted_on: dt.date, rank: str, value: Decimal | None, bill_id: str | None, staff: str | None
) -> None:
    """Record a converting event; the first conversion (date, then event time and id) wins."""
    if contact.converted_on is not None and (contact.converted_on, contact.conversion_rank or "") <= (
        converted_on,
        rank,
    ):
        return
    contact.converted_on, contact.conversion_rank = converted_on, rank
    contact.conversion_value, contact.conversion_bill_id, contact.converted_staff = value, bill_id, staff


# -- what each fact adds to the per-day rollup -------------------------------------------
UPLOADED = "contacts.uploaded"  # count: contacts imported (dimension "")
ASSIGNED = "contacts.assigned"  # count: contacts assigned (dimension: staff id)
CONTACTED = "contacts.contacted"  # count: contacts that left pending (dimension: assignee or "")
CONVERTED = "contacts.converted"  # count and value of conversions (dimension: assignee or "")
INTERACTIONS = "staff.interactions"  # count: status changes made (dimension: staff id)
NEW_CUSTOMERS = "customers.new"  # count: customers by first visit (dimension: category)
BILLS = "bills"  # count and total of bills (dimension: category)
REFILLS_DUE = "refills.due"  # reminders by reminder date (dimension "")
REFILLS_CONTACTED = "refills.contacted"
REFILLS_RESPONDED = "refills.responded"
REFILLS_PURCHASED = "refills.purchased"


class Contribution(NamedTuple):
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


def contact_contributions(contact) -> list[Contribution]:
    out = []
    if contact.left_pending_on is not None:
        out.append(Contribution(CONTACTED, contact.left_pending_on, contact.left_pending_staff or "", 1))
    if contact.converted_on is not None:
        out.append(
            Contribution(
                CONVERTED, contact.converted_on, contact.converted_staff or "", 1, money(contact.conversion_value)
            )
        )
    return out


def status_change_contributions(change) -> list[Contribution]:
    if change.changed_on is None or change.by_staff is None:
        return []  # changes made by the system (a bill converting a contact) are nobody's interaction
    return [Contribution(INTERACTIONS, change.changed_on, change.by_staff, 1)]


def customer_contributions(customer) -> list[Contribution]:
    if customer.first_visit_date is None or customer.category is None:
        return []
    return [Contribution(NEW_CUSTOMERS, customer.first_visit_date, customer.category, 1)]


def bill_contributions(bill) -> list[Contribution]:
    if bill.bill_date is None:
        return []
    return [Contribution(BILLS, bill.bill_date, bill.customer_category or "", 1, money(bill.total_amount))]


def refill_reminder_contributions(reminder) -> list[Contribution]:
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


def difference(before: Iterable[Contribution], after: Iterable[Contribution]) -> list[Contribution]:
    """What to add to the rollup to go from ``before`` to ``after`` (zero changes left out), sorted.

    Sorted so concurrent workers touch rollup rows in one order (no deadlocks).
    """
    change: dict[tuple, list] = defaultdict(lambda: [0, ZERO])
    for sign, contributions in ((-1, before), (1, after)):
        for c in contributions:
            entry = change[(c.metric, c.day, c.dimension)]
            entry[0] += sign * c.count
            entry[1] += sign * c.amount
    return [Contribution(*key, count, amount) for key, (count, amount) in sorted(change.items()) if count or amount]
