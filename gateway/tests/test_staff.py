"""Staff administration: admin only, no mass assignment, staff.created / staff.updated in the outbox."""

import json

import pytest
from sqlalchemy import select

from gateway import bootstrap
from gateway.app import create_app
from gateway.models import User, messaging
from shared.config import ConfigError
from shared.envelope import validate_event

from .test_auth import add_staff, login


def outbox_events(runtime):
    with runtime.session_factory() as session:
        rows = session.execute(select(messaging.outbox.c.payload).order_by(messaging.outbox.c.id)).scalars().all()
    return [validate_event(json.loads(payload)) for payload in rows]


def test_admin_creates_lists_and_changes_staff_with_events(client, admin, runtime):
    created = add_staff(client, admin, username="Asha.R", name="Asha Rao")
    assert created["username"] == "asha.r" and created["role"] == "staff" and created["active"] is True
    assert created["created_at"].endswith("Z")
    assert "password" not in json.dumps(created) and "hash" not in json.dumps(created)
    changed = client.patch(f"/api/v1/staff/{created['id']}", json={"name": "Asha R.", "role": "admin"}, headers=admin)
    assert changed.status_code == 200 and changed.json["role"] == "admin" and changed.json["name"] == "Asha R."
    client.patch(f"/api/v1/staff/{created['id']}", json={"active": False, "password": "new-pass-123"}, headers=admin)
    assert login(client, "asha.r", "new-pass-123").status_code == 401  # disabled

    events = outbox_events(runtime)
    assert [e["type"] for e in events] == ["staff.created", "staff.created", "staff.updated", "staff.updated"]
    first_admin, asha, promoted, disabled = (e["data"] for e in events)
    assert first_admin == {"staff_id": 1, "username": "root", "name": "root", "role": "admin", "active": True}
    assert asha == {
        "staff_id": created["id"],
        "username": "asha.r",
        "name": "Asha Rao",
        "role": "staff",
        "active": True,
    }
    assert promoted["role"] == "admin" and disabled["active"] is False
    assert all(e["source"] == "/gateway" and e["subject"] == f"staff/{e['data']['staff_id']}" for e in events)
    assert not any("pass" in json.dumps(e["data"]) for e in events)

    add_staff(client, admin, username="ravi", name="Ravi")
    everyone = client.get("/api/v1/staff", headers=admin).json
    assert everyone["total"] == 3 and [s["username"] for s in everyone["items"]] == ["root", "asha.r", "ravi"]
    active = client.get("/api/v1/staff?active=true&per_page=1&page=2", headers=admin).json
    assert active["total"] == 2 and [s["username"] for s in active["items"]] == ["ravi"]
    assert client.get("/api/v1/staff?active=false", headers=admin).json["total"] == 1
    assert client.get(f"/api/v1/staff/{created['id']}", headers=admin).json["active"] is False
    assert client.get("/api/v1/staff/999", headers=admin).status_code == 404


def test_staff_bodies_are_validated_and_unknown_fields_rejected(client, admin, runtime):
    add_staff(client, admin, username="asha")
    duplicate = client.post(
        "/api/v1/staff", json={"username": "ASHA", "name": "A", "password": "long-enough"}, headers=admin
    )
    assert duplicate.status_code == 409 and duplicate.mimetype == "application/problem+json"
    bad_bodies = [
        {"username": "ravi", "name": "Ravi", "password": "short"},
        {"username": "ravi", "name": "Ravi", "password": "long-enough", "role": "owner"},
        {"username": "ravi kumar", "name": "Ravi", "password": "long-enough"},
        {"username": "ravi", "name": "Ravi", "password": "long-enough", "active": False},
        {"username": "ravi", "name": "Ravi", "password": "long-enough", "password_hash": "x"},
    ]
    for body in bad_bodies:
        response = client.post("/api/v1/staff", json=body, headers=admin)
        assert response.status_code == 422, (body, response.json)
        assert response.json["errors"]
    for patch in ({"username": "new"}, {"password": "short"}, {"role": "owner"}, {"id": 5}):
        assert client.patch("/api/v1/staff/2", json=patch, headers=admin).status_code == 422, patch
    with runtime.session_factory() as session:
        assert session.scalars(select(User.username).order_by(User.id)).all() == ["root", "asha"]


