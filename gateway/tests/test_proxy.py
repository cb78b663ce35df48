"""Routing: tokens checked first, headers and bodies forwarded, answers streamed back, failures mapped."""

import hashlib
import re
import time

import pytest
from flask import Flask, Response, jsonify, request

from gateway.app import PUBLIC, create_app

from .conftest import ADMIN_ENV, Upstream

PUBLIC_ENDPOINTS = PUBLIC | {"healthz", "readyz", "metrics", "static", "api-docs.openapi_json"}
DOWNLOAD = bytes(range(256)) * 4096  # 1 MiB


def echo_app():
    """An upstream that reports what reached it."""
    app = Flask("echo")

    @app.route("/api/v1/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo(path):
        if path.endswith("slow"):
            time.sleep(1.5)
        if path.endswith("download"):
            return Response(
                DOWNLOAD, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="errors.csv"'}
            )
        body = request.get_data()
        return (
            jsonify(
                method=request.method,
                path=request.path,
                query=request.query_string.decode(),
                headers=dict(request.headers),
                body_length=len(body),
                body_sha256=hashlib.sha256(body).hexdigest(),
            ),
            207,
            {"X-Upstream": "echo"},
        )

    return app


@pytest.fixture(scope="module")
def echo_upstream():
    upstream = Upstream(echo_app())
    yield upstream
    upstream.close()


@pytest.fixture
def echo_client(settings, runtime, echo_upstream):
    routed = settings.with_upstreams({"reporting": echo_upstream.url, "contacts": echo_upstream.url})
    return create_app(routed.with_overrides(upstream_read_timeout=0.5), runtime, environ=ADMIN_ENV).test_client()


def sample_path(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule.rule)


def test_every_route_but_the_public_ones_needs_a_token(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            response = client.open(sample_path(rule), method=method, json={} if method != "GET" else None)
            assert response.status_code == 401, (rule.rule, method, response.status_code)
            assert response.mimetype == "application/problem+json"
            checked += 1
    assert checked > 30
    for path in ("/api/v1/no-such-thing", "/api/v1/staffers"):
        assert client.get(path).status_code == 401


def test_public_routes_answer_without_a_token(client):
    for path in (
        "/healthz",
        "/",
        "/favicon.svg",
        "/contacts/42",
        "/api/v1/docs",
        "/api/v1/openapi.json",
        "/openapi.json",
    ):
        assert client.get(path).status_code == 200, path


def test_a_bill_goes_through_to_billing_and_back(client, admin):
    body = {
        "customer_phone": "98765 43210",
        "customer_name": "Asha Rao",
        "customer_category": "regular_branded",
        "items": [{"medicine_name": "Metformin 500", "quantity": 2, "amount": "120.50", "duration_days": 30}],
    }
    headers = {**admin, "Idempotency-Key": "till-9-0001", "X-Request-ID": "req-bill-1"}
    created = client.post("/api/v1/bills", json=body, headers=headers)
    assert created.status_code == 201, created.json
    assert created.headers["X-Request-ID"] == "req-bill-1"
    assert created.json["customer_phone"] == "+919876543210" and created.json["total_amount"] == "120.50"
    assert created.json["created_by"] == 1
    again = client.post("/api/v1/bills", json=body, headers=headers)
    assert again.status_code == 200 and again.json["id"] == created.json["id"]
    fetched = client.get(f"/api/v1/bills/{created.json['id']}", headers=admin)
    assert fetched.status_code == 200 and fetched.json == created.json
    listed = client.get("/api/v1/bills?phone=9876543210&per_page=5", headers=admin)
    assert listed.status_code == 200 and listed.json["per_page"] == 5 and listed.json["total"] >= 1
    invalid = client.post("/api/v1/bills", json={**body, "role": "admin"}, headers=admin)
    assert invalid.status_code == 422 and invalid.mimetype == "application/problem+json"
    assert client.get("/api/v1/bills/99999999", headers=admin).status_code == 404


def test_request_headers_query_and_body_are_forwarded(echo_client, admin):
    response = echo_client.post(
        "/api/v1/reports/conversion?window=7d&x=%C3%A9",
        data=b'{"a": 1}',
        headers={
            **admin,
            "Content-Type": "application/json",
            "Idempotency-Key": "k-1",
            "X-Request-ID": "req-from-client",
            "Accept": "application/json",
            "Cookie": "secret=1",
        },
    )
    assert response.status_code == 207 and response.headers["X-Upstream"] == "echo"
    assert response.headers["X-Request-ID"] == "req-from-client"
    seen = response.json
    assert seen["method"] == "POST" and seen["path"] == "/api/v1/reports/conversion"
    assert seen["query"] == "window=7d&x=%C3%A9"
    assert seen["headers"]["X-Request-Id"] == "req-from-client"
    assert seen["headers"]["Idempotency-Key"] == "k-1"
    assert seen["headers"]["Authorization"] == admin["Authorization"]
    assert seen["headers"]["Content-Type"] == "application/json"
    assert "Cookie" not in seen["headers"]
    assert seen["body_length"] == 8


def test_encoded_paths_arrive_unchanged(echo_client, admin):
    seen = echo_client.get("/api/v1/contacts/by-phone/+91%2098765%2043210/caf%C3%A9", headers=admin).json
    assert seen["path"] == "/api/v1/contacts/by-phone/+91 98765 43210/café"


def test_a_request_id_is_generated_when_absent_and_the_same_one_forwarded(echo_client, admin):
    response = echo_client.get("/api/v1/reports/staff", headers=admin)
    generated = response.headers["X-Request-ID"]
    assert generated and response.json["headers"]["X-Request-Id"] == generated


def test_uploads_and_downloads_stream_through(echo_client, admin):
    payload = b"phone,name\n" + b"9876543210,Asha\n" * 200_000  # ~3 MB multipart upload
    response = echo_client.post(
        "/api/v1/contacts/uploads",
        headers=admin,
        data={"file": (__import__("io").BytesIO(payload), "list.csv"), "list_name": "Feb"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 207
    assert response.json["body_length"] > len(payload)
    assert response.json["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    download = echo_client.get("/api/v1/contacts/uploads/1/download", headers=admin)
    assert download.status_code == 200 and download.data == DOWNLOAD
    assert download.headers["Content-Disposition"] == 'attachment; filename="errors.csv"'
    assert download.mimetype == "text/csv"


def test_oversize_bodies_are_413_before_reaching_a_service(echo_client, admin):
    big_json = b'{"notes": "' + b"x" * (1024 * 1024) + b'"}'
    for path in ("/api/v1/reports/conversion", "/api/v1/bills"):
        response = echo_client.post(path, data=big_json, headers={**admin, "Content-Type": "application/json"})
        assert response.status_code == 413 and response.mimetype == "application/problem+json", path
    text_body = echo_client.post(
        "/api/v1/reports/x", data=b"x" * (1024 * 1024 + 1), headers={**admin, "Content-Type": "text/plain"}
    )
    assert text_body.status_code == 413
    upload = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        + b"1" * (20 * 1024 * 1024)
        + b"\r\n--b--\r\n"
    )
    response = echo_client.post(
        "/api/v1/contacts/uploads", data=upload, headers={**admin, "Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert "20971520" in response.json["detail"]


def test_a_service_that_is_down_is_502_and_a_slow_one_504(client, echo_client, admin):
    down = client.get("/api/v1/customers", headers=admin)
    assert down.status_code == 502 and down.mimetype == "application/problem+json"
    assert down.json["detail"] == "the customers service is unavailable"
    assert "Traceback" not in down.get_data(as_text=True)
    slow = echo_client.get("/api/v1/reports/slow", headers=admin)
    assert slow.status_code == 504 and slow.mimetype == "application/problem+json"


def test_unknown_api_paths_are_404_problems(client, admin):
    response = client.get("/api/v1/no-such-thing", headers=admin)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
