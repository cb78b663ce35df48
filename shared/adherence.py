"""Adherence as the proportion of days covered (PDC), the measure pharmacies and payers use.

One medicine's fills (purchase date and days of supply) cover days. The usual PDC rule:
- a fill bought while the previous supply lasts starts the day after that supply ends
  (the patient finishes one pack before opening the next), so overlapping fills shift forward;
- the period starts at the first fill inside the window (or at the window's start when a supply
  bought earlier still lasts into it) and ends today: days in the future are never counted, and a
  customer who started last week is measured over last week, not over six months;
- ``pdc = days covered in the period / days in the period``, between 0 and 1.

Customers (``GET /customers/{id}/adherence``) and reporting (``GET /reports/adherence``) both use it,
so both give the same figure for the same purchases.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

TWO_PLACES = Decimal("0.01")


def medicine_key(name: str) -> str:
    """The name a medicine is matched by: NFC, case-folded, whitespace collapsed
    (``'metformin  500'`` is ``'Metformin 500'``), so every service groups purchases alike."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


@dataclass(frozen=True)
class Fill:
    """One purchase of a medicine: the day it was bought and how many days it lasts."""

    purchase_date: dt.date
    duration_days: int


@dataclass(frozen=True)
class Coverage:
    """A medicine's adherence over a period: ``days_covered`` of ``period_days``."""

    period_start: dt.date
    period_days: int
    days_covered: int

    @property
    def pdc(self) -> Decimal:
        """The proportion of days covered, two places (``Decimal("0.87")``)."""
        if self.period_days <= 0:
            return Decimal("0.00")
        return (Decimal(self.days_covered) / Decimal(self.period_days)).quantize(TWO_PLACES, ROUND_HALF_UP)


def supply_spans(fills: Iterable[Fill]) -> list[tuple[dt.date, dt.date]]:
    """The days each fill covers as ``(first, last)`` spans, overlapping fills shifted forward."""
    spans: list[tuple[dt.date, dt.date]] = []
    supply_ends: dt.date | None = None  # the last day covered so far
    for fill in sorted(fills, key=lambda f: f.purchase_date):
        if fill.duration_days <= 0:
            continue
        start = fill.purchase_date
        if supply_ends is not None and start <= supply_ends:
            start = supply_ends + dt.timedelta(days=1)
        last = start + dt.timedelta(days=fill.duration_days - 1)
        spans.append((start, last))
        supply_ends = last
    return spans


def coverage(fills: Iterable[Fill], today: dt.date, window_days: int) -> Coverage | None:
    """PDC of one medicine's ``fills`` over the last ``window_days`` days up to ``today``.

    None when nothing of the medicine falls in the window (no fill in it and no supply lasting into it).
    """
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    window_start = today - dt.timedelta(days=window_days - 1)
    spans = [(first, last) for first, last in supply_spans(f for f in fills if f.purchase_date <= today)]
    relevant = [(first, last) for first, last in spans if last >= window_start]
    if not relevant:
        return None
    period_start = max(window_start, relevant[0][0])
    period_days = (today - period_start).days + 1
    covered = 0
    for first, last in relevant:
        begin, end = max(first, period_start), min(last, today)
        if end >= begin:
            covered += (end - begin).days + 1
    return Coverage(period_start=period_start, period_days=period_days, days_covered=covered)
