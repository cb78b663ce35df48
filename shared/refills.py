"""The refill rule, shared by customers (a purchase's refill due date) and reminders."""

from __future__ import annotations

import datetime as dt

LEAD_DAYS = 5


def refill_reminder_date(purchase_date: dt.date, duration_days: int) -> dt.date:
    """``purchase_date + duration_days − 5`` (1 Feb + 30 days → 26 Feb); under 6 days, the purchase date."""
    if duration_days < 0:
        raise ValueError("duration_days must not be negative")
    if duration_days <= LEAD_DAYS:
        return purchase_date
    return purchase_date + dt.timedelta(days=duration_days - LEAD_DAYS)
