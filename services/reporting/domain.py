"""Reporting use cases: the four reports, read from the per-day rollup for one window."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.ids import id_order, wire_id

from . import rules
from .models import DailyTotal, ReportStaff
from .rules import Window


def totals(session: Session, window: Window, metrics: list[str]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """``{(metric, dimension): (count, amount)}`` summed over the window's days."""
    stmt = (select(DailyTotal.metric, DailyTotal.dimension, func.sum(DailyTotal.count), func.sum(DailyTotal.amount))
            .where(DailyTotal.metric.in_(metrics), DailyTotal.day <= window.end)
            .group_by(DailyTotal.metric, DailyTotal.dimension))
    if window.start is not None:
        stmt = stmt.where(DailyTotal.day >= window.start)
    return {(metric, dimension): (int(count or 0), rules.money(amount))
            for metric, dimension, count, amount in session.execute(stmt)}


def _sum(figures: dict, metric: str) -> tuple[int, Decimal]:
    """A metric over every dimension."""
    count, amount = 0, Decimal("0")
    for (name, _dimension), (n, value) in figures.items():
        if name == metric:
            count, amount = count + n, amount + value
    return count, rules.money(amount)


def _window_fields(window: Window) -> dict:
    return {"window": window.name, "from": window.start, "to": window.end}


def conversion_report(session: Session, window: Window) -> dict:
    """Contacts uploaded, contacted (left pending), converted and their value in the window.

    Each figure counts by the date of its own event: upload, first move out of pending, conversion.
    """
    figures = totals(session, window, [rules.UPLOADED, rules.CONTACTED, rules.CONVERTED])
    total_contacts, _ = _sum(figures, rules.UPLOADED)
    contacted, _ = _sum(figures, rules.CONTACTED)
    converted, value = _sum(figures, rules.CONVERTED)
    return {**_window_fields(window), "total_contacts": total_contacts, "contacted": contacted,
            "converted": converted, "conversion_rate": rules.percentage(converted, contacted),
            "total_conversion_value": value, "average_conversion_value": rules.average(value, converted)}


def staff_report(session: Session, window: Window) -> dict:
    """Per staff member: contacts assigned (by upload), contacted, converted, value, interactions.

    Contacted and converted go to whoever the contact was assigned to at that event; interactions
    are the status changes a staff member made. Listed: every active staff-role member, and anyone
    else with a figure in the window; contacts assigned to nobody are left out.
    """
    figures = totals(session, window, [rules.ASSIGNED, rules.CONTACTED, rules.CONVERTED, rules.INTERACTIONS])
    per_staff: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: (0, Decimal("0"))))
    for (metric, staff_id), figure in figures.items():
        if staff_id:
            per_staff[staff_id][metric] = figure
    roster = {s.staff_id: s for s in session.scalars(select(ReportStaff))}
    listed = {sid for sid, s in roster.items() if s.role == "staff" and s.active}
    listed |= {sid for sid, metrics in per_staff.items() if any(n or v for n, v in metrics.values())}
    items = []
    for staff_id in sorted(listed, key=lambda sid: (id_order(sid), sid)):
        metrics = per_staff[staff_id]
        contacted, converted = metrics[rules.CONTACTED][0], metrics[rules.CONVERTED][0]
        member = roster.get(staff_id)
        items.append({"staff_id": wire_id(staff_id), "name": member.name if member else None,
                      "assigned": metrics[rules.ASSIGNED][0], "contacted": contacted, "converted": converted,
                      "conversion_rate": rules.percentage(converted, contacted),
                      "conversion_value": rules.money(metrics[rules.CONVERTED][1]),
                      "interactions": metrics[rules.INTERACTIONS][0]})
    return {**_window_fields(window), "items": items}


def category_report(session: Session, window: Window) -> dict:
    """Per customer category: new customers (by first visit), bills and sales in the window."""
    figures = totals(session, window, [rules.NEW_CUSTOMERS, rules.BILLS])
    zero = (0, Decimal("0"))
    items = []
    for category in rules.CATEGORIES:
        bills, sales = figures.get((rules.BILLS, category), zero)
        items.append({"category": category, "customers": figures.get((rules.NEW_CUSTOMERS, category), zero)[0],
                      "bills": bills, "sales": rules.money(sales)})
    return {**_window_fields(window), "items": items}


def refill_report(session: Session, window: Window) -> dict:
    """Refill reminders falling due in the window and what came of them."""
    metrics = [rules.REFILLS_DUE, rules.REFILLS_CONTACTED, rules.REFILLS_RESPONDED, rules.REFILLS_PURCHASED]
    figures = totals(session, window, metrics)
    due, contacted, responded, purchased = (_sum(figures, metric)[0] for metric in metrics)
    return {**_window_fields(window), "due": due, "contacted": contacted, "responded": responded,
            "purchased": purchased, "recovery_rate": rules.percentage(purchased, due)}
