"""Reporting against real PostgreSQL and RabbitMQ: events in, exact figures out, in any order."""

import random

from services.reporting.consumers import HANDLERS
from services.reporting.models import messaging
from shared.envelope import to_json
from shared.testing import auth_headers, eventually, publish_raw, running

from . import scenario
from .conftest import CountingRunner

STAFF = auth_headers("staff", 11)
ADMIN = auth_headers("admin", 1)
SEED = 20260331


def publish(amqp_url, events):
    for event in events:
        publish_raw(amqp_url, event["type"], to_json(event), message_id=event["id"])


def inbox_size(runtime):
    with runtime.session_factory() as session:
        return session.query(messaging.inbox).count()


def deliver(runner, runtime, amqp_url, deliveries, unique):
    """Publish ``deliveries`` through the broker to the running consumer and wait until all are handled."""
    with running(runner):
        publish(amqp_url, deliveries)
        eventually(lambda: runner.deliveries == len(deliveries), timeout=30, message="every delivery handled")
    assert inbox_size(runtime) == unique


def all_reports(client):
    reports = {}
    for report, window in scenario.ALL_REPORTS:
        response = client.get(f"/api/v1/reports/{report}?window={window}", headers=STAFF)
        assert response.status_code == 200, response.json
        reports[(report, window)] = response.json
    return reports


def test_events_delivered_in_order_give_exact_figures(client, runner, runtime, amqp_url):
    events = scenario.events()
    with running(runner):
        publish(amqp_url, events)

        def conversion_complete():
            body = client.get("/api/v1/reports/conversion?window=all", headers=ADMIN).json
            assert body == scenario.EXPECTED[("conversion", "all")]
            return True

        eventually(conversion_complete, timeout=30, message="the conversion report")
        eventually(lambda: runner.deliveries == len(events), timeout=30)
    assert all_reports(client) == scenario.EXPECTED


def test_every_event_delivered_2_to_5_times_shuffled_gives_the_same_figures(client, runner, runtime, amqp_url):
    """The same figures as the in-order delivery above (both are asserted against scenario.EXPECTED)."""
    events = scenario.events()
    rng = random.Random(SEED)
    deliveries = [event for event in events for _ in range(rng.randint(2, 5))]
    rng.shuffle(deliveries)
    assert deliveries[: len(events)] != events
    deliver(runner, runtime, amqp_url, deliveries, len(events))
    assert all_reports(client) == scenario.EXPECTED


def test_facts_are_idempotent_even_when_an_event_is_resent_under_a_new_id(client, runner, runtime):
    """Past the inbox (a publisher re-sending after a crash mints a new id): facts still count once."""
    events = scenario.events()
    rng = random.Random(SEED + 1)
    resent = [{**event, "id": f"{event['id']}-{copy}"} for event in events for copy in range(rng.randint(2, 3))]
    rng.shuffle(resent)
    for event in resent:
        assert runner.handle(event) is True
    assert all_reports(client) == scenario.EXPECTED


def test_reports_start_at_zero(client):
    assert client.get("/api/v1/reports/conversion", headers=STAFF).json == {
        "window": "all",
        "from": None,
        "to": "2026-03-31",
        "total_contacts": 0,
        "contacted": 0,
        "converted": 0,
        "conversion_rate": 0,
        "total_conversion_value": "0.00",
        "average_conversion_value": "0.00",
    }
    assert client.get("/api/v1/reports/staff?window=7d", headers=STAFF).json["items"] == []
    categories = client.get("/api/v1/reports/categories?window=30d", headers=STAFF).json["items"]
    assert [c["category"] for c in categories] == [
        "contact_sheet",
        "first_time_prescription",
        "regular_branded",
        "generic_informed",
    ]
    assert all(c["customers"] == 0 and c["bills"] == 0 and c["sales"] == "0.00" for c in categories)
    assert client.get("/api/v1/reports/refills?window=90d", headers=STAFF).json["recovery_rate"] == 0


def test_an_unknown_window_is_a_422_problem(client):
    for report in ("conversion", "staff", "categories", "refills"):
        for window in ("14d", "", "ALL", "7"):
            response = client.get(f"/api/v1/reports/{report}?window={window}", headers=STAFF)
            assert response.status_code == 422, (report, window)
            assert response.mimetype == "application/problem+json"
            assert "window" in response.json["errors"]


def test_every_route_needs_a_token(client):
    app = client.application
    public = {"healthz", "readyz", "static", "api-docs.openapi_json"}
    routes = [rule for rule in app.url_map.iter_rules() if rule.endpoint not in public]
    assert {rule.rule for rule in routes} >= {
        "/api/v1/reports/conversion",
        "/api/v1/reports/staff",
        "/api/v1/reports/categories",
        "/api/v1/reports/refills",
    }
    for rule in routes:
        path = rule.rule.replace("<", "").replace(">", "")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 401, (method, path)
            assert response.mimetype == "application/problem+json"
            response = client.open(path, method=method, headers={"Authorization": "Bearer not-a-token"})
            assert response.status_code == 401, (method, path)
    assert client.get("/healthz").status_code == 200


def test_three_competing_workers_reach_the_exact_figures(client, runner, settings, runtime, amqp_url):
    workers = [runner] + [
        CountingRunner(settings, runtime.session_factory, messaging, "reporting", HANDLERS) for _ in range(2)
    ]
    events = scenario.events()
    rng = random.Random(SEED + 2)
    deliveries = [event for event in events for _ in range(rng.randint(2, 5))]
    rng.shuffle(deliveries)
    with running(*workers):
        publish(amqp_url, deliveries)
        eventually(
            lambda: sum(w.deliveries for w in workers) == len(deliveries), timeout=30, message="every delivery handled"
        )
    assert inbox_size(runtime) == len(events)
    assert all_reports(client) == scenario.EXPECTED
