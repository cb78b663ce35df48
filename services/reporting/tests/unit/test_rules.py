"""Reporting's pure rules: windows, rates, first-wins facts and rollup differences."""

import datetime as dt
import itertools
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
        upload_id=None,
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


def _reminder(**fields):
    actions = {f"{a}_{f}": None for a in ("whatsapp", "call", "responded") for f in ("at", "on", "rank", "by")}
    defaults = {
        "reminder_date": None,
        "contacted": False,
        "responded": False,
        "purchased": False,
        "purchased_at": None,
        "purchased_on": None,
        "closed_by_purchase_id": None,
        "recovered_value": None,
    }
    return SimpleNamespace(**{**actions, **defaults, **fields})


def test_refill_reminder_counts_only_once_its_date_is_known():
    reminder = _reminder(contacted=True, responded=True)
    assert rules.refill_reminder_contributions(reminder) == []
    reminder.reminder_date = dt.date(2026, 3, 26)
    assert [c.metric for c in rules.refill_reminder_contributions(reminder)] == [
        rules.REFILLS_DUE,
        rules.REFILLS_CONTACTED,
        rules.REFILLS_RESPONDED,
    ]


def test_interactions_count_for_who_logged_them_by_type_and_nobody_else():
    interaction = SimpleNamespace(logged_on=dt.date(2026, 3, 30), by_staff=None, type="call")
    assert rules.interaction_contributions(interaction) == []  # an integration's: nobody's
    interaction.by_staff = "11"
    assert rules.interaction_contributions(interaction) == [
        Contribution("staff.interactions.call", dt.date(2026, 3, 30), "11", 1)
    ]
    interaction.type = "email"
    assert [c.metric for c in rules.interaction_contributions(interaction)] == ["staff.interactions.email"]


def test_a_contacts_list_gets_its_contacted_and_converted():
    contact = _contact()
    contact.upload_id = "7"
    rules.offer_left_pending(contact, dt.date(2026, 3, 2), None, "11")
    rules.offer_conversion(contact, dt.date(2026, 3, 5), "r", Decimal("80.00"), "9", "11")
    assert sorted(c.metric for c in rules.contact_contributions(contact)) == [
        rules.CONTACTED,
        rules.CONVERTED,
        rules.LIST_CONTACTED,
        rules.LIST_CONVERTED,
    ]
    assert Contribution(rules.LIST_CONVERTED, dt.date(2026, 3, 5), "7", 1, Decimal("80.00")) in (
        rules.contact_contributions(contact)
    )


AT = parse_instant


def test_the_first_report_of_each_refill_action_names_who_did_it_in_any_order():
    kolkata = ZoneInfo("Asia/Kolkata")
    sent = AT("2026-03-30T05:00:00Z")
    # (event time, by, whatsapp_sent_at, call_made_at): later updates repeat the WhatsApp instant.
    updates = [
        (AT("2026-03-30T05:00:01Z"), "12", sent, None),
        (AT("2026-03-30T09:00:01Z"), "11", sent, AT("2026-03-30T09:00:00Z")),
        (AT("2026-03-31T04:00:01Z"), None, sent, AT("2026-03-30T09:00:00Z")),
    ]
    for order in itertools.permutations(updates):
        reminder = _reminder(reminder_date=dt.date(2026, 3, 31))
        for n, (time, by, whatsapp, call) in enumerate(order):
            for action, at in (("whatsapp", whatsapp), ("call", call)):
                if at is not None:
                    rank = rules.first_rank(at, time, f"e{n}")
                    rules.offer_first(reminder, action, rank, at, rules.local_date(at, kolkata), by)
        rules.offer_purchase(reminder, AT("2026-03-31T04:00:00Z"), dt.date(2026, 3, 31), "705")
        reminder.purchased, reminder.recovered_value = True, Decimal("150.00")
        assert (reminder.whatsapp_by, reminder.call_by) == ("12", "11")
        assert rules.refill_workers(reminder) == ["11", "12"]
        assert sorted(rules.staff_refill_contributions(reminder)) == sorted(
            [
                Contribution(rules.STAFF_REFILL_WHATSAPP, dt.date(2026, 3, 30), "12", 1),
                Contribution(rules.STAFF_REFILL_CALLS, dt.date(2026, 3, 30), "11", 1),
                Contribution(rules.STAFF_REFILLS_PURCHASED, dt.date(2026, 3, 31), "11", 1, Decimal("150.00")),
                Contribution(rules.STAFF_REFILLS_PURCHASED, dt.date(2026, 3, 31), "12", 1, Decimal("150.00")),
            ]
        )


