"""Outbox relay: publishes pending outbox rows with publisher confirms and ``mandatory``.

A batch of rows is published without waiting for each confirm (the broker confirms them in
flight, often several at once), then every row is marked sent only after its own confirm; a
row the broker nacked or returned as unroutable stays pending and is retried with backoff. A
crash or a lost connection before the marks commit republishes the batch (consumers dedupe).
On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED so relays can run as replicas; on
SQLite one relay per service is assumed.

The relay owns one pika ``SelectConnection`` per connection attempt, driven by its own I/O loop
in the relay's thread; nothing is shared with other threads.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pika
from pika.channel import Channel
from pika.frame import Method
from pika.spec import Basic
from sqlalchemy import Row, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .broker import CONNECTION_ERRORS, Backoff, connection_parameters, wait
from .clock import utcnow
from .config import Settings
from .db import is_postgres, transaction
from .envelope import CONTENT_TYPE
from .messaging import PENDING, SENT, MessagingTables

log = logging.getLogger(__name__)
DATABASE_ERRORS = (OperationalError, InterfaceError)
# One claimed outbox row: id, event_id, event_type, exchange, routing_key, payload, attempts.
OutboxRow = Row[*tuple[Any, ...]]


class OutboxRelay:
    """Moves one service's outbox to the broker until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        tables: MessagingTables,
        batch_size: int = 2000,
        idle_interval: float = 0.05,
        confirm_timeout: float = 30.0,
    ):
        self.settings = settings
        self.session_factory = session_factory
        self.tables = tables
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.confirm_timeout = confirm_timeout

    def run(self, stop: threading.Event) -> None:
        """Publish until stopped, reconnecting to the broker by itself."""
        backoff = Backoff()
        while not stop.is_set():
            try:
                connected = _Publisher(self, stop).run()
            except CONNECTION_ERRORS as exc:
                connected = False
                log.warning("relay connection failed", extra={"error": str(exc)})
            if stop.is_set():
                break
            if connected:
                backoff.reset()
            delay = backoff.next()
            log.warning("relay reconnecting to the broker", extra={"retry_in": delay})
            wait(stop, delay)

    # -- the database side ----------------------------------------------------------------
    def claim_batch(self) -> tuple[Session, Sequence[OutboxRow]]:
        """Due rows in id order, with the session that holds them (locked on PostgreSQL)."""
        table = self.tables.outbox
        session = self.session_factory()
        try:
            postgres = is_postgres(session)
            stmt = (
                select(
                    table.c.id,
                    table.c.event_id,
                    table.c.event_type,
                    table.c.exchange,
                    table.c.routing_key,
                    table.c.payload,
                    table.c.attempts,
                )
                .where(table.c.status == PENDING, table.c.next_attempt_at <= utcnow())
                .order_by(table.c.id)
                .limit(self.batch_size)
            )
            if postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = session.execute(stmt).all()
            if not postgres or not rows:
                # SQLite: do not hold the write lock while talking to the broker.
                session.commit()
        except BaseException:
            session.rollback()
            session.close()
            raise
        if not rows:
            session.close()
        return session, rows

    def settle(self, session: Session, confirmed: list[int], failed: list[tuple[OutboxRow, str]]) -> None:
        """Mark confirmed rows sent and schedule the retry of the others, in the claiming session."""
        table = self.tables.outbox
        with transaction(session):
            now = utcnow()
            if confirmed:
                session.execute(update(table).where(table.c.id.in_(confirmed)).values(status=SENT, sent_at=now))
            for row, reason in failed:
                delay = min(0.5 * (2**row.attempts), 30.0)
                session.execute(
                    update(table)
                    .where(table.c.id == row.id)
                    .values(
                        attempts=row.attempts + 1, last_error=reason, next_attempt_at=now + dt.timedelta(seconds=delay)
                    )
                )
                log.warning(
                    "event not taken by the broker, will retry",
                    extra={"event_id": row.event_id, "event_type": row.event_type, "error": reason},
                )

    def properties(self, row: OutboxRow) -> pika.BasicProperties:
        return pika.BasicProperties(
            message_id=row.event_id,
            type=row.event_type,
            delivery_mode=2,
            content_type=CONTENT_TYPE,
            app_id=self.tables.source,
        )

    def exchange_of(self, row: OutboxRow) -> str:
        return self.settings.exchange if row.exchange is None else row.exchange


@dataclass
class _Batch:
    session: Session
    in_flight: dict[int, OutboxRow] = field(default_factory=dict)  # delivery tag -> row
    confirmed: list[int] = field(default_factory=list)  # outbox row ids
    failed: list[tuple[OutboxRow, str]] = field(default_factory=list)  # row, why
    returned: set[str] = field(default_factory=set)  # event ids the broker could not route
    timeout: object = None  # the I/O loop's handle of the confirm deadline


