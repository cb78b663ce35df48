"""Refill reminders: the due-date rule, the purchase cycle, and what staff record on a reminder.

Decisions (kept here so the code and its reasons stay together):

* ``reminder_date = purchase_date + duration_days - 5``; a duration under 6 days gives the
  purchase date itself (the customer should be reminded at once, never before buying). The rule
  is ``shared.refills.refill_reminder_date``, the one customers uses for a purchase's due date.
* "Today" is the pharmacy's date (``PHARMACY_TZ``, ``shared.web.pharmacy_today``), never UTC's:
  at 00:15 in Kolkata a reminder dated that day is due today although UTC still shows the day before.
* Status: ``open`` (nobody heard back yet; a WhatsApp or a call is recorded beside it, not as a
  status), ``responded`` (the customer answered; the refill is still due, so it stays on the due
  list), ``purchased`` (closed: by a later purchase of the same medicine, or by staff). Only
  ``purchased`` ends a reminder; actions on it are refused (409) except marking it purchased again,
  which changes nothing and publishes nothing.
* One reminder per purchase, keyed by ``(publisher source, purchase_id)``, so a redelivered or
  re-published purchase never makes a second one.
* The cycle is decided by purchase order, not arrival order: purchases of one medicine by one
  customer are ordered by ``(purchase_date, purchase_id)``; every reminder but the newest one is
  ``purchased``. A purchase closes the not-yet-purchased reminders of older purchases; a purchase
  older than one already known is created already closed (closed by the next newer purchase).
  Which reminders end up open is therefore the same whatever order the events arrive in.
* A purchase without ``duration_days`` makes no reminder, but the customer did buy the medicine
  again, so it still closes the older open reminders of that medicine. (It is not stored, so an
  even older purchase arriving after it opens normally: the one case where order matters.)
* A reminder set by hand (``POST /reminders/refills``, the profile's "Set refill reminder") is for a
  medicine billed without a duration: it has no purchase, its "purchase date" is the day it was set,
  and any purchase of that medicine from that day on closes it like any other. It never closes a
  purchase's reminder (it is not a purchase), and it must be dated today or later.
* Consent: a WhatsApp to a phone whose WhatsApp consent is declined, or a call whose call consent is
  declined, is refused (409); consent comes from ``consent.changed`` (``shared.consent``).
* Medicines match by ``medicine_key``: Unicode NFC, case-folded, whitespace collapsed
  (``'metformin  500'`` is ``'Metformin 500'``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from shared.adherence import medicine_key
from shared.clock import utcnow
from shared.consent import NO_ANSWER, ConsentView, require_consent
from shared.db import dialect_insert
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events import (
    ConsentChanged,
    CustomerUpserted,
    EventContext,
    PurchaseRecorded,
    RefillReminderCreated,
    RefillReminderUpdated,
)
from shared.ids import id_order, wire_id
from shared.phones import whatsapp_link
from shared.refills import refill_reminder_date

from .models import (
    DUE_STATUSES,
    OPEN,
    PURCHASED,
    RESPONDED,
    SET_BY_HAND,
    RefillReminder,
    ReminderCustomer,
    consents,
    messaging,
)

DAYS_AHEAD_CHOICES = (0, 7, 14, 30)
STATUS_FILTERS = ("open", "responded", "purchased", "all")


# -- pure rules ---------------------------------------------------------------------------
def days_until_due(reminder_on: dt.date, today: dt.date) -> int:
    """Days from ``today`` to the reminder date (0 today, negative when overdue)."""
    return (reminder_on - today).days


def purchase_order(purchase_date: dt.date, purchase_id: str, set_by_hand: bool = False) -> tuple:
    """Orders purchases of one medicine: by date, then by id (numeric ids by value), so ties are stable.

    A reminder set by hand comes before every purchase of the day it was set, so the purchases of
    that day close it.
    """
    if set_by_hand:
        return (purchase_date, -1, 0, str(purchase_id))
    return (purchase_date, *id_order(str(purchase_id)))


@dataclass(frozen=True)
class KnownPurchase:
    """A purchase that already has a reminder, as the cycle rule sees it."""

    order: tuple
    purchase_id: str
    purchased: bool
    set_by_hand: bool = False


@dataclass(frozen=True)
class CycleDecision:
    close: tuple[KnownPurchase, ...]  # the reminders the new purchase closes
    closed_by: str | None  # the newer purchase that closes the new reminder at once, if any


def refill_cycle(known: Sequence[KnownPurchase], new_order: tuple) -> CycleDecision:
    """What a new purchase does to the reminders of the same customer and medicine."""
    close = tuple(p for p in known if p.order < new_order and not p.purchased)
    newer = [p for p in known if p.order > new_order and not p.set_by_hand]
    closed_by = min(newer, key=lambda p: p.order).purchase_id if newer else None
    return CycleDecision(close, closed_by)


def whatsapp_message(customer_name: str | None, medicine_name: str, reminder_on: dt.date) -> str:
    greeting = f"Hello {customer_name}," if customer_name else "Hello,"
    return (
        f"{greeting} this is a reminder from your pharmacy: your {medicine_name} refill is due on "
        f"{reminder_on.day} {reminder_on:%b %Y}. Reply to this message or visit us to refill."
    )


# -- the local customer directory ---------------------------------------------------------
def _locked_customer(session: Session, customer_id: str) -> ReminderCustomer:
    """The directory row of a customer, created empty if unknown, locked for this transaction.

    The lock serializes everything done for one customer, so two replicas handling two
    purchases of the same medicine cannot both leave a reminder open.
    """
    session.execute(
        dialect_insert(session)(ReminderCustomer)
        .values(customer_id=customer_id, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    return session.scalars(
        select(ReminderCustomer)
        .where(ReminderCustomer.customer_id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_customers(session: Session, batch: Sequence[tuple[Any, EventContext]]) -> None:
    """Lock (creating them empty when missing) the directory rows of every customer a batch's events
    are about, in one statement, in id order (``consumers.PREPARE``, before the handlers).

    Each handler locks its customer (``_locked_customer``); a batch that did so event by event
    would lock a returning customer's row in another order than a replica's batch, and the two
    would deadlock (detected only after PostgreSQL's ``deadlock_timeout``, 1 s). Locked here in
    one order, a replica's batch waits for this one instead; the handlers' own locks are then
    already held.
    """
    ids = sorted(
        {str(typed.customer_id) for typed, _ in batch if isinstance(typed, PurchaseRecorded | CustomerUpserted)}
    )
    if not ids:
        return
    now = utcnow()
    stmt = dialect_insert(session)(ReminderCustomer).values([{"customer_id": i, "updated_at": now} for i in ids])
    session.execute(
        stmt.on_conflict_do_update(index_elements=["customer_id"], set_={"customer_id": stmt.excluded.customer_id})
    )


def upsert_customer(
    session: Session, customer_id, name: str | None, phone: str | None, profile_time: dt.datetime
) -> None:
    """Keep a customer's name and phone; a profile older than the one held is ignored."""
    customer = _locked_customer(session, str(customer_id))
    if customer.profile_time is not None and customer.profile_time > profile_time:
        return
    customer.name, customer.phone, customer.profile_time = name, phone, profile_time


# -- purchases ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Purchase:
    """A purchase as ``purchase.recorded`` carries it."""

    source: str
    purchase_id: str
    customer_id: str
    medicine_name: str
    purchase_date: dt.date
    duration_days: int | None
    # When the purchase was recorded (its event's time): a reminder set by hand after it is not
    # closed by it, however late the event arrives.
    recorded_at: dt.datetime | None = None

    @classmethod
    def recorded(cls, source: str, event: PurchaseRecorded, at: dt.datetime | None = None) -> Purchase:
        """The purchase a ``purchase.recorded`` from ``source`` reports (ids kept as text)."""
        return cls(
            recorded_at=at,
            source=source,
            purchase_id=str(event.purchase_id),
            customer_id=str(event.customer_id),
            medicine_name=event.medicine_name,
            purchase_date=event.purchase_date,
            duration_days=event.duration_days,
        )


def record_purchase(session: Session, purchase: Purchase, now: dt.datetime | None = None) -> RefillReminder | None:
    """Apply one purchase: close older reminders of the medicine and open (or file) its own."""
    now = now or utcnow()
    _locked_customer(session, purchase.customer_id)
    existing = session.scalar(
        select(RefillReminder).where(
            RefillReminder.purchase_source == purchase.source, RefillReminder.purchase_id == purchase.purchase_id
        )
    )
    if existing is not None:
        return existing  # the same purchase published again under a new event id
    key = medicine_key(purchase.medicine_name)
    siblings = session.scalars(
        select(RefillReminder).where(
            RefillReminder.customer_id == purchase.customer_id, RefillReminder.medicine_key == key
        )
    ).all()
    known = [
        (
            KnownPurchase(
                purchase_order(r.purchase_date, r.purchase_id, r.set_by_hand),
                r.purchase_id,
                r.status == PURCHASED,
                r.set_by_hand,
            ),
            r,
        )
        for r in siblings
    ]
    decision = refill_cycle([k for k, _ in known], purchase_order(purchase.purchase_date, purchase.purchase_id))
    closing = {id(k) for k, reminder in known if k in decision.close and not _set_after(reminder, purchase)}
    for closed in (r for k, r in known if id(k) in closing):
        _close(closed, purchase.purchase_id, now)
        _publish_updated(session, closed, by=None)
    if purchase.duration_days is None:
        return None
    reminder = RefillReminder(
        customer_id=purchase.customer_id,
        purchase_source=purchase.source,
        purchase_id=purchase.purchase_id,
        medicine_name=purchase.medicine_name.strip(),
        medicine_key=key,
        purchase_date=purchase.purchase_date,
        duration_days=purchase.duration_days,
        reminder_date=refill_reminder_date(purchase.purchase_date, purchase.duration_days),
        status=OPEN,
        responded=False,
        created_at=now,
        updated_at=now,
    )
    session.add(reminder)
    session.flush()
    _publish_created(session, reminder)
    if decision.closed_by is not None:
        # An older purchase arrived after a newer one: its refill was already bought.
        _close(reminder, decision.closed_by, now)
        _publish_updated(session, reminder, by=None)
    return reminder


def _set_after(reminder: RefillReminder, purchase: Purchase) -> bool:
    """A reminder set by hand after this purchase was recorded (the purchase is not "the next one")."""
    return (
        reminder.set_by_hand
        and purchase.recorded_at is not None
        and reminder.created_at is not None
        and purchase.recorded_at < reminder.created_at
    )


def set_reminder_by_hand(
    session: Session, customer_id: str, medicine_name: str, reminder_on: dt.date, by: int, today: dt.date
) -> RefillReminder:
    """A reminder staff set on a profile for a medicine billed without a duration (due ``reminder_on``).

    The customer must be known here (their profile reached reminders); the date may not be past.
    """
    if reminder_on < today:
        raise ValidationFailed(
            "a refill reminder cannot be set in the past", errors={"reminder_date": ["must be today or later"]}
        )
    customer = session.get(ReminderCustomer, str(customer_id))
    if customer is None or customer.phone is None:
        raise ValidationFailed(
            f"customer {customer_id} is not known", errors={"customer_id": ["no customer has this id"]}
        )
    now = utcnow()
    _locked_customer(session, str(customer_id))
    reminder = RefillReminder(
        customer_id=str(customer_id),
        purchase_source=SET_BY_HAND,
        purchase_id=f"set-by-hand:{uuid.uuid4()}",
        medicine_name=medicine_name.strip(),
        medicine_key=medicine_key(medicine_name),
        purchase_date=today,
        duration_days=None,
        reminder_date=reminder_on,
        set_by=by,
        status=OPEN,
        responded=False,
        created_at=now,
        updated_at=now,
    )
    session.add(reminder)
    session.flush()
    _publish_created(session, reminder)
    return reminder


def _publish_created(session: Session, reminder: RefillReminder) -> None:
    messaging.add_event(
        session,
        RefillReminderCreated(
            reminder_id=reminder.id,
            customer_id=wire_id(reminder.customer_id),
            purchase_id=wire_id(reminder.purchase_id),
            medicine_name=reminder.medicine_name,
            reminder_date=reminder.reminder_date,
        ),
    )


def _close(reminder: RefillReminder, closed_by_purchase_id: str | None, now: dt.datetime) -> None:
    reminder.status = PURCHASED
    reminder.purchased_at = now
    reminder.closed_by_purchase_id = closed_by_purchase_id
    reminder.updated_at = now


def _publish_updated(session: Session, reminder: RefillReminder, by) -> None:
    session.flush()
    messaging.add_event(
        session,
        RefillReminderUpdated(
            reminder_id=reminder.id,
            status=reminder.status,
            whatsapp_sent_at=reminder.whatsapp_sent_at,
            call_made_at=reminder.call_made_at,
            responded=reminder.responded,
            purchased_at=reminder.purchased_at,
            by=by,
            closed_by_purchase_id=wire_id(reminder.closed_by_purchase_id),
        ),
    )


# -- consent --------------------------------------------------------------------------------
def record_consent(session: Session, change: ConsentChanged) -> None:
    """Keep the newest consent of a phone (refuses WhatsApps and calls the owner declined)."""
    consents.apply(session, change)


# -- reading ------------------------------------------------------------------------------
def reminders_query(status: str | None = None, due_by: dt.date | None = None, customer_id: str | None = None):
    """Reminders soonest first; ``status=None`` means the ones still due (open or responded)."""
    stmt = select(RefillReminder).order_by(RefillReminder.reminder_date, RefillReminder.id)
    if status is None:
        # Inline values (not bind parameters) so even a prepared, generic plan can prove the
        # partial index ix_refill_reminders_due applies.
        stmt = stmt.where(RefillReminder.status.in_([literal(s, literal_execute=True) for s in DUE_STATUSES]))
    elif status != "all":
        stmt = stmt.where(RefillReminder.status == status)
    if due_by is not None:
        stmt = stmt.where(RefillReminder.reminder_date <= due_by)
    if customer_id is not None:
        stmt = stmt.where(RefillReminder.customer_id == str(customer_id))
    return stmt


def get_reminder(session: Session, reminder_id: int, lock: bool = False) -> RefillReminder:
    stmt = select(RefillReminder).where(RefillReminder.id == reminder_id)
    if lock:
        # Lock only the reminder row: FOR UPDATE cannot apply to the nullable side of the outer join.
        stmt = stmt.with_for_update(of=RefillReminder)
    reminder = session.scalar(stmt)
    if reminder is None:
        raise NotFound(f"refill reminder {reminder_id} does not exist")
    return reminder


def reminder_views(session: Session, reminders: Sequence[RefillReminder], today: dt.date) -> list[dict]:
    """Reminders as staff see them, each with its customer's consent (one query for the page)."""
    consent = consents.of_many(session, [r.customer_phone for r in reminders if r.customer_phone])
    return [reminder_view(r, today, consent.get(r.customer_phone or "", NO_ANSWER)) for r in reminders]


def reminder_view(reminder: RefillReminder, today: dt.date, consent: ConsentView = NO_ANSWER) -> dict:
    """A reminder as staff see it, with the customer's name, phone, consent and days until due."""
    return {
        "id": reminder.id,
        "customer_id": wire_id(reminder.customer_id),
        "customer_name": reminder.customer_name,
        "customer_phone": reminder.customer_phone,
        "medicine_name": reminder.medicine_name,
        "purchase_id": wire_id(reminder.purchase_id),
        "purchase_date": reminder.purchase_date,
        "duration_days": reminder.duration_days,
        "reminder_date": reminder.reminder_date,
        "days_until_due": days_until_due(reminder.reminder_date, today),
        "whatsapp_sent_at": reminder.whatsapp_sent_at,
        "call_made_at": reminder.call_made_at,
        "call_notes": reminder.call_notes,
        "call_successful": reminder.call_successful,
        "responded": reminder.responded,
        "customer_response": reminder.customer_response,
        "purchased_at": reminder.purchased_at,
        "closed_by_purchase_id": wire_id(reminder.closed_by_purchase_id),
        "set_by_hand": reminder.set_by_hand,
        "status": reminder.status,
        "consent": consent.as_dict(),
    }


# -- what staff record --------------------------------------------------------------------
def _still_due(session: Session, reminder_id: int) -> RefillReminder:
    reminder = get_reminder(session, reminder_id, lock=True)
    if reminder.status == PURCHASED:
        raise Conflict(f"refill reminder {reminder_id} is closed: the refill was purchased")
    return reminder


def send_whatsapp(session: Session, reminder_id: int, by, now: dt.datetime) -> tuple[RefillReminder, str]:
    """Record that a WhatsApp reminder was sent; return the reminder and the ``wa.me`` link to send it."""
    reminder = _still_due(session, reminder_id)
    if not reminder.customer_phone:
        raise Conflict(f"the phone of customer {reminder.customer_id} is not known yet; try again shortly")
    require_consent(consents.of(session, reminder.customer_phone), "whatsapp")
    url = whatsapp_link(
        reminder.customer_phone,
        whatsapp_message(reminder.customer_name, reminder.medicine_name, reminder.reminder_date),
    )
    reminder.whatsapp_sent_at = now
    reminder.updated_at = now
    _publish_updated(session, reminder, by)
    return reminder, url


def record_call(
    session: Session, reminder_id: int, by, now: dt.datetime, notes: str | None = None, successful: bool | None = None
) -> RefillReminder:
    """Record a phone call to the customer (when, notes, whether it got through)."""
    reminder = _still_due(session, reminder_id)
    if reminder.customer_phone:
        require_consent(consents.of(session, reminder.customer_phone), "call")
    reminder.call_made_at = now
    reminder.call_notes = notes
    reminder.call_successful = successful
    reminder.updated_at = now
    _publish_updated(session, reminder, by)
    return reminder


def record_response(session: Session, reminder_id: int, by, now: dt.datetime, customer_response: str) -> RefillReminder:
    """Record what the customer answered; the refill stays due until it is purchased."""
    reminder = _still_due(session, reminder_id)
    reminder.responded = True
    reminder.customer_response = customer_response
    reminder.status = RESPONDED
    reminder.updated_at = now
    _publish_updated(session, reminder, by)
    return reminder


def mark_purchased(session: Session, reminder_id: int, by, now: dt.datetime) -> RefillReminder:
    """Close a reminder as purchased; doing it again changes (and publishes) nothing."""
    reminder = get_reminder(session, reminder_id, lock=True)
    if reminder.status == PURCHASED:
        return reminder
    _close(reminder, None, now)
    _publish_updated(session, reminder, by)
    return reminder


# -- export -------------------------------------------------------------------------------
EXPORT_COLUMNS = (
    "id",
    "customer_name",
    "customer_phone",
    "medicine_name",
    "reminder_date",
    "days_until_due",
    "status",
    "whatsapp_sent_at",
    "call_made_at",
    "responded",
    "customer_response",
    "purchased_at",
    "whatsapp_consent",
    "call_consent",
)


def export_rows(session: Session, stmt, today: dt.date) -> Iterator[tuple[object, ...]]:
    """The reminders of ``stmt`` as export rows, a thousand at a time (constant memory)."""
    batch: list[RefillReminder] = []
    for reminder in session.scalars(stmt.execution_options(yield_per=1000)):
        batch.append(reminder)
        if len(batch) == 1000:
            yield from _export_batch(session, batch, today)
            batch = []
    yield from _export_batch(session, batch, today)


def _export_batch(session: Session, reminders: list[RefillReminder], today: dt.date) -> Iterator[tuple[object, ...]]:
    for view in reminder_views(session, reminders, today):
        consent = view["consent"]
        yield tuple(
            consent["whatsapp"]
            if column == "whatsapp_consent"
            else consent["call"]
            if column == "call_consent"
            else view[column]
            for column in EXPORT_COLUMNS
        )
