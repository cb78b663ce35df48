"""Outbox relay: publishes pending outbox rows with publisher confirms and ``mandatory``.

A batch of rows is published without waiting for each confirm (the broker confirms them in
flight, often several at once), then every row is marked sent only after its own confirm; a
row the broker nacked or returned as unroutable stays pending and is retried with backoff. A
crash or a lost connection before the marks commit republishes the batch (consumers dedupe).
On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED so relays can run as replicas, and
a relay keeps up to ``max_in_flight`` batches out at once, each locked by its own session: the
next batch is claimed and published while the broker confirms the one before. On SQLite one
relay per service is assumed and one batch is out at a time (its claim holds no lock).

The relay owns one pika ``SelectConnection`` per connection attempt, driven by its own I/O loop
in the relay's thread; no pika object is shared with other threads. A confirmed batch is handed
(with its session) to the relay's settling thread, which marks it while the I/O loop publishes on.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pika
from pika.channel import Channel
from pika.frame import Method
from pika.spec import Basic
from sqlalchemy import BigInteger, Connection, Row, any_, bindparam, cast, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from . import metrics
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
        max_in_flight: int = 3,
    ):
        self.settings = settings
        self.session_factory = session_factory
        self.tables = tables
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.idle_interval = idle_interval
        self.confirm_timeout = confirm_timeout
        self._probe: Connection | None = None  # PostgreSQL: kept open for ``has_due`` (relay thread only)
        table = tables.outbox
        self._due = (
            select(literal(1))
            .select_from(table)
            .where(table.c.status == PENDING, table.c.next_attempt_at <= bindparam("now"))
            .limit(1)
        )

    def run(self, stop: threading.Event) -> None:
        """Publish until stopped, reconnecting to the broker by itself."""
        try:
            self._run(stop)
        finally:
            self._close_probe()

    def _run(self, stop: threading.Event) -> None:
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
    def has_due(self) -> bool:
        """Whether a pending row is due. On PostgreSQL one indexed probe (``ix_outbox_pending``) on a
        connection the relay keeps for it, in autocommit: an idle relay's poll is one round trip and
        little Python, where a claim is a pool checkout with its ping, BEGIN, the locking select and
        COMMIT (six idle relays polling every ``idle_interval`` by claiming kept a tenth of this
        two-core machine busy). True on SQLite, and when the database does not answer: the claim
        then meets the database's state itself (and its outage handling)."""
        try:
            if self._probe is None:
                engine = self.session_factory.kw["bind"]
                if not is_postgres(engine):
                    return True
                self._probe = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return self._probe.execute(self._due, {"now": utcnow()}).first() is not None
        except DBAPIError:
            self._close_probe()
            return True

    def _close_probe(self) -> None:
        probe, self._probe = self._probe, None
        if probe is not None:
            with contextlib.suppress(DBAPIError):
                probe.invalidate()  # not back into the pool: it may be broken, and it is in autocommit
                probe.close()

    def claim_batch(self) -> tuple[Session, Sequence[OutboxRow], bool]:
        """Due rows in id order, the session that holds them, and whether they are locked (PostgreSQL)."""
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
                # The order of ix_outbox_pending, so the LIMIT stops early however long the backlog
                # (new rows are due when written, so this is their commit order, retried rows last).
                .order_by(table.c.next_attempt_at, table.c.id)
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
        return session, rows, postgres

    def settle(self, session: Session, confirmed: list[int], failed: list[tuple[OutboxRow, str]]) -> None:
        """Mark confirmed rows sent and schedule the retry of the others, in the claiming session."""
        table = self.tables.outbox
        with transaction(session):
            now = utcnow()
            if confirmed:
                ids = (
                    table.c.id == any_(cast(literal(confirmed, ARRAY(BigInteger)), ARRAY(BigInteger)))
                    if is_postgres(session)
                    else table.c.id.in_(confirmed)  # one array parameter instead of a thousand
                )
                session.execute(update(table).where(ids).values(status=SENT, sent_at=now))
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
    published: collections.Counter[str] = field(default_factory=collections.Counter)  # confirmed, by type
    timeout: object = None  # the I/O loop's handle of the confirm deadline


