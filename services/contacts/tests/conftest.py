import threading

import pytest

from services.contacts.app import create_app
from services.contacts.consumers import HANDLERS
from services.contacts.models import Base, messaging
from services.contacts.settings import ContactsSettings
from services.contacts.uploads.background import ImportWorker
from shared.consumer import ConsumerRunner
from shared.envelope import make_event
from shared.runtime import Runtime
from shared.testing import make_settings, truncate_all

STAFF_IDS = (11, 12, 13)


@pytest.fixture(scope="session")
def contacts_db(databases):
    return databases.create("contacts", service="contacts")


@pytest.fixture
def settings(contacts_db, amqp_url):
    return make_settings("contacts", contacts_db, amqp_url, cls=ContactsSettings, async_upload_bytes=2 * 1024 * 1024)


@pytest.fixture
def runtime(settings):
    rt = Runtime.build(settings)
    truncate_all(rt.engine, Base.metadata)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def app_for(runtime):
    """A test client of an app with some settings changed (upload cap, background threshold)."""

    def build(**overrides):
        return create_app(runtime.settings.with_overrides(**overrides), runtime).test_client()

    return build


@pytest.fixture
def client(app_for):
    return app_for()


@pytest.fixture
def importer(runtime):
    """The importer loop (``python -m services.contacts.worker import``) running in a thread."""
    stop = threading.Event()
    worker = ImportWorker(runtime.settings.with_overrides(import_poll_seconds=0.05), runtime.session_factory)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    yield worker
    stop.set()
    thread.join(60)


@pytest.fixture
def runner(runtime):
    return ConsumerRunner(runtime.settings, runtime.session_factory, messaging, "contacts", HANDLERS)


@pytest.fixture
def deliver(runner):
    """Apply one event through the consumer runner's inbox (as a delivery would); returns the event."""

    def _deliver(event_type, data, source="/services/test", event=None, **kwargs):
        event = event or make_event(event_type, data, source=source, **kwargs)
        runner.handle(event)
        return event

    return _deliver


def staff_event(staff_id, role="staff", active=True, username=None):
    return {
        "staff_id": staff_id,
        "username": username or f"user{staff_id}",
        "name": f"Staff {staff_id}",
        "role": role,
        "active": active,
    }


@pytest.fixture
def staff(deliver):
    """Three active staff users (and an admin, who gets no contacts by default) in the roster."""
    for staff_id in STAFF_IDS:
        deliver("staff.created", staff_event(staff_id), source="/gateway")
    deliver("staff.created", staff_event(1, role="admin"), source="/gateway")
    return list(STAFF_IDS)
