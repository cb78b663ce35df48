"""Tables every messaging service keeps beside its own: outbox, inbox and archived dead letters.

A service calls ``MessagingTables(Base.metadata, source=...)`` once in its models module; the
tables then live in that service's database and its Alembic migrations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from .clock import utcnow
from .db import UTCDateTime, dialect_insert, is_postgres
from .envelope import make_event, to_json
from .events import Event

PENDING, SENT = "pending", "sent"
ARCHIVED, REPLAYED = "archived", "replayed"


_id = BigInteger().with_variant(Integer(), "sqlite")


class MessagingTables:
    """Outbox, inbox and dead-letter archive of one service, on that service's metadata."""

    def __init__(self, metadata: MetaData, source: str):
        self.source = source
        self.outbox = Table(
            "outbox",
            metadata,
            Column("id", _id, primary_key=True, autoincrement=True),
            Column("event_id", String(64), nullable=False, unique=True),
            Column("event_type", String(100), nullable=False),
            # Empty exchange + queue name as routing key targets one queue (DLQ replay).
            Column("exchange", String(100), nullable=True),
            Column("routing_key", String(200), nullable=False),
            Column("payload", Text, nullable=False),
            Column("status", String(16), nullable=False, default=PENDING),
            Column("attempts", Integer, nullable=False, default=0),
            Column("last_error", Text, nullable=True),
            Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
            Column("next_attempt_at", UTCDateTime(), nullable=False, default=utcnow),
            Column("sent_at", UTCDateTime(), nullable=True),
            Index("ix_outbox_pending", "status", "next_attempt_at", "id"),
        )
        self.inbox = Table(
            "inbox",
            metadata,
            Column("id", _id, primary_key=True, autoincrement=True),
            Column("consumer", String(100), nullable=False),
            Column("source", String(200), nullable=False),
            Column("event_id", String(64), nullable=False),
            Column("event_type", String(100), nullable=False),
            Column("processed_at", UTCDateTime(), nullable=False, default=utcnow),
            UniqueConstraint("consumer", "source", "event_id", name="uq_inbox_event"),
        )
        self.dead_letters = Table(
            "dead_letters",
            metadata,
            Column("id", _id, primary_key=True, autoincrement=True),
            Column("queue", String(200), nullable=False),
            Column("message_id", String(200), nullable=True),
            Column("event_type", String(100), nullable=True),
            Column("reason", Text, nullable=False),
            Column("body", Text, nullable=False),
            Column("headers", Text, nullable=False, default="{}"),
            Column("status", String(16), nullable=False, default=ARCHIVED),
            Column("dead_lettered_at", UTCDateTime(), nullable=False, default=utcnow),
            Column("replayed_at", UTCDateTime(), nullable=True),
        )

    # -- outbox ---------------------------------------------------------------------------
    def add_event(self, session: Session, event: Event, subject: str | None = None) -> dict[str, Any]:
        """Write one typed event into the outbox inside the caller's transaction; the relay publishes it.

        The type (and routing key) is the event class's ``TYPE``; ``subject`` defaults to
        ``event.subject()``. The envelope is validated against the contract before it is written
        and returned as it will be sent.
        """
        return self.add_events(session, [event], [subject])[0]

    def add_events(
        self, session: Session, events: Sequence[Event], subjects: Sequence[str | None] | None = None
    ) -> list[dict[str, Any]]:
        """Write typed events into the outbox in ONE statement inside the caller's transaction, in
        this order (the relay publishes in it); their envelopes as they will be sent."""
        subjects = subjects if subjects is not None else [None] * len(events)
        rows = [self.outbox_row(event, subject) for event, subject in zip(events, subjects, strict=True)]
        if rows:
            session.execute(insert(self.outbox).values([row for _, row in rows]))
        return [envelope for envelope, _ in rows]

    def outbox_row(self, event: Event, subject: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The validated envelope of ``event`` and the outbox row that carries it, not yet written
        (``add_event`` writes it; a use case may write it within a statement of its own)."""
        event_type = event.TYPE
        envelope = make_event(
            event_type, event.to_data(), source=self.source, subject=subject if subject is not None else event.subject()
        )
        now = utcnow()
        row = {
            "event_id": envelope["id"],
            "event_type": event_type,
            "exchange": None,
            "routing_key": event_type,
            "payload": to_json(envelope),
            "status": PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        return envelope, row

    def pending_count(self, session: Session) -> int:
        """How many outbox rows still wait for the broker's confirm."""
        from sqlalchemy import func

        count = session.scalar(select(func.count()).select_from(self.outbox).where(self.outbox.c.status == PENDING))
        return count or 0

    # -- inbox ----------------------------------------------------------------------------
    def record_once(self, session: Session, consumer: str, event: Mapping[str, Any]) -> bool:
        """Record ``(consumer, source, id)``; False when it was already there (a duplicate delivery)."""
        return self.record_batch(session, consumer, [event])[0]

    def record_batch(self, session: Session, consumer: str, events: Sequence[Mapping[str, Any]]) -> list[bool]:
        """Record ``(consumer, source, id)`` of each event in ONE statement; for each, False when it
        was already there (a duplicate delivery, or the same event earlier in ``events``).

        Runs in the handlers' transaction, so the records and the effects commit together. On
        PostgreSQL a concurrent replica handling the same event waits on the unique key and then
        sees the conflict; the rows go in key order, so two replicas recording overlapping batches
        (redeliveries) lock them in the same order and cannot deadlock each other.
        """
        now = utcnow()
        keys = [(event["source"], event["id"]) for event in events]
        first = dict(reversed(list(zip(keys, events, strict=True))))
        rows = [
            {
                "consumer": consumer,
                "source": source,
                "event_id": event_id,
                "event_type": first[(source, event_id)]["type"],
                "processed_at": now,
            }
            for source, event_id in sorted(first)
        ]
        stmt = dialect_insert(session)(self.inbox).values(rows).on_conflict_do_nothing()
        # RETURNING, not rowcount: drivers report -1 for some inserts.
        inserted = {tuple(row) for row in session.execute(stmt.returning(self.inbox.c.source, self.inbox.c.event_id))}
        outcomes = []
        for key in keys:
            outcomes.append(key in inserted)
            inserted.discard(key)  # a second copy of the event in this batch is a duplicate
        return outcomes

    # -- dead letters ---------------------------------------------------------------------
    def archive_dead_letter(
        self, session: Session, queue: str, body: bytes, headers: Mapping[str, Any], message_id: str | None, reason: str
    ) -> None:
        """Keep a dead-lettered message in the database, where admins list and replay it."""
        try:
            event_type = json.loads(body).get("type")
        except (ValueError, AttributeError, UnicodeDecodeError):
            event_type = None
        session.execute(
            insert(self.dead_letters).values(
                queue=queue,
                message_id=message_id,
                event_type=event_type if isinstance(event_type, str) else None,
                reason=reason,
                body=body.decode("utf-8", errors="replace"),
                headers=to_json(headers or {}),
                status=ARCHIVED,
                dead_lettered_at=utcnow(),
            )
        )

    def list_dead_letters(self, session: Session, status: str | None = ARCHIVED) -> list[dict[str, Any]]:
        """Dead letters, newest first (``status=None`` for all)."""
        stmt = select(self.dead_letters).order_by(self.dead_letters.c.id.desc())
        if status:
            stmt = stmt.where(self.dead_letters.c.status == status)
        return [dict(row._mapping) for row in session.execute(stmt)]

    def replay_dead_letters(self, session: Session, ids: list[int] | None = None) -> int:
        """Queue archived dead letters for redelivery to their own queue through the outbox.

        The relay publishes them, so replay needs no broker connection here and is atomic with
        marking them replayed.
        """
        table = self.dead_letters
        stmt = select(table).where(table.c.status == ARCHIVED).order_by(table.c.id)
        if ids:
            stmt = stmt.where(table.c.id.in_(ids))
        rows = session.execute(stmt.with_for_update() if is_postgres(session) else stmt).all()
        now = utcnow()
        for row in rows:
            session.execute(
                insert(self.outbox).values(
                    event_id=f"replay-{row.id}-{int(now.timestamp() * 1000)}",
                    event_type=row.event_type or "unknown",
                    exchange="",
                    routing_key=row.queue,
                    payload=row.body,
                    status=PENDING,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            session.execute(update(table).where(table.c.id == row.id).values(status=REPLAYED, replayed_at=now))
        return len(rows)
