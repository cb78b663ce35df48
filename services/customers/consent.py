"""Consent use cases: customers owns each phone's consent per channel and publishes every change.

Why customers: consent belongs to a person's phone, the profile is where staff talk to the person
at the counter, and this service already keeps the audit of who read or changed what. Contacts and
reminders keep copies fed by ``consent.changed`` (``shared.consent.ConsentCopies``), so a phone
that is only on a contact list, or not known anywhere yet, can be given a consent that applies
when it shows up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.clock import utcnow
from shared.consent import CHANNELS, NO_ANSWER, UNKNOWN, ConsentView
from shared.context import current_request_id
from shared.db import dialect_insert
from shared.events import ConsentChanged

from .models import Consent, ConsentChange, messaging

log = logging.getLogger(__name__)


def consent_view(consent: Consent | None) -> ConsentView:
    """Per channel, what was recorded (unknown where nothing was)."""
    if consent is None:
        return NO_ANSWER
    return ConsentView(consent.whatsapp, consent.call, consent.sms)


def get_consent(session: Session, phone: str) -> dict[str, object]:
    """``{phone, whatsapp, call, sms, updated_at, source}``; a phone never recorded is unknown everywhere."""
    consent = session.get(Consent, phone)
    return {
        "phone": phone,
        **consent_view(consent).as_dict(),
        "updated_at": consent.updated_at if consent else None,
        "source": consent.source if consent else None,
    }


def set_consent(
    session: Session, phone: str, answers: Mapping[str, str], source: str, actor: Principal
) -> dict[str, object]:
    """Record what the phone's owner said for some channels (the others keep their value).

    A change is kept in the history with who and when, and published as ``consent.changed`` in the
    same transaction; recording the same answers again changes nothing and publishes nothing.
    """
    now = utcnow()
    # Insert-or-nothing first, then lock: two first answers for one phone at once queue on the row
    # instead of both inserting it (the second would fail on the key).
    created = session.scalar(
        dialect_insert(session)(Consent.__table__)
        .values(phone=phone, whatsapp=UNKNOWN, call=UNKNOWN, sms=UNKNOWN, source=source, updated_at=now)
        .on_conflict_do_nothing(index_elements=["phone"])
        .returning(Consent.__table__.c.phone)
    )
    consent = session.scalars(
        select(Consent).where(Consent.phone == phone).with_for_update().execution_options(populate_existing=True)
    ).one()
    before = consent_view(consent)
    after = ConsentView(**{**before.as_dict(), **{k: v for k, v in answers.items() if k in CHANNELS}})
    if created is None and after == before:
        return get_consent(session, phone)
    consent.whatsapp, consent.call, consent.sms = after.whatsapp, after.call, after.sms
    consent.source, consent.updated_at, consent.updated_by = source, now, actor.id
    session.add(
        ConsentChange(
            phone=phone,
            **after.as_dict(),
            source=source,
            changed_at=now,
            changed_by=actor.id,
            changed_by_username=actor.username,
            request_id=current_request_id(),
        )
    )
    session.flush()
    messaging.add_event(
        session, ConsentChanged(phone=phone, **after.as_dict(), source=source, changed_at=now, by=actor.id)
    )
    log.info("consent changed", extra={"source": source, **after.as_dict()})
    return get_consent(session, phone)


def consent_history_query(phone: str) -> Select[Any]:
    """Every change of a phone's consent, newest first."""
    return (
        select(ConsentChange)
        .where(ConsentChange.phone == phone)
        .order_by(ConsentChange.changed_at.desc(), ConsentChange.id.desc())
    )
