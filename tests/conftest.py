"""End-to-end fixtures: the real processes of the Procfile on PostgreSQL databases and a vhost of their own.

One stack per test session (``stack``): a migrated PostgreSQL database per service (through
``shared.testing``'s ``databases``), a RabbitMQ vhost of its own, free ports, every
Procfile process started as honcho would and awaited (``/readyz`` of every HTTP process, a consumer
on every worker's queue). ``E2E_SERVICES=gateway,billing`` limits the stack to some services (to
check the harness while others are being written); by default every service runs. A failing test
gets the tail of every process log in its report.
"""

from __future__ import annotations

import itertools
import os
import uuid

import pytest
import requests

from shared.testing import VhostAdmin, _with_vhost

from .stack import ADMIN_PASSWORD, ADMIN_USERNAME, SERVICES, Stack, service_of, wait_consumers

STACK_KEY = pytest.StashKey[Stack]()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "broker_restart: restarts the machine's RabbitMQ node (every vhost); deselect with -m 'not broker_restart'",
    )


def _wanted_services() -> tuple[str, ...]:
    raw = os.environ.get("E2E_SERVICES", "").strip()
    if not raw:
        return SERVICES
    names = tuple(s.strip() for s in raw.split(",") if s.strip())
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise pytest.UsageError(f"E2E_SERVICES names unknown services {sorted(unknown)}")
    return names


@pytest.fixture(scope="session")
def e2e_amqp_url(amqp_server_url):
    """A vhost for the stack alone. Not the session's ``amqp_url``: the services' own tests declare the
    same durable queues there (``customers.events``, ...) and leave messages in them, which the
    stack's workers would then consume."""
    admin = VhostAdmin(amqp_server_url)
    vhost = f"e2e-{uuid.uuid4().hex[:10]}"
    admin.add(vhost)
    yield _with_vhost(amqp_server_url, vhost)
    admin.delete(vhost)


@pytest.fixture(scope="session")
def stack(request, databases, e2e_amqp_url, tmp_path_factory):
    services = _wanted_services()
    urls = {service: databases.create(f"e2e_{service}", service=service) for service in services}
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    running = Stack(urls, e2e_amqp_url, log_dir, services=services)
    request.config.stash[STACK_KEY] = running
    try:
        running.start()
        running.wait_ready(timeout=90)
        consumers = sorted({service_of(name) for name in running.commands if name.endswith("-worker")})
        wait_consumers(e2e_amqp_url, consumers, timeout=60, stack=running)
        yield running
    finally:
        running.stop()
        print(f"\ne2e process logs kept in {log_dir}")


def requires(stack: Stack, *services: str) -> None:
    """Fail (never skip) a test that needs services the stack was told not to run."""
    missing = [s for s in services if s not in stack.services]
    if missing:
        pytest.fail(f"this test needs {missing}, not in E2E_SERVICES={','.join(stack.services)}")


class Client:
    """requests against the gateway with a base URL and, optionally, a bearer token."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)


def login(base_url: str, username: str, password: str) -> str:
    response = requests.post(
        f"{base_url}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30
    )
    assert response.status_code == 200, f"login of {username} failed: {response.status_code} {response.text}"
    return response.json()["access_token"]


@pytest.fixture(scope="session")
def gateway_url(stack) -> str:
    requires(stack, "gateway")
    return stack.gateway_url


@pytest.fixture(scope="session")
def admin_token(gateway_url) -> str:
    return login(gateway_url, ADMIN_USERNAME, ADMIN_PASSWORD)


@pytest.fixture
def admin(gateway_url, admin_token) -> Client:
    """The gateway, as the first admin."""
    return Client(gateway_url, admin_token)


@pytest.fixture
def anonymous(gateway_url) -> Client:
    return Client(gateway_url)


_phones = itertools.count(1)


def new_phone() -> str:
    """A valid Indian mobile number not used before in this session (E.164)."""
    return f"+9198765{os.getpid() % 10}{next(_phones):04d}"


def bill_body(phone: str, *, name: str = "Asha Rao", category: str = "regular_branded", items=None, **fields) -> dict:
    body = {
        "customer_phone": phone,
        "customer_name": name,
        "customer_category": category,
        "items": items
        if items is not None
        else [
            {"medicine_name": "Metformin 500", "quantity": 2, "amount": "120.50", "duration_days": 30},
            {"medicine_name": "Vitamin D3", "quantity": 1, "amount": "80.00", "is_generic": True},
        ],
    }
    body.update(fields)
    return body


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "stack" in getattr(item, "fixturenames", ()):
        running = item.config.stash.get(STACK_KEY, None)
        if running is not None and running.procs:
            dead = running.dead()
            header = f"exited processes: {dead}\n" if dead else ""
            report.sections.append(("e2e process logs", header + running.tails(lines=30)))
