"""Reporting use cases: the reports, read from the per-day rollup for one window (the adherence
list from its own read model), and the facts each consumed event upserts (``consumers.py``).

Each event locks the fact row it changes (created empty when missing), computes the fact's
contribution to ``report_daily_totals`` before and after the change, and adds the difference
to the transaction's pending rollup, written once per row when the transaction (a batch of
events) commits, in key order (``_Transaction``). Facts merge order-free (newest snapshot, earliest date, first conversion, flags
that only turn on), so the rollup ends the same whatever the order, duplication or number of
workers. The runner's inbox already drops exact redeliveries; the facts make a re-sent event
under a new id harmless too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, event, func, or_, select
from sqlalchemy.orm import Session

from shared.adherence import medicine_key
from shared.categories import CATEGORIES
from shared.clock import utcnow
from shared.consent import DECLINED
from shared.db import dialect_insert
from shared.events import (
    BillCreated,
    ConsentChanged,
    ContactConverted,
    ContactInteractionLogged,
    ContactStatusChanged,
    ContactsUploaded,
    CustomerUpserted,
    EventContext,
    PurchaseRecorded,
    RefillReminderCreated,
    RefillReminderUpdated,
    StaffChanged,
)
from shared.ids import id_order, stored_id, wire_id

from . import rules
from .models import (
    DailyTotal,
    ReportAdherence,
    ReportAdherenceBucket,
    ReportBill,
    ReportContact,
    ReportContactStatusChange,
    ReportContactUpload,
    ReportCustomer,
    ReportInteraction,
    ReportPurchase,
    ReportRefillReminder,
    ReportStaff,
    consents,
)
from .rules import Window


def totals(session: Session, window: Window, metrics: list[str]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """``{(metric, dimension): (count, amount)}`` summed over the window's days."""
    stmt = (
        select(DailyTotal.metric, DailyTotal.dimension, func.sum(DailyTotal.count), func.sum(DailyTotal.amount))
        .where(DailyTotal.metric.in_(metrics), DailyTotal.day <= window.end)
        .group_by(DailyTotal.metric, DailyTotal.dimension)
    )
    if window.start is not None:
        stmt = stmt.where(DailyTotal.day >= window.start)
    return {
        (metric, dimension): (int(count or 0), rules.money(amount))
        for metric, dimension, count, amount in session.execute(stmt)
    }


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
    return {
        **_window_fields(window),
        "total_contacts": total_contacts,
        "contacted": contacted,
        "converted": converted,
        "conversion_rate": rules.percentage(converted, contacted),
        "total_conversion_value": value,
        "average_conversion_value": rules.average(value, converted),
    }


def staff_report(session: Session, window: Window) -> dict:
    """Per staff member: contacts assigned (by upload), contacted, converted, value, the interactions
    they logged by type, and the refill funnel they worked (``rules.staff_refill_contributions``).

    Contacted and converted go to whoever the contact was assigned to at that event; interactions are
    the ``contact.interaction_logged`` events whose ``by`` is them, by the day they were logged.
    Listed: every active staff-role member, and anyone else with a figure in the window; contacts
    assigned to nobody are left out.
    """
    figures = totals(session, window, STAFF_METRICS)
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
        by_type = {kind: metrics[metric][0] for kind, metric in rules.INTERACTIONS_OF.items()}
        member = roster.get(staff_id)
        items.append(
            {
                "staff_id": wire_id(staff_id),
                "name": member.name if member else None,
                "assigned": metrics[rules.ASSIGNED][0],
                "contacted": contacted,
                "converted": converted,
                "conversion_rate": rules.percentage(converted, contacted),
                "conversion_value": rules.money(metrics[rules.CONVERTED][1]),
                "interactions": sum(by_type.values()),
                "interactions_by_type": by_type,
                "refill_whatsapp_sent": metrics[rules.STAFF_REFILL_WHATSAPP][0],
                "refill_calls": metrics[rules.STAFF_REFILL_CALLS][0],
                "refills_responded": metrics[rules.STAFF_REFILLS_RESPONDED][0],
                "refills_purchased": metrics[rules.STAFF_REFILLS_PURCHASED][0],
                "refill_recovered_value": rules.money(metrics[rules.STAFF_REFILLS_PURCHASED][1]),
            }
        )
    return {**_window_fields(window), "items": items}


