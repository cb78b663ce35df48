"""Contacts use cases: work a contact list (read, edit, interactions, status, follow-ups, export).

Uploads live in ``uploads/``; the rules other services' events apply (conversions and yellow
flags from bills, the staff roster, customer links, consent) are at the end, called by the thin
handlers of ``consumers.py``. Functions take a ``Session`` and the caller (a ``shared.auth.Principal``)
or the typed event; they know nothing of Flask or pika.

Decisions beside their rules:

* Consent: customers owns it (``PUT /consent/{phone}``); contacts keeps a copy per phone fed by
  ``consent.changed`` (``shared.consent``), newest change wins. Keyed by phone, so consent given
  before the phone is in any list applies the moment the list is uploaded. A WhatsApp (the
  interaction, ``POST /whatsapp``, the wa.me link) to a phone whose WhatsApp consent is declined,
  or a call to one whose call consent is declined, is refused (409) before anything is written;
  ``unknown`` is allowed (not asked yet). Visits and emails are not refused.
* Yellow follow-up: a contact turning yellow (by hand or by a "visited but no purchase" bill) gets
  one follow-up for its staff member ``YELLOW_FOLLOW_UP_DAYS`` after the yellow instant (a bill's:
  ``bill_instant``, so a backlog does not move it). Its ``cause`` (the bill, or the hand flag) is
  unique per contact: a bill published again never schedules a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, inspect, or_, select, update
from sqlalchemy.orm import Session, selectinload

from shared import phones
from shared.auth import Principal
from shared.categories import CONTACT_SHEET
from shared.clock import utcnow
from shared.consent import NO_ANSWER, ConsentView, require_consent
from shared.db import dialect_insert, escape_like
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.events import (
    BillCreated,
    ConsentChanged,
    ContactConverted,
    ContactInteractionLogged,
    ContactStatusChanged,
    CustomerUpserted,
    StaffCreated,
    StaffUpdated,
)
from shared.idempotency import KeyAlreadyUsed
from shared.ids import id_order, wire_id

from .models import (
    CONTACTED,
    CONVERTED,
    PENDING,
    YELLOW,
    ContactInteraction,
    ContactRecord,
    CustomerLink,
    FollowUp,
    StaffMember,
    consents,
    idempotency,
    messaging,
)

# pending → contacted → converted | yellow; pending → converted | yellow; yellow → contacted | converted;
# converted is final.
TRANSITIONS = {
    PENDING: {CONTACTED, CONVERTED, YELLOW},
    CONTACTED: {CONVERTED, YELLOW},
    YELLOW: {CONTACTED, CONVERTED},
    CONVERTED: set(),
}
DEFAULT_WHATSAPP_TEMPLATE = "Hello {name}, greetings from your pharmacy. How can we help you today?"
#: The consent channel an interaction type needs (visits and emails need none).
CONSENT_CHANNEL = {"call": "call", "whatsapp": "whatsapp"}


def can_change(from_status: str, to_status: str) -> bool:
    """Whether the status rules allow ``from_status → to_status`` (a same-status change is not one)."""
    return to_status in TRANSITIONS.get(from_status, set())


# -- reading ---------------------------------------------------------------------------------
def visible(stmt, viewer: Principal):
    """Restrict a contact query to what the viewer may see (staff: their own contacts)."""
    return stmt if viewer.is_admin else stmt.where(ContactRecord.assigned_to == viewer.id)


def get_contact(
    session: Session, contact_id: int, viewer: Principal, *, for_update: bool = False, with_details: bool = False
) -> ContactRecord:
    """One contact the viewer may see; NotFound otherwise (another staff member's contact too)."""
    stmt = visible(select(ContactRecord).where(ContactRecord.id == contact_id), viewer)
    if for_update:
        stmt = stmt.with_for_update()
    if with_details:
        stmt = stmt.options(selectinload(ContactRecord.interactions), selectinload(ContactRecord.follow_ups))
    contact = session.scalar(stmt)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return contact


def contacts_query(
    viewer: Principal,
    status: str | None = None,
    whatsapp_status: str | None = None,
    assigned_to: int | None = None,
    upload_id: int | None = None,
    q: str | None = None,
):
    """Contacts newest first with the list filters of API.md; ``q`` matches name or phone."""
    stmt = visible(select(ContactRecord), viewer).order_by(ContactRecord.id.desc())
    if status:
        stmt = stmt.where(ContactRecord.status == status)
    if whatsapp_status:
        stmt = stmt.where(ContactRecord.whatsapp_status == whatsapp_status)
    if assigned_to is not None:
        stmt = stmt.where(ContactRecord.assigned_to == assigned_to)
    if upload_id is not None:
        stmt = stmt.where(ContactRecord.upload_id == upload_id)
    if q:
        pattern = "%" + escape_like(q) + "%"
        digits = "".join(ch for ch in q if ch.isascii() and ch.isdigit())
        matches = [ContactRecord.name.ilike(pattern, escape="\\")]
        if len(digits) >= 3:
            matches.append(ContactRecord.phone.like(f"%{digits}%"))
        stmt = stmt.where(or_(*matches))
    return stmt


_CONTACT_COLUMNS = tuple(attribute.key for attribute in inspect(ContactRecord).column_attrs)


def contact_view(contact: ContactRecord, consent: ConsentView = NO_ANSWER) -> dict[str, Any]:
    """A contact as staff see it: its fields and its phone's ``consent: {whatsapp, call, sms}``."""
    view: dict[str, Any] = {key: getattr(contact, key) for key in _CONTACT_COLUMNS}
    view["consent"] = consent.as_dict()
    return view


def contact_views(session: Session, contacts: Sequence[ContactRecord]) -> list[dict[str, Any]]:
    """Contacts (a page of a list) each with its phone's consent (one query for the page)."""
    known = consents.of_many(session, [c.phone for c in contacts])
    return [contact_view(c, known.get(c.phone, NO_ANSWER)) for c in contacts]


def contact_detail(session: Session, contact_id: int, viewer: Principal) -> dict[str, Any]:
    """One contact with its consent, interactions (newest first) and follow-ups."""
    contact = get_contact(session, contact_id, viewer, with_details=True)
    view = contact_view(contact, consents.of(session, contact.phone))
    view["interactions"] = contact.interactions
    view["follow_ups"] = contact.follow_ups
    return view


# -- editing ---------------------------------------------------------------------------------
def active_staff_member(session: Session, staff_id: int) -> StaffMember:
    member = session.get(StaffMember, staff_id)
    if member is None or not member.active:
        raise ValidationFailed(
            f"staff member {staff_id} is not an active user",
            errors={"assigned_to": [f"{staff_id} is not an active staff member"]},
        )
    return member


def update_contact(session: Session, contact_id: int, changes: dict, viewer: Principal) -> ContactRecord:
    """PATCH: name and WhatsApp status by whoever may see the contact; reassignment by admins only."""
    if "assigned_to" in changes and not viewer.is_admin:
        raise Forbidden("only an admin can reassign a contact")
    contact = get_contact(session, contact_id, viewer, for_update=True)
    if "assigned_to" in changes:
        active_staff_member(session, changes["assigned_to"])
    for field in ("name", "whatsapp_status", "assigned_to"):
        if field in changes:
            setattr(contact, field, changes[field])
    contact.updated_at = utcnow()
    session.flush()
    return contact


def change_status(
    session: Session, contact: ContactRecord, to_status: str, by: int | str | None, at: dt.datetime | None = None
) -> None:
    """Move a contact to ``to_status`` under the status rules (Conflict when disallowed) and
    publish ``contact.status_changed``."""
    if not can_change(contact.status, to_status):
        raise Conflict(f"a {contact.status} contact cannot become {to_status}")
    at = at or utcnow()
    from_status = contact.status
    contact.status = to_status
    if from_status == PENDING and contact.first_contacted_at is None:
        contact.first_contacted_at = at
    contact.updated_at = utcnow()  # when the record changed, even when ``at`` is a bill's (earlier) day
    messaging.add_event(
        session,
        ContactStatusChanged(
            contact_id=contact.id,
            phone=contact.phone,
            from_status=from_status,
            to_status=to_status,
            changed_at=at,
            assigned_to=contact.assigned_to,
            by=by,
            upload_id=contact.upload_id,
        ),
    )


def publish_converted(session: Session, contact: ContactRecord, customer_category: str | None) -> None:
    """``contact.converted`` with the contact's conversion (sent again when a bill corrects it)."""
    assert contact.converted_at is not None, "publish_converted follows a conversion"
    by_bill = contact.conversion_source == "bill"
    messaging.add_event(
        session,
        ContactConverted(
            contact_id=contact.id,
            phone=contact.phone,
            name=contact.name,
            converted_at=contact.converted_at,
            conversion_value=contact.conversion_value,
            bill_id=wire_id(contact.conversion_bill_id),
            assigned_to=contact.assigned_to,
            customer_category=customer_category,
            # A bill's conversion is dated by the bill, so consumers can rank converting bills alike.
            bill_date=contact.converted_at if by_bill else None,
            upload_id=contact.upload_id,
        ),
    )


@dataclass(frozen=True)
class NewInteraction:
    type: str
    notes: str | None = None
    customer_response: str | None = None
    next_action: str | None = None
    call_duration_minutes: int | None = None
    call_successful: bool | None = None
    follow_up_at: dt.datetime | None = None


def log_interaction(
    session: Session,
    contact_id: int,
    new: NewInteraction,
    viewer: Principal,
    idempotency_key: str | None = None,
    *,
    key_scope: str = "contact-interactions",
) -> tuple[ContactInteraction, bool]:
    """Record an interaction; a pending contact becomes contacted; ``follow_up_at`` makes a follow-up.
    A call or WhatsApp to a phone that declined that channel is refused (409), nothing written.

    Returns ``(interaction, created)``; a retry with the same ``Idempotency-Key`` (per
    ``key_scope`` and caller) returns the first interaction with ``created=False``.
    """
    scope = f"{key_scope}:{viewer.id}"
    existing = idempotency.lookup(session, scope, idempotency_key)
    if existing and (first := _replayed_interaction(session, existing, viewer)) is not None:
        return first, False
    if new.type != "call" and (new.call_duration_minutes is not None or new.call_successful is not None):
        raise ValidationFailed(
            "call details belong to calls",
            errors={"call_duration_minutes": ["only for type call"]}
            if new.call_duration_minutes is not None
            else {"call_successful": ["only for type call"]},
        )
    contact = get_contact(session, contact_id, viewer, for_update=True)
    if new.type in CONSENT_CHANNEL:
        require_consent(consents.of(session, contact.phone), CONSENT_CHANNEL[new.type])
    now = utcnow()
    interaction = ContactInteraction(
        contact_id=contact.id,
        staff_id=viewer.id,
        type=new.type,
        notes=new.notes,
        customer_response=new.customer_response,
        next_action=new.next_action,
        call_duration_minutes=new.call_duration_minutes,
        call_successful=new.call_successful,
        follow_up_at=new.follow_up_at,
        created_at=now,
    )
    session.add(interaction)
    session.flush()
    if new.follow_up_at is not None:
        session.add(
            FollowUp(
                contact_id=contact.id,
                interaction_id=interaction.id,
                staff_id=viewer.id,
                due_at=new.follow_up_at,
                note=new.next_action or new.notes,
                created_at=now,
            )
        )
    if contact.status == PENDING:
        change_status(session, contact, CONTACTED, viewer.id, now)
    contact.last_interaction_at = now
    contact.updated_at = now
    try:
        idempotency.remember(session, scope, idempotency_key, interaction.id)
    except KeyAlreadyUsed as twin:
        # A concurrent request with the same key logged it first: undo this one, answer with that.
        session.rollback()
        if (first := _replayed_interaction(session, twin.resource_id, viewer)) is None:
            raise
        return first, False
    session.flush()
    publish_interaction(session, interaction)
    return interaction, True


def publish_interaction(session: Session, interaction: ContactInteraction) -> None:
    """``contact.interaction_logged`` for a stored interaction (reporting counts them per staff and type)."""
    messaging.add_event(
        session,
        ContactInteractionLogged(
            contact_id=interaction.contact_id,
            interaction_id=interaction.id,
            type=interaction.type,
            logged_at=interaction.created_at,
            by=interaction.staff_id,
            call_successful=interaction.call_successful,
        ),
    )


def _replayed_interaction(session: Session, interaction_id: str, viewer: Principal) -> ContactInteraction | None:
    """The interaction a key logged, when it still exists (and its contact is still the viewer's to see)."""
    interaction = session.get(ContactInteraction, int(interaction_id))
    if interaction is not None:
        get_contact(session, interaction.contact_id, viewer)
    return interaction


def convert(
    session: Session,
    contact_id: int,
    viewer: Principal,
    today: dt.date,
    conversion_value: Decimal | None = None,
    bill_id=None,
) -> ContactRecord:
    """Mark a contact converted by hand. Converted is final: converting again changes nothing."""
    contact = get_contact(session, contact_id, viewer, for_update=True)
    if contact.status == CONVERTED:
        return contact
    change_status(session, contact, CONVERTED, viewer.id)
    contact.converted_at = today
    contact.conversion_value = conversion_value
    contact.conversion_bill_id = None if bill_id is None else str(bill_id)
    contact.conversion_source = "manual"
    publish_converted(session, contact, CONTACT_SHEET)
    session.flush()
    return contact


def flag_yellow(
    session: Session, contact_id: int, viewer: Principal, notes: str | None = None, *, follow_up_days: int
) -> ContactRecord:
    """Visited but did not buy. A converted contact cannot be flagged (409); flagging again is a no-op.
    The contact's staff member gets a follow-up ``follow_up_days`` later."""
    contact = get_contact(session, contact_id, viewer, for_update=True)
    if contact.status == YELLOW:
        return contact
    now = utcnow()
    change_status(session, contact, YELLOW, viewer.id, now)
    visit = None
    if notes:
        visit = ContactInteraction(contact_id=contact.id, staff_id=viewer.id, type="visit", notes=notes, created_at=now)
        session.add(visit)
        contact.last_interaction_at = now
        session.flush()
        publish_interaction(session, visit)
    schedule_yellow_follow_up(
        session,
        contact,
        now,
        follow_up_days,
        cause=f"yellow:staff:{now.isoformat()}",
        note="Visited without buying" + (f": {notes}" if notes else ""),
        interaction_id=visit.id if visit else None,
    )
    session.flush()
    return contact


def schedule_yellow_follow_up(
    session: Session,
    contact: ContactRecord,
    yellow_at: dt.datetime,
    days: int,
    *,
    cause: str,
    note: str,
    interaction_id: int | None = None,
) -> None:
    """A follow-up for the contact's staff member ``days`` after it turned yellow, unless ``cause``
    (what flagged it) already scheduled one for this contact."""
    if len(cause) > 200:  # an outside system's long source: its digest keeps the key unique and short
        cause = "yellow:sha256:" + hashlib.sha256(cause.encode()).hexdigest()
    table = FollowUp.__table__
    stmt = dialect_insert(session)(table).values(
        contact_id=contact.id,
        interaction_id=interaction_id,
        staff_id=contact.assigned_to,
        due_at=yellow_at + dt.timedelta(days=days),
        note=note,
        cause=cause,
        created_at=utcnow(),
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=[table.c.contact_id, table.c.cause]))


