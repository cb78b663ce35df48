"""Test helpers (a pytest plugin loaded by the root conftest): real PostgreSQL and RabbitMQ.

PostgreSQL: ``TEST_DATABASE_URL`` (default the local server, trust auth), each test session
creating its own databases; RabbitMQ: ``TEST_AMQP_URL`` (default the local broker) with a
virtual host per test session, made with ``rabbitmqctl`` (or the management API when
``RABBITMQ_MANAGEMENT_URL`` is set). Where neither server answers but a Docker engine exists,
testcontainers starts them. Nothing here skips: a missing server fails the tests loudly.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar, overload
from urllib.parse import quote, urlsplit, urlunsplit

import pika
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Engine, make_url

from .auth import Principal, issue_token
from .config import Settings, SettingsT
from .db import is_postgres
from .process import Loop

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"
#: The gateway's signing key in tests: made afresh for each test session, never written in the repository.
TEST_PRIVATE_KEY = Ed25519PrivateKey.generate()
TEST_PUBLIC_KEY = TEST_PRIVATE_KEY.public_key()

T = TypeVar("T")
C = TypeVar("C")


def eventually(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05, message: str = "condition") -> T:
    """Poll ``check()`` until it returns a truthy value without raising AssertionError; return it."""
    deadline = time.monotonic() + timeout
    last_error: AssertionError | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except AssertionError as exc:
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s" + (f": {last_error}" if last_error else ""))
        time.sleep(interval)


def token_for(
    role: str = "admin",
    user_id: int = 1,
    username: str | None = None,
    name: str | None = None,
    key: Ed25519PrivateKey = TEST_PRIVATE_KEY,
    ttl: int = 3600,
    token_version: int = 0,
) -> str:
    """A bearer token as the gateway would issue it (signed with the test session's key)."""
    return issue_token(
        Principal(user_id, username or f"{role}{user_id}", role, name or f"{role} {user_id}", token_version),
        key,
        ttl,
    )


@functools.cache
def session_key_files() -> tuple[str, str]:
    """``(private, public)``: PEM files of the test key pair, in a directory removed when the session ends."""
    directory = Path(tempfile.mkdtemp(prefix="pharmacy-test-keys-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    private, public = write_key_pair(TEST_PRIVATE_KEY, directory)
    return str(private), str(public)


def write_key_pair(private_key: Ed25519PrivateKey, directory: Path, prefix: str = "jwt") -> tuple[Path, Path]:
    """Write ``private_key`` and its public key as PEM files ``<prefix>-private.pem``/``-public.pem``."""
    private = directory / f"{prefix}-private.pem"
    public = directory / f"{prefix}-public.pem"
    private.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    private.chmod(0o600)
    public.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def key_environ(gateway: bool = False) -> dict[str, str]:
    """The key variables a process needs in tests (``gateway``: the private key too)."""
    private, public = session_key_files()
    return {"JWT_PUBLIC_KEY_FILE": public, **({"JWT_PRIVATE_KEY_FILE": private} if gateway else {})}


def auth_headers(role: str = "admin", user_id: int = 1, **kwargs: Any) -> dict[str, str]:
    """``{"Authorization": "Bearer ..."}`` for a caller of ``role`` (see ``token_for``)."""
    return {"Authorization": f"Bearer {token_for(role, user_id, **kwargs)}"}


# -- PostgreSQL ----------------------------------------------------------------------------
def _reachable_pg(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a PostgreSQL server where the tests may create databases."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if _reachable_pg(url):
        yield url
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="psycopg") as pg:
            yield pg.get_connection_url()
        return
    pytest.fail(
        f"PostgreSQL is not reachable at {url} and no Docker engine is available: start PostgreSQL "
        "(pg_ctlcluster --skip-systemctl-redirect <version> main start) or set TEST_DATABASE_URL"
    )


class DatabaseFactory:
    """Creates throw-away databases (migrated for a service) and drops them at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"t_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=f"{self.prefix}_{name}").render_as_string(hide_password=False)

    def create(self, name: str, service: str | None = None) -> str:
        """A fresh database; migrated to ``service``'s head when a service is named."""
        from .migrations import upgrade

        url = self.url(name)
        upgrade(service, url) if service else self._create_empty(url)
        self.created.append(str(make_url(url).database))
        return url

    def _create_empty(self, url: str) -> None:
        from .migrations import ensure_database

        ensure_database(url)

    def drop_all(self) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def databases(pg_admin_url: str) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(pg_admin_url)
    yield factory
    factory.drop_all()


def truncate_all(engine: Engine, metadata: MetaData) -> None:
    """Empty every table of a service between tests."""
    names = ", ".join(f'"{t.name}"' for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        if is_postgres(conn):
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


# -- RabbitMQ ------------------------------------------------------------------------------
def _reachable_amqp(url: str) -> bool:
    try:
        params = pika.URLParameters(url)
        params.connection_attempts = 1
        params.socket_timeout = 3
        pika.BlockingConnection(params).close()
        return True
    except Exception:
        return False


def _with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), parts.query, parts.fragment))


class VhostAdmin:
    """Adds and deletes virtual hosts through rabbitmqctl or the management API."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self.management = os.environ.get("RABBITMQ_MANAGEMENT_URL")
        parts = urlsplit(amqp_url)
        self.user = parts.username or "guest"
        self.password = parts.password or "guest"

    def add(self, vhost: str) -> None:
        if self.management:
            base = self.management.rstrip("/")
            auth = (self.user, self.password)
            requests.put(f"{base}/api/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=10).raise_for_status()
            requests.put(
                f"{base}/api/permissions/{quote(vhost, safe='')}/{self.user}",
                auth=auth,
                timeout=10,
                json={"configure": ".*", "write": ".*", "read": ".*"},
            ).raise_for_status()
            return
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True)
        subprocess.run(
            [ctl, "set_permissions", "-p", vhost, self.user, ".*", ".*", ".*"], check=True, capture_output=True
        )

    def delete(self, vhost: str) -> None:
        if self.management:
            requests.delete(
                f"{self.management.rstrip('/')}/api/vhosts/{quote(vhost, safe='')}",
                auth=(self.user, self.password),
                timeout=10,
            )
            return
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True)


@pytest.fixture(scope="session")
def amqp_server_url() -> Iterator[str]:
    url = os.environ.get("TEST_AMQP_URL", DEFAULT_AMQP)
    if _reachable_amqp(url):
        yield url
        return
    if _docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management") as rabbit:
            params = rabbit.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}/%2F"
        return
    pytest.fail(
        f"RabbitMQ is not reachable at {url} and no Docker engine is available: start it "
        "(rabbitmq-server -detached) or set TEST_AMQP_URL"
    )


@pytest.fixture(scope="session")
def amqp_url(amqp_server_url: str) -> Iterator[str]:
    """An AMQP URL on a virtual host of this test session's own."""
    admin = VhostAdmin(amqp_server_url)
    vhost = f"test-{uuid.uuid4().hex[:10]}"
    admin.add(vhost)
    yield _with_vhost(amqp_server_url, vhost)
    admin.delete(vhost)


@overload
def make_settings(
    service: str, database_url: str, amqp_url: str, *, cls: type[SettingsT], **overrides: Any
) -> SettingsT: ...
@overload
def make_settings(service: str, database_url: str, amqp_url: str, **overrides: Any) -> Settings: ...
def make_settings(
    service: str, database_url: str, amqp_url: str, *, cls: type[Settings] = Settings, **overrides: Any
) -> Settings:
    """Settings (of ``cls``, a service's own class where it has one) for a service under test.

    The environment is not read: every field not in ``overrides`` keeps its declared default; the
    key files are the test key pair's (the private one only for a class that has the field, the
    gateway's).
    """
    private, public = session_key_files()
    keys = {"jwt_public_key_file": public}
    if any(spec.name == "jwt_private_key_file" for spec in fields(cls)):
        keys["jwt_private_key_file"] = private
    return cls(service=service, database_url=database_url, amqp_url=amqp_url, **{**keys, **overrides})


@contextlib.contextmanager
def running(*loops: Loop) -> Iterator[threading.Event]:
    """Run relay/consumer loops in threads for the block, then stop them."""
    stop = threading.Event()
    threads = [threading.Thread(target=loop.run, args=(stop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)


class Probe:
    """A queue of the test's own bound to some event types, to see what was published."""

    def __init__(self, amqp_url: str, event_types: Iterable[str], exchange: str = "pharmacy.events") -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
        for event_type in event_types:
            self.channel.queue_bind(queue=self.queue, exchange=exchange, routing_key=event_type)

    def messages(self, count: int, timeout: float = 15.0) -> list[tuple[pika.BasicProperties, Any]]:
        """Wait for ``count`` messages; return ``(properties, body)`` pairs."""
        import json

        got: list[tuple[pika.BasicProperties, Any]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            got.append((properties, json.loads(body)))
        assert len(got) >= count, f"expected {count} messages, got {len(got)}"
        return got

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()


def publish_raw(
    amqp_url: str,
    routing_key: str,
    body: bytes | str,
    exchange: str = "pharmacy.events",
    message_id: str | None = None,
    headers: dict[str, Any] | None = None,
) -> None:
    """Publish as an outside integration would (with confirms)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True) if exchange else None
        channel.basic_publish(
            exchange=exchange,
            routing_key=routing_key,
            body=body.encode() if isinstance(body, str) else body,
            properties=pika.BasicProperties(
                delivery_mode=2, message_id=message_id, content_type="application/cloudevents+json", headers=headers
            ),
        )
    finally:
        connection.close()


def apply_meeting_halfway(
    runner_for: Callable[[dict[str, Any]], Any], handlers: dict[str, Any], batches: Sequence[list[dict[str, Any]]]
) -> list[list[bool]]:
    """Each batch applied at once by its own consumer (``runner_for(handlers)``, a ``ConsumerRunner``);
    each stops after its first event until every other one has applied its first too (or for 3 s,
    when another is waiting for a lock this one holds). If they then need rows the others locked
    in their first events, they deadlock. The runners' outcomes (``apply``), in batch order."""
    halfway = threading.Barrier(len(batches), timeout=3)
    seen = threading.local()

    def meeting(handler: Any) -> Any:
        def handle(session: Any, typed: Any, context: Any) -> None:
            handler(session, typed, context)
            seen.count = getattr(seen, "count", 0) + 1
            if seen.count == 1:
                with contextlib.suppress(threading.BrokenBarrierError):
                    halfway.wait()

        return handle

    wrapped = {event_type: meeting(handler) for event_type, handler in handlers.items()}
    jobs = list(enumerate((runner_for(wrapped), batch) for batch in batches))
    outcomes = dict(at_once(jobs, lambda job: (job[0], job[1][0].apply(job[1][1])), timeout=30))
    return [outcomes[i] for i in range(len(batches))]


def at_once(clients: Sequence[C], send: Callable[[C], T], timeout: float = 120.0) -> list[T]:
    """``send(client)`` from one thread per client, all released together (a barrier): the answers,
    in any order. For races: the same request with the same key sent N times at once."""
    barrier = threading.Barrier(len(clients))
    answers: list[T] = []
    lock = threading.Lock()

    def run(client: C) -> None:
        barrier.wait()
        answer = send(client)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert len(answers) == len(clients), "a request did not finish"
    return answers