STAFF_METRICS = [
    rules.ASSIGNED,
    rules.CONTACTED,
    rules.CONVERTED,
    *rules.INTERACTIONS_OF.values(),
    rules.STAFF_REFILL_WHATSAPP,
    rules.STAFF_REFILL_CALLS,
    rules.STAFF_REFILLS_RESPONDED,
    rules.STAFF_REFILLS_PURCHASED,
]


def list_report_rows(session: Session, window: Window) -> list[dict]:
    """Every contact list (upload) with a figure in the window, newest upload first: its contacts
    (imported, by upload date), contacted (left pending), converted and value, each by its own date.

    Summed over the lists these are the conversion report's figures (for contacts that came with an
    ``upload_id``). A list whose ``contacts.uploaded`` has not arrived yet is listed without a name.
    """
    figures = totals(session, window, [rules.LIST_CONTACTS, rules.LIST_CONTACTED, rules.LIST_CONVERTED])
    per_list: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: (0, Decimal("0"))))
    for (metric, upload_id), figure in figures.items():
        if upload_id:
            per_list[upload_id][metric] = figure
    ids = {uid for uid, metrics in per_list.items() if any(n or v for n, v in metrics.values())}
    uploads_stmt = select(ReportContactUpload)
    if window.start is not None:  # lists uploaded in the window have a figure in it (their contacts)
        uploads_stmt = uploads_stmt.where(ReportContactUpload.upload_id.in_(ids))
    uploads = {u.upload_id: u for u in session.scalars(uploads_stmt)} if ids or window.start is None else {}
    ids |= {uid for uid, u in uploads.items() if u.uploaded_on is not None and window.contains(u.uploaded_on)}
    rows = []
    for upload_id in ids:
        metrics, upload = per_list[upload_id], uploads.get(upload_id)
        contacted, (converted, value) = metrics[rules.LIST_CONTACTED][0], metrics[rules.LIST_CONVERTED]
        rows.append(
            {
                "upload_id": wire_id(upload_id),
                "list_name": upload.list_name if upload else None,
                "uploaded_at": upload.uploaded_at if upload else None,
                "contacts": metrics[rules.LIST_CONTACTS][0],
                "contacted": contacted,
                "converted": converted,
                "conversion_rate": rules.percentage(converted, contacted),
                "conversion_value": rules.money(value),
            }
        )
    newest_first = sorted(rows, key=lambda r: (id_order(stored_id(r["upload_id"])), str(r["upload_id"])), reverse=True)
    return sorted(newest_first, key=lambda r: r["uploaded_at"] is None)  # stable: unknown lists last


def list_report(session: Session, window: Window, page: int, per_page: int) -> dict:
    """One page of ``list_report_rows`` in the usual list envelope, with the window."""
    rows = list_report_rows(session, window)
    first = (page - 1) * per_page
    return {
        **_window_fields(window),
        "items": rows[first : first + per_page],
        "page": page,
        "per_page": per_page,
        "total": len(rows),
    }


def daily_conversion_report(session: Session, window: Window) -> dict:
    """Contacted (first left pending), converted and value per pharmacy day of the window, zero days
    included; for ``all`` from the first day with a contacted or converted contact (today when none)."""
    metrics = [rules.CONTACTED, rules.CONVERTED]
    stmt = (
        select(DailyTotal.metric, DailyTotal.day, func.sum(DailyTotal.count), func.sum(DailyTotal.amount))
        .where(DailyTotal.metric.in_(metrics), DailyTotal.day <= window.end)
        .group_by(DailyTotal.metric, DailyTotal.day)
    )
    if window.start is not None:
        stmt = stmt.where(DailyTotal.day >= window.start)
    figures: dict = defaultdict(dict)
    for metric, day, count, amount in session.execute(stmt):
        if not count and not amount:
            continue  # a day whose facts all moved elsewhere
        if metric == rules.CONTACTED:
            figures[day]["contacted"] = int(count)
        else:
            figures[day]["converted"], figures[day]["conversion_value"] = int(count), rules.money(amount)
    start = window.start or min(figures, default=window.end)
    return {**_window_fields(window), "days": rules.daily_series(start, window.end, figures)}


