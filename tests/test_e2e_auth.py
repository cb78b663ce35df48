"""End to end through the gateway: login, tokens, roles and 401s (real processes)."""

from __future__ import annotations

import uuid

import pytest
import requests

from .conftest import Client, login, requires
from .stack import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.e2e

PROTECTED = [
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/staff"),
    ("POST", "/api/v1/staff"),
    ("GET", "/api/v1/bills"),
    ("POST", "/api/v1/bills"),
    ("GET", "/api/v1/bills/1"),
    ("GET", "/api/v1/customers"),
    ("GET", "/api/v1/customers/1"),
    ("GET", "/api/v1/customers/1/purchases"),
]


def test_health_is_public(anonymous):
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/readyz").status_code == 200


def test_login_returns_a_bearer_token_for_the_first_admin(anonymous):
    response = anonymous.post("/api/v1/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["access_token"] and body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["user"]["username"] == ADMIN_USERNAME and body["user"]["role"] == "admin"


def test_wrong_password_and_unknown_user_get_the_same_401(anonymous):
    wrong = anonymous.post("/api/v1/auth/login", json={"username": ADMIN_USERNAME, "password": "not-the-password"})
    unknown = anonymous.post(
        "/api/v1/auth/login", json={"username": f"nobody-{uuid.uuid4().hex[:6]}", "password": "not-the-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["Content-Type"].startswith("application/problem+json")
    assert wrong.json()["title"] == unknown.json()["title"]
    assert "access_token" not in wrong.json()


@pytest.mark.parametrize("method,path", PROTECTED)
def test_every_route_needs_a_token(anonymous, method, path):
    response = anonymous.request(method, path, json={})
    assert response.status_code == 401, (method, path, response.status_code, response.text[:200])
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_tampered_and_garbage_tokens_are_401(gateway_url, admin_token):
    head, payload, signature = admin_token.split(".")
    tampered = ".".join([head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")])
    for token in (tampered, "garbage", admin_token + "x"):
        response = Client(gateway_url, token).get("/api/v1/auth/me")
        assert response.status_code == 401, (token[:20], response.text)


def test_me_answers_the_caller(admin):
    response = admin.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    assert response.json()["username"] == ADMIN_USERNAME


def test_services_called_directly_verify_the_token_themselves(stack, admin_token):
    for service, path in (("billing", "/api/v1/bills"), ("customers", "/api/v1/customers")):
        if service not in stack.services:
            continue
        assert requests.get(stack.url(service) + path, timeout=10).status_code == 401
        ok = requests.get(stack.url(service) + path, headers={"Authorization": f"Bearer {admin_token}"}, timeout=10)
        assert ok.status_code == 200, ok.text


def test_staff_created_by_admin_logs_in_and_is_refused_admin_routes(gateway_url, admin):
    username = f"staff-{uuid.uuid4().hex[:8]}"
    created = admin.post(
        "/api/v1/staff",
        json={"username": username, "name": "Ravi Kumar", "password": "staff-password-1", "role": "staff"},
    )
    assert created.status_code == 201, created.text
    assert "password" not in created.json() and "password_hash" not in created.json()
    staff = Client(gateway_url, login(gateway_url, username, "staff-password-1"))
    assert staff.get("/api/v1/auth/me").json()["role"] == "staff"
    refused = staff.post(
        "/api/v1/staff",
        json={"username": f"x-{username}", "name": "X", "password": "another-password", "role": "admin"},
    )
    assert refused.status_code == 403, refused.text


def test_request_id_is_echoed_through_the_gateway(stack, admin):
    requires(stack, "billing")
    response = admin.get("/api/v1/bills", headers={"X-Request-ID": "e2e-request-42"})
    assert response.status_code == 200, response.text
    assert response.headers.get("X-Request-ID") == "e2e-request-42"


def test_a_password_or_role_change_ends_earlier_tokens_at_once(gateway_url, admin):
    username = f"staff-{uuid.uuid4().hex[:8]}"
    created = admin.post(
        "/api/v1/staff", json={"username": username, "name": "Meena", "password": "staff-password-1", "role": "staff"}
    )
    assert created.status_code == 201, created.text
    staff_id = created.json()["id"]
    before_password = Client(gateway_url, login(gateway_url, username, "staff-password-1"))
    assert before_password.get("/api/v1/auth/me").status_code == 200

    changed = admin.patch(f"/api/v1/staff/{staff_id}", json={"password": "staff-password-2"})
    assert changed.status_code == 200, changed.text
    assert before_password.get("/api/v1/auth/me").status_code == 401
    assert before_password.get("/api/v1/customers").status_code == 401  # a proxied route too
    before_role = Client(gateway_url, login(gateway_url, username, "staff-password-2"))
    assert before_role.get("/api/v1/auth/me").json()["role"] == "staff"

    assert admin.patch(f"/api/v1/staff/{staff_id}", json={"role": "admin"}).status_code == 200
    assert before_role.get("/api/v1/auth/me").status_code == 401
    fresh = Client(gateway_url, login(gateway_url, username, "staff-password-2"))
    assert fresh.get("/api/v1/auth/me").json()["role"] == "admin"