def test_work_after_the_purchase_earns_no_recovered_value():
    reminder = _reminder(purchased=True, recovered_value=Decimal("99.00"))
    rules.offer_purchase(reminder, AT("2026-03-27T05:00:00Z"), dt.date(2026, 3, 27), None)
    late = AT("2026-03-28T05:00:00Z")
    rules.offer_first(reminder, "responded", rules.first_rank(late, late, "e"), late, dt.date(2026, 3, 28), "11")
    assert rules.refill_workers(reminder) == []
    assert [c.metric for c in rules.staff_refill_contributions(reminder)] == [rules.STAFF_REFILLS_RESPONDED]


def test_first_rank_orders_like_the_instants_whatever_their_precision():
    whole, fraction = AT("2026-03-30T05:00:00Z"), AT("2026-03-30T05:00:00.5Z")
    assert rules.first_rank(whole, whole, "z") < rules.first_rank(fraction, whole, "a")


def test_educated_then_generic_is_the_first_generic_on_or_after_the_education_day():
    days = [dt.date(2026, 2, 1), dt.date(2026, 3, 28), dt.date(2026, 3, 10)]
    assert rules.first_generic_after(dt.date(2026, 2, 10), days) == dt.date(2026, 3, 10)
    assert rules.first_generic_after(dt.date(2026, 3, 10), days) == dt.date(2026, 3, 10)
    assert rules.first_generic_after(dt.date(2026, 4, 1), days) is None
    assert rules.first_generic_after(None, days) is None


def test_a_purchase_counts_as_a_generic_or_branded_line_with_its_savings():
    generic = SimpleNamespace(
        purchase_date=dt.date(2026, 3, 28), is_generic=True, amount=Decimal("60.00"), savings=Decimal("90.00")
    )
    assert rules.purchase_contributions(generic) == [
        Contribution(rules.PURCHASE_LINES, dt.date(2026, 3, 28), "generic", 1, Decimal("60.00")),
        Contribution(rules.GENERIC_SAVINGS, dt.date(2026, 3, 28), "", 1, Decimal("90.00")),
    ]
    named_only = SimpleNamespace(purchase_date=None, is_generic=False, amount=None, savings=None)
    assert rules.purchase_contributions(named_only) == []  # known only as the purchase closing a reminder


days_back = st.integers(min_value=0, max_value=400)
day_figures = st.dictionaries(
    days_back,
    st.fixed_dictionaries(
        {
            "contacted": st.integers(0, 50),
            "converted": st.integers(0, 50),
            "conversion_value": st.decimals(min_value=0, max_value=10**6, places=2),
        }
    ),
)


@given(st.sampled_from(["7d", "30d", "90d", "all"]), day_figures, days_back)
def test_the_daily_series_has_a_row_per_day_and_sums_to_the_window_totals(name, figures_back, first_back):
    window = rules.window_for(name, TODAY)
    figures = {TODAY - dt.timedelta(days=back): figure for back, figure in figures_back.items()}
    start = window.start or TODAY - dt.timedelta(days=first_back)
    series = rules.daily_series(start, window.end, figures)
    assert len(series) == (window.end - start).days + 1
    if window.start is not None:
        assert len(series) == rules.WINDOW_DAYS[name]
    assert [row["date"] for row in series] == sorted({row["date"] for row in series})
    inside = [f for day, f in figures.items() if start <= day <= window.end]
    assert sum(r["contacted"] for r in series) == sum(f["contacted"] for f in inside)
    assert sum(r["converted"] for r in series) == sum(f["converted"] for f in inside)
    assert sum(r["conversion_value"] for r in series) == sum((f["conversion_value"] for f in inside), Decimal(0))


fills = st.lists(
    st.tuples(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=120)), max_size=8
)


@given(fills, fills)
def test_adherence_buckets_move_by_what_changed(before_fills, after_fills):
    def row(raw):
        stored = {str(n): [(TODAY - dt.timedelta(days=back)).isoformat(), days] for n, (back, days) in enumerate(raw)}
        pdcs = rules.adherence_pdcs(rules.fills_of(stored), TODAY)
        return SimpleNamespace(**{f"pdc_{days}": pdc for days, pdc in pdcs.items()})

    before, after = rules.adherence_buckets(row(before_fills)), rules.adherence_buckets(row(after_fills))
    counts: dict = {}
    for bucket in before:
        counts[bucket] = counts.get(bucket, 0) + 1
    for days, pdc, change in rules.bucket_changes(before, after):
        counts[(days, pdc)] = counts.get((days, pdc), 0) + change
    assert {b: n for b, n in counts.items() if n} == {b: after.count(b) for b in after}
    assert all(Decimal(0) <= pdc <= 1 for _days, pdc in after)


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
