"""Sign-in: a username and password for a bearer token, with a limit on failures.

One answer for every bad credential (unknown user, wrong password, disabled account), so the
answer does not tell which usernames exist; an unknown user costs the same hashing time. After
``MAX_FAILURES`` failures within ``LOGIN_WINDOW`` for one username from one address, even the
right password waits (429 with Retry-After). The failures live in the database, so every
worker and replica counts the same ones.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.auth import Principal, issue_token
from shared.config import Settings
from shared.errors import TooManyRequests, Unauthorized

from .models import LoginFailure, User
from .passwords import burn_verify_time, hash_password, needs_rehash, verify_password
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
    settings: Settings,
    clock: Callable[[], dt.datetime],
) -> SignInResult:
    """Check the failure limit and the password, then issue a token for the user.

    Raises TooManySignInFailures (the limit is reached, whatever the password) or
    InvalidCredentials (any bad credential). Commits ``session`` itself twice: before the slow
    password check, so no transaction or connection waits on it, and after recording a
    failure, so the failure counts although the caller's unit of work then rolls back.
    """
    name = normalize_username(username)
    check_login_rate(session, name, client_ip, clock())
    user = session.scalar(select(User).where(User.username == name))
    session.commit()
    if not password_matches(user, password) or user is None or not user.active:
        record_login_failure(session, name, client_ip, clock())
        session.commit()
        raise InvalidCredentials()
    session.execute(delete(LoginFailure).where(LoginFailure.username == name, LoginFailure.ip == client_ip))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # today's parameters, now that the password is known
    token = issue_token(
        Principal(user.id, user.username, user.role, user.name),
        settings.jwt_secret,
        settings.token_ttl_seconds,
        now=clock(),
    )
    return SignInResult(user=user, access_token=token, expires_in=settings.token_ttl_seconds)


def check_login_rate(session: Session, username: str, ip: str, now: dt.datetime) -> None:
    """Raise TooManySignInFailures after MAX_FAILURES failures in LOGIN_WINDOW."""
    since = now - LOGIN_WINDOW
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.failed_at)).where(
            LoginFailure.username == username,
            LoginFailure.ip == ip,
            LoginFailure.failed_at > since,
        )
    ).one()
    if count >= MAX_FAILURES:
        raise TooManySignInFailures(retry_after=max(1, math.ceil((oldest + LOGIN_WINDOW - now).total_seconds())))


def record_login_failure(session: Session, username: str, ip: str, now: dt.datetime) -> None:
    """Count one failure; failures older than the window no longer matter and are dropped."""
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - LOGIN_WINDOW))
    session.add(LoginFailure(username=username[:200], ip=ip[:64], failed_at=now))


def password_matches(user: User | None, password: str) -> bool:
    """Verify the password; an unknown user costs the same time and fails the same way."""
    if user is None:
        burn_verify_time(password)
        return False
    return verify_password(user.password_hash, password)
