"""Outbox relay: publishes pending outbox rows with publisher confirms and ``mandatory``.

A row is marked sent only after the broker confirmed it; a crash between publish and mark
republishes it (consumers dedupe). On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED
so relays can run as replicas; on SQLite one relay per service is assumed.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading

import pika
from pika.exceptions import NackError, UnroutableError
from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from .broker import CONNECTION_ERRORS, Backoff, connect, declare_exchanges, wait
from .config import Settings
from .envelope import CONTENT_TYPE
from .messaging import PENDING, SENT, MessagingTables, utcnow

log = logging.getLogger(__name__)


class OutboxRelay:
    """Moves one service's outbox to the broker until ``stop`` is set."""

    def __init__(self, settings: Settings, session_factory, tables: MessagingTables,
                 batch_size: int = 200, idle_interval: float = 0.1):
        self.settings = settings
        self.session_factory = session_factory
        self.tables = tables
        self.batch_size = batch_size
        self.idle_interval = idle_interval

    def run(self, stop: threading.Event) -> None:
        """Publish until stopped, reconnecting to the broker by itself."""
        backoff = Backoff()
        while not stop.is_set():
            try:
                connection = connect(self.settings.amqp_url, f"{self.settings.service}-relay")
            except CONNECTION_ERRORS as exc:
                delay = backoff.next()
                log.warning("relay cannot reach the broker, retrying", extra={"error": str(exc), "retry_in": delay})
                wait(stop, delay)
                continue
            try:
                channel = connection.channel()
                channel.confirm_delivery()
                declare_exchanges(channel, self.settings.exchange, self.settings.dead_letter_exchange)
                backoff.reset()
                log.info("relay connected")
                db_backoff = Backoff(0.5, 10.0)
                while not stop.is_set():
                    try:
                        published = self.publish_batch(channel)
                        db_backoff.reset()
                    except (OperationalError, InterfaceError) as exc:
                        # Database down: keep the broker connection alive and try again later.
                        log.warning("relay cannot reach the database", extra={"error": str(exc).splitlines()[0]})
                        connection.sleep(db_backoff.next())
                        continue
                    if published == 0:
                        connection.sleep(self.idle_interval)
            except CONNECTION_ERRORS as exc:
                log.warning("relay lost the broker, reconnecting", extra={"error": str(exc)})
                wait(stop, backoff.next())
            finally:
                _close(connection)

    def publish_batch(self, channel) -> int:
        """Publish one batch of due rows; return how many were confirmed."""
        table = self.tables.outbox
        session = self.session_factory()
        try:
            postgres = session.get_bind().dialect.name == "postgresql"
            stmt = (select(table.c.id, table.c.event_id, table.c.event_type, table.c.exchange,
                           table.c.routing_key, table.c.payload, table.c.attempts)
                    .where(table.c.status == PENDING, table.c.next_attempt_at <= utcnow())
                    .order_by(table.c.id).limit(self.batch_size))
            if postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = session.execute(stmt).all()
            if not postgres or not rows:
                # SQLite: do not hold the write lock while talking to the broker.
                session.commit()
            if not rows:
                return 0
            confirmed, failed = [], []
            for row in rows:
                try:
                    self._publish(channel, row)
                    confirmed.append(row.id)
                except (UnroutableError, NackError) as exc:
                    failed.append((row, f"{type(exc).__name__}: broker did not take the event"))
            now = utcnow()
            if confirmed:
                session.execute(update(table).where(table.c.id.in_(confirmed)).values(status=SENT, sent_at=now))
            for row, reason in failed:
                delay = min(0.5 * (2 ** row.attempts), 30.0)
                session.execute(update(table).where(table.c.id == row.id).values(
                    attempts=row.attempts + 1, last_error=reason,
                    next_attempt_at=now + dt.timedelta(seconds=delay)))
                log.warning("event not routed, will retry", extra={"event_id": row.event_id,
                                                                   "event_type": row.event_type, "error": reason})
            session.commit()
            return len(confirmed)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _publish(self, channel, row) -> None:
        exchange = self.settings.exchange if row.exchange is None else row.exchange
        channel.basic_publish(
            exchange=exchange, routing_key=row.routing_key, body=row.payload.encode("utf-8"),
            properties=pika.BasicProperties(
                message_id=row.event_id, type=row.event_type, delivery_mode=2,
                content_type=CONTENT_TYPE, app_id=self.tables.source),
            mandatory=True)


def _close(connection) -> None:
    try:
        if connection.is_open:
            connection.close()
    except CONNECTION_ERRORS:
        pass