def generics_report(session: Session, window: Window) -> dict:
    """Generic and branded lines bought in the window (by purchase date), the generic share
    (``generic_items / all items × 100``), generic sales and the savings the purchases carried;
    customers whose generics education was recorded in the window (by that day), and educated
    customers counted by the day they first bought a generic on or after their education day
    (``educated_then_generic``)."""
    figures = totals(
        session, window, [rules.PURCHASE_LINES, rules.GENERIC_SAVINGS, rules.EDUCATED, rules.EDUCATED_THEN_GENERIC]
    )
    zero = (0, Decimal("0"))
    generic_items, generic_sales = figures.get((rules.PURCHASE_LINES, "generic"), zero)
    branded_items = figures.get((rules.PURCHASE_LINES, "branded"), zero)[0]
    return {
        **_window_fields(window),
        "generic_items": generic_items,
        "branded_items": branded_items,
        "generic_share": rules.percentage(generic_items, generic_items + branded_items),
        "generic_sales": rules.money(generic_sales),
        "savings": _sum(figures, rules.GENERIC_SAVINGS)[1],
        "customers_educated": _sum(figures, rules.EDUCATED)[0],
        "educated_then_generic": _sum(figures, rules.EDUCATED_THEN_GENERIC)[0],
    }


def _adherence_rows(threshold: Decimal, days: int):
    pdc = getattr(ReportAdherence, f"pdc_{days}")
    return (
        select(ReportAdherence.customer_id, ReportCustomer.name, ReportCustomer.phone, ReportAdherence.medicine_name)
        .add_columns(pdc, ReportAdherence.as_of)
        .outerjoin(ReportCustomer, ReportCustomer.customer_id == ReportAdherence.customer_id)
        .where(pdc < threshold)
        .order_by(pdc, ReportAdherence.customer_id, ReportAdherence.medicine_key)
    )


def _adherence_item(row) -> dict:
    customer_id, name, phone, medicine_name, pdc, as_of = row
    return {
        "customer_id": wire_id(customer_id),
        "name": name,
        "phone": phone,
        "medicine_name": medicine_name,
        "pdc": pdc,
        "as_of": as_of,
    }


def adherence_report(session: Session, threshold: Decimal, days: int, page: int, per_page: int) -> dict:
    """Customers whose PDC for a medicine (over the last ``days`` days) is below ``threshold``, lowest
    first: the stored ``pdc_<days>`` of each row (as of ``as_of``, refreshed daily by the worker), the
    total from the per-PDC counts (a few rows, whatever the number of customers)."""
    total = session.scalar(
        select(func.coalesce(func.sum(ReportAdherenceBucket.count), 0)).where(
            ReportAdherenceBucket.window_days == days, ReportAdherenceBucket.pdc < threshold
        )
    )
    stmt = _adherence_rows(threshold, days).limit(per_page).offset((page - 1) * per_page)
    return {
        "threshold": threshold,
        "days": days,
        "items": [_adherence_item(row) for row in session.execute(stmt)],
        "page": page,
        "per_page": per_page,
        "total": int(total or 0),
    }


def adherence_rows(session: Session, threshold: Decimal, days: int) -> Iterator[dict]:
    """Every row of the adherence report (for exports), streamed."""
    for row in session.execute(_adherence_rows(threshold, days).execution_options(yield_per=1000)):
        yield _adherence_item(row)


def category_report(session: Session, window: Window) -> dict:
    """Per customer category: new customers (by first visit), bills and sales in the window."""
    figures = totals(session, window, [rules.NEW_CUSTOMERS, rules.BILLS])
    zero = (0, Decimal("0"))
    items = []
    for category in CATEGORIES:
        bills, sales = figures.get((rules.BILLS, category), zero)
        items.append(
            {
                "category": category,
                "customers": figures.get((rules.NEW_CUSTOMERS, category), zero)[0],
                "bills": bills,
                "sales": rules.money(sales),
            }
        )
    return {**_window_fields(window), "items": items}


def refill_report(session: Session, window: Window) -> dict:
    """Refill reminders falling due in the window and what came of them."""
    metrics = [rules.REFILLS_DUE, rules.REFILLS_CONTACTED, rules.REFILLS_RESPONDED, rules.REFILLS_PURCHASED]
    figures = totals(session, window, metrics)
    due, contacted, responded, purchased = (_sum(figures, metric)[0] for metric in metrics)
    return {
        **_window_fields(window),
        "due": due,
        "contacted": contacted,
        "responded": responded,
        "purchased": purchased,
        "recovery_rate": rules.percentage(purchased, due),
    }