class _Publisher:
    """One broker connection's life: claim a batch, publish it, settle it on the confirms, repeat."""

    def __init__(self, relay: OutboxRelay, stop: threading.Event):
        self.relay = relay
        self.stop = stop
        self.channel: Channel | None = None
        self.batch: _Batch | None = None
        self.delivery_tag = 0
        self.opened = False
        self.db_backoff = Backoff(0.5, 10.0)
        self.connection = pika.SelectConnection(
            connection_parameters(relay.settings.amqp_url, f"{relay.settings.service}-relay"),
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed,
        )

    def run(self) -> bool:
        """Drive the I/O loop until the connection closes; True when it got as far as publishing."""
        try:
            self.connection.ioloop.start()
        finally:
            # However the loop ended (a publish on a channel the broker just closed raises out
            # of it), release the claimed rows now: their locks must not wait for the GC.
            self._abandon_batch()
        return self.opened

    # -- connection and channel -----------------------------------------------------------
    def _on_open(self, connection: pika.SelectConnection) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, connection: pika.SelectConnection, error: BaseException | str) -> None:
        log.warning("relay cannot reach the broker", extra={"error": str(error)})
        connection.ioloop.stop()

    def _on_closed(self, connection: pika.SelectConnection, reason: BaseException) -> None:
        if not self.stop.is_set():
            log.warning("relay lost the broker", extra={"error": str(reason)})
        self._abandon_batch()
        connection.ioloop.stop()

    def _on_channel(self, channel: Channel) -> None:
        self.channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        settings = self.relay.settings
        channel.exchange_declare(
            settings.exchange,
            exchange_type="topic",
            durable=True,
            callback=lambda _: channel.exchange_declare(
                settings.dead_letter_exchange,
                exchange_type="direct",
                durable=True,
                callback=lambda _: channel.confirm_delivery(self._on_confirm, callback=self._on_ready),
            ),
        )

    def _on_channel_closed(self, channel: Channel, reason: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self.connection.is_open:
            self.connection.close()

    def _on_ready(self, _frame: Method) -> None:
        self.opened = True
        log.info("relay connected")
        self._next(0)

    # -- batches --------------------------------------------------------------------------
    def _next(self, delay: float) -> None:
        self.connection.ioloop.call_later(delay, self._tick)

    def _tick(self) -> None:
        if self.stop.is_set():
            self._close()
            return
        try:
            session, rows = self.relay.claim_batch()
        except DATABASE_ERRORS as exc:
            # Database down: keep the broker connection and try again later.
            log.warning("relay cannot reach the database", extra={"error": str(exc).splitlines()[0]})
            self._next(self.db_backoff.next())
            return
        self.db_backoff.reset()
        if not rows:
            self._next(self.relay.idle_interval)
            return
        self.batch = _Batch(session)
        if not (self.channel and self.channel.is_open):
            self._close()
            return
        for row in rows:
            self.delivery_tag += 1
            self.batch.in_flight[self.delivery_tag] = row
            self.channel.basic_publish(
                self.relay.exchange_of(row),
                row.routing_key,
                row.payload.encode("utf-8"),
                self.relay.properties(row),
                mandatory=True,
            )
        self.batch.timeout = self.connection.ioloop.call_later(self.relay.confirm_timeout, self._confirm_timeout)

    def _on_return(
        self, _channel: Channel, _method: Basic.Return, properties: pika.BasicProperties, _body: bytes
    ) -> None:
        # The broker sends basic.return before the basic.ack of an unroutable mandatory message.
        if self.batch is not None:
            self.batch.returned.add(properties.message_id)

    def _on_confirm(self, frame: Method) -> None:
        batch = self.batch
        if batch is None:
            return
        method = frame.method
        tags = (
            [tag for tag in batch.in_flight if tag <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        )
        for tag in tags:
            row = batch.in_flight.pop(tag, None)
            if row is None:
                continue
            if not isinstance(method, Basic.Ack):
                batch.failed.append((row, "NackError: the broker refused the event"))
            elif row.event_id in batch.returned:
                batch.failed.append((row, "UnroutableError: no queue is bound for this event"))
            else:
                batch.confirmed.append(row.id)
        if not batch.in_flight:
            self._settle()

    def _settle(self) -> None:
        batch, self.batch = self.batch, None
        if batch is None:
            return
        self.connection.ioloop.remove_timeout(batch.timeout)
        try:
            self.relay.settle(batch.session, batch.confirmed, batch.failed)
        except DATABASE_ERRORS as exc:
            # Not marked: these rows are published again later, and consumers dedupe them.
            log.warning("relay could not mark events sent", extra={"error": str(exc).splitlines()[0]})
            self._next(self.db_backoff.next())
            return
        self._next(0)

    def _confirm_timeout(self) -> None:
        log.warning("broker confirms overdue, reconnecting")
        self._close()

    def _abandon_batch(self) -> None:
        """Leave an unsettled batch pending (its rows are published again after reconnecting)."""
        batch, self.batch = self.batch, None
        if batch is None:
            return
        try:
            batch.session.rollback()
        finally:
            batch.session.close()
