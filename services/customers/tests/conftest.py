import uuid

import pika
import pytest

from services.customers.app import create_app
from services.customers.consumers import HANDLERS
from services.customers.models import Base, messaging
from shared.broker import declare_consumer_queues, queue_names
from shared.consumer import ConsumerRunner
from shared.runtime import Runtime
from shared.testing import make_settings, truncate_all


@pytest.fixture(scope="session")
def customers_db(databases):
    return databases.create("customers", service="customers")


@pytest.fixture
def settings(customers_db, amqp_url):
    return make_settings("customers", customers_db, amqp_url, delivery_limit=3)


@pytest.fixture
def runtime(settings):
    rt = Runtime.build(settings)
    truncate_all(rt.engine, Base.metadata)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def client(settings, runtime):
    return create_app(settings, runtime).test_client()


class Workers:
    """Consumer runners of this test on a queue of their own (declared before anything is published,
    deleted at the end), so no test sees another's messages."""

    def __init__(self, settings, runtime):
        self.settings = settings
        self.runtime = runtime
        self.consumer = f"customers-{uuid.uuid4().hex[:8]}"
        self._declare()

    def _declare(self):
        connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        try:
            declare_consumer_queues(
                connection.channel(),
                self.consumer,
                HANDLERS.keys(),
                self.settings.exchange,
                self.settings.dead_letter_exchange,
                self.settings.delivery_limit,
            )
        finally:
            connection.close()

    def runner(self, handlers=HANDLERS) -> ConsumerRunner:
        return ConsumerRunner(
            self.settings,
            self.runtime.session_factory,
            messaging,
            self.consumer,
            handlers,
            retry_base=0.01,
            retry_cap=0.05,
        )

    def delete_queues(self):
        connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        try:
            channel = connection.channel()
            for queue in queue_names(self.consumer):
                channel.queue_delete(queue)
        finally:
            connection.close()


@pytest.fixture
def workers(settings, runtime):
    workers = Workers(settings, runtime)
    yield workers
    workers.delete_queues()
