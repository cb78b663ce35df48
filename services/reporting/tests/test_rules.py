"""Reporting's pure rules: windows, rates, first-wins facts and rollup differences."""

import datetime as dt
import itertools
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from services.reporting import rules
from services.reporting.rules import Contribution
from shared.events import parse_instant
from shared.ids import stored_id, wire_id

TODAY = dt.date(2026, 3, 31)


@pytest.mark.parametrize(
    "name, start",
    [("7d", dt.date(2026, 3, 25)), ("30d", dt.date(2026, 3, 2)), ("90d", dt.date(2026, 1, 1)), ("all", None)],
)
def test_a_window_is_today_and_the_days_before_it(name, start):
    window = rules.window_for(name, TODAY)
    assert (window.start, window.end) == (start, TODAY)
    assert window.contains(TODAY) and not window.contains(TODAY + dt.timedelta(days=1))
    assert not window.contains(None)
    if start:
        assert window.contains(start) and not window.contains(start - dt.timedelta(days=1))
    else:
        assert window.contains(dt.date(2000, 1, 1))


def test_an_unknown_window_is_refused():
    with pytest.raises(ValueError):
        rules.window_for("14d", TODAY)


@pytest.mark.parametrize(
    "part, whole, rate",
    [
        (4, 7, "57.14"),
        (2, 3, "66.67"),
        (1, 8, "12.50"),
        (1, 200, "0.50"),
        (1, 400, "0.25"),
        (1, 800, "0.13"),
        (3, 3, "100.00"),
        (0, 5, "0.00"),
        (0, 0, "0.00"),
        (5, 0, "0.00"),
    ],
)
def test_rates_are_rounded_half_up_to_two_decimals_and_zero_without_a_divisor(part, whole, rate):
    assert rules.percentage(part, whole) == Decimal(rate)
    assert str(rules.percentage(part, whole)) == rate


def test_average_conversion_value():
    assert rules.average(Decimal("850.50"), 4) == Decimal("212.63")
    assert rules.average(Decimal("350.50"), 3) == Decimal("116.83")
    assert str(rules.average(Decimal("0"), 0)) == "0.00"


def test_instants_are_dated_in_the_pharmacy_time_zone():
    kolkata = ZoneInfo("Asia/Kolkata")
    assert rules.local_date(parse_instant("2026-03-24T19:00:00Z"), kolkata) == dt.date(2026, 3, 25)
    assert rules.local_date(parse_instant("2026-03-24T18:29:59Z"), kolkata) == dt.date(2026, 3, 24)
    assert rules.local_date(parse_instant("2026-03-24T19:00:00+00:00"), ZoneInfo("UTC")) == dt.date(2026, 3, 24)


def test_ids_are_keyed_as_text_and_shown_as_numbers_when_they_are():
    assert stored_id(12) == stored_id("12") == "12"
    assert stored_id(None) is None
    assert wire_id("12") == 12
    assert wire_id("pos-7") == "pos-7"
    assert wire_id("007") == "007"
    assert wire_id("²") == "²"  # a non-ASCII digit is text, never int()


def _contact():
    return SimpleNamespace(
        left_pending_on=None,
        left_pending_at=None,
        left_pending_staff=None,
        converted_on=None,
        conversion_rank=None,
        conversion_value=None,
        conversion_bill_id=None,
        converted_staff=None,
    )


def test_the_earliest_move_out_of_pending_wins_in_any_order():
    at = lambda text: parse_instant(text)  # noqa: E731
    offers = [
        (dt.date(2026, 3, 5), at("2026-03-05T05:00:00Z"), "11"),
        (dt.date(2026, 3, 2), at("2026-03-01T19:00:00Z"), "12"),
        (dt.date(2026, 3, 2), None, "13"),  # a conversion on the same day, known only by date
        (dt.date(2026, 3, 9), None, None),
    ]
    for order in itertools.permutations(offers):
        contact = _contact()
        for offer in order:
            rules.offer_left_pending(contact, *offer)
        assert (contact.left_pending_on, contact.left_pending_staff) == (dt.date(2026, 3, 2), "12")


def test_the_first_conversion_wins_in_any_order():
    offers = [
        (dt.date(2026, 3, 29), "2026-03-31T00:00:09Z|b", Decimal("999.00"), "9010", "12"),
        (dt.date(2026, 3, 27), "2026-03-31T00:00:05Z|a", Decimal("100.00"), "9003", "12"),
        (dt.date(2026, 3, 27), "2026-03-31T00:00:07Z|c", Decimal("5.00"), "9004", "11"),
    ]
    for order in itertools.permutations(offers):
        contact = _contact()
        for offer in order:
            rules.offer_conversion(contact, *offer)
        assert (contact.converted_on, contact.conversion_value, contact.conversion_bill_id) == (
            dt.date(2026, 3, 27),
            Decimal("100.00"),
            "9003",
        )
        assert rules.contact_contributions(contact) == [
            Contribution(rules.CONVERTED, dt.date(2026, 3, 27), "12", 1, Decimal("100.00"))
        ]


def test_a_newer_snapshot_supersedes_an_older_one_only():
    fact = SimpleNamespace(as_of=None, as_of_event=None)
    t1, t2 = parse_instant("2026-03-01T10:00:00Z"), parse_instant("2026-03-02T10:00:00Z")
    assert rules.supersedes(fact, t1, "a")
    rules.stamp(fact, t2, "b")
    assert not rules.supersedes(fact, t1, "z")
    assert rules.supersedes(fact, t2, "b") and rules.supersedes(fact, t2, "c") and not rules.supersedes(fact, t2, "a")
    # Stored instants come back aware UTC from every database (shared.db.UTCDateTime).
    assert rules.supersedes(fact, t2, "c")


def test_refill_reminder_counts_only_once_its_date_is_known():
    reminder = SimpleNamespace(reminder_date=None, contacted=True, responded=True, purchased=False)
    assert rules.refill_reminder_contributions(reminder) == []
    reminder.reminder_date = dt.date(2026, 3, 26)
    assert [c.metric for c in rules.refill_reminder_contributions(reminder)] == [
        rules.REFILLS_DUE,
        rules.REFILLS_CONTACTED,
        rules.REFILLS_RESPONDED,
    ]


def test_status_changes_by_nobody_are_no_interaction():
    change = SimpleNamespace(changed_on=dt.date(2026, 3, 30), by_staff=None)
    assert rules.status_change_contributions(change) == []
    change.by_staff = "11"
    assert rules.status_change_contributions(change) == [
        Contribution(rules.INTERACTIONS, dt.date(2026, 3, 30), "11", 1)
    ]


def test_difference_moves_a_fact_from_one_day_to_another():
    day1, day2 = dt.date(2026, 3, 5), dt.date(2026, 3, 2)
    before = [Contribution(rules.CONVERTED, day1, "11", 1, Decimal("500.00"))]
    after = [Contribution(rules.CONVERTED, day2, "11", 1, Decimal("500.00"))]
    assert rules.difference(before, after) == [
        Contribution(rules.CONVERTED, day2, "11", 1, Decimal("500.00")),
        Contribution(rules.CONVERTED, day1, "11", -1, Decimal("-500.00")),
    ]
    assert rules.difference(after, after) == []
    upload = SimpleNamespace(uploaded_on=day1, imported=3, assigned={"12": 1, "11": 2})
    assert rules.upload_contributions(upload) == [
        Contribution(rules.UPLOADED, day1, "", 3),
        Contribution(rules.ASSIGNED, day1, "11", 2),
        Contribution(rules.ASSIGNED, day1, "12", 1),
    ]