# -- facts from consumed events ------------------------------------------------------------------
def locked_fact(session: Session, model: Any, **key: Any) -> Any:
    """The fact row with this primary key, created empty when missing, locked until the transaction
    ends (when ``lock_facts`` locked it at the start of the batch, that row, without a statement).

    One statement: an upsert whose update rewrites the key with itself takes the row's lock
    (a concurrent transaction creating the same row waits for this one, then locks it in turn).
    """
    state = _transaction(session)
    found = state.locked.get((model, _key_of(model, key)))
    if found is not None:
        return found
    fact = _upsert_facts(session, model, [key])[0]
    state.locked[(model, _key_of(model, key))] = fact
    return fact


def _key_of(model: Any, values: Any) -> tuple[Any, ...]:
    """A fact's primary key values, in the primary key's column order (``values``: a mapping or a row)."""
    names = [column.name for column in model.__table__.primary_key.columns]
    if isinstance(values, dict):
        return tuple(values[name] for name in names)
    return tuple(getattr(values, name) for name in names)


def _upsert_facts(session: Session, model: Any, keys: list[dict[str, Any]]) -> list[Any]:
    """Create the missing facts of ``keys`` and lock them all, in the order given, in one statement."""
    first = next(iter(keys[0]))
    stmt = dialect_insert(session)(model).values(keys)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys[0]), set_={first: stmt.excluded[first]})
    return list(session.scalars(stmt.returning(model), execution_options={"populate_existing": True}))


#: The facts each event's handler locks before any other (``lock_facts``). Not listed: rows found
#: through them (a customer's adherence row, a contact's status change, the reminders a purchase
#: closed), which a transaction can only reach while holding the listed fact they belong to.
FACTS_OF: dict[type, Callable[[Any, EventContext], list[tuple[Any, dict[str, Any]]]]] = {
    BillCreated: lambda e, c: [(ReportBill, {"source": c.source, "bill_id": stored_id(e.bill_id)})],
    ContactsUploaded: lambda e, c: [(ReportContactUpload, {"upload_id": stored_id(e.upload_id)})],
    ContactStatusChanged: lambda e, c: [(ReportContact, {"contact_id": stored_id(e.contact_id)})],
    ContactConverted: lambda e, c: [(ReportContact, {"contact_id": stored_id(e.contact_id)})],
    ContactInteractionLogged: lambda e, c: [(ReportInteraction, {"interaction_id": stored_id(e.interaction_id)})],
    CustomerUpserted: lambda e, c: [(ReportCustomer, {"customer_id": stored_id(e.customer_id)})],
    PurchaseRecorded: lambda e, c: (
        [(ReportPurchase, {"purchase_id": stored_id(e.purchase_id)})]
        + ([(ReportCustomer, {"customer_id": stored_id(e.customer_id)})] if e.customer_id is not None else [])
    ),
    RefillReminderCreated: lambda e, c: [(ReportRefillReminder, {"reminder_id": stored_id(e.reminder_id)})],
    RefillReminderUpdated: lambda e, c: (
        (
            [(ReportPurchase, {"purchase_id": stored_id(e.closed_by_purchase_id)})]
            if e.closed_by_purchase_id is not None
            else []
        )
        + [(ReportRefillReminder, {"reminder_id": stored_id(e.reminder_id)})]
    ),
}


