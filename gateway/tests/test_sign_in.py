"""The sign-in use case without HTTP, and the gateway's settings as the one loader reads them."""

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from gateway import passwords
from gateway.accounts import (
    BAD_CREDENTIALS,
    LOGIN_WINDOW,
    MAX_FAILURES,
    InvalidCredentials,
    TooManySignInFailures,
    sign_in,
)
from gateway.models import LoginFailure, User
from gateway.settings import DEFAULT_UPSTREAMS, GatewaySettings
from gateway.staff import NewStaff, create_staff, update_staff
from shared.auth import verify_token
from shared.config import ConfigError, load_settings
from shared.db import unit_of_work
from shared.testing import TEST_PUBLIC_KEY, key_environ

NOON = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now=NOON):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def asha(runtime):
    with unit_of_work(runtime.session_factory) as session:
        return create_staff(session, NewStaff(username="Asha", name="Asha Rao", password="asha-pass-1")).id


def attempt(runtime, settings, password, username="asha", ip="10.0.0.1", clock=None):
    with unit_of_work(runtime.session_factory) as session:
        return sign_in(session, username, password, ip, settings, clock or Clock())


def failures(runtime):
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(LoginFailure))


def test_a_right_password_gives_a_token_for_the_user(runtime, settings, asha):
    issued_at = dt.datetime.now(dt.UTC)  # the token's lifetime runs from the clock's "now"
    result = attempt(runtime, settings, "asha-pass-1", username=" ASHA ", clock=Clock(issued_at))
    assert result.user.id == asha and result.token_type == "Bearer"
    assert result.expires_in == settings.token_ttl_seconds
    principal = verify_token(result.access_token, TEST_PUBLIC_KEY)
    assert (principal.id, principal.username, principal.role) == (asha, "asha", "staff")
    assert principal.token_version == 0


def test_the_token_carries_the_account_token_version_which_a_new_password_or_role_raises(runtime, settings, asha):
    def version_signed_in_with(password):
        result = attempt(runtime, settings, password, clock=Clock(dt.datetime.now(dt.UTC)))
        return verify_token(result.access_token, TEST_PUBLIC_KEY).token_version

    versions = [version_signed_in_with("asha-pass-1")]
    for changes in ({"password": "asha-pass-2"}, {"role": "admin"}, {"name": "Asha R."}, {"role": "admin"}):
        with unit_of_work(runtime.session_factory) as session:
            update_staff(session, asha, changes)
        versions.append(version_signed_in_with("asha-pass-2"))
    # A new password and a new role each end the earlier tokens; a new name or the same role does not.
    assert versions == [0, 1, 2, 2, 2]


def test_every_bad_credential_is_the_same_error_and_counts_although_the_caller_rolls_back(runtime, settings, asha):
    with unit_of_work(runtime.session_factory) as session:
        update_staff(session, asha, {"active": False})
    for username, password in (
        ("nobody", "whatever"),
        ("asha", "wrong-pass"),
        ("asha", "asha-pass-1"),
    ):
        with pytest.raises(InvalidCredentials) as raised:
            attempt(runtime, settings, password, username=username)
        assert raised.value.status == 401 and raised.value.detail == BAD_CREDENTIALS
    assert failures(runtime) == 3


def test_the_limit_counts_per_user_and_address_and_tells_when_to_retry(runtime, settings, asha):
    clock = Clock()
    for _ in range(MAX_FAILURES):
        with pytest.raises(InvalidCredentials):
            attempt(runtime, settings, "wrong-pass", clock=clock)
    clock.now = NOON + dt.timedelta(seconds=20)
    with pytest.raises(TooManySignInFailures) as raised:
        attempt(runtime, settings, "asha-pass-1", clock=clock)
    assert raised.value.status == 429 and raised.value.retry_after == 40
    assert attempt(runtime, settings, "asha-pass-1", ip="10.0.0.2", clock=clock).user.id == asha
    clock.now = NOON + LOGIN_WINDOW + dt.timedelta(seconds=1)
    assert attempt(runtime, settings, "asha-pass-1", clock=clock).user.id == asha
    assert failures(runtime) == 0  # a success clears its own failures; older ones are dropped on the next failure


def test_a_hash_made_with_older_parameters_is_replaced_on_sign_in(runtime, settings, asha):
    older = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash("asha-pass-1")
    with unit_of_work(runtime.session_factory) as session:
        session.get(User, asha).password_hash = older
    assert passwords.needs_rehash(older)
    attempt(runtime, settings, "asha-pass-1")
    with runtime.session_factory() as session:
        fresh = session.get(User, asha).password_hash
    assert fresh != older and not passwords.needs_rehash(fresh) and passwords.verify_password(fresh, "asha-pass-1")


def test_gateway_settings_come_from_the_environment():
    defaults = load_settings("gateway", environ=key_environ(gateway=True), cls=GatewaySettings)
    assert defaults.upstreams == DEFAULT_UPSTREAMS
    assert (
        defaults.upstream_connect_timeout,
        defaults.upstream_read_timeout,
        defaults.upstream_docs_timeout,
        defaults.trusted_proxies,
    ) == (3.0, 60.0, 3.0, 0)
    settings = load_settings(
        "gateway",
        cls=GatewaySettings,
        environ={
            **key_environ(gateway=True),
            "BILLING_URL": "http://billing:8000/",
            "UPSTREAM_READ_TIMEOUT": "0.5",
            "TRUSTED_PROXIES": "2",
        },
    )
    assert (
        settings.upstreams["billing"] == "http://billing:8000"
        and settings.upstreams["contacts"] == DEFAULT_UPSTREAMS["contacts"]
    )
    assert settings.upstream_read_timeout == 0.5 and settings.trusted_proxies == 2
    with pytest.raises(ConfigError, match="UPSTREAM_CONNECT_TIMEOUT"):
        load_settings(
            "gateway",
            environ={**key_environ(gateway=True), "UPSTREAM_CONNECT_TIMEOUT": "soon"},
            cls=GatewaySettings,
        )
    with pytest.raises(ValueError, match="payroll"):
        settings.with_upstreams({"payroll": "http://x"})
