"""Outbox relay throughput (TARGETS.md: ≥ 5,000 events/s; ratio ≥ 0.6 against raw pika).

Run from the repository root with PostgreSQL and RabbitMQ running:

    .venv/bin/python bench/bench_relay.py [--events 20000] [--rounds 5]

``outbox_relay``: events written to a PostgreSQL outbox, then published by ``OutboxRelay`` with
publisher confirms and ``mandatory``, each marked sent after its confirm. Baseline: the same
serialized events published by bare pika in confirm mode with no database, the fastest way pika
offers (confirms in flight on a SelectConnection); the one-confirm-at-a-time BlockingChannel rate
is printed too, for context. Baseline and relay alternate for ``--rounds`` rounds; the
ratio is the median of the rounds' ratios, so a busy moment of the machine weighs on both sides. Uses a throw-away database and vhost of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pika
from sqlalchemy import MetaData, create_engine, insert, text

from shared.clock import utcnow
from shared.config import Settings
from shared.db import make_engine, make_session_factory
from shared.envelope import make_event, to_json
from shared.messaging import PENDING, MessagingTables
from shared.migrations import ensure_database
from shared.relay import OutboxRelay
from shared.testing import DEFAULT_AMQP, DEFAULT_PG, VhostAdmin, _with_vhost, session_key_files

PURCHASE = {
    "purchase_id": 1,
    "customer_id": 7,
    "bill_id": 3,
    "purchase_date": "2026-02-01",
    "medicine_name": "Metformin 500",
    "is_generic": False,
    "quantity": 2,
    "amount": "120.50",
    "duration_days": 30,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pg_admin = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    amqp_server = os.environ.get("TEST_AMQP_URL", DEFAULT_AMQP)
    name = f"bench_relay_{uuid.uuid4().hex[:6]}"
    db_url = str(create_engine(pg_admin).url.set(database=name).render_as_string(hide_password=False))
    vhosts = VhostAdmin(amqp_server)
    vhost = f"bench-{uuid.uuid4().hex[:6]}"
    vhosts.add(vhost)
    amqp_url = _with_vhost(amqp_server, vhost)
    ensure_database(db_url)
    engine = make_engine(db_url)
    try:
        metadata = MetaData()
        tables = MessagingTables(metadata, source="/bench/relay")
        metadata.create_all(engine)
        events = [
            to_json(make_event("purchase.recorded", {**PURCHASE, "purchase_id": n}, source="/bench/relay"))
            for n in range(args.events)
        ]
        queue = declare_sink(amqp_url)

        blocking = raw_publish_rate(amqp_url, events)
        drain(amqp_url, queue)
        settings = Settings(
            service="bench", database_url=db_url, amqp_url=amqp_url, jwt_public_key_file=session_key_files()[1]
        )
        sessions = make_session_factory(engine)
        # Rounds alternate baseline and relay, so both see the same machine (other processes come and go).
        baselines, rates = [], []
        for _ in range(args.rounds):
            baselines.append(raw_pipelined_rate(amqp_url, events))
            drain(amqp_url, queue)
            rates.append(relay_rate(engine, sessions, settings, tables, events))
            delivered = queue_depth(amqp_url, queue)
            assert delivered == args.events, f"the sink queue holds {delivered} of {args.events} events"
            drain(amqp_url, queue)
        baseline, rate = statistics.median(baselines), statistics.median(rates)
        ratio = statistics.median(r / b for r, b in zip(rates, baselines, strict=True))
        print(f"outbox_relay {rate:.0f} events/s (baseline {baseline:.0f}, ratio {ratio:.2f})")
        print(
            f"raw_pika_blocking_confirmed_publish {blocking:.0f} events/s "
            f"(baseline {baseline:.0f}, ratio {blocking / baseline:.2f})"
        )
        print(
            "rounds (relay/baseline events/s): "
            + ", ".join(f"{r:.0f}/{b:.0f}={r / b:.2f}" for r, b in zip(rates, baselines, strict=True))
        )
    finally:
        engine.dispose()
        admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        vhosts.delete(vhost)


def relay_rate(engine, sessions, settings, tables, events: list[str]) -> float:
    """Write the events into the outbox, then time ``OutboxRelay`` until none is pending."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(tables.outbox),
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "event_type": "purchase.recorded",
                    "exchange": None,
                    "routing_key": "purchase.recorded",
                    "payload": body,
                    "status": PENDING,
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for body in events
            ],
        )
        # Statistics as autovacuum keeps them for a table that grew to this size.
        conn.execute(text("ANALYZE outbox"))
    relay = OutboxRelay(settings, sessions, tables)
    stop = threading.Event()
    started = time.perf_counter()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    while True:
        with sessions() as session:
            if tables.pending_count(session) == 0:
                break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join(timeout=10)
    return len(events) / elapsed


def declare_sink(amqp_url: str) -> str:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(exchange="pharmacy.events", exchange_type="topic", durable=True)
    channel.queue_declare(queue="bench.sink", durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue="bench.sink", exchange="pharmacy.events", routing_key="purchase.recorded")
    connection.close()
    return "bench.sink"


def raw_publish_rate(amqp_url: str, events: list[str]) -> float:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    started = time.perf_counter()
    for body in events:
        channel.basic_publish(
            "pharmacy.events",
            "purchase.recorded",
            body.encode(),
            pika.BasicProperties(delivery_mode=2, content_type="application/cloudevents+json"),
            mandatory=True,
        )
    rate = len(events) / (time.perf_counter() - started)
    connection.close()
    return rate


def raw_pipelined_rate(amqp_url: str, events: list[str]) -> float:
    """Publish with confirms in flight on a SelectConnection; the rate once every confirm is in."""
    state = {"confirmed": 0}

    def on_open(connection):
        connection.channel(on_open_callback=on_channel)

    def on_channel(channel):
        state["channel"] = channel
        channel.confirm_delivery(on_confirm, callback=lambda _: publish(channel))

    def publish(channel):
        state["started"] = time.perf_counter()
        for body in events:
            channel.basic_publish(
                "pharmacy.events",
                "purchase.recorded",
                body.encode(),
                pika.BasicProperties(delivery_mode=2, content_type="application/cloudevents+json"),
                mandatory=True,
            )

    def on_confirm(frame):
        state["confirmed"] = frame.method.delivery_tag if frame.method.multiple else state["confirmed"] + 1
        if state["confirmed"] >= len(events):
            state["elapsed"] = time.perf_counter() - state["started"]
            connection.close()

    connection = pika.SelectConnection(
        pika.URLParameters(amqp_url),
        on_open_callback=on_open,
        on_close_callback=lambda conn, _reason: conn.ioloop.stop(),
    )
    connection.ioloop.start()
    return len(events) / state["elapsed"]


def queue_depth(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    depth = connection.channel().queue_declare(queue=queue, passive=True).method.message_count
    connection.close()
    return depth


def drain(amqp_url: str, queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    connection.channel().queue_purge(queue)
    connection.close()


if __name__ == "__main__":
    main()
