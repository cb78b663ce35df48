import hashlib

import pytest
from flask import Flask, Response, jsonify, request

from gateway.app import create_app
from gateway.models import Base
from gateway.settings import GatewaySettings
from shared.runtime import Runtime
from shared.testing import DEFAULT_AMQP, make_settings, truncate_all
from shared.wire import KeepAliveServer

ADMIN_ENV = {"ADMIN_USERNAME": "Root", "ADMIN_PASSWORD": "first-admin-pass"}


class Upstream(KeepAliveServer):
    """A real WSGI app served on a free local port, keeping connections alive as gunicorn does
    (``connections`` counts the TCP connections it accepted)."""


def free_url() -> str:
    """An address where nothing listens (a port just released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing():
    """argon2id with test-sized cost (production keeps argon2-cffi's defaults); same code path."""
    from argon2 import PasswordHasher

    from gateway import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._hasher = original
    passwords._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def gateway_db(databases):
    return databases.create("gateway", service="gateway")


@pytest.fixture(scope="session")
def billing_upstream(databases):
    """Billing's real app on its own database, as the upstream the gateway routes /bills to."""
    from services.billing.app import create_app as create_billing

    url = databases.create("gw_billing", service="billing")
    settings = make_settings("billing", url, DEFAULT_AMQP)
    runtime = Runtime.build(settings)
    upstream = Upstream(create_billing(settings, runtime))
    upstream.runtime = runtime
    yield upstream
    upstream.close()
    runtime.engine.dispose()


@pytest.fixture
def settings(gateway_db, upstreams):
    """The gateway's settings, routing billing to its real app and every other service to nowhere."""
    return make_settings("gateway", gateway_db, DEFAULT_AMQP, cls=GatewaySettings).with_upstreams(upstreams)


@pytest.fixture
def runtime(settings):
    rt = Runtime.build(settings)
    truncate_all(rt.engine, Base.metadata)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def upstreams(billing_upstream):
    down = free_url()
    return {"billing": billing_upstream.url, "customers": down, "contacts": down, "reminders": down, "reporting": down}


@pytest.fixture
def app(settings, runtime):
    return create_app(settings, runtime, environ=ADMIN_ENV)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin_token(client):
    response = client.post("/api/v1/auth/login", json={"username": "root", "password": "first-admin-pass"})
    assert response.status_code == 200, response.json
    return response.json["access_token"]


@pytest.fixture
def admin(admin_token):
    return {"Authorization": f"Bearer {admin_token}"}


DOWNLOAD = bytes(range(256)) * 4096  # 1 MiB


def counting_app() -> Flask:
    """An upstream answering with its client's port (one per TCP connection) in every kind of answer."""
    app = Flask("counting")

    @app.route("/api/v1/reports/<kind>", methods=["GET", "POST"])
    def answer(kind):
        port = request.environ["REMOTE_PORT"]
        if kind == "download":  # streamed, no Content-Length: chunked
            return Response((DOWNLOAD[i : i + 65536] for i in range(0, len(DOWNLOAD), 65536)), mimetype="text/csv")
        if kind == "sized-download":
            return Response(DOWNLOAD, mimetype="text/csv", headers={"X-Port": port})
        if kind == "error":
            return jsonify(title="Internal server error", port=port), 500
        if kind == "empty":
            return Response(status=204, headers={"X-Port": port})
        body = request.get_data()
        return jsonify(port=port, length=len(body), sha256=hashlib.sha256(body).hexdigest())

    return app


@pytest.fixture
def upstream():
    """``counting_app`` served as an upstream (kept-alive connections counted)."""
    server = Upstream(counting_app())
    yield server
    server.close()
