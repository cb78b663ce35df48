"""Consumer runner: one queue per consuming service, idempotent handlers, ack after commit.

For each message: parse and validate the CloudEvent and load its typed event (``shared.events``),
then in ONE transaction record it in the inbox (``(consumer, source, id)``) and run the handler;
ack only after that commit. A handler is ``(session, typed_event, context) -> None``: the
``EventContext`` carries the envelope's source, id, time and correlation id and the settings a
handler needs (the pharmacy's time zone), so no handler reads the envelope or the settings itself. A failing
handler is retried with backoff through the queue (its delivery count grows); when the delivery
limit is reached the message is dead-lettered with the reason. Messages that can never succeed
(bad JSON, unknown type, contract violation) are dead-lettered at once. When the service's
database is unreachable the runner pauses on the message instead of burning its delivery limit.
The broker going away is survived by reconnecting.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pika
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .broker import CONNECTION_ERRORS, Backoff, connect, declare_consumer_queues, wait
from .config import Settings
from .context import request_id_var
from .db import unit_of_work
from .envelope import InvalidEvent, parse_event
from .events import EVENT_TYPES, Event, EventContext
from .messaging import MessagingTables

log = logging.getLogger(__name__)

# The event argument is the handler's own event class (``BillCreated`` ...), hence ``Any`` here.
Handler = Callable[[Session, Any, EventContext], None]
REASON_HEADER = "x-dead-letter-reason"


@dataclass
class _Delivery:
    queue: str
    method: Any  # pika.spec.Basic.Deliver
    properties: pika.BasicProperties
    body: bytes


def _is_database_outage(exc: Exception) -> bool:
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


class ConsumerRunner:
    """Runs the handlers of one consuming service until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        tables: MessagingTables,
        consumer: str,
        handlers: Mapping[str, Handler],
        retry_base: float = 0.25,
        retry_cap: float = 5.0,
    ):
        unknown = sorted(set(handlers) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"{consumer} has handlers for event types the contract does not know: {unknown}")
        self.settings = settings
        self.session_factory = session_factory
        self.tables = tables
        self.consumer = consumer
        self.handlers = dict(handlers)
        self.pharmacy_zone = ZoneInfo(settings.pharmacy_tz)
        self.retry_base = retry_base
        self.retry_cap = retry_cap

    # -- the loop -------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Consume until stopped, reconnecting after the broker goes away."""
        backoff = Backoff()
        while not stop.is_set():
            try:
                connection = connect(self.settings.amqp_url, f"{self.consumer}-worker")
            except CONNECTION_ERRORS as exc:
                delay = backoff.next()
                log.warning(
                    "worker cannot reach the broker, retrying",
                    extra={"error": str(exc), "retry_in": delay},
                )
                wait(stop, delay)
                continue
            try:
                self._consume(connection, stop)
                backoff.reset()
            except CONNECTION_ERRORS as exc:
                log.warning("worker lost the broker, reconnecting", extra={"error": str(exc)})
                wait(stop, backoff.next())
            finally:
                try:
                    if connection.is_open:
                        connection.close()
                except CONNECTION_ERRORS:
                    pass

    def _consume(self, connection: Any, stop: threading.Event) -> None:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=self.settings.prefetch)
        queue, dlq = declare_consumer_queues(
            channel,
            self.consumer,
            self.handlers.keys(),
            self.settings.exchange,
            self.settings.dead_letter_exchange,
            self.settings.delivery_limit,
        )
        dead_letter_channel = connection.channel()
        dead_letter_channel.confirm_delivery()
        # Callbacks only queue deliveries; they are handled outside pika's dispatch so that
        # waiting (backoff, database outage) can keep the connection's heartbeats going.
        pending: collections.deque[_Delivery] = collections.deque()
        channel.basic_consume(queue, lambda ch, m, p, b: pending.append(_Delivery(queue, m, p, b)))
        channel.basic_consume(dlq, lambda ch, m, p, b: pending.append(_Delivery(dlq, m, p, b)))
        log.info("worker consuming", extra={"queue": queue, "types": sorted(self.handlers)})
        while not stop.is_set():
            connection.process_data_events(time_limit=0.5)
            while pending and not stop.is_set():
                delivery = pending.popleft()
                if delivery.queue == dlq:
                    self._archive(connection, channel, delivery, queue, stop)
                else:
                    self._deliver(connection, channel, dead_letter_channel, delivery, queue, stop)
        channel.cancel()

    # -- one message ----------------------------------------------------------------------
    def _deliver(
        self,
        connection: Any,
        channel: Any,
        dead_letter_channel: Any,
        delivery: _Delivery,
        queue: str,
        stop: threading.Event,
    ) -> None:
        tag = delivery.method.delivery_tag
        try:
            event = parse_event(delivery.body)
            if event["type"] not in self.handlers:
                raise InvalidEvent(f"{self.consumer} has no handler for event type {event['type']!r}")
            self.load(event)  # data the typed event refuses can never succeed either
        except InvalidEvent as exc:
            self._dead_letter(dead_letter_channel, channel, delivery, queue, f"invalid event: {exc}")
            return
        attempt = _delivery_count(delivery.properties) + 1
        token = request_id_var.set(event.get("correlationid"))
        try:
            applied = self._with_database(connection, stop, lambda: self.handle(event))
            if applied is _STOPPED:
                return  # not acked: the broker redelivers it to the next worker
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if attempt >= self.settings.delivery_limit:
                log.error(
                    "handler failed at the delivery limit, dead-lettering",
                    extra={
                        "event_id": event["id"],
                        "event_type": event["type"],
                        "error": reason,
                    },
                )
                self._dead_letter(
                    dead_letter_channel,
                    channel,
                    delivery,
                    queue,
                    f"handler failed {attempt} times: {reason}",
                )
            else:
                delay = min(self.retry_base * (2 ** (attempt - 1)), self.retry_cap)
                log.warning(
                    "handler failed, retrying",
                    extra={
                        "event_id": event["id"],
                        "event_type": event["type"],
                        "attempt": attempt,
                        "retry_in": delay,
                        "error": reason,
                    },
                )
                connection.sleep(delay)
                channel.basic_nack(tag, requeue=True)
            return
        finally:
            request_id_var.reset(token)
        channel.basic_ack(tag)

    def load(self, event: Mapping[str, Any]) -> tuple[Event, EventContext]:
        """The typed event of a validated envelope and its handler context; InvalidEvent when it is not one."""
        cls = EVENT_TYPES.get(event["type"])
        if cls is None:
            raise InvalidEvent(f"unknown event type {event['type']!r}")
        return cls.load(event), EventContext.of(event, self.pharmacy_zone, self.settings)

    def handle(self, event: dict[str, Any]) -> bool:
        """Apply one event (a validated envelope) exactly once; False when the inbox shows it was
        already applied."""
        typed, context = self.load(event)
        with unit_of_work(self.session_factory) as session:
            if not self.tables.record_once(session, self.consumer, event):
                log.info(
                    "duplicate event ignored",
                    extra={"event_id": event["id"], "event_type": event["type"]},
                )
                return False
            self.handlers[event["type"]](session, typed, context)
            return True

    def _with_database(self, connection: Any, stop: threading.Event, action: Callable[[], Any]) -> Any:
        """Run ``action``; while the database is down, wait (heartbeats continue) and try again."""
        backoff = Backoff(0.5, 10.0)
        while True:
            try:
                return action()
            except Exception as exc:
                if not _is_database_outage(exc):
                    raise
                delay = backoff.next()
                log.warning(
                    "database unavailable, pausing",
                    extra={"error": str(exc).splitlines()[0], "retry_in": delay},
                )
                if stop.is_set():
                    return _STOPPED
                connection.sleep(delay)

    def _dead_letter(
        self,
        dead_letter_channel: Any,
        channel: Any,
        delivery: _Delivery,
        queue: str,
        reason: str,
    ) -> None:
        headers = dict(delivery.properties.headers or {})
        headers[REASON_HEADER] = reason[:2000]
        dead_letter_channel.basic_publish(
            exchange=self.settings.dead_letter_exchange,
            routing_key=queue,
            body=delivery.body,
            properties=pika.BasicProperties(
                message_id=delivery.properties.message_id,
                type=delivery.properties.type,
                content_type=delivery.properties.content_type,
                delivery_mode=2,
                headers=headers,
            ),
            mandatory=True,
        )  # an unroutable dead letter raises here, so the original is not acked
        channel.basic_ack(delivery.method.delivery_tag)

    def _archive(
        self,
        connection: Any,
        channel: Any,
        delivery: _Delivery,
        queue: str,
        stop: threading.Event,
    ) -> None:
        headers = dict(delivery.properties.headers or {})
        reason = headers.get(REASON_HEADER) or _x_death_reason(headers)

        def archive() -> None:
            with unit_of_work(self.session_factory) as session:
                self.tables.archive_dead_letter(
                    session,
                    queue,
                    delivery.body,
                    _plain(headers),
                    delivery.properties.message_id,
                    reason,
                )

        if self._with_database(connection, stop, archive) is _STOPPED:
            return
        log.error(
            "event dead-lettered",
            extra={
                "queue": queue,
                "message_id": delivery.properties.message_id,
                "reason": reason,
            },
        )
        channel.basic_ack(delivery.method.delivery_tag)


_STOPPED = object()


def _delivery_count(properties: pika.BasicProperties) -> int:
    headers = properties.headers or {}
    try:
        return int(headers.get("x-delivery-count", 0))
    except (TypeError, ValueError):
        return 0


def _x_death_reason(headers: dict[str, Any]) -> str:
    deaths = headers.get("x-death") or []
    if deaths and isinstance(deaths[0], dict):
        reason = deaths[0].get("reason")
        if isinstance(reason, bytes):
            reason = reason.decode()
        return f"broker dead-lettered the message ({reason})"
    return "dead-lettered"


def _plain(value: Any) -> Any:
    """Headers as JSON-friendly values (pika gives bytes and datetimes inside x-death)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
