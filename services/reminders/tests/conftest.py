import datetime as dt

import pytest

from services.reminders.app import create_app
from services.reminders.consumers import HANDLERS, PREPARE
from services.reminders.models import Base, messaging
from shared.broker import connect, declare_consumer_queues, queue_names
from shared.consumer import ConsumerRunner
from shared.runtime import Runtime
from shared.testing import make_settings, running, truncate_all


class Clock:
    """The app's "now", set by each test (aware UTC)."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="session")
def reminders_db(databases):
    return databases.create("reminders", service="reminders")


@pytest.fixture
def settings(reminders_db, amqp_url):
    return make_settings("reminders", reminders_db, amqp_url)


@pytest.fixture
def runtime(settings):
    rt = Runtime.build(settings)
    truncate_all(rt.engine, Base.metadata)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def clock():
    # 20 Feb 2026, 12:00 in Kolkata.
    return Clock(dt.datetime(2026, 2, 20, 6, 30, tzinfo=dt.UTC))


@pytest.fixture
def client(settings, runtime, clock):
    return create_app(settings, runtime, clock=clock).test_client()


class CountingRunner(ConsumerRunner):
    """The real runner, remembering each event it handled and whether it was applied."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.handled: list[tuple[str, bool]] = []

    def apply(self, events):
        outcomes = super().apply(events)
        self.handled.extend((event["id"], applied) for event, applied in zip(events, outcomes, strict=True))
        return outcomes


def _purge_queues(settings):
    connection = connect(settings.amqp_url, "reminders-tests")
    try:
        channel = connection.channel()
        declare_consumer_queues(
            channel,
            "reminders",
            HANDLERS.keys(),
            settings.exchange,
            settings.dead_letter_exchange,
            settings.delivery_limit,
        )
        for queue in queue_names("reminders"):
            channel.queue_purge(queue)
    finally:
        connection.close()


@pytest.fixture
def consumer(settings, runtime):
    """A real consumer on this session's vhost; queues declared first so nothing published is lost."""
    _purge_queues(settings)
    runner = CountingRunner(settings, runtime.session_factory, messaging, "reminders", HANDLERS, prepare=PREPARE)
    with running(runner):
        yield runner
    # Whatever a test left in flight must not leak into the next one.
    _purge_queues(settings)
