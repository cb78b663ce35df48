"""The gateway's GET /metrics: public, its own routes by template, its outbox (staff events), not a UI route."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def test_the_gateway_serves_its_metrics_without_a_token(client, admin):
    assert client.get("/api/v1/staff", headers=admin).status_code == 200
    answer = client.get("/metrics")  # no token; not the web UI's catch-all /<path>
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }
    staff = (("method", "GET"), ("route", "/api/v1/staff"), ("service", "gateway"), ("status", "200"))
    assert samples[("pharmacy_http_requests_total", staff)] >= 1
    assert ("pharmacy_outbox_pending_events", (("service", "gateway"),)) in samples
    assert ("pharmacy_outbox_oldest_pending_age_seconds", (("service", "gateway"),)) in samples
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not any("metrics" in path for path in paths)
