"""Sign-in: argon2 hashes, one answer for every bad credential, the per-user-and-address limit."""

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.models import LoginFailure, User
from shared.auth import Principal, issue_token, verify_token
from shared.testing import TEST_PRIVATE_KEY, TEST_PUBLIC_KEY

LOGIN = "/api/v1/auth/login"


def login(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip})


def add_staff(client, admin, username="asha", password="asha-pass-1", role="staff", name="Asha Rao"):
    response = client.post(
        "/api/v1/staff", json={"username": username, "name": name, "password": password, "role": role}, headers=admin
    )
    assert response.status_code == 201, response.json
    return response.json


def test_login_returns_a_bearer_token_for_the_user(client, runtime):
    response = login(client, "ROOT", "first-admin-pass")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 8 * 3600
    assert body["user"] == {"id": 1, "username": "root", "name": "root", "role": "admin"}
    principal = verify_token(body["access_token"], TEST_PUBLIC_KEY)
    assert principal.id == 1 and principal.is_admin
    with runtime.session_factory() as session:
        assert session.scalar(select(User.password_hash)).startswith("$argon2id$")


def test_unknown_user_wrong_password_and_disabled_user_get_the_same_401(client, admin):
    staff = add_staff(client, admin)
    client.patch(f"/api/v1/staff/{staff['id']}", json={"active": False}, headers=admin)
    answers = [
        login(client, "nobody", "whatever-pass", ip="10.0.0.2"),
        login(client, "root", "wrong-password", ip="10.0.0.3"),
        login(client, "asha", "asha-pass-1", ip="10.0.0.4"),
    ]
    for response in answers:
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    bodies = [{k: v for k, v in r.json.items() if k != "request_id"} for r in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["detail"] == "invalid username or password"


def test_five_failures_a_minute_per_user_and_address_give_429(client, settings, runtime):
    for _ in range(5):
        assert login(client, "root", "wrong-password").status_code == 401
    blocked = login(client, "root", "first-admin-pass")  # even the right password waits
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    # Another address, or another username from this address, is not blocked.
    assert login(client, "root", "first-admin-pass", ip="10.9.9.9").status_code == 200
    assert login(client, "someone", "wrong-password").status_code == 401
    # The count lives in the database: another worker/replica sees it too.
    other_worker = create_app(settings, runtime).test_client()
    assert login(other_worker, "Root", "first-admin-pass").status_code == 429


def test_failures_older_than_a_minute_do_not_count(client, runtime):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=61)
    with runtime.session_factory() as session:
        session.add_all([LoginFailure(username="root", ip="10.0.0.1", failed_at=old) for _ in range(5)])
        session.commit()
    assert login(client, "root", "first-admin-pass").status_code == 200
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_login_rejects_unknown_fields_and_missing_password(client):
    assert (
        client.post(LOGIN, json={"username": "root", "password": "first-admin-pass", "role": "admin"}).status_code
        == 422
    )
    response = client.post(LOGIN, json={"username": "root"})
    assert response.status_code == 422 and "password" in response.json["errors"]


def test_me_is_the_signed_in_user_and_a_disabled_account_loses_access(client, admin):
    assert client.get("/api/v1/auth/me", headers=admin).json == {
        "id": 1,
        "username": "root",
        "name": "root",
        "role": "admin",
    }
    staff = add_staff(client, admin)
    token = login(client, "asha", "asha-pass-1").json["access_token"]
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=mine).json["role"] == "staff"
    client.patch(f"/api/v1/staff/{staff['id']}", json={"active": False}, headers=admin)
    assert client.get("/api/v1/auth/me", headers=mine).status_code == 401


