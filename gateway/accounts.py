"""Sign-in: a username and password for a bearer token, with a limit on failures.

One answer for every bad credential (unknown user, wrong password, disabled account), so the
answer does not tell which usernames exist; an unknown user costs the same hashing time. After
``MAX_FAILURES`` failures within ``LOGIN_WINDOW`` for one username from one address, even the
right password waits (429 with Retry-After). The failures live in the database, so every
worker and replica counts the same ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.auth import Principal, issue_token
from shared.db import is_postgres
from shared.errors import TooManyRequests, Unauthorized

from .models import LoginFailure, User
from .passwords import burn_verify_time, hash_password, needs_rehash, verify_password
from .settings import GatewaySettings
from .staff import normalize_username

LOGIN_WINDOW = dt.timedelta(minutes=1)
MAX_FAILURES = 5
BAD_CREDENTIALS = "invalid username or password"
TOKEN_TYPE = "Bearer"


class InvalidCredentials(Unauthorized):
    """The username, password or account does not allow signing in (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__(BAD_CREDENTIALS)


class TooManySignInFailures(TooManyRequests):
    """Too many recent failures for this username from this address; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed sign-ins; try again later", retry_after=retry_after)


@dataclass(frozen=True)
class SignInResult:
    """A signed-in user and the bearer token that carries them (valid ``expires_in`` seconds)."""

    user: User
    access_token: str
    expires_in: int
    token_type: str = TOKEN_TYPE


def sign_in(
    session: Session,
    username: str,
    password: str,
    client_ip: str,
    settings: GatewaySettings,
    clock: Callable[[], dt.datetime],
) -> SignInResult:
    """Check the failure limit and the password, then issue a token for the user (at its token version).

    Raises TooManySignInFailures (the limit is reached, whatever the password) or
    InvalidCredentials (any bad credential). The attempt counts as a failure before the password
    is checked (``count_sign_in_attempt``) and ``session`` is committed then, so no transaction
    waits on the slow check and the failure stands although the caller's unit of work rolls back;
    a right password clears the failures.
    """
    name = normalize_username(username)
    count_sign_in_attempt(session, name, client_ip, clock())
    user = session.scalar(select(User).where(User.username == name))
    session.commit()
    if not password_matches(user, password) or user is None or not user.active:
        raise InvalidCredentials()  # already counted
    session.execute(delete(LoginFailure).where(LoginFailure.username == name, LoginFailure.ip == client_ip))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # today's parameters, now that the password is known
    token = issue_token(
        Principal(user.id, user.username, user.role, user.name, token_version=user.token_version),
        settings.signing_key(),
        settings.token_ttl_seconds,
        now=clock(),
    )
    return SignInResult(user=user, access_token=token, expires_in=settings.token_ttl_seconds)


def count_sign_in_attempt(session: Session, username: str, ip: str, now: dt.datetime) -> None:
    """Count an attempt as a failure before its password is checked; raise TooManySignInFailures
    instead when MAX_FAILURES failures in LOGIN_WINDOW already count.

    Checking and counting under one lock per username and address (until the caller commits) keeps
    the limit for parallel attempts: at most MAX_FAILURES of them get to try a password.
    """
    if is_postgres(session):  # SQLite's BEGIN IMMEDIATE already runs one writer at a time
        session.execute(select(func.pg_advisory_xact_lock(_sign_in_lock(username, ip))))
    since = now - LOGIN_WINDOW
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.failed_at)).where(
            LoginFailure.username == username,
            LoginFailure.ip == ip,
            LoginFailure.failed_at > since,
        )
    ).one()
    if count >= MAX_FAILURES:
        # ``now`` was read before the lock: a parallel attempt may have stored a later failure, so the
        # wait is capped at the window itself.
        window = math.ceil(LOGIN_WINDOW.total_seconds())
        raise TooManySignInFailures(
            retry_after=min(window, max(1, math.ceil((oldest + LOGIN_WINDOW - now).total_seconds())))
        )
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= since))  # no longer matter
    session.add(LoginFailure(username=username[:200], ip=ip[:64], failed_at=now))
    session.flush()


def _sign_in_lock(username: str, ip: str) -> int:
    """The advisory lock key (a signed 64-bit integer) of one username and address."""
    digest = hashlib.blake2b(f"{username}\0{ip}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def password_matches(user: User | None, password: str) -> bool:
    """Verify the password; an unknown user costs the same time and fails the same way."""
    if user is None:
        burn_verify_time(password)
        return False
    return verify_password(user.password_hash, password)
