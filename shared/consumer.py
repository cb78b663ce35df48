"""Consumer runner: one queue per consuming service, idempotent handlers, batches acked after commit.

Deliveries are applied in batches: up to ``CONSUMER_BATCH_SIZE`` of them (never more than the
prefetch), gathered for at most ``CONSUMER_BATCH_WAIT_MS``, in ONE transaction with one inbox
row per event (``(consumer, source, id)``) and one commit, then acked together. Each envelope is
parsed and validated and its typed event loaded (``shared.events``) before the batch; a handler
is ``(session, typed_event, context) -> None``: the ``EventContext`` carries the envelope's
source, id, time and correlation id and the settings a handler needs (the pharmacy's time zone),
so no handler reads the envelope or the settings itself.

When a batch fails it is rolled back and its events are applied one at a time, so the others
still commit once and only the failing one is retried. A failing event waits its backoff in a
delay queue (``<queue>.retry.<ms>ms``: a TTL, then dead-lettered back to the work queue) while
the queue keeps flowing; its attempts travel in the ``x-attempts`` header, and at the delivery
limit it is dead-lettered with the reason. Messages that can never succeed (bad JSON, unknown
type, contract violation) are dead-lettered at once. When the service's database is unreachable
the runner pauses on the batch instead of burning delivery attempts; a batch that deadlocks with
another replica's goes one event at a time, and a single event's deadlock or serialization failure
is simply tried again. The broker going away is survived by reconnecting.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pika
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from . import metrics
from .broker import CONNECTION_ERRORS, Backoff, connect, declare_consumer_queues, declare_retry_queue, wait
from .config import Settings
from .context import request_id_var
from .db import unit_of_work
from .envelope import InvalidEvent, parse_event
from .events import EVENT_TYPES, Event, EventContext
from .messaging import MessagingTables

log = logging.getLogger(__name__)

# The event argument is the handler's own event class (``BillCreated`` ...), hence ``Any`` here.
Handler = Callable[[Session, Any, EventContext], None]
#: Runs in a batch's transaction after its inbox rows and before its handlers, with the typed events
#: about to be applied (duplicates left out): where a service takes, in one order, the rows its
#: handlers will lock, so that replicas' batches cannot deadlock on them.
Prepare = Callable[[Session, Sequence[tuple[Any, EventContext]]], None]
REASON_HEADER = "x-dead-letter-reason"
#: Failed attempts of a message so far, carried through the delay queues.
ATTEMPTS_HEADER = "x-attempts"
#: SQLSTATEs of a transaction that lost a race (deadlock, serialization failure): tried again at once.
CONFLICT_STATES = frozenset({"40P01", "40001"})


@dataclass
class _Delivery:
    queue: str
    method: Any  # pika.spec.Basic.Deliver
    properties: pika.BasicProperties
    body: bytes


def _is_conflict(exc: Exception) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in CONFLICT_STATES


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
        prepare: Prepare | None = None,
    ):
        unknown = sorted(set(handlers) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"{consumer} has handlers for event types the contract does not know: {unknown}")
        self.settings = settings
        self.session_factory = session_factory
        self.tables = tables
        self.consumer = consumer
        self.handlers = dict(handlers)
        self.prepare = prepare
        self.pharmacy_zone = ZoneInfo(settings.pharmacy_tz)
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.batch_size = max(1, min(settings.batch_size, settings.prefetch))
        self.batch_wait = max(0, settings.batch_wait_ms) / 1000

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
            self._fill(connection, pending)
            while pending and not stop.is_set():
                batch: list[_Delivery] = []
                while pending and len(batch) < self.batch_size:
                    delivery = pending.popleft()
                    if delivery.queue == dlq:
                        self._archive(connection, channel, delivery, queue, stop)
                    else:
                        batch.append(delivery)
                if batch:
                    self._deliver(connection, channel, dead_letter_channel, batch, queue, stop)
        channel.cancel()

    def _fill(self, connection: Any, pending: collections.deque[_Delivery]) -> None:
        """Wait up to the batch wait for more deliveries while a batch is not full."""
        if not pending or self.batch_wait <= 0:
            return
        deadline = time.monotonic() + self.batch_wait
        while len(pending) < self.batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            connection.process_data_events(time_limit=left)

    # -- a batch of messages --------------------------------------------------------------
    def _deliver(
        self,
        connection: Any,
        channel: Any,
        dead_letter_channel: Any,
        deliveries: Sequence[_Delivery],
        queue: str,
        stop: threading.Event,
    ) -> None:
        """Apply deliveries in one transaction and ack them; after a failure, one at a time."""
        ready: list[tuple[_Delivery, dict[str, Any]]] = []
        for delivery in deliveries:
            event = self._validated(dead_letter_channel, channel, delivery, queue)
            if event is not None:
                ready.append((delivery, event))
        if len(ready) > 1:
            try:
                applied = self._with_database(
                    connection, stop, lambda: self.apply([event for _, event in ready]), retry_conflicts=False
                )
            except Exception as exc:  # a handler's failure, or a conflict with another replica's batch
                outcome = "lost a race with another transaction" if _is_conflict(exc) else "failed"
                log.info(
                    f"batch {outcome}, applying its events one at a time",
                    extra={"size": len(ready), "error": f"{type(exc).__name__}: {exc}"[:500]},
                )
            else:
                if applied is not _STOPPED:
                    for delivery, _ in ready:
                        channel.basic_ack(delivery.method.delivery_tag)
                return  # when stopped, not acked: the broker redelivers them to the next worker
        for delivery, event in ready:
            if stop.is_set():
                return
            self._deliver_one(connection, channel, dead_letter_channel, delivery, event, queue, stop)

    def _validated(
        self, dead_letter_channel: Any, channel: Any, delivery: _Delivery, queue: str
    ) -> dict[str, Any] | None:
        """The delivery's envelope, or None once a message that can never succeed is dead-lettered."""
        try:
            event = parse_event(delivery.body)
            if event["type"] not in self.handlers:
                raise InvalidEvent(f"{self.consumer} has no handler for event type {event['type']!r}")
            self.load(event)  # data the typed event refuses can never succeed either
        except InvalidEvent as exc:
            self._dead_letter(dead_letter_channel, channel, delivery, queue, f"invalid event: {exc}")
            return None
        return event

    def _deliver_one(
        self,
        connection: Any,
        channel: Any,
        dead_letter_channel: Any,
        delivery: _Delivery,
        event: dict[str, Any],
        queue: str,
        stop: threading.Event,
    ) -> None:
        """Apply one event alone; a failure sends it to wait in a delay queue, or to the DLQ at the limit."""
        attempt = _attempt(delivery.properties)
        started = time.perf_counter()
        try:
            applied = self._with_database(connection, stop, lambda: self.handle(event))
        except Exception as exc:
            metrics.event_handled(self.consumer, event["type"], "failed", time.perf_counter() - started)
            reason = f"{type(exc).__name__}: {exc}"
            extra = {"event_id": event["id"], "event_type": event["type"], "attempt": attempt, "error": reason}
            if attempt >= self.settings.delivery_limit:
                log.error("handler failed at the delivery limit, dead-lettering", extra=extra)
                self._dead_letter(
                    dead_letter_channel, channel, delivery, queue, f"handler failed {attempt} times: {reason}"
                )
            else:
                delay = min(self.retry_base * (2 ** (attempt - 1)), self.retry_cap)
                log.warning("handler failed, retrying", extra={**extra, "retry_in": delay})
                self._retry_later(dead_letter_channel, channel, delivery, queue, attempt, delay)
            return
        if applied is not _STOPPED:
            channel.basic_ack(delivery.method.delivery_tag)

    def load(self, event: Mapping[str, Any]) -> tuple[Event, EventContext]:
        """The typed event of a validated envelope and its handler context; InvalidEvent when it is not one."""
        cls = EVENT_TYPES.get(event["type"])
        if cls is None:
            raise InvalidEvent(f"unknown event type {event['type']!r}")
        return cls.load(event), EventContext.of(event, self.pharmacy_zone, self.settings)

    def handle(self, event: dict[str, Any]) -> bool:
        """Apply one event (a validated envelope) exactly once; False when the inbox shows it was
        already applied."""
        return self.apply([event])[0]

    def apply(self, events: Sequence[Mapping[str, Any]]) -> list[bool]:
        """Apply validated envelopes in order in ONE transaction, each exactly once (its inbox row,
        written with the batch's others in one statement, commits with its effect): for each, True
        when applied, False when already applied before (or earlier in ``events``).
        All or nothing: when one handler raises, nothing of the batch is committed."""
        loaded = [(event, *self.load(event)) for event in events]
        outcomes: list[tuple[str, bool, float]] = []
        with unit_of_work(self.session_factory) as session:
            firsts = self.tables.record_batch(session, self.consumer, events)
            if self.prepare is not None:
                self.prepare(
                    session,
                    [(typed, context) for (_, typed, context), first in zip(loaded, firsts, strict=True) if first],
                )
            for (event, typed, context), applied in zip(loaded, firsts, strict=True):
                started = time.perf_counter()
                token = request_id_var.set(event.get("correlationid"))
                try:
                    if applied:
                        self.handlers[event["type"]](session, typed, context)
                    else:
                        log.info(
                            "duplicate event ignored",
                            extra={"event_id": event["id"], "event_type": event["type"]},
                        )
                finally:
                    request_id_var.reset(token)
                outcomes.append((event["type"], applied, time.perf_counter() - started))
        metrics.batch_applied(self.consumer, len(outcomes))
        for event_type, applied, seconds in outcomes:
            metrics.event_handled(self.consumer, event_type, "consumed" if applied else "duplicate", seconds)
        return [applied for _, applied, _ in outcomes]

    def _with_database(
        self, connection: Any, stop: threading.Event, action: Callable[[], Any], retry_conflicts: bool = True
    ) -> Any:
        """Run ``action``; while the database is down, wait (heartbeats continue) and try again.

        A conflict (deadlock, serialization failure) is tried again at once when ``retry_conflicts``;
        a batch raises it instead and goes one event at a time, whose smaller transactions take
        fewer locks (replicas' batches that keep locking rollup rows in different orders would
        otherwise deadlock each other over and over).
        """
        backoff = Backoff(0.5, 10.0)
        while True:
            try:
                return action()
            except Exception as exc:
                if _is_conflict(exc):
                    if not retry_conflicts:
                        raise  # (a deadlock is an OperationalError too: not an outage)
                    # Lost a race with another transaction (a replica's batch): the loser tries again.
                    log.info("transaction conflict, trying again", extra={"error": str(exc).splitlines()[0]})
                    if stop.is_set():
                        return _STOPPED
                    connection.sleep(random.uniform(0.005, 0.05))
                    continue
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
            properties=_copy_properties(delivery.properties, headers),
            mandatory=True,
        )  # an unroutable dead letter raises here, so the original is not acked
        channel.basic_ack(delivery.method.delivery_tag)
        metrics.event_dead_lettered(self.consumer, delivery.properties.type)

    def _retry_later(
        self, dead_letter_channel: Any, channel: Any, delivery: _Delivery, queue: str, attempt: int, delay: float
    ) -> None:
        """Park a failed message in the delay queue for ``delay`` seconds (confirmed), then ack it here."""
        retry_queue = declare_retry_queue(dead_letter_channel, queue, delay)
        headers = {k: v for k, v in (delivery.properties.headers or {}).items() if k != "x-delivery-count"}
        headers[ATTEMPTS_HEADER] = attempt
        dead_letter_channel.basic_publish(
            exchange="",
            routing_key=retry_queue,
            body=delivery.body,
            properties=_copy_properties(delivery.properties, headers),
            mandatory=True,
        )  # confirmed before the original is acked: a crash in between only redelivers it
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


def _attempt(properties: pika.BasicProperties) -> int:
    """Which attempt this delivery is: failures already parked in delay queues (``x-attempts``),
    plus the broker's redeliveries from the work queue (``x-delivery-count``), plus one."""
    headers = properties.headers or {}
    return _count(headers.get(ATTEMPTS_HEADER)) + _count(headers.get("x-delivery-count")) + 1


def _count(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _copy_properties(properties: pika.BasicProperties, headers: dict[str, Any]) -> pika.BasicProperties:
    """A persistent copy of a message's properties with other headers."""
    return pika.BasicProperties(
        message_id=properties.message_id,
        type=properties.type,
        content_type=properties.content_type,
        app_id=properties.app_id,
        correlation_id=properties.correlation_id,
        delivery_mode=2,
        headers=headers,
    )


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
