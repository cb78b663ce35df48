import pytest

from services.billing.app import create_app
from services.billing.models import Base
from shared.runtime import Runtime
from shared.testing import make_settings, truncate_all


@pytest.fixture(scope="session")
def billing_db(databases):
    return databases.create("billing", service="billing")


@pytest.fixture
def settings(billing_db, amqp_url):
    return make_settings("billing", billing_db, amqp_url)


@pytest.fixture
def runtime(settings):
    rt = Runtime.build(settings)
    truncate_all(rt.engine, Base.metadata)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def client(settings, runtime):
    return create_app(settings, runtime).test_client()
