import datetime as dt

import pika
import pytest

from services.reporting.app import create_app
from services.reporting.consumers import HANDLERS, PREPARE
from services.reporting.models import Base, messaging
from shared.broker import declare_consumer_queues
from shared.consumer import ConsumerRunner
from shared.runtime import Runtime
from shared.testing import make_settings, truncate_all

# 12:00 in Kolkata on 31 March 2026: "today" for every report in these tests.
NOW = dt.datetime(2026, 3, 31, 6, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def reporting_db(databases):
    return databases.create("reporting", service="reporting")


@pytest.fixture
def settings(reporting_db, amqp_url):
    return make_settings("reporting", reporting_db, amqp_url)


@pytest.fixture
def runtime(settings):
    rt = Runtime.build(settings)
    truncate_all(rt.engine, Base.metadata)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def client(settings, runtime):
    return create_app(settings, runtime, clock=lambda: NOW).test_client()


class CountingRunner(ConsumerRunner):
    """The real consumer runner, counting the deliveries it has handled (duplicates included)."""

    deliveries = 0

    def apply(self, events):
        outcomes = super().apply(events)
        self.deliveries += len(events)
        return outcomes


@pytest.fixture
def runner(settings, runtime):
    """Reporting's consumer on an empty queue (declared here so nothing published before it starts is lost)."""
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        channel = connection.channel()
        queue, _dlq = declare_consumer_queues(
            channel,
            "reporting",
            HANDLERS.keys(),
            settings.exchange,
            settings.dead_letter_exchange,
            settings.delivery_limit,
        )
        channel.queue_purge(queue)
    finally:
        connection.close()
    return CountingRunner(settings, runtime.session_factory, messaging, "reporting", HANDLERS, prepare=PREPARE)