class _Publisher:
    """One broker connection's life: claim batches, publish them, settle each on its confirms, repeat."""

    def __init__(self, relay: OutboxRelay, stop: threading.Event):
        self.relay = relay
        self.stop = stop
        self.channel: Channel | None = None
        self.batches: list[_Batch] = []  # out with the broker, oldest first (delivery tags ascend)
        self.returned: set[str] = set()  # event ids the broker could not route, until their confirm
        self.delivery_tag = 0
        self.opened = False
        self.claiming = False  # a tick is scheduled or running
        self.confirmed: queue.Queue[_Batch | None] = queue.Queue()  # for the settling thread
        self.db_backoff = Backoff(0.5, 10.0)
        self.connection = pika.SelectConnection(
            connection_parameters(relay.settings.amqp_url, f"{relay.settings.service}-relay"),
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed,
        )

    def run(self) -> bool:
        """Drive the I/O loop until the connection closes; True when it got as far as publishing."""
        settler = threading.Thread(target=self._settle_confirmed, name="relay-settle", daemon=True)
        settler.start()
        try:
            self.connection.ioloop.start()
        finally:
            # However the loop ended (a publish on a channel the broker just closed raises out
            # of it), release the claimed rows now: their locks must not wait for the GC.
            self._abandon_batches()
            self.confirmed.put(None)
            settler.join()
        return self.opened

    def _settle_confirmed(self) -> None:
        """The settling thread: mark each confirmed batch in its own session, in the order handed over."""
        while (batch := self.confirmed.get()) is not None:
            try:
                self.relay.settle(batch.session, batch.confirmed, batch.failed)
            except DATABASE_ERRORS as exc:
                # Not marked: these rows are published again later, and consumers dedupe them.
                log.warning("relay could not mark events sent", extra={"error": str(exc).splitlines()[0]})
            else:
                for event_type, count in batch.published.items():
                    metrics.events_published(self.relay.settings.service, event_type, count)
            finally:
                self.confirmed.task_done()
            if self.connection.is_open:
                # Room for another batch: wake the I/O loop (the one thread-safe call pika offers).
                self.connection.ioloop.add_callback_threadsafe(lambda: self._next(0))

    # -- connection and channel -----------------------------------------------------------
    def _on_open(self, connection: pika.SelectConnection) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, connection: pika.SelectConnection, error: BaseException | str) -> None:
        log.warning("relay cannot reach the broker", extra={"error": str(error)})
        connection.ioloop.stop()

    def _on_closed(self, connection: pika.SelectConnection, reason: BaseException) -> None:
        if not self.stop.is_set():
            log.warning("relay lost the broker", extra={"error": str(reason)})
        self._abandon_batches()
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
        if not self.claiming:
            self.claiming = True
            self.connection.ioloop.call_later(delay, self._tick)

    def _tick(self) -> None:
        self.claiming = False
        if self.stop.is_set():
            self._close()
            return
        if len(self.batches) + self.confirmed.unfinished_tasks >= self.relay.max_in_flight:
            return  # the next settle claims again
        if not self.batches and not self.relay.has_due():
            self._next(self.relay.idle_interval)
            return
        try:
            session, rows, locked = self.relay.claim_batch()
        except DATABASE_ERRORS as exc:
            # Database down: keep the broker connection and try again later.
            log.warning("relay cannot reach the database", extra={"error": str(exc).splitlines()[0]})
            self._next(self.db_backoff.next())
            return
        self.db_backoff.reset()
        if not rows:
            if not self.batches:
                self._next(self.relay.idle_interval)
            return  # else the next settle claims again
        batch = _Batch(session)
        self.batches.append(batch)
        if not (self.channel and self.channel.is_open):
            self._close()
            return
        for row in rows:
            self.delivery_tag += 1
            batch.in_flight[self.delivery_tag] = row
            self.channel.basic_publish(
                self.relay.exchange_of(row),
                row.routing_key,
                row.payload.encode("utf-8"),
                self.relay.properties(row),
                mandatory=True,
            )
        batch.timeout = self.connection.ioloop.call_later(self.relay.confirm_timeout, self._confirm_timeout)
        if locked and len(rows) == self.relay.batch_size:
            # More are waiting and another claim skips these locked rows: publish on while they confirm.
            self._next(0)

    def _on_return(
        self, _channel: Channel, _method: Basic.Return, properties: pika.BasicProperties, _body: bytes
    ) -> None:
        # The broker sends basic.return before the basic.ack of an unroutable mandatory message.
        self.returned.add(properties.message_id)

    def _on_confirm(self, frame: Method) -> None:
        method = frame.method
        for batch in self.batches:
            if method.multiple:
                while batch.in_flight:
                    tag = next(iter(batch.in_flight))  # tags ascend in insertion order
                    if tag > method.delivery_tag:
                        break
                    self._confirmed(batch, batch.in_flight.pop(tag), method)
            else:
                row = batch.in_flight.pop(method.delivery_tag, None)
                if row is not None:
                    self._confirmed(batch, row, method)
        for batch in [batch for batch in self.batches if not batch.in_flight]:
            self._settle(batch)

    def _confirmed(self, batch: _Batch, row: OutboxRow, method: Any) -> None:
        if not isinstance(method, Basic.Ack):
            batch.failed.append((row, "NackError: the broker refused the event"))
        elif row.event_id in self.returned:
            self.returned.discard(row.event_id)
            batch.failed.append((row, "UnroutableError: no queue is bound for this event"))
        else:
            batch.confirmed.append(row.id)
            batch.published[row.event_type] += 1

    def _settle(self, batch: _Batch) -> None:
        """Every row of the batch is confirmed or refused: hand it (and its session) to the settling thread."""
        self.batches.remove(batch)
        self.connection.ioloop.remove_timeout(batch.timeout)
        self.confirmed.put(batch)

    def _confirm_timeout(self) -> None:
        log.warning("broker confirms overdue, reconnecting")
        self._close()

    def _abandon_batches(self) -> None:
        """Leave unsettled batches pending (their rows are published again after reconnecting)."""
        batches, self.batches = self.batches, []
        for batch in batches:
            try:
                batch.session.rollback()
            finally:
                batch.session.close()
