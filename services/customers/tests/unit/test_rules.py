"""Pure rules of the customers service: refill due dates and ids as they travel."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from services.customers.domain import refill_due_date
from shared.db import escape_like
from shared.ids import wire_id


def test_refill_is_due_five_days_before_the_medicine_runs_out():
    assert refill_due_date(dt.date(2026, 2, 1), 30) == dt.date(2026, 2, 26)
    assert refill_due_date(dt.date(2026, 2, 1), 6) == dt.date(2026, 2, 2)
    assert refill_due_date(dt.date(2026, 2, 1), 5) == dt.date(2026, 2, 1)
    assert refill_due_date(dt.date(2026, 12, 30), 10) == dt.date(2027, 1, 4)
    assert refill_due_date(dt.date(2026, 2, 1), None) is None


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)), st.integers(0, 3650))
def test_refill_is_never_before_the_purchase(purchase_date, duration):
    due = refill_due_date(purchase_date, duration)
    assert due >= purchase_date
    assert due == (purchase_date if duration < 6 else purchase_date + dt.timedelta(days=duration - 5))


def test_ids_travel_the_way_they_came():
    assert wire_id("42") == 42 and wire_id("POS-0007") == "POS-0007"
    assert wire_id("007") == "007" and wire_id(None) is None
    assert wire_id("²") == "²"  # str.isdigit() says yes, int() would raise: it stays text


def test_like_patterns_match_literally():
    assert escape_like(r"50%_off\x") == r"50\%\_off\\x"
