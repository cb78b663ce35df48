"""Consent per phone and channel, as every service that contacts people keeps it.

Customers owns consent (``PUT /consent/{phone}``) and publishes ``consent.changed``; contacts and
reminders keep a copy (``ConsentCopies``) fed by that event, so they can refuse a WhatsApp or a call
to someone who declined it without asking another service on the request path. The copy is keyed
by phone, so consent recorded before the phone appears in a contact list or on a bill applies
when it does. A newer change always wins, whatever order the events arrive in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.orm import Session

from .db import UTCDateTime, dialect_insert
from .errors import Conflict
from .events import ConsentChanged

GRANTED: Final = "granted"
DECLINED: Final = "declined"
UNKNOWN: Final = "unknown"
#: Every value a channel's consent can have.
CONSENT_VALUES: Final = (GRANTED, DECLINED, UNKNOWN)
#: The channels consent is kept for.
CHANNELS: Final = ("whatsapp", "call", "sms")
#: The words staff see for a channel (used in the reason an action is refused).
CHANNEL_LABELS: Final = {"whatsapp": "WhatsApp", "call": "calls", "sms": "SMS"}


@dataclass(frozen=True)
class ConsentView:
    """A phone's consent per channel, as lists and details show it (``consent: {whatsapp, call, sms}``)."""

    whatsapp: str = UNKNOWN
    call: str = UNKNOWN
    sms: str = UNKNOWN

    def as_dict(self) -> dict[str, str]:
        return {"whatsapp": self.whatsapp, "call": self.call, "sms": self.sms}

    @property
    def declined_everything(self) -> bool:
        return all(getattr(self, channel) == DECLINED for channel in CHANNELS)


NO_ANSWER: Final = ConsentView()


def require_consent(consent: ConsentView, channel: str) -> None:
    """Refuse (409) contacting someone on a channel they declined; unknown is allowed (not asked yet)."""
    if getattr(consent, channel) == DECLINED:
        raise Conflict(
            f"this customer declined {CHANNEL_LABELS[channel]}: record their consent again before contacting them",
            errors={"consent": [f"{channel} declined"]},
        )


class ConsentCopies:
    """A service's copy of everyone's consent (table ``consent_copies``), fed by ``consent.changed``."""

    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "consent_copies",
            metadata,
            Column("phone", String(20), primary_key=True),
            Column("whatsapp", String(10), nullable=False),
            Column("call", String(10), nullable=False),
            Column("sms", String(10), nullable=False),
            Column("changed_at", UTCDateTime(), nullable=False),
        )

    def apply(self, session: Session, change: ConsentChanged) -> None:
        """Keep ``change`` unless a newer one is already kept (any delivery order ends the same)."""
        values = {
            "phone": change.phone,
            "whatsapp": change.whatsapp,
            "call": change.call,
            "sms": change.sms,
            "changed_at": change.changed_at,
        }
        table = self.table
        stmt = dialect_insert(session)(table).values(**values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.phone],
                set_={key: stmt.excluded[key] for key in values if key != "phone"},
                where=table.c.changed_at < stmt.excluded.changed_at,
            )
        )

    def of(self, session: Session, phone: str) -> ConsentView:
        """The consent kept for ``phone`` (unknown on every channel when none was recorded)."""
        return self.of_many(session, [phone]).get(phone, NO_ANSWER)

    def of_many(self, session: Session, phones: Iterable[str]) -> Mapping[str, ConsentView]:
        """The consent of each phone that has one recorded (one query, for a page of a list)."""
        wanted = sorted(set(phones))
        if not wanted:
            return {}
        table = self.table
        rows = session.execute(
            select(table.c.phone, table.c.whatsapp, table.c.call, table.c.sms).where(table.c.phone.in_(wanted))
        ).all()
        return {row.phone: ConsentView(row.whatsapp, row.call, row.sms) for row in rows}

    def changed_at(self, session: Session, phone: str) -> dt.datetime | None:
        return session.scalar(select(self.table.c.changed_at).where(self.table.c.phone == phone))
