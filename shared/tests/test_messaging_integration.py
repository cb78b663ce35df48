"""The consumer runner and relay against real RabbitMQ and PostgreSQL.

A toy service (one effect table plus the shared messaging tables) shows the guarantees every
service relies on: exactly-once effects under redelivery, dead letters with reasons, replay
after a fix, reconnection after the broker drops connections, relays as competing replicas.
"""

import collections
import shutil
import subprocess
import time
import uuid
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy import event as sa_event

from shared.consumer import ConsumerRunner
from shared.db import make_engine, make_session_factory, unit_of_work
from shared.envelope import make_event, to_json
from shared.events import BillCreated
from shared.messaging import MessagingTables
from shared.relay import OutboxRelay
from shared.testing import Probe, eventually, make_settings, publish_raw, running, truncate_all

metadata = MetaData()
tables = MessagingTables(metadata, source="/services/toy")
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bill_id", Integer),
    Column("phone", String(20)),
)

BILL = {
    "bill_number": "B1",
    "bill_date": "2026-02-01",
    "customer_phone": "+919876543210",
    "customer_name": "Asha",
    "customer_category": "regular_branded",
    "was_contacted_before": False,
    "visited_no_purchase": False,
    "total_amount": "10.00",
    "items": [],
    "created_by": None,
}


def record_bill(session, bill, context):
    session.execute(insert(effects).values(bill_id=bill.bill_id, phone=bill.customer_phone))


def failing(session, bill, context):
    raise RuntimeError("bug in handler")


@pytest.fixture(scope="module")
def toy_db(databases):
    url = databases.create("toy")
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def toy(toy_db, amqp_url):
    consumer = f"toy{uuid.uuid4().hex[:6]}"
    settings = make_settings("toy", toy_db, amqp_url, delivery_limit=3)
    engine = make_engine(toy_db)
    truncate_all(engine, metadata)
    yield settings, make_session_factory(engine), consumer
    engine.dispose()


def bill_event(bill_id, source="/services/billing", **data):
    return make_event("bill.created", {**BILL, "bill_id": bill_id, **data}, source=source)


def count(session_factory, table, *where):
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(table).where(*where))


def pending(session_factory):
    with session_factory() as session:
        return tables.pending_count(session)


def runner(settings, session_factory, consumer, handlers=None, **kw):
    return ConsumerRunner(
        settings, session_factory, tables, consumer, handlers or {"bill.created": record_bill}, retry_base=0.05, **kw
    )


def test_redelivered_event_has_one_effect_and_other_sources_count_apart(toy, amqp_url):
    settings, sessions, consumer = toy
    event = bill_event(1)
    pos_event = {**bill_event(1, source="/integrations/pos-17"), "id": event["id"]}
    with running(runner(settings, sessions, consumer)):
        # Queue must exist before publishing: wait until the runner has declared it.
        eventually(lambda: _queue_exists(amqp_url, f"{consumer}.events"), message="queue declared")
        for _ in range(3):
            publish_raw(amqp_url, "bill.created", to_json(event), message_id=event["id"])
        publish_raw(amqp_url, "bill.created", to_json(pos_event), message_id=pos_event["id"])
        eventually(lambda: count(sessions, tables.inbox) == 2, message="both sources recorded")
        eventually(lambda: _queue_depth(amqp_url, f"{consumer}.events") == 0, message="queue drained")
    assert count(sessions, effects) == 2  # one per (source, id), never one per delivery


def test_invalid_events_are_dead_lettered_with_reason_and_others_flow(toy, amqp_url):
    settings, sessions, consumer = toy
    with running(runner(settings, sessions, consumer)):
        eventually(lambda: _queue_exists(amqp_url, f"{consumer}.events"), message="queue declared")
        publish_raw(amqp_url, "bill.created", b"{not json")
        missing = bill_event(2)
        del missing["data"]["customer_phone"]
        publish_raw(amqp_url, "bill.created", to_json(missing))
        publish_raw(amqp_url, "bill.created", to_json(bill_event(3)))
        eventually(lambda: count(sessions, tables.dead_letters) == 2, message="two dead letters archived")
        eventually(lambda: count(sessions, effects) == 1, message="the valid event applied")
    with sessions() as session:
        reasons = sorted(d["reason"] for d in tables.list_dead_letters(session))
    assert "not JSON" in reasons[0] + reasons[1]
    assert any("customer_phone" in r for r in reasons)


def test_failing_handler_retries_to_the_limit_then_replays_after_the_fix(toy, amqp_url):
    settings, sessions, consumer = toy
    event = bill_event(4)
    with running(runner(settings, sessions, consumer, {"bill.created": failing})):
        eventually(lambda: _queue_exists(amqp_url, f"{consumer}.events"), message="queue declared")
        publish_raw(amqp_url, "bill.created", to_json(event), message_id=event["id"])
        eventually(lambda: count(sessions, tables.dead_letters) == 1, message="dead-lettered after retries")
    with sessions() as session:
        [dead] = tables.list_dead_letters(session)
    assert "handler failed 3 times" in dead["reason"] and "bug in handler" in dead["reason"]
    assert count(sessions, effects) == 0
    with unit_of_work(sessions) as session:
        assert tables.replay_dead_letters(session) == 1
    fixed = runner(settings, sessions, consumer)
    with running(fixed, OutboxRelay(settings, sessions, tables)):
        eventually(lambda: count(sessions, effects) == 1, message="replayed event applied")
        eventually(lambda: pending(sessions) == 0, message="replay sent")
    with sessions() as session:
        assert [d["status"] for d in tables.list_dead_letters(session, status=None)] == ["replayed"]
    assert count(sessions, effects) == 1


