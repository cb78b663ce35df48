"""The proxy keeps one keep-alive connection per thread and upstream: answers of every kind read to
their end hand it back for the next call; a body left unread closes it instead of poisoning it."""

from __future__ import annotations

import hashlib
import time

import pytest

from gateway import proxy
from gateway.app import create_app

from .conftest import ADMIN_ENV, DOWNLOAD, Upstream


@pytest.fixture
def client(settings, runtime, upstream):
    return create_app(settings.with_upstreams({"reporting": upstream.url}), runtime, environ=ADMIN_ENV).test_client()


def test_fifty_calls_of_every_kind_in_one_thread_use_one_connection(client, admin, upstream):
    payload = b"x" * 300_000
    for _ in range(10):
        assert client.get("/api/v1/reports/json", headers=admin).status_code == 200
        download = client.get("/api/v1/reports/download", headers=admin)
        assert download.status_code == 200 and download.data == DOWNLOAD
        assert client.get("/api/v1/reports/sized-download", headers=admin).data == DOWNLOAD
        assert client.get("/api/v1/reports/error", headers=admin).status_code == 500
        sent = client.post(
            "/api/v1/reports/upload",
            data=payload,
            headers={**admin, "Content-Type": "application/octet-stream"},
        )
        assert sent.json["length"] == len(payload) and sent.json["sha256"] == hashlib.sha256(payload).hexdigest()
    assert client.get("/api/v1/reports/empty", headers=admin).status_code == 204
    assert upstream.connections == 1


def test_a_download_left_unread_closes_its_connection_and_the_next_call_gets_a_new_one(client, admin, upstream):
    assert client.get("/api/v1/reports/json", headers=admin).status_code == 200
    assert upstream.connections == 1
    abandoned = client.get("/api/v1/reports/download", headers=admin, buffered=False)
    assert len(next(iter(abandoned.response))) > 0  # the client reads a little, then goes away
    abandoned.close()
    answers = [client.get("/api/v1/reports/json", headers=admin) for _ in range(5)]
    # The rest of the download was not taken for these answers: one new connection, then reused.
    assert all(a.status_code == 200 and "port" in a.json for a in answers)
    assert len({a.json["port"] for a in answers}) == 1
    assert upstream.connections == 2


def test_connections_idle_for_longer_than_the_upstream_keeps_them_are_not_reused(client, admin, upstream, monkeypatch):
    monkeypatch.setattr(proxy, "MAX_IDLE_SECONDS", 0.2)  # (gunicorn's keepalive is 5 s)
    for _ in range(3):
        assert client.get("/api/v1/reports/json", headers=admin).status_code == 200
    assert upstream.connections == 1
    time.sleep(0.3)
    for _ in range(3):
        assert client.get("/api/v1/reports/json", headers=admin).status_code == 200
    assert upstream.connections == 2


def test_bills_through_the_real_billing_app_reuse_one_connection(settings, runtime, admin, billing_runtime_app):
    server = Upstream(billing_runtime_app)
    try:
        client = create_app(settings.with_upstreams({"billing": server.url}), runtime, environ=ADMIN_ENV).test_client()
        body = {
            "customer_phone": "98765 43210",
            "customer_category": "regular_branded",
            "items": [{"medicine_name": "Metformin 500", "quantity": 2, "amount": "120.50"}],
        }
        statuses = [client.post("/api/v1/bills", json=body, headers=admin).status_code for _ in range(50)]
        assert statuses == [201] * 50
        assert server.connections == 1
    finally:
        server.close()


@pytest.fixture
def billing_runtime_app(billing_upstream):
    """Billing's real app on the database of the session's billing upstream."""
    from services.billing.app import create_app as create_billing

    return create_billing(billing_upstream.runtime.settings, billing_upstream.runtime)