# -- follow-ups ------------------------------------------------------------------------------
def due_follow_ups_query(viewer: Principal, due_within_days: int, now: dt.datetime | None = None) -> Select[FollowUp]:
    """Open follow-ups due within ``due_within_days`` (overdue included), soonest first, of the
    viewer's contacts (admins: all)."""
    horizon = (now or utcnow()) + dt.timedelta(days=due_within_days)
    stmt = (
        select(FollowUp)
        .join(ContactRecord, ContactRecord.id == FollowUp.contact_id)
        .where(FollowUp.done_at.is_(None), FollowUp.due_at <= horizon)
        .order_by(FollowUp.due_at, FollowUp.id)
    )
    return stmt if viewer.is_admin else stmt.where(ContactRecord.assigned_to == viewer.id)


def follow_up_contacts(session: Session, follow_ups: Iterable[FollowUp]) -> dict[int, ContactRecord]:
    """The contacts of some follow-ups, by id (one query)."""
    ids = {f.contact_id for f in follow_ups}
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(ContactRecord).where(ContactRecord.id.in_(ids)))}


@dataclass(frozen=True)
class DueFollowUp:
    """An open follow-up with what staff need to act on it: its contact's name, phone and status."""

    id: int
    contact_id: int
    interaction_id: int | None
    staff_id: int | None
    due_at: dt.datetime
    note: str | None
    done_at: dt.datetime | None
    done_by: int | None
    created_at: dt.datetime
    contact_name: str | None
    contact_phone: str
    contact_status: str