def test_runner_reconnects_after_the_broker_drops_its_connection(toy, amqp_url):
    settings, sessions, consumer = toy
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/"))
    with running(runner(settings, sessions, consumer)):
        eventually(lambda: _queue_exists(amqp_url, f"{consumer}.events"), message="queue declared")
        publish_raw(amqp_url, "bill.created", to_json(bill_event(5)))
        eventually(lambda: count(sessions, effects) == 1)
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run(
            [ctl, "close_all_connections", "-p", vhost, "test: broker drops connections"],
            check=True,
            capture_output=True,
        )
        publish_raw(amqp_url, "bill.created", to_json(bill_event(6)))
        eventually(lambda: count(sessions, effects) == 2, timeout=30, message="processed after reconnect")


def test_two_relays_publish_every_event_once(toy, amqp_url):
    settings, sessions, _ = toy
    probe = Probe(amqp_url, ["bill.created"])
    try:
        with unit_of_work(sessions) as session:
            for n in range(400):
                tables.add_event(session, BillCreated.load({**BILL, "bill_id": 1000 + n}))
        with running(
            OutboxRelay(settings, sessions, tables, batch_size=50),
            OutboxRelay(settings, sessions, tables, batch_size=50),
        ):
            received = probe.messages(400, timeout=30)
            eventually(lambda: pending(sessions) == 0, message="all marked sent")
        ids = [event["id"] for _, event in received]
        assert len(ids) == len(set(ids)) == 400
    finally:
        probe.close()


def _channel(amqp_url):
    import pika

    return pika.BlockingConnection(pika.URLParameters(amqp_url))