def lock_facts(session: Session, batch: Sequence[tuple[Any, EventContext]]) -> None:
    """Lock (creating them empty when missing) the facts a batch's handlers lock first
    (``FACTS_OF``), one statement per table, in one order: tables by name, rows by key.

    Replicas' batches that share facts (a returning customer's purchase in one, their profile in
    another) then wait for each other instead of locking the same rows in opposite orders and
    deadlocking (PostgreSQL detects it only after ``deadlock_timeout``, 1 s). Called by the runner
    before the handlers (``consumers.PREPARE``); the handlers' ``locked_fact`` finds them locked.
    """
    wanted: dict[Any, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
    for typed, context in batch:
        for model, key in FACTS_OF.get(type(typed), lambda e, c: [])(typed, context):
            wanted[model][_key_of(model, key)] = key
    state = _transaction(session)
    for model in sorted(wanted, key=lambda m: m.__tablename__):
        keys = [key for value, key in sorted(wanted[model].items()) if (model, value) not in state.locked]
        if keys:
            for fact in _upsert_facts(session, model, keys):
                state.locked[(model, _key_of(model, fact))] = fact


def move_totals(session: Session, before: list[rules.Contribution], after: list[rules.Contribution]) -> None:
    """Add ``after - before`` to the per-day rollup (written when the transaction commits)."""
    totals = _transaction(session).totals
    for change in rules.difference(before, after):
        entry = totals[(change.metric, change.day, change.dimension)]
        entry[0] += change.count
        entry[1] += change.amount


class _Transaction:
    """What reporting keeps for the session's current transaction: the facts it has locked, and its
    rollup changes, summed per row and written just before it commits.

    Every event of a batch moves the same few rollup rows (today's bills, today's purchases...): so
    each row is written once per transaction, not once per event, and the rows are locked at the
    very end, in one key order (per-day totals, then adherence buckets, each sorted). Replicas'
    transactions then meet on the rollup only in that order and cannot deadlock there, and a hot
    row is held only while its transaction commits.
    """

    KEY = "reporting.transaction"

    def __init__(self) -> None:
        self.locked: dict[tuple[Any, tuple[Any, ...]], Any] = {}
        self.totals: dict[tuple[str, dt.date, str], list[Any]] = defaultdict(lambda: [0, Decimal("0")])
        self.buckets: dict[tuple[int, Decimal], int] = defaultdict(int)

    def write_rollup(self, session: Session) -> None:
        totals = [(key, n, amount) for key, (n, amount) in sorted(self.totals.items()) if n or amount]
        buckets = [(key, n) for key, n in sorted(self.buckets.items()) if n]
        self.totals.clear()
        self.buckets.clear()
        if totals:
            table = DailyTotal.__table__
            stmt = dialect_insert(session)(table).values(
                [
                    {"metric": metric, "day": day, "dimension": dimension, "count": n, "amount": amount}
                    for (metric, day, dimension), n, amount in totals
                ]
            )
            excluded = stmt.excluded
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["metric", "day", "dimension"],
                    set_={"count": table.c.count + excluded.count, "amount": table.c.amount + excluded.amount},
                )
            )
        if buckets:
            table = ReportAdherenceBucket.__table__
            stmt = dialect_insert(session)(table).values(
                [{"window_days": days, "pdc": pdc, "count": n} for (days, pdc), n in buckets]
            )
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["window_days", "pdc"], set_={"count": table.c.count + stmt.excluded.count}
                )
            )

    def end(self, _session: Session) -> None:
        """The transaction ended (committed or rolled back): its locks and pending changes are gone."""
        self.locked.clear()
        self.totals.clear()
        self.buckets.clear()


def _transaction(session: Session) -> _Transaction:
    """The session's ``_Transaction``; the first call makes its commits write the rollup."""
    state = session.info.get(_Transaction.KEY)
    if state is None:
        state = session.info[_Transaction.KEY] = _Transaction()
        event.listen(session, "before_commit", state.write_rollup)
        event.listen(session, "after_commit", state.end)
        event.listen(session, "after_rollback", state.end)
    return state


class _Tracked:
    """``with _Tracked(session, fact, contributions):`` moves the rollup by what the block changed."""

    def __init__(self, session: Session, fact: Any, contributions: Callable[[Any], list[rules.Contribution]]):
        self.session, self.fact, self.contributions = session, fact, contributions

    def __enter__(self) -> Any:
        self.before = self.contributions(self.fact)
        return self.fact

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:  # a failed block changes nothing, so the rollup must not move either
            move_totals(self.session, self.before, self.contributions(self.fact))


def take_snapshot(fact: Any, context: EventContext, **fields: Any) -> None:
    """Write a snapshot event's ``fields`` onto its fact when the event is the newest one yet.

    Snapshot events (staff, upload, customer, bill, purchase) carry the whole state, so the
    newest wins (``rules.supersedes``) and an older one, arriving late, changes nothing.
    """
    if rules.supersedes(fact, context.time, context.event_id):
        for name, value in fields.items():
            setattr(fact, name, value)
        rules.stamp(fact, context.time, context.event_id)


def record_staff(session: Session, staff: StaffChanged, context: EventContext) -> None:
    """``staff.created`` / ``staff.updated``: keep the newest snapshot of the staff member."""
    fact = locked_fact(session, ReportStaff, staff_id=stored_id(staff.staff_id))
    take_snapshot(fact, context, username=staff.username, name=staff.name, role=staff.role, active=staff.active)


