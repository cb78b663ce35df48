"""Metrics of one process: an app of ``create_service_app`` counts requests by route template and
serves ``GET /metrics`` without a token (and outside its OpenAPI document); a relay's or worker's
``METRICS_PORT`` serves the same registry with its service's outbox gauges over real HTTP."""

from __future__ import annotations

import socket

import requests
from flask.views import MethodView
from flask_smorest import Blueprint
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import MetaData

from shared import metrics
from shared.messaging import MessagingTables
from shared.process import start_metrics_server
from shared.runtime import Runtime
from shared.testing import auth_headers, make_settings
from shared.web import create_service_app

UNUSED_AMQP = "amqp://guest:guest@127.0.0.1:1/%2F"
metadata = MetaData()
tables = MessagingTables(metadata, source="/toy")
things = Blueprint("things", __name__, url_prefix="/things")


@things.route("/<int:thing_id>")
class Thing(MethodView):
    def get(self, thing_id):
        return {"id": thing_id}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def toy(tmp_path, service: str):
    settings = make_settings(service, f"sqlite:///{tmp_path / 'toy.db'}", UNUSED_AMQP)
    runtime = Runtime.build(settings)
    metadata.create_all(runtime.engine)
    return settings, runtime


def test_requests_are_counted_by_route_template_and_metrics_needs_no_token(tmp_path):
    settings, runtime = toy(tmp_path, "toyhttp")
    try:
        app, _api = create_service_app(
            "toyhttp",
            settings,
            title="Toy",
            runtime_obj=runtime,
            blueprints=[things],
            check_broker=False,
            messaging=tables,
        )
        client = app.test_client()
        for thing_id in (1, 2, 3):
            assert client.get(f"/api/v1/things/{thing_id}", headers=auth_headers()).status_code == 200
        assert client.get("/api/v1/things/4").status_code == 401
        assert client.get("/no/such/path", headers=auth_headers()).status_code == 404

        answer = client.get("/metrics")  # no token
        assert answer.status_code == 200 and answer.mimetype == "text/plain"
        assert answer.headers["Cache-Control"] == "no-store"
        found = samples(answer.text)
        route = "/api/v1/things/<int:thing_id>"

        def requests_of(route: str, status: str) -> float:
            labels = (("method", "GET"), ("route", route), ("service", "toyhttp"), ("status", status))
            return found.get(("pharmacy_http_requests_total", labels), 0)

        assert requests_of(route, "200") == 3
        assert requests_of(route, "401") == 1
        assert requests_of("unmatched", "404") == 1
        assert not any("/api/v1/things/1" in dict(labels).get("route", "") for _name, labels in found)
        duration = (
            "pharmacy_http_request_duration_seconds_count",
            (("method", "GET"), ("route", route), ("service", "toyhttp")),
        )
        assert found[duration] == 4
        assert found[("pharmacy_outbox_pending_events", (("service", "toyhttp"),))] == 0
        assert found[("pharmacy_outbox_oldest_pending_age_seconds", (("service", "toyhttp"),))] == 0

        openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert openmetrics.mimetype == "application/openmetrics-text" and openmetrics.text.endswith("# EOF\n")

        paths = client.get("/openapi.json").get_json()["paths"]
        assert "/api/v1/things/{thing_id}" in paths and not any("metrics" in path for path in paths)
    finally:
        runtime.engine.dispose()


def test_an_app_without_an_outbox_serves_no_outbox_gauges(tmp_path):
    settings, runtime = toy(tmp_path, "toyplain")
    try:
        app, _api = create_service_app("toyplain", settings, title="Toy", runtime_obj=runtime, check_broker=False)
        client = app.test_client()
        client.get("/healthz")
        found = samples(client.get("/metrics").text)
        labels = (("method", "GET"), ("route", "/healthz"), ("service", "toyplain"), ("status", "200"))
        assert found[("pharmacy_http_requests_total", labels)] == 1
        assert not any(name.startswith("pharmacy_outbox_") for name, _labels in found)
    finally:
        runtime.engine.dispose()


def test_a_worker_serves_its_metrics_and_outbox_on_its_port_and_none_without_one(tmp_path):
    settings, runtime = toy(tmp_path, "toyworker")
    try:
        assert start_metrics_server(settings, runtime, tables) is None  # METRICS_PORT unset: no server

        metrics.event_handled("toyworker", "bill.created", "consumed", 0.02)
        server = start_metrics_server(settings.with_overrides(metrics_port=free_port()), runtime, tables)
        assert server is not None
        try:
            host, port = server.server_address[:2]
            assert host == "127.0.0.1"
            answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            assert answer.status_code == 200
            found = samples(answer.text)
            consumed = ("pharmacy_events_consumed_total", (("consumer", "toyworker"), ("type", "bill.created")))
            assert found[consumed] == 1
            assert found[("pharmacy_outbox_pending_events", (("service", "toyworker"),))] == 0
            assert any(name.startswith("process_") for name, _labels in found)  # the process's own collectors
        finally:
            server.shutdown()
            server.server_close()
    finally:
        runtime.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
