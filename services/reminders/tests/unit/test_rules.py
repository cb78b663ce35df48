"""Pure rules: the reminder date, days until due, the pharmacy's today, medicine matching, the cycle."""

import datetime as dt
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from services.reminders.domain import (
    KnownPurchase,
    days_until_due,
    medicine_key,
    purchase_order,
    refill_cycle,
    whatsapp_message,
)
from shared.ids import wire_id
from shared.phones import whatsapp_link
from shared.refills import refill_reminder_date as reminder_date
from shared.web import pharmacy_today as shared_pharmacy_today

D = dt.date


def pharmacy_today(tz: str, now_utc: dt.datetime) -> dt.date:
    """``shared.web.pharmacy_today`` (what the API uses) with the pharmacy in ``tz`` and the clock at ``now_utc``."""
    app = Flask(__name__)
    app.extensions["runtime"] = SimpleNamespace(settings=SimpleNamespace(pharmacy_tz=tz))
    app.extensions["clock"] = lambda: now_utc
    with app.app_context():
        return shared_pharmacy_today()


def test_seed_example_1_feb_plus_30_days_is_26_feb():
    assert reminder_date(D(2026, 2, 1), 30) == D(2026, 2, 26)


@pytest.mark.parametrize(
    "purchased, days, expected",
    [
        (D(2026, 1, 31), 30, D(2026, 2, 25)),  # month boundary
        (D(2026, 12, 20), 30, D(2027, 1, 14)),  # year boundary
        (D(2028, 2, 27), 7, D(2028, 2, 29)),  # leap day exists in 2028
        (D(2027, 2, 27), 7, D(2027, 3, 1)),  # ... and not in 2027
        (D(2028, 2, 1), 34, D(2028, 3, 1)),  # through a leap February
        (D(2026, 12, 31), 6, D(2027, 1, 1)),
    ],
)
def test_calendar_boundaries(purchased, days, expected):
    assert reminder_date(purchased, days) == expected


@pytest.mark.parametrize("days, offset", [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 1)])
def test_short_durations_remind_on_the_purchase_day(days, offset):
    assert reminder_date(D(2026, 2, 1), days) == D(2026, 2, 1) + dt.timedelta(days=offset)


def test_negative_duration_is_refused():
    with pytest.raises(ValueError):
        reminder_date(D(2026, 2, 1), -1)


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2200, 12, 31)), st.integers(min_value=0, max_value=3650))
def test_reminder_is_five_days_before_running_out_never_before_buying(purchased, days):
    reminded = reminder_date(purchased, days)
    assert reminded >= purchased
    assert reminded - purchased == dt.timedelta(days=max(days - 5, 0))
    if days >= 5:
        assert purchased + dt.timedelta(days=days) - reminded == dt.timedelta(days=5)


@given(st.dates(), st.dates())
def test_days_until_due_counts_calendar_days(reminded, today):
    assert today + dt.timedelta(days=days_until_due(reminded, today)) == reminded


def test_days_until_due_is_zero_today_and_negative_when_overdue():
    assert days_until_due(D(2026, 2, 26), D(2026, 2, 26)) == 0
    assert days_until_due(D(2026, 2, 26), D(2026, 2, 19)) == 7
    assert days_until_due(D(2026, 2, 20), D(2026, 2, 26)) == -6


def test_just_after_midnight_in_kolkata_is_already_the_next_day():
    # 18:45 UTC on 25 Feb is 00:15 IST on 26 Feb.
    now = dt.datetime(2026, 2, 25, 18, 45, tzinfo=dt.UTC)
    today = pharmacy_today("Asia/Kolkata", now)
    assert today == D(2026, 2, 26)
    assert days_until_due(reminder_date(D(2026, 2, 1), 30), today) == 0
    # A minute before midnight IST it is still the 25th, and UTC's date is the 25th either way.
    assert pharmacy_today("Asia/Kolkata", dt.datetime(2026, 2, 25, 18, 29, tzinfo=dt.UTC)) == D(2026, 2, 25)
    assert pharmacy_today("UTC", now) == D(2026, 2, 25)


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)))
def test_kolkata_date_is_utc_date_shifted_by_five_and_a_half_hours(now):
    assert pharmacy_today("Asia/Kolkata", now) == (now + dt.timedelta(hours=5, minutes=30)).date()


@pytest.mark.parametrize("name", ["metformin  500", "Metformin 500", " METFORMIN\t500 ", "metformin\u00a0500"])
def test_medicine_names_match_ignoring_case_and_spacing(name):
    assert medicine_key(name) == "metformin 500"