def due_follow_ups(session: Session, follow_ups: list[FollowUp]) -> list[DueFollowUp]:
    """``follow_ups`` (a page of ``due_follow_ups_query``) each with its contact (one query)."""
    contacts = follow_up_contacts(session, follow_ups)
    return [
        DueFollowUp(
            id=f.id,
            contact_id=f.contact_id,
            interaction_id=f.interaction_id,
            staff_id=f.staff_id,
            due_at=f.due_at,
            note=f.note,
            done_at=f.done_at,
            done_by=f.done_by,
            created_at=f.created_at,
            contact_name=contacts[f.contact_id].name,
            contact_phone=contacts[f.contact_id].phone,
            contact_status=contacts[f.contact_id].status,
        )
        for f in follow_ups
    ]


def complete_follow_up(session: Session, follow_up_id: int, viewer: Principal) -> FollowUp:
    """Mark a follow-up done (again: unchanged)."""
    stmt = (
        select(FollowUp)
        .join(ContactRecord, ContactRecord.id == FollowUp.contact_id)
        .where(FollowUp.id == follow_up_id)
        .with_for_update(of=FollowUp)
    )
    if not viewer.is_admin:
        stmt = stmt.where(ContactRecord.assigned_to == viewer.id)
    follow_up = session.scalar(stmt)
    if follow_up is None:
        raise NotFound(f"follow-up {follow_up_id} does not exist")
    if follow_up.done_at is None:
        follow_up.done_at = utcnow()
        follow_up.done_by = viewer.id
        session.flush()
    return follow_up


