"""Which category a customer is in, from the bills that gave one and the choices staff made.

The rule (API.md, Customers): the category of the most recent bill (latest ``bill_date``, then
source and bill id), unless staff chose one after that bill; staff's choice then stands until a
newer bill. Bills carry a date, not a time, so a choice made on a pharmacy day stands against the
bills of that same day (staff saw them at the counter) and gives way to a bill of a later day.
Everything is decided from the stored decisions, never from the order events arrived in, so any
delivery order and any redelivery end in the same category and the same history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.ids import id_order, wire_id

FROM_BILL, FROM_STAFF = "bill", "staff"


@dataclass(frozen=True)
class CategoryDecision:
    """One bill's category or one staff choice, with the day it applies from."""

    category: str
    since: dt.date
    source: str  # FROM_BILL or FROM_STAFF
    bill_id: str | None = None
    # Orders decisions of the same day: bills (by source and id) before staff's choices (by instant).
    tiebreak: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def order(self) -> tuple[Any, ...]:
        return (self.since, 0 if self.source == FROM_BILL else 1, *self.tiebreak)

    def as_history_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"category": self.category, "since": self.since, "source": self.source}
        if self.bill_id is not None:
            entry["bill_id"] = wire_id(self.bill_id)
        return entry


def from_bill(category: str, bill_date: dt.date, source: str, bill_id: str) -> CategoryDecision:
    return CategoryDecision(category, bill_date, FROM_BILL, bill_id, (source, id_order(bill_id)))


def from_staff(category: str, chosen_on: dt.date, chosen_at: dt.datetime, choice_id: int) -> CategoryDecision:
    return CategoryDecision(category, chosen_on, FROM_STAFF, None, (chosen_at, choice_id))


def current_category(decisions: Iterable[CategoryDecision]) -> CategoryDecision | None:
    """The decision in force: the last one in order; None when nothing decided yet."""
    return max(decisions, key=lambda d: d.order, default=None)


def category_history(decisions: Iterable[CategoryDecision]) -> list[dict[str, Any]]:
    """``[{category, since, source, bill_id?}]`` oldest first, one entry each time the category changed."""
    history: list[dict[str, Any]] = []
    previous: str | None = None
    for decision in sorted(decisions, key=lambda d: d.order):
        if decision.category != previous:
            history.append(decision.as_history_entry())
            previous = decision.category
    return history