def test_different_medicines_do_not_match():
    assert medicine_key("Metformin 500") != medicine_key("Metformin 1000")


@given(st.text(max_size=40))
def test_medicine_key_is_stable(name):
    key = medicine_key(name)
    assert medicine_key(key) == key
    assert key == key.strip() and "  " not in key
    assert medicine_key(f"  {name.casefold()}  ") == key


def test_purchase_order_is_by_date_then_numeric_id():
    assert purchase_order(D(2026, 2, 1), "10") > purchase_order(D(2026, 2, 1), "9")
    assert purchase_order(D(2026, 2, 2), "1") > purchase_order(D(2026, 2, 1), "99")
    assert purchase_order(D(2026, 2, 1), "99") < purchase_order(D(2026, 2, 1), "P-1")


@pytest.mark.parametrize("purchase_id", ["²", "١٢", "12²", "9" * 30])
def test_purchase_ids_that_are_not_ascii_integers_order_as_text(purchase_id):
    # str.isdigit() accepts these, int() refuses the first three: they must order as text, never raise.
    assert purchase_order(D(2026, 2, 1), purchase_id) == (D(2026, 2, 1), 1, 0, purchase_id)
    assert purchase_order(D(2026, 2, 1), "5") < purchase_order(D(2026, 2, 1), purchase_id)


def _apply_in_order(arrivals):
    """Play purchases (order, id) through refill_cycle in arrival order; return each reminder's state."""
    state: dict[str, dict] = {}
    for order, purchase_id in arrivals:
        known = [KnownPurchase(s["order"], pid, s["purchased"]) for pid, s in state.items()]
        decision = refill_cycle(known, order)
        for closed in decision.close:
            state[closed.purchase_id].update(purchased=True, closed_by=purchase_id)
        state[purchase_id] = {
            "order": order,
            "purchased": decision.closed_by is not None,
            "closed_by": decision.closed_by,
        }
    return state


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=D(2025, 1, 1), max_value=D(2025, 3, 1)), st.integers(min_value=1, max_value=10_000)
        ),
        min_size=1,
        max_size=7,
        unique_by=lambda p: p[1],
    ),
    st.randoms(),
)
def test_only_the_newest_purchase_stays_open_whatever_the_arrival_order(purchases, rnd):
    arrivals = [(purchase_order(date, str(pid)), str(pid)) for date, pid in purchases]
    shuffled = arrivals[:]
    rnd.shuffle(shuffled)
    state = _apply_in_order(shuffled)
    newest = max(arrivals)[1]
    assert [pid for pid, s in state.items() if not s["purchased"]] == [newest]
    order_of = {pid: order for order, pid in arrivals}
    for s in state.values():
        if s["purchased"]:
            assert order_of[s["closed_by"]] > s["order"]  # closed by a newer purchase, never an older one


def test_in_order_purchases_close_their_predecessor():
    a, b, c = [(purchase_order(D(2026, 1, d), str(d)), str(d)) for d in (1, 31, 28)]
    state = _apply_in_order([a, b])
    assert state["1"]["closed_by"] == "31" and not state["31"]["purchased"]
    # An older purchase arriving late is filed as already bought (by the next newer one).
    state = _apply_in_order([a, b, c])
    assert state["28"] == {"order": c[0], "purchased": True, "closed_by": "31"}
    assert state["1"]["closed_by"] == "31"


def test_wire_ids_come_back_as_they_were_sent():
    assert wire_id("42") == 42 and wire_id("P-42") == "P-42" and wire_id("007") == "007" and wire_id(None) is None
    assert wire_id("²") == "²" and wire_id("١") == "١"


def test_whatsapp_link_opens_a_chat_naming_customer_and_medicine():
    url = whatsapp_link("+919876543210", whatsapp_message("Asha Rao", "Metformin 500", D(2026, 2, 26)))
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/919876543210")
    text = parse_qs(parts.query)["text"][0]
    assert "Asha Rao" in text and "Metformin 500" in text and "26 Feb 2026" in text
    assert " " not in url


def test_whatsapp_text_is_one_encoded_parameter():
    url = whatsapp_link("+919876543210", whatsapp_message("Rao & Sons", "Vit D3 60K #4", D(2026, 2, 26)))
    query = parse_qs(urlsplit(url).query)
    assert list(query) == ["text"] and "Rao & Sons" in query["text"][0] and "#4" in query["text"][0]


def test_whatsapp_message_without_a_name_still_greets():
    assert whatsapp_message(None, "Metformin 500", D(2026, 2, 26)).startswith("Hello, ")