# -- WhatsApp ----------------------------------------------------------------------------------
def _link(contact: ContactRecord, template: str | None) -> str:
    message = (template or DEFAULT_WHATSAPP_TEMPLATE).replace("{name}", contact.name or "there")
    return phones.whatsapp_link(contact.phone, message)


def whatsapp_link(session: Session, contact_id: int, viewer: Principal, template: str | None = None) -> str:
    """A ``https://wa.me/<digits>?text=...`` link; ``{name}`` in the template becomes the contact's name.
    Refused (409) when the phone declined WhatsApp."""
    contact = get_contact(session, contact_id, viewer)
    require_consent(consents.of(session, contact.phone), "whatsapp")
    return _link(contact, template)


@dataclass(frozen=True)
class WhatsappSent:
    url: str
    contact: dict[str, Any]


def send_whatsapp(
    session: Session,
    contact_id: int,
    viewer: Principal,
    template: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[WhatsappSent, bool]:
    """Log a WhatsApp to the contact (as ``log_interaction`` does: a pending contact becomes
    contacted, ``contact.interaction_logged`` is published) and return the wa.me link to send it.

    Refused (409) when the phone declined WhatsApp, nothing written. A retry with the same
    ``Idempotency-Key`` logs nothing new and answers ``created=False``."""
    interaction, created = log_interaction(
        session, contact_id, NewInteraction(type="whatsapp"), viewer, idempotency_key, key_scope="contact-whatsapp"
    )
    contact = get_contact(session, interaction.contact_id, viewer)
    view = contact_view(contact, consents.of(session, contact.phone))
    return WhatsappSent(url=_link(contact, template), contact=view), created


# -- export ------------------------------------------------------------------------------------
EXPORT_COLUMNS = (
    "id",
    "phone",
    "name",
    "status",
    "whatsapp_status",
    "assigned_to",
    "upload_id",
    "last_interaction_at",
    "converted_at",
    "conversion_value",
    "customer_id",
    "created_at",
    "whatsapp_consent",
    "call_consent",
    "sms_consent",
)
_EXPORT_BATCH = 1000


def export_rows(session: Session, stmt: Select[Any]) -> Iterator[tuple[object, ...]]:
    """The contacts of ``stmt`` (``contacts_query``) as export rows, a thousand at a time with one
    consent query per thousand (constant memory)."""
    batch: list[ContactRecord] = []
    for contact in session.scalars(stmt.execution_options(yield_per=_EXPORT_BATCH)):
        batch.append(contact)
        if len(batch) == _EXPORT_BATCH:
            yield from _export_batch(session, batch)
            batch = []
    yield from _export_batch(session, batch)


def _export_batch(session: Session, contacts: list[ContactRecord]) -> Iterator[tuple[object, ...]]:
    for view in contact_views(session, contacts):
        consent = view["consent"]
        yield tuple(
            consent[column.removesuffix("_consent")] if column.endswith("_consent") else view[column]
            for column in EXPORT_COLUMNS
        )


# -- other services' events ----------------------------------------------------------------------
# The runner's inbox makes each event apply once; these rules make the result independent of
# delivery order (and of replicas, by locking the contact row).
def _contact_by_phone(session: Session, phone: str) -> ContactRecord | None:
    # FOR UPDATE: two replicas handling two bills of one phone apply them one after the other.
    return session.scalar(select(ContactRecord).where(ContactRecord.phone == phone).with_for_update())


def bill_order(bill_date: dt.date, bill_id: object) -> tuple[object, ...]:
    """Which of two converting bills came first: earlier bill date, then lower bill id (numeric ids
    before textual ones). The first converting bill's date, value and id are the conversion's."""
    return (bill_date, *id_order("" if bill_id is None else str(bill_id)))


def bill_instant(bill_date: dt.date, published_at: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """When a bill's status change happened: the bill event's time when it falls on the bill's date
    in the pharmacy's zone, else the start of that date. Never the time a (late) handler ran, so a
    backlog or a back-dated bill never moves a conversion or yellow flag to another report day."""
    if published_at.astimezone(zone).date() == bill_date:
        return published_at
    return dt.datetime.combine(bill_date, dt.time(), zone).astimezone(dt.UTC)


def apply_bill(session: Session, bill: BillCreated, at: dt.datetime, *, source: str, follow_up_days: int) -> None:
    """A bill with ``was_contacted_before`` converts the contact of its phone; a visit without purchase
    flags it yellow (only from pending/contacted) with a follow-up ``follow_up_days`` after ``at``,
    once per bill of ``source``. Converted stays converted; when bills arrive out of order, the
    earliest bill (date, then id) ends up as the conversion. ``at`` dates the status change
    (``bill_instant``: on the bill's date)."""
    contact = _contact_by_phone(session, bill.customer_phone)
    if contact is None:
        return
    by = bill.created_by
    if bill.visited_no_purchase:
        if can_change(contact.status, YELLOW):  # pending or contacted; never un-converts
            change_status(session, contact, YELLOW, by, at)
            schedule_yellow_follow_up(
                session,
                contact,
                at,
                follow_up_days,
                cause=f"yellow:bill:{source}:{bill.bill_id}",
                note=f"Visited without buying on {bill.bill_date.isoformat()} (bill {bill.bill_number})",
            )
        return
    if not bill.was_contacted_before:
        return
    if contact.status != CONVERTED:
        change_status(session, contact, CONVERTED, by, at)
    elif not (
        contact.conversion_source == "bill"
        and contact.converted_at is not None
        and bill_order(bill.bill_date, bill.bill_id) < bill_order(contact.converted_at, contact.conversion_bill_id)
    ):
        return  # a later bill of a converted contact is a purchase, not a conversion
    # First conversion, or an earlier converting bill that arrived late: it is the conversion.
    contact.converted_at = bill.bill_date
    contact.conversion_value = bill.total_amount
    contact.conversion_bill_id = str(bill.bill_id)
    contact.conversion_source = "bill"
    contact.updated_at = utcnow()
    publish_converted(session, contact, bill.customer_category)


def _upsert(
    session: Session, model: type, values: dict[str, object], key: str, update_when: Callable[[Any], Any] | None = None
) -> None:
    stmt = dialect_insert(session)(model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={k: stmt.excluded[k] for k in values if k != key},
        where=update_when(stmt.excluded) if update_when else None,
    )
    session.execute(stmt)


def record_staff_member(session: Session, staff: StaffCreated | StaffUpdated, event_time: dt.datetime) -> None:
    """``staff.created``/``staff.updated``: upsert the roster row unless a newer event already wrote it."""
    _upsert(
        session,
        StaffMember,
        {
            "staff_id": int(staff.staff_id),
            "username": staff.username,
            "name": staff.name,
            "role": staff.role,
            "active": staff.active,
            "event_time": event_time,
        },
        "staff_id",
        update_when=lambda new: StaffMember.event_time <= new.event_time,
    )


def record_consent(session: Session, change: ConsentChanged) -> None:
    """Keep the newest consent of a phone (refuses WhatsApps and calls the owner declined), whether
    or not the phone is a contact yet."""
    consents.apply(session, change)


def link_customer(session: Session, customer: CustomerUpserted) -> None:
    """Remember the phone's customer and link the contact of that phone, whenever both exist."""
    customer_id = str(customer.customer_id)
    _upsert(
        session, CustomerLink, {"phone": customer.phone, "customer_id": customer_id, "updated_at": utcnow()}, "phone"
    )
    session.execute(
        update(ContactRecord)
        .where(
            ContactRecord.phone == customer.phone,
            (ContactRecord.customer_id.is_(None)) | (ContactRecord.customer_id != customer_id),
        )
        .values(customer_id=customer_id, updated_at=utcnow())
    )