def _queue_exists(amqp_url, queue):
    import pika

    connection = _channel(amqp_url)
    try:
        connection.channel().queue_declare(queue=queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def _queue_depth(amqp_url, queue):
    connection = _channel(amqp_url)
    try:
        return connection.channel().queue_declare(queue=queue, passive=True).method.message_count
    finally:
        connection.close()


def test_relay_dropped_mid_batch_republishes_and_leaves_nothing_pending(toy, amqp_url):
    import json

    settings, sessions, _ = toy
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/"))
    sink = f"sink-{uuid.uuid4().hex[:6]}"
    connection = _channel(amqp_url)
    channel = connection.channel()
    channel.exchange_declare(exchange="pharmacy.events", exchange_type="topic", durable=True)
    channel.queue_declare(queue=sink, durable=True)
    channel.queue_bind(queue=sink, exchange="pharmacy.events", routing_key="bill.created")
    connection.close()
    with unit_of_work(sessions) as session:
        expected = {
            tables.add_event(session, BillCreated.load({**BILL, "bill_id": 5000 + n}))["id"] for n in range(3000)
        }
    with running(OutboxRelay(settings, sessions, tables, batch_size=500)):
        eventually(lambda: pending(sessions) < 3000, message="publishing started")
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run(
            [ctl, "close_all_connections", "-p", vhost, "test: broker drops the relay"], check=True, capture_output=True
        )
        eventually(lambda: pending(sessions) == 0, timeout=60, message="every row confirmed after reconnecting")
    connection = _channel(amqp_url)
    channel = connection.channel()
    received = set()
    while True:
        method, _props, body = channel.basic_get(sink, auto_ack=True)
        if method is None:
            break
        received.add(json.loads(body)["id"])
    channel.queue_delete(sink)
    connection.close()
    assert received == expected  # at least once each (a republished batch may add copies)


def _declare_toy_queues(settings, consumer):
    from shared.broker import declare_consumer_queues

    connection = _channel(settings.amqp_url)
    try:
        declare_consumer_queues(
            connection.channel(),
            consumer,
            ["bill.created"],
            settings.exchange,
            settings.dead_letter_exchange,
            settings.delivery_limit,
        )
    finally:
        connection.close()


def test_a_poison_event_inside_a_batch_is_retried_alone_while_the_others_commit_once(toy, amqp_url):
    from sqlalchemy import text

    settings, sessions, consumer = toy
    settings = settings.with_overrides(batch_size=10)
    poison = 2030
    calls = []
    transactions = {}

    def record_unless_poison(session, bill, context):
        calls.append(bill.bill_id)
        if bill.bill_id == poison:
            raise RuntimeError("poison in the batch")
        transactions[bill.bill_id] = session.scalar(text("SELECT txid_current()"))
        record_bill(session, bill, context)

    _declare_toy_queues(settings, consumer)  # the 60 events wait in the queue, so batches form at once
    for n in range(60):
        publish_raw(amqp_url, "bill.created", to_json(bill_event(2000 + n)))
    with running(runner(settings, sessions, consumer, {"bill.created": record_unless_poison})):
        eventually(lambda: count(sessions, tables.dead_letters) == 1, timeout=30, message="the poison dead-lettered")
        eventually(lambda: count(sessions, effects) == 59, message="every other event applied")
        eventually(lambda: _queue_depth(amqp_url, f"{consumer}.events") == 0, message="queue drained")
    with sessions() as session:
        [dead] = tables.list_dead_letters(session)
        applied = session.execute(select(effects.c.bill_id, func.count()).group_by(effects.c.bill_id)).all()
    assert "handler failed 3 times" in dead["reason"] and "poison in the batch" in dead["reason"]
    assert sorted(bill_id for bill_id, _ in applied) == [2000 + n for n in range(60) if 2000 + n != poison]
    assert all(times == 1 for _, times in applied)  # the batch's other events committed once
    assert count(sessions, tables.inbox) == 59  # the poison left no inbox row behind
    # Batches of up to 10 share one transaction each; only the poison's batch went one at a time.
    assert len(set(transactions.values())) < 30, sorted(set(transactions.values()))
    assert calls.count(poison) >= settings.delivery_limit


def test_a_failing_event_waits_its_backoff_in_a_delay_queue_while_the_queue_flows(toy, amqp_url):
    settings, sessions, consumer = toy
    poison = 3001

    def record_unless_poison(session, bill, context):
        if bill.bill_id == poison:
            raise RuntimeError("not yet")
        record_bill(session, bill, context)

    slow_retries = ConsumerRunner(
        settings, sessions, tables, consumer, {"bill.created": record_unless_poison}, retry_base=60, retry_cap=60
    )
    with running(slow_retries):
        eventually(lambda: _queue_exists(amqp_url, f"{consumer}.events"), message="queue declared")
        publish_raw(amqp_url, "bill.created", to_json(bill_event(poison)))
        parked = f"{consumer}.events.retry.60000ms"
        eventually(lambda: _queue_exists(amqp_url, parked) and _queue_depth(amqp_url, parked) == 1, message="parked")
        for n in range(5):
            publish_raw(amqp_url, "bill.created", to_json(bill_event(3100 + n)))
        # Within seconds, not after the poison's minute of backoff.
        eventually(lambda: count(sessions, effects) == 5, timeout=10, message="the others applied meanwhile")
        assert _queue_depth(amqp_url, parked) == 1
    assert count(sessions, tables.dead_letters) == 0


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_a_batch_applies_each_event_once_however_often_it_holds_it(toy, tmp_path, database):
    """One batch holding an event twice, the same id from another source, and an event applied in
    an earlier batch: one effect per (source, id), the copies reported as duplicates."""
    settings, sessions, consumer = toy
    if database == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'toy.db'}")
        metadata.create_all(engine)
        sessions = make_session_factory(engine)
    consumer_runner = runner(settings, sessions, consumer)
    earlier, twice = bill_event(1), bill_event(2)
    other_source = {**bill_event(3, source="/integrations/pos-17"), "id": twice["id"]}
    assert consumer_runner.apply([earlier]) == [True]
    outcomes = consumer_runner.apply([twice, earlier, other_source, twice, bill_event(4)])
    assert outcomes == [True, False, True, False, True]
    with sessions() as session:
        assert sorted(session.scalars(select(effects.c.bill_id))) == [1, 2, 3, 4]
    assert count(sessions, tables.inbox) == 4


def test_an_idle_relay_polls_without_checking_out_and_publishes_what_comes(toy, amqp_url):
    """An idle relay looks for due rows on a connection it keeps: its polls take no connection from
    the pool (no ping, BEGIN or COMMIT each time), one statement each; an event written while it
    idles is published all the same, and marked sent."""
    settings, sessions, _ = toy
    engine = sessions.kw["bind"]
    counts: collections.Counter[str] = collections.Counter()

    def on_statement(*_):
        counts["statements"] += 1

    def on_checkout(*_):
        counts["checkouts"] += 1

    sa_event.listen(engine, "before_cursor_execute", on_statement)
    sa_event.listen(engine, "checkout", on_checkout)
    probe = Probe(amqp_url, ["bill.created"])
    try:
        with running(OutboxRelay(settings, sessions, tables, idle_interval=0.05)):
            eventually(lambda: counts["statements"] >= 3, message="the relay polling")
            before = counts.copy()
            time.sleep(1.0)
            idle = counts - before
            with unit_of_work(sessions) as session:
                tables.add_event(session, BillCreated.load({**BILL, "bill_id": 77}))
            (_, published), *_ = probe.messages(1, timeout=10)
            eventually(lambda: pending(sessions) == 0, message="marked sent")
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)
        sa_event.remove(engine, "checkout", on_checkout)
        probe.close()
    assert idle["checkouts"] == 0
    assert 5 <= idle["statements"] <= 25  # one per poll, a poll every 50 ms
    assert published["data"]["bill_id"] == 77