def test_tampered_expired_or_foreign_tokens_are_401(client, admin_token):
    header, payload, signature = admin_token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    expired = issue_token(
        Principal(1, "root", "admin"), TEST_PRIVATE_KEY, 60, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    foreign = issue_token(Principal(1, "root", "admin"), Ed25519PrivateKey.generate(), 600)
    for token in (tampered, expired, foreign, "not-a-jwt"):
        for path in ("/api/v1/auth/me", "/api/v1/bills"):
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (path, token)
            assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/auth/me", headers={"Authorization": admin_token}).status_code == 401


def test_disabling_or_demoting_takes_effect_on_every_route_at_once(client, admin):
    staff = add_staff(client, admin)
    staff_token = {"Authorization": f"Bearer {login(client, 'asha', 'asha-pass-1').json['access_token']}"}
    add_staff(client, admin, username="ravi", password="ravi-pass-1", role="admin", name="Ravi")
    ravi = {"Authorization": f"Bearer {login(client, 'ravi', 'ravi-pass-1').json['access_token']}"}
    assert client.get("/api/v1/bills", headers=staff_token).status_code == 200
    assert client.get("/api/v1/staff", headers=ravi).status_code == 200

    client.patch(f"/api/v1/staff/{staff['id']}", json={"active": False}, headers=admin)
    assert client.get("/api/v1/bills", headers=staff_token).status_code == 401
    ravi_id = client.get("/api/v1/staff?role=admin", headers=admin).json["items"][-1]["id"]
    client.patch(f"/api/v1/staff/{ravi_id}", json={"role": "staff"}, headers=admin)
    demoted = client.get("/api/v1/staff", headers=ravi)
    assert demoted.status_code == 401 and "role changed" in demoted.json["detail"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_password_change_ends_the_account_earlier_tokens_at_once(client, admin):
    staff = add_staff(client, admin)
    earlier = bearer(login(client, "asha", "asha-pass-1").json["access_token"])
    assert client.get("/api/v1/bills", headers=earlier).status_code == 200
    changed = client.patch(f"/api/v1/staff/{staff['id']}", json={"password": "asha-pass-2"}, headers=admin)
    assert changed.status_code == 200, changed.json
    for path in ("/api/v1/auth/me", "/api/v1/bills"):
        refused = client.get(path, headers=earlier)
        assert refused.status_code == 401 and "sign in again" in refused.json["detail"], path
    assert login(client, "asha", "asha-pass-1", ip="10.0.0.5").status_code == 401
    fresh = bearer(login(client, "asha", "asha-pass-2", ip="10.0.0.5").json["access_token"])
    assert client.get("/api/v1/auth/me", headers=fresh).json["username"] == "asha"
    assert client.get("/api/v1/bills", headers=fresh).status_code == 200


def test_a_role_change_ends_earlier_tokens_even_when_the_role_is_changed_back(client, admin):
    add_staff(client, admin, username="ravi", password="ravi-pass-1", role="admin", name="Ravi")
    ravi_id = client.get("/api/v1/staff?role=admin", headers=admin).json["items"][-1]["id"]
    earlier = bearer(login(client, "ravi", "ravi-pass-1").json["access_token"])
    assert client.get("/api/v1/staff", headers=earlier).status_code == 200
    for role in ("staff", "admin"):  # demoted, then made admin again: the earlier admin token stays dead
        assert client.patch(f"/api/v1/staff/{ravi_id}", json={"role": role}, headers=admin).status_code == 200
    assert client.get("/api/v1/staff", headers=earlier).status_code == 401
    assert client.get("/api/v1/auth/me", headers=earlier).status_code == 401
    fresh = bearer(login(client, "ravi", "ravi-pass-1").json["access_token"])
    assert client.get("/api/v1/staff", headers=fresh).status_code == 200


def test_a_rename_or_a_patch_to_the_same_role_keeps_the_tokens(client, admin):
    staff = add_staff(client, admin)
    token = bearer(login(client, "asha", "asha-pass-1").json["access_token"])
    for change in ({"name": "Asha R."}, {"role": "staff"}, {"active": True}):
        assert client.patch(f"/api/v1/staff/{staff['id']}", json=change, headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200


def test_a_disabled_account_re_enabled_does_not_revive_its_earlier_tokens(client, admin):
    staff = add_staff(client, admin)
    earlier = bearer(login(client, "asha", "asha-pass-1").json["access_token"])
    for active in (False, True):
        assert client.patch(f"/api/v1/staff/{staff['id']}", json={"active": active}, headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=earlier).status_code == 401
    assert login(client, "asha", "asha-pass-1").status_code == 200