def test_staff_cannot_use_admin_routes(client, admin):
    staff = add_staff(client, admin)
    token = login(client, "asha", "asha-pass-1").json["access_token"]
    mine = {"Authorization": f"Bearer {token}"}
    for method, path, body in [
        ("get", "/api/v1/staff", None),
        ("post", "/api/v1/staff", {"username": "x1", "name": "X", "password": "long-enough"}),
        ("get", f"/api/v1/staff/{staff['id']}", None),
        ("patch", f"/api/v1/staff/{staff['id']}", {"role": "admin"}),
        ("get", "/api/v1/admin/dead-letters", None),
        ("post", "/api/v1/admin/dead-letters/customers/replay", {}),
    ]:
        response = getattr(client, method)(path, json=body, headers=mine)
        assert response.status_code == 403, (method, path)
        assert response.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/staff/{staff['id']}", headers=admin).json["role"] == "staff"


def test_the_last_active_admin_cannot_be_demoted_or_disabled(client, admin):
    for change in ({"active": False}, {"role": "staff"}):
        response = client.patch("/api/v1/staff/1", json=change, headers=admin)
        assert response.status_code == 409, change
    second = add_staff(client, admin, username="ravi", role="admin")
    assert client.patch("/api/v1/staff/1", json={"role": "staff"}, headers=admin).status_code == 200
    # root's token now carries a role it no longer has; ravi, the last admin, cannot step down.
    assert client.patch("/api/v1/staff/1", json={"role": "admin"}, headers=admin).status_code == 401
    ravi = {"Authorization": f"Bearer {login(client, 'ravi', 'asha-pass-1').json['access_token']}"}
    assert client.patch(f"/api/v1/staff/{second['id']}", json={"active": False}, headers=ravi).status_code == 409


def test_first_admin_is_created_once_from_the_environment(settings, runtime):
    env = {"ADMIN_USERNAME": "Owner", "ADMIN_PASSWORD": "owner-pass-1"}
    create_app(settings, runtime, environ=env)
    create_app(settings, runtime, environ=env)  # a second worker: nothing new
    # Once an admin exists the variables are not needed.
    client = create_app(settings, runtime, environ={}).test_client()
    assert login(client, "owner", "owner-pass-1").json["user"]["role"] == "admin"
    events = outbox_events(runtime)
    assert [(e["type"], e["data"]["username"], e["data"]["role"]) for e in events] == [
        ("staff.created", "owner", "admin")
    ]


def test_missing_admin_variables_fail_fast_naming_them(settings, runtime):
    with pytest.raises(ConfigError, match="ADMIN_USERNAME"):
        create_app(settings, runtime, environ={})
    with pytest.raises(ConfigError, match="ADMIN_PASSWORD"):
        create_app(settings, runtime, environ={"ADMIN_USERNAME": "owner"})
    with pytest.raises(ConfigError, match="ADMIN_PASSWORD"):
        create_app(settings, runtime, environ={"ADMIN_USERNAME": "owner", "ADMIN_PASSWORD": "short"})


def test_bootstrap_command_creates_the_admin(settings, runtime, monkeypatch, capsys):
    for name, value in {
        "GATEWAY_DATABASE_URL": settings.database_url,
        "JWT_PUBLIC_KEY_FILE": settings.jwt_public_key_file,
        "JWT_PRIVATE_KEY_FILE": settings.jwt_private_key_file,
        "ADMIN_USERNAME": "cli-admin",
        "ADMIN_PASSWORD": "cli-admin-pass",
    }.items():
        monkeypatch.setenv(name, value)
    assert bootstrap.main([]) == 0
    assert bootstrap.main([]) == 0
    assert "created admin 'cli-admin'" in capsys.readouterr().out
    with runtime.session_factory() as session:
        assert session.scalars(select(User.username)).all() == ["cli-admin"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_token_version_migration_keeps_existing_accounts_at_version_0(backend, tmp_path, databases):
    from alembic import command
    from sqlalchemy import text

    from shared.db import make_engine
    from shared.migrations import alembic_config

    url = f"sqlite:///{tmp_path / 'gateway.db'}" if backend == "sqlite" else databases.create("token_version")
    command.upgrade(alembic_config("gateway", url), "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, name, role, active, password_hash, created_at, updated_at) "
                    "VALUES ('asha', 'Asha', 'staff', true, 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        command.upgrade(alembic_config("gateway", url), "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT username, token_version FROM users")).all() == [("asha", 0)]
        command.downgrade(alembic_config("gateway", url), "0001")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["asha"]
    finally:
        engine.dispose()
