"""Dead letters: the service-side blueprint (list, replay) and the gateway's overview across services."""

import json

import pytest
from sqlalchemy import select

from gateway.app import create_app
from services.billing.models import Base as BillingBase
from services.billing.models import messaging as billing_messaging
from shared.dead_letters_api import dead_letters_blueprint
from shared.runtime import Runtime
from shared.testing import DEFAULT_AMQP, auth_headers, make_settings, truncate_all
from shared.web import create_service_app

from .conftest import ADMIN_ENV, Upstream

ADMIN = auth_headers("admin", 1)
STAFF = auth_headers("staff", 7)


@pytest.fixture(scope="module")
def service(databases):
    """A tiny service mounting the blueprint on billing's tables (which include dead_letters)."""
    url = databases.create("gw_dead_letters", service="billing")
    runtime = Runtime.build(make_settings("billing", url, DEFAULT_AMQP))
    app, _api = create_service_app(
        "billing",
        runtime.settings,
        title="DLQ test",
        runtime_obj=runtime,
        blueprints=[dead_letters_blueprint(billing_messaging)],
    )
    app.runtime = runtime
    yield app
    runtime.engine.dispose()


@pytest.fixture
def service_client(service):
    runtime = service.runtime
    truncate_all(runtime.engine, BillingBase.metadata)
    with runtime.session_factory() as session:
        for n in range(3):
            body = json.dumps({"type": "bill.created", "id": f"e{n}"}).encode()
            billing_messaging.archive_dead_letter(
                session, "customers.bill.created", body, {"x-death": []}, f"e{n}", f"handler failed {n}"
            )
        session.commit()
    return service.test_client()


def test_the_blueprint_lists_dead_letters_newest_first(service_client):
    page = service_client.get("/api/v1/admin/dead-letters", headers=ADMIN)
    assert page.status_code == 200, page.json
    assert page.json["total"] == 3
    newest = page.json["items"][0]
    assert newest["id"] == 3 and newest["queue"] == "customers.bill.created"
    assert newest["message_id"] == "e2" and newest["event_type"] == "bill.created"
    assert newest["reason"] == "handler failed 2" and newest["status"] == "archived"
    assert newest["dead_lettered_at"].endswith("Z") and json.loads(newest["body"])["id"] == "e2"
    assert service_client.get("/api/v1/admin/dead-letters?per_page=2&page=2", headers=ADMIN).json["items"][0]["id"] == 1
    assert service_client.get("/api/v1/admin/dead-letters", headers=STAFF).status_code == 403
    assert service_client.get("/api/v1/admin/dead-letters").status_code == 401


def test_the_blueprint_replays_through_the_outbox(service_client, service):
    assert service_client.post("/api/v1/admin/dead-letters/replay", json={"ids": [1]}, headers=STAFF).status_code == 403
    assert (
        service_client.post(
            "/api/v1/admin/dead-letters/replay", json={"ids": [1], "all": True}, headers=ADMIN
        ).status_code
        == 422
    )
    first = service_client.post("/api/v1/admin/dead-letters/replay", json={"ids": [1]}, headers=ADMIN)
    assert first.status_code == 200 and first.json == {"replayed": 1}
    rest = service_client.post("/api/v1/admin/dead-letters/replay", json={}, headers=ADMIN)
    assert rest.json == {"replayed": 2}
    assert service_client.post("/api/v1/admin/dead-letters/replay", json={}, headers=ADMIN).json == {"replayed": 0}
    assert service_client.get("/api/v1/admin/dead-letters", headers=ADMIN).json["total"] == 0
    assert service_client.get("/api/v1/admin/dead-letters?status=replayed", headers=ADMIN).json["total"] == 3
    outbox = billing_messaging.outbox
    with service.runtime.session_factory() as session:
        rows = session.execute(
            select(outbox.c.exchange, outbox.c.routing_key, outbox.c.payload).order_by(outbox.c.id)
        ).all()
    assert [(r.exchange, r.routing_key) for r in rows] == [("", "customers.bill.created")] * 3
    assert json.loads(rows[0].payload)["id"] == "e0"


def test_the_gateway_groups_dead_letters_by_service_and_forwards_replays(
    service_client, service, settings, runtime, admin
):
    upstream = Upstream(service)
    try:
        client = create_app(
            settings.with_upstreams({"customers": upstream.url}), runtime, environ=ADMIN_ENV
        ).test_client()
        overview = client.get("/api/v1/admin/dead-letters", headers=admin)
        assert overview.status_code == 200, overview.json
        services = overview.json["services"]
        assert set(services) == {"customers", "contacts", "reminders", "reporting"}
        assert services["customers"]["available"] is True and services["customers"]["total"] == 3
        assert [d["id"] for d in services["customers"]["items"]] == [3, 2, 1]
        assert services["contacts"]["available"] is False and services["contacts"]["items"] == []
        assert overview.json["total"] == 3

        replay = client.post("/api/v1/admin/dead-letters/customers/replay", json={"ids": [2, 3]}, headers=admin)
        assert replay.status_code == 200 and replay.json == {"replayed": 2}
        assert client.get("/api/v1/admin/dead-letters", headers=admin).json["services"]["customers"]["total"] == 1
        assert client.post("/api/v1/admin/dead-letters/billing/replay", json={}, headers=admin).status_code == 404
        down = client.post("/api/v1/admin/dead-letters/reporting/replay", json={}, headers=admin)
        assert down.status_code == 502 and down.mimetype == "application/problem+json"
    finally:
        upstream.close()
