"""The PDC rule (shared.adherence): pure, so checked over many generated purchase histories."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from shared.adherence import Fill, coverage, supply_spans

TODAY = dt.date(2026, 6, 30)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


fills_strategy = st.lists(
    st.builds(
        Fill,
        purchase_date=st.dates(min_value=TODAY - days(400), max_value=TODAY),
        duration_days=st.integers(min_value=1, max_value=120),
    ),
    max_size=12,
)


@given(fills=fills_strategy, window=st.integers(min_value=1, max_value=365))
def test_pdc_lies_between_zero_and_one(fills, window):
    result = coverage(fills, TODAY, window)
    if result is None:
        return
    assert 0 <= result.days_covered <= result.period_days <= window
    assert Decimal("0.00") <= result.pdc <= Decimal("1.00")


@given(
    start_offset=st.integers(min_value=0, max_value=200),
    durations=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=10),
    window=st.integers(min_value=1, max_value=365),
)
def test_a_continuous_supply_covers_every_day(start_offset, durations, window):
    # Each pack bought the day the previous one runs out, until past today.
    bought, fills = TODAY - days(start_offset), []
    while bought <= TODAY:
        for duration in durations:
            fills.append(Fill(bought, duration))
            bought += days(duration)
    result = coverage(fills, TODAY, window)
    assert result is not None
    assert result.pdc == Decimal("1.00")


@given(n=st.integers(min_value=2, max_value=300), data=st.data())
def test_a_gap_of_k_days_in_n_gives_n_minus_k_over_n(n, data):
    k = data.draw(st.integers(min_value=1, max_value=n - 1))
    first_part = data.draw(st.integers(min_value=1, max_value=n - k))
    start = TODAY - days(n - 1)
    # One supply from the period's first day, a gap of k days, then supply up to today and beyond.
    fills = [Fill(start, first_part), Fill(start + days(first_part + k), n - first_part - k + 30)]
    result = coverage(fills, TODAY, n)
    assert result is not None
    assert result.period_days == n
    assert result.days_covered == n - k
    assert result.pdc == (Decimal(n - k) / Decimal(n)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_overlapping_fills_shift_forward():
    # 30 days bought on 1 Jan, another 30 bought early on 20 Jan: the second starts on 31 Jan.
    spans = supply_spans([Fill(dt.date(2026, 1, 20), 30), Fill(dt.date(2026, 1, 1), 30)])
    assert spans == [(dt.date(2026, 1, 1), dt.date(2026, 1, 30)), (dt.date(2026, 1, 31), dt.date(2026, 3, 1))]


def test_the_worked_example_of_the_readme():
    # Metformin: 30 days bought on 1 Mar, 30 days on 15 Apr (none from 31 Mar to 14 Apr), looked at on
    # 30 Apr over 90 days. The period runs from the first fill to today: 61 days, 46 of them covered.
    fills = [Fill(dt.date(2026, 3, 1), 30), Fill(dt.date(2026, 4, 15), 30)]
    result = coverage(fills, dt.date(2026, 4, 30), 90)
    assert result is not None
    assert result.period_start == dt.date(2026, 3, 1)
    assert result.period_days == 61  # 1 Mar .. 30 Apr
    assert result.days_covered == 30 + 16  # 1-30 Mar, then 15-30 Apr
    assert result.pdc == Decimal("0.75")


def test_the_period_is_capped_at_today_and_starts_at_the_first_fill():
    # Bought a week ago for 30 days: fully covered over the week it has been taken, not 7/180.
    result = coverage([Fill(TODAY - days(6), 30)], TODAY, 180)
    assert result is not None
    assert (result.period_days, result.days_covered, result.pdc) == (7, 7, Decimal("1.00"))


def test_a_supply_bought_before_the_window_still_counts_inside_it():
    result = coverage([Fill(TODAY - days(40), 60)], TODAY, 30)
    assert result is not None
    assert (result.period_start, result.period_days, result.days_covered) == (TODAY - days(29), 30, 30)


def test_nothing_in_the_window_is_no_figure():
    assert coverage([Fill(TODAY - days(400), 30)], TODAY, 180) is None
    assert coverage([], TODAY, 180) is None
