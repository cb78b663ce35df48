"""Edges found in review: the sign-in limit under parallel guesses, dot segments in proxied paths,
and bounded page/id parameters of the dead-letter routes (service side and the gateway's overview)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.models import LoginFailure
from shared.testing import at_once

from .conftest import ADMIN_ENV, Upstream
from .test_dead_letters import ADMIN as SERVICE_ADMIN
from .test_proxy import echo_app

LOGIN = "/api/v1/auth/login"
GUESSES = 12


# -- the sign-in limit -------------------------------------------------------------------------
def wrong_password(client):
    return client.post(
        LOGIN, json={"username": "root", "password": "a-wrong-guess"}, environ_base={"REMOTE_ADDR": "10.0.0.7"}
    )


def test_twelve_parallel_wrong_passwords_get_at_most_five_401(settings, runtime):
    create_app(settings, runtime, environ=ADMIN_ENV)  # the first admin exists before the guessing starts
    clients = [create_app(settings, runtime).test_client() for _ in range(GUESSES)]
    answers = at_once(clients, wrong_password)
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 5, statuses
    assert all(a.mimetype == "application/problem+json" for a in answers)
    assert all(1 <= int(a.headers["Retry-After"]) <= 60 for a in answers if a.status_code == 429)
    # And the right password now waits too.
    right = clients[0].post(
        LOGIN, json={"username": "root", "password": "first-admin-pass"}, environ_base={"REMOTE_ADDR": "10.0.0.7"}
    )
    assert right.status_code == 429
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) <= 5


def test_a_right_password_clears_the_attempts_it_counted(client, runtime):
    for _ in range(4):
        assert wrong_password(client).status_code == 401
    right = client.post(
        LOGIN, json={"username": "root", "password": "first-admin-pass"}, environ_base={"REMOTE_ADDR": "10.0.0.7"}
    )
    assert right.status_code == 200
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    for _ in range(5):
        assert wrong_password(client).status_code == 401
    assert wrong_password(client).status_code == 429


# -- dot segments ------------------------------------------------------------------------------
@pytest.fixture
def echo(settings, runtime):
    upstream = Upstream(echo_app())
    routed = settings.with_upstreams({"reporting": upstream.url, "contacts": upstream.url})
    yield create_app(routed, runtime, environ=ADMIN_ENV).test_client()
    upstream.close()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contacts/../reports/conversion",
        "/api/v1/contacts/./1",
        "/api/v1/contacts/..",
        "/api/v1/contacts/%2e%2e/reports/conversion",
        "/api/v1/contacts/%2E%2E/admin",
        "/api/v1/contacts/.%2e/1",
        "/api/v1/contacts/%2e/1",
        "/api/v1/contacts/1/%2e%2e",
        "/api/v1/contacts/..%2freports",
        "/api/v1/contacts/%2e%2e%2Freports/conversion",
        "/api/v1/contacts/a%2fb",
        "/api/v1/contacts/a%2Fb/c",
        "/api/v1/contacts/..%5creports",
        "/api/v1/reports/%2e%2e/contacts",
    ],
)
def test_dot_segments_and_encoded_slashes_are_404_before_proxying(echo, admin, path):
    for method in ("GET", "POST"):
        response = echo.open(path, method=method, headers=admin, json={} if method == "POST" else None)
        assert response.status_code == 404, (path, method, response.status_code, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
        assert "X-Upstream" not in response.headers  # never reached the service


def test_ordinary_paths_with_dots_still_go_through(echo, admin):
    for path, arrived in [
        ("/api/v1/contacts/uploads/3/errors.csv", "/api/v1/contacts/uploads/3/errors.csv"),
        ("/api/v1/contacts/...", "/api/v1/contacts/..."),
        ("/api/v1/contacts/a..b", "/api/v1/contacts/a..b"),
        ("/api/v1/contacts/by-phone/+91%2098765", "/api/v1/contacts/by-phone/+91 98765"),
    ]:
        response = echo.get(path, headers=admin)
        assert response.status_code == 207 and response.json["path"] == arrived, (path, response.status_code)


# -- bounded dead-letter parameters --------------------------------------------------------------
HUGE = [
    "page=99999999999999999999",
    "page=9223372036854775807",
    "page=1000001",
    "per_page=99999999999999999999",
    "page=0",
    "page=-1",
]


@pytest.fixture
def dead_letters_service(databases):
    from services.billing.models import messaging as billing_messaging
    from shared.dead_letters_api import dead_letters_blueprint
    from shared.runtime import Runtime
    from shared.testing import DEFAULT_AMQP, make_settings
    from shared.web import create_service_app

    url = databases.create("gw_races_dead_letters", service="billing")
    runtime = Runtime.build(make_settings("billing", url, DEFAULT_AMQP))
    app, _api = create_service_app(
        "billing",
        runtime.settings,
        title="DLQ",
        runtime_obj=runtime,
        blueprints=[dead_letters_blueprint(billing_messaging)],
    )
    yield app
    runtime.engine.dispose()


@pytest.mark.parametrize("query", HUGE)
def test_huge_or_invalid_pages_of_a_services_dead_letters_are_422(dead_letters_service, query):
    response = dead_letters_service.test_client().get(f"/api/v1/admin/dead-letters?{query}", headers=SERVICE_ADMIN)
    assert response.status_code == 422, (query, response.status_code)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("ids", [[2**63], [10**30], [0], [1, 2**64]])
def test_replaying_ids_out_of_range_is_422(dead_letters_service, ids):
    response = dead_letters_service.test_client().post(
        "/api/v1/admin/dead-letters/replay", json={"ids": ids}, headers=SERVICE_ADMIN
    )
    assert response.status_code == 422, (ids, response.status_code)
    assert response.mimetype == "application/problem+json"


def test_the_largest_page_and_id_are_answered(dead_letters_service):
    client = dead_letters_service.test_client()
    page = client.get("/api/v1/admin/dead-letters?page=1000000&per_page=200", headers=SERVICE_ADMIN)
    assert page.status_code == 200 and page.json["items"] == []
    for largest in (2**31, 2**63 - 1):  # BIGINT ids
        replay = client.post("/api/v1/admin/dead-letters/replay", json={"ids": [largest]}, headers=SERVICE_ADMIN)
        assert replay.status_code == 200 and replay.json == {"replayed": 0}


@pytest.mark.parametrize("query", HUGE)
def test_the_gateway_overview_refuses_huge_pages_itself(client, admin, query):
    response = client.get(f"/api/v1/admin/dead-letters?{query}", headers=admin)
    assert response.status_code == 422, (query, response.status_code)
    assert response.mimetype == "application/problem+json"


def test_the_gateway_forwards_out_of_range_replay_ids_as_the_services_422(
    dead_letters_service, settings, runtime, admin
):
    upstream = Upstream(dead_letters_service)
    try:
        client = create_app(
            settings.with_upstreams({"customers": upstream.url}), runtime, environ=ADMIN_ENV
        ).test_client()
        response = client.post("/api/v1/admin/dead-letters/customers/replay", json={"ids": [2**63]}, headers=admin)
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
    finally:
        upstream.close()
