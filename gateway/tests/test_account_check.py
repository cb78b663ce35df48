"""The account check on every call through the gateway: one primary-key lookup, no transaction
around it (counted on the wire), still refusing at once, still answering after PostgreSQL dropped
the pooled connections."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.models import Base, User
from gateway.staff import check_account
from shared.auth import Principal
from shared.db import make_engine
from shared.errors import Unauthorized
from shared.runtime import Runtime
from shared.wire import RoundTripCounter

from .conftest import ADMIN_ENV

CALLS = 20


@pytest.fixture
def wire(settings, runtime):
    """The gateway's database behind a relay counting round trips (``runtime`` emptied it first)."""
    counter = RoundTripCounter(settings.database_url)
    yield counter
    counter.close()


@pytest.fixture
def counted(settings, wire, upstream):
    """A gateway whose database connections go through ``wire``; its engine's statements are listed."""
    routed = settings.with_upstreams({"reporting": upstream.url}).with_overrides(database_url=wire.url)
    runtime = Runtime.build(routed)
    app = create_app(routed, runtime, environ=ADMIN_ENV)
    statements: list[str] = []
    event.listen(runtime.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    yield app.test_client(), runtime, statements
    runtime.engine.dispose()


def sign_in(client) -> dict[str, str]:
    token = client.post("/api/v1/auth/login", json={"username": "root", "password": "first-admin-pass"}).json
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_proxied_call_costs_one_lookup_and_no_transaction(counted, wire):
    client, _runtime, statements = counted
    admin = sign_in(client)
    for _ in range(10):  # warm up: the pool's connection, psycopg's prepared statements
        assert client.get("/api/v1/reports/json", headers=admin).status_code == 200
    statements.clear()
    before, connections = wire.round_trips, wire.connections
    for _ in range(CALLS):
        assert client.get("/api/v1/reports/json", headers=admin).status_code == 200
    assert len(statements) == CALLS
    assert all(
        " ".join(sql.split()).startswith(
            "SELECT users.active, users.role, users.token_version FROM users WHERE users.id = %(user_id)s"
        )
        for sql in statements
    ), statements[0]
    # Per call: the pool's pre-ping on checkout and the lookup; no BEGIN, COMMIT or ROLLBACK.
    assert wire.round_trips - before == 2 * CALLS
    assert wire.connections == connections


def test_after_postgresql_dropped_the_connections_the_next_call_still_answers(counted, pg_admin_url):
    client, runtime, _statements = counted
    admin = sign_in(client)
    assert client.get("/api/v1/reports/json", headers=admin).status_code == 200
    database = make_url(runtime.settings.database_url).database
    killer = create_engine(pg_admin_url)
    try:
        with killer.connect() as conn:
            dropped = conn.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :db"),
                {"db": database},
            ).scalar()
    finally:
        killer.dispose()
    assert dropped >= 1
    # The pre-ping finds the pooled connection dead and opens a new one: no 5xx, not even once.
    assert [client.get("/api/v1/reports/json", headers=admin).status_code for _ in range(3)] == [200] * 3


def test_a_disabled_account_or_a_changed_password_is_refused_at_once(client, admin):
    staff = {"username": "asha", "name": "Asha", "password": "asha-pass-1", "role": "staff"}
    created = client.post("/api/v1/staff", json=staff, headers=admin).json
    login = client.post("/api/v1/auth/login", json={"username": "asha", "password": "asha-pass-1"}).json
    asha = {"Authorization": f"Bearer {login['access_token']}"}
    assert client.get("/api/v1/bills", headers=asha).status_code == 200
    client.patch(f"/api/v1/staff/{created['id']}", json={"password": "asha-pass-2"}, headers=admin)
    assert client.get("/api/v1/bills", headers=asha).status_code == 401
    login = client.post("/api/v1/auth/login", json={"username": "asha", "password": "asha-pass-2"}).json
    asha = {"Authorization": f"Bearer {login['access_token']}"}
    assert client.get("/api/v1/bills", headers=asha).status_code == 200
    client.patch(f"/api/v1/staff/{created['id']}", json={"active": False}, headers=admin)
    refused = client.get("/api/v1/bills", headers=asha)
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"


def test_the_check_reads_sqlite_too(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            User.__table__.insert(),
            [
                {"id": 1, "username": "a", "role": "admin", "active": True, "password_hash": "x", "token_version": 2},
                {"id": 2, "username": "b", "role": "staff", "active": False, "password_hash": "x", "token_version": 0},
            ],
        )
    try:
        check_account(engine, Principal(1, "a", "admin", token_version=2))
        for principal in (
            Principal(1, "a", "admin", token_version=1),  # an older token version
            Principal(1, "a", "staff", token_version=2),  # another role
            Principal(2, "b", "staff", token_version=0),  # disabled
            Principal(3, "c", "staff", token_version=0),  # no such account
        ):
            with pytest.raises(Unauthorized):
                check_account(engine, principal)
    finally:
        engine.dispose()