def record_upload(session: Session, uploaded: ContactsUploaded, context: EventContext) -> None:
    """``contacts.uploaded``: contacts imported and assigned per staff member, dated by upload; the list."""
    upload = locked_fact(session, ReportContactUpload, upload_id=stored_id(uploaded.upload_id))
    with _Tracked(session, upload, _upload_contributions):
        take_snapshot(
            upload,
            context,
            uploaded_at=uploaded.uploaded_at,
            uploaded_on=context.local_date(uploaded.uploaded_at),
            uploaded_by=stored_id(uploaded.uploaded_by),
            list_name=uploaded.list_name,
            imported=uploaded.imported,
            assigned={stored_id(staff): n for staff, n in uploaded.assigned.items()},
        )


def _upload_contributions(upload: ReportContactUpload) -> list[rules.Contribution]:
    return rules.upload_contributions(upload) + rules.list_contributions(upload)


def _offer_upload(contact: ReportContact, upload_id: str | None) -> None:
    # A contact belongs to one list for good; events that do not say which leave it as it is.
    if upload_id is not None and contact.upload_id is None:
        contact.upload_id = upload_id


def record_status_change(session: Session, changed: ContactStatusChanged, context: EventContext) -> None:
    """``contact.status_changed``: the first move out of pending (interactions come from their own event)."""
    contact_id = stored_id(changed.contact_id)
    changed_on = context.local_date(changed.changed_at)
    # Lock order: the contact, then its status change (every handler touching both does the same).
    contact = locked_fact(session, ReportContact, contact_id=contact_id)
    change = locked_fact(
        session,
        ReportContactStatusChange,
        contact_id=contact_id,
        changed_at=changed.changed_at,
        from_status=changed.from_status,
        to_status=changed.to_status,
    )
    with _Tracked(session, contact, rules.contact_contributions):
        change.changed_on, change.by_staff = changed_on, stored_id(changed.by)
        _offer_upload(contact, stored_id(changed.upload_id))
        if changed.to_status != "pending":
            rules.offer_left_pending(contact, changed_on, changed.changed_at, stored_id(changed.assigned_to))


def record_conversion(session: Session, conversion: ContactConverted, context: EventContext) -> None:
    """``contact.converted``: the first conversion counts (and a conversion means it left pending)."""
    contact = locked_fact(session, ReportContact, contact_id=stored_id(conversion.contact_id))
    assignee = stored_id(conversion.assigned_to)
    with _Tracked(session, contact, rules.contact_contributions):
        _offer_upload(contact, stored_id(conversion.upload_id))
        rules.offer_left_pending(contact, conversion.converted_at, None, assignee)
        bill_id = stored_id(conversion.bill_id)
        rules.offer_conversion(
            contact,
            conversion.converted_at,
            rules.conversion_rank(conversion.bill_date, bill_id, context.time, context.event_id),
            conversion.conversion_value,
            bill_id,
            assignee,
        )


def record_interaction(session: Session, logged: ContactInteractionLogged, context: EventContext) -> None:
    """``contact.interaction_logged``: one interaction of its type for ``by``, dated when it was logged."""
    interaction = locked_fact(session, ReportInteraction, interaction_id=stored_id(logged.interaction_id))
    with _Tracked(session, interaction, rules.interaction_contributions):
        interaction.contact_id = stored_id(logged.contact_id)
        interaction.type = logged.type
        interaction.logged_on = context.local_date(logged.logged_at)
        interaction.by_staff = stored_id(logged.by)


def _first_generic_on(session: Session, customer: ReportCustomer) -> dt.date | None:
    """The customer's first generic purchase on or after their education day (from the facts)."""
    if customer.generic_education_on is None:
        return None
    return session.scalar(
        select(func.min(ReportPurchase.purchase_date)).where(
            ReportPurchase.customer_id == customer.customer_id,
            ReportPurchase.is_generic.is_(True),
            ReportPurchase.purchase_date >= customer.generic_education_on,
        )
    )


def record_customer(session: Session, profile: CustomerUpserted, context: EventContext) -> None:
    """``customer.upserted``: newest name, phone, category and education day, earliest first visit."""
    customer = locked_fact(session, ReportCustomer, customer_id=stored_id(profile.customer_id))
    with _Tracked(session, customer, rules.customer_contributions):
        first_visit = profile.first_visit_date
        if first_visit is not None and (customer.first_visit_date is None or first_visit < customer.first_visit_date):
            customer.first_visit_date = first_visit
        take_snapshot(
            customer,
            context,
            name=profile.name,
            phone=profile.phone,
            category=profile.category,
            generic_education_on=profile.generic_education_given_on,
        )
        customer.educated_generic_on = _first_generic_on(session, customer)


