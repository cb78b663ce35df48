"""RabbitMQ connection and topology helpers (pika). Each process opens its own connections."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterable

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError

log = logging.getLogger(__name__)

# Errors after which the connection is gone and a new one must be opened.
CONNECTION_ERRORS = (AMQPError, OSError, socket.gaierror)


def connection_parameters(amqp_url: str, name: str) -> pika.URLParameters:
    """Parameters of a connection named after the process (visible in the broker's UI)."""
    params = pika.URLParameters(amqp_url)
    params.client_properties = {"connection_name": name}
    params.heartbeat = 30
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.socket_timeout = 5
    return params


def connect(amqp_url: str, name: str) -> pika.BlockingConnection:
    """Open a blocking connection (the consumer's); the relay drives its own I/O loop."""
    return pika.BlockingConnection(connection_parameters(amqp_url, name))


def declare_exchanges(channel: BlockingChannel, exchange: str, dead_letter_exchange: str) -> None:
    """The topic exchange for events and the direct exchange for dead letters (idempotent)."""
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(exchange=dead_letter_exchange, exchange_type="direct", durable=True)


def queue_names(consumer: str) -> tuple[str, str]:
    """Deterministic queue names: ``<consumer>.events`` and its ``.dlq``."""
    return f"{consumer}.events", f"{consumer}.events.dlq"


def declare_consumer_queues(
    channel: BlockingChannel,
    consumer: str,
    event_types: Iterable[str],
    exchange: str,
    dead_letter_exchange: str,
    delivery_limit: int,
) -> tuple[str, str]:
    """Declare the consumer's quorum queue (delivery limit, DLX) bound to its event types, and its DLQ."""
    declare_exchanges(channel, exchange, dead_letter_exchange)
    queue, dlq = queue_names(consumer)
    channel.queue_declare(queue=dlq, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue=dlq, exchange=dead_letter_exchange, routing_key=queue)
    channel.queue_declare(
        queue=queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": dead_letter_exchange,
            "x-dead-letter-routing-key": queue,
        },
    )
    for event_type in sorted(event_types):
        channel.queue_bind(queue=queue, exchange=exchange, routing_key=event_type)
    return queue, dlq


#: A delay queue nobody declared for this long is deleted by the broker (a declare before every
#: publish keeps a queue in use alive, and the TTLs are far shorter).
RETRY_QUEUE_EXPIRES_MS = 60_000


def declare_retry_queue(channel: BlockingChannel, queue: str, delay: float) -> str:
    """Declare the delay queue holding ``queue``'s failed messages for ``delay`` seconds; its name.

    One quorum queue per delay (``<queue>.retry.<ms>ms``), with that TTL for every message, so
    messages expire in the order they arrive; an expired message is dead-lettered (at least once)
    through the default exchange straight back to ``queue``. Call it before each publish: the
    declare also keeps the queue from expiring while it is in use.
    """
    ttl = max(1, round(delay * 1000))
    name = f"{queue}.retry.{ttl}ms"
    channel.queue_declare(
        queue=name,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-message-ttl": ttl,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",  # required by at-least-once dead-lettering
            "x-expires": max(RETRY_QUEUE_EXPIRES_MS, 10 * ttl),
        },
    )
    return name


def broker_reachable(amqp_url: str, timeout: float = 2.0) -> bool:
    """A TCP check of the broker's address (for /readyz, which must not open AMQP connections)."""
    params = pika.URLParameters(amqp_url)
    try:
        with socket.create_connection((params.host, params.port), timeout=timeout):
            return True
    except OSError:
        return False


class Backoff:
    """Exponential backoff with a cap, reset after success."""

    def __init__(self, initial: float = 0.2, maximum: float = 10.0):
        self.initial, self.maximum, self.current = initial, maximum, initial

    def next(self) -> float:
        delay = self.current
        self.current = min(self.current * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self.current = self.initial


def wait(stop: threading.Event, seconds: float) -> bool:
    """Sleep unless asked to stop; True when stopping."""
    return stop.wait(seconds)