def record_bill(session: Session, bill: BillCreated, context: EventContext) -> None:
    """``bill.created``: a bill of a category, dated and totalled (bill ids are per source)."""
    fact = locked_fact(session, ReportBill, source=context.source, bill_id=stored_id(bill.bill_id))
    with _Tracked(session, fact, rules.bill_contributions):
        take_snapshot(
            fact,
            context,
            bill_date=bill.bill_date,
            customer_category=bill.customer_category,
            total_amount=bill.total_amount,
            visited_no_purchase=bill.visited_no_purchase,
        )


def record_purchase(session: Session, purchase: PurchaseRecorded, context: EventContext) -> None:
    """``purchase.recorded``: a generic or branded line; it may make an educated customer's first
    generic, is a fill of the customer's adherence to that medicine, and gives its amount to the
    reminders it closed.

    Lock order: the purchase, the customer, the adherence row, the reminders it closed (the refill
    handler locks the purchase before its reminder too), then the rollup in one sorted batch.
    """
    purchase_id = stored_id(purchase.purchase_id)
    fact = locked_fact(session, ReportPurchase, purchase_id=purchase_id)
    before, after = rules.purchase_contributions(fact), []
    take_snapshot(
        fact,
        context,
        customer_id=stored_id(purchase.customer_id),
        bill_id=stored_id(purchase.bill_id),
        purchase_date=purchase.purchase_date,
        is_generic=purchase.is_generic,
        amount=purchase.amount,
        medicine_name=purchase.medicine_name,
        duration_days=purchase.duration_days,
        branded_price=purchase.branded_price,
        savings=purchase.savings,
    )
    session.flush()  # the customer's query below sees this purchase
    after += rules.purchase_contributions(fact)
    if fact.customer_id is not None:
        customer = locked_fact(session, ReportCustomer, customer_id=fact.customer_id)
        before += rules.customer_contributions(customer)
        customer.educated_generic_on = _first_generic_on(session, customer)
        after += rules.customer_contributions(customer)
        if fact.duration_days and fact.purchase_date is not None and fact.medicine_name:
            _add_fill(session, fact, pharmacy_today(context.pharmacy_zone))
    closed = session.scalars(
        select(ReportRefillReminder)
        .where(ReportRefillReminder.closed_by_purchase_id == purchase_id)
        .order_by(ReportRefillReminder.reminder_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for reminder in closed:
        before += rules.refill_reminder_contributions(reminder)
        reminder.recovered_value = fact.amount
        after += rules.refill_reminder_contributions(reminder)
    move_totals(session, before, after)


def pharmacy_today(zone: ZoneInfo) -> dt.date:
    """Today in the pharmacy's time zone by the real clock (what a worker's PDC is "as of")."""
    return utcnow().astimezone(zone).date()


def _add_fill(session: Session, purchase: ReportPurchase, today: dt.date) -> None:
    """Add a purchase with a duration to its (customer, medicine) row and recompute that row's PDC."""
    assert purchase.customer_id is not None and purchase.medicine_name and purchase.purchase_date
    row = locked_fact(
        session,
        ReportAdherence,
        customer_id=purchase.customer_id,
        medicine_key=medicine_key(purchase.medicine_name)[:200],
    )
    fills = dict(row.fills or {})
    fills[purchase.purchase_id] = [purchase.purchase_date.isoformat(), purchase.duration_days]
    row.fills = fills
    # The name shown is that of the latest fill (ties: the greatest purchase id), whatever the order.
    latest = max(fills.items(), key=lambda item: (item[1][0], id_order(item[0]), item[0]))[0]
    if latest == purchase.purchase_id:
        row.medicine_name = purchase.medicine_name
    _recompute_adherence(session, [row], today)


def _recompute_adherence(session: Session, rows: list[ReportAdherence], today: dt.date) -> None:
    before, after = [], []
    for row in rows:
        before += rules.adherence_buckets(row)
        for days, pdc in rules.adherence_pdcs(rules.fills_of(row.fills or {}), today).items():
            setattr(row, f"pdc_{days}", pdc)
        row.as_of = today
        after += rules.adherence_buckets(row)
    buckets = _transaction(session).buckets
    for days, pdc, change in rules.bucket_changes(before, after):
        buckets[(days, pdc)] += change


def refresh_adherence(session: Session, today: dt.date, limit: int = 500) -> int:
    """Recompute the PDC of up to ``limit`` rows not computed for ``today``; how many were.

    PDC depends on the day (a supply runs out, the window moves), so each day every row is computed
    again: the worker calls this in a loop (``worker.AdherenceRefresh``) until none is left. Rows being
    changed by a purchase (locked) are skipped: that purchase computes them for its own day.
    """
    stale = or_(ReportAdherence.as_of.is_(None), ReportAdherence.as_of < today, ReportAdherence.as_of > today)
    rows = list(
        session.scalars(
            select(ReportAdherence)
            .where(stale)
            .order_by(ReportAdherence.as_of, ReportAdherence.customer_id, ReportAdherence.medicine_key)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    _recompute_adherence(session, rows, today)
    return len(rows)


def record_refill_reminder(session: Session, created: RefillReminderCreated, context: EventContext) -> None:
    """``refill_reminder.created``: the reminder and the day it falls due."""
    reminder = locked_fact(session, ReportRefillReminder, reminder_id=stored_id(created.reminder_id))
    with _Tracked(session, reminder, rules.refill_reminder_contributions):
        reminder.reminder_date = created.reminder_date
        reminder.customer_id = stored_id(created.customer_id)


def record_refill_outcome(session: Session, updated: RefillReminderUpdated, context: EventContext) -> None:
    """``refill_reminder.updated``: contacted (WhatsApp or call), responded, purchased - once on, stays
    on; who first sent the WhatsApp, made the call and recorded the response (``by``); the purchase
    that closed it and its amount (``closed_by_purchase_id``), for the staff report's refill funnel."""
    closed_by = stored_id(updated.closed_by_purchase_id)
    # The purchase first (as record_purchase does), so its amount and this reminder meet in one order.
    purchase = locked_fact(session, ReportPurchase, purchase_id=closed_by) if closed_by is not None else None
    reminder = locked_fact(session, ReportRefillReminder, reminder_id=stored_id(updated.reminder_id))
    by, time, event_id = stored_id(updated.by), context.time, context.event_id
    with _Tracked(session, reminder, rules.refill_reminder_contributions):
        reminder.contacted = reminder.contacted or bool(updated.whatsapp_sent_at or updated.call_made_at)
        reminder.responded = reminder.responded or updated.responded
        reminder.purchased = reminder.purchased or bool(updated.purchased_at) or updated.status == "purchased"
        for action, at in (("whatsapp", updated.whatsapp_sent_at), ("call", updated.call_made_at)):
            if at is not None:
                rules.offer_first(
                    reminder, action, rules.first_rank(at, time, event_id), at, context.local_date(at), by
                )
        if updated.responded:
            rank = rules.first_rank(time, time, event_id)
            rules.offer_first(reminder, "responded", rank, time, context.local_date(time), by)
        purchased_at = updated.purchased_at or (time if updated.status == "purchased" else None)
        if purchased_at is not None:
            rules.offer_purchase(reminder, purchased_at, context.local_date(purchased_at), closed_by)
        if purchase is not None and reminder.closed_by_purchase_id == purchase.purchase_id:
            reminder.recovered_value = purchase.amount


# -- consent --------------------------------------------------------------------------------
def record_consent(session: Session, change: ConsentChanged, context: EventContext) -> None:
    """``consent.changed``: keep each phone's newest consent (any delivery order ends the same)."""
    consents.apply(session, change)


def consent_report(session: Session) -> dict:
    """How many phones have a recorded consent, and how many of them decline each channel now
    (the people who said STOP), and every channel. Current state, so it takes no window."""
    copies = consents.table.c

    def declined(column: Any) -> Any:
        return func.coalesce(func.sum(case((column == DECLINED, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count(),
            declined(copies.whatsapp),
            declined(copies.call),
            declined(copies.sms),
            func.coalesce(
                func.sum(
                    case(
                        (
                            (copies.whatsapp == DECLINED) & (copies.call == DECLINED) & (copies.sms == DECLINED),
                            1,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
        ).select_from(consents.table)
    ).one()
    phones, whatsapp, call, sms, everything = (int(value) for value in row)
    return {
        "phones": phones,
        "whatsapp_declined": whatsapp,
        "call_declined": call,
        "sms_declined": sms,
        "declined_every_channel": everything,
    }
