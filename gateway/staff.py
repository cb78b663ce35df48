"""Sign-in and staff use cases: authenticate with a rate limit, create and change staff members.

Every change to a user adds ``staff.created`` / ``staff.updated`` to the outbox in the caller's
transaction, so the other services' rosters follow.
"""
from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.errors import Conflict, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from shared.messaging import utcnow

from .models import LoginFailure, User, messaging
from .passwords import burn_verify_time, hash_password, needs_rehash, verify_password

LOGIN_WINDOW = dt.timedelta(minutes=1)
MAX_FAILURES = 5
MIN_PASSWORD_LENGTH = 8
BAD_CREDENTIALS = "invalid username or password"


def normalize_username(username: str) -> str:
    """Usernames are matched case-insensitively: stored and compared in NFC lower case."""
    return unicodedata.normalize("NFC", username).strip().lower()


# -- sign-in -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginAttempt:
    username: str
    password: str
    ip: str


def check_login_rate(session: Session, username: str, ip: str, now: dt.datetime | None = None) -> None:
    """Raise TooManyRequests (with Retry-After) after MAX_FAILURES failures in LOGIN_WINDOW."""
    now = now or utcnow()
    since = now - LOGIN_WINDOW
    recent = session.execute(
        select(func.count(), func.min(LoginFailure.failed_at))
        .where(LoginFailure.username == username, LoginFailure.ip == ip, LoginFailure.failed_at > since)).one()
    count, oldest = recent
    if count >= MAX_FAILURES:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.timezone.utc)
        retry_after = max(1, math.ceil((oldest + LOGIN_WINDOW - now).total_seconds()))
        raise TooManyRequests("too many failed sign-ins; try again later", retry_after=retry_after)


def record_login_failure(session: Session, username: str, ip: str) -> None:
    now = utcnow()
    # Failures older than the window no longer matter; dropping them keeps the table small.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - LOGIN_WINDOW))
    session.add(LoginFailure(username=username[:200], ip=ip[:64], failed_at=now))


def find_login_user(session: Session, attempt: LoginAttempt) -> User | None:
    """Check the rate limit, then return the user named in the attempt (None when unknown)."""
    username = normalize_username(attempt.username)
    check_login_rate(session, username, attempt.ip)
    return session.scalar(select(User).where(User.username == username))


def password_matches(user: User | None, password: str) -> bool:
    """Verify the password; an unknown user costs the same time and fails the same way."""
    if user is None:
        burn_verify_time(password)
        return False
    return verify_password(user.password_hash, password)


def finish_login(session: Session, attempt: LoginAttempt, user: User | None, matched: bool) -> User | None:
    """Record the outcome; return the signed-in user, or None for any failure (recorded, to be committed).

    The caller answers every failure the same way (unknown user, wrong password, disabled account).
    """
    username = normalize_username(attempt.username)
    if not matched or user is None or not user.active:
        record_login_failure(session, username, attempt.ip)
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.ip == attempt.ip))
    if needs_rehash(user.password_hash):
        fresh = session.get(User, user.id)
        fresh.password_hash = hash_password(attempt.password)
    return user


# -- staff ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewStaff:
    username: str
    name: str | None
    password: str
    role: str = "staff"


def staff_data(user: User) -> dict:
    """The ``staff.created`` / ``staff.updated`` payload (no password material)."""
    return {"staff_id": user.id, "username": user.username, "name": user.name, "role": user.role,
            "active": user.active}


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("the password is too short",
                               errors={"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]})


def create_staff(session: Session, new: NewStaff) -> User:
    """Add a staff member or admin; a taken username is a conflict."""
    check_password(new.password)
    username = normalize_username(new.username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the username {username!r} is taken")
    user = User(username=username, name=new.name, role=new.role, active=True,
                password_hash=hash_password(new.password), created_at=utcnow(), updated_at=utcnow())
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"the username {username!r} is taken") from None
    messaging.add_event(session, "staff.created", staff_data(user), subject=f"staff/{user.id}")
    return user


def current_account(session: Session, principal) -> User:
    """The caller's account, which must still exist, be active and hold the token's role.

    Tokens are valid until they expire; checking the account on every call through the gateway
    means disabling or demoting someone takes effect at once.
    """
    user = session.get(User, principal.id)
    if user is None or not user.active:
        raise Unauthorized("this account no longer exists or is disabled")
    if user.role != principal.role:
        raise Unauthorized("this account's role changed; sign in again")
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"staff member {user_id} does not exist")
    return user


def update_staff(session: Session, user_id: int, changes: dict) -> User:
    """Change name, role, active flag or password; the last active admin cannot be demoted or disabled."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"staff member {user_id} does not exist")
    if "password" in changes:
        check_password(changes["password"])
    loses_admin = user.role == "admin" and user.active and (
        changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
    if loses_admin and active_admin_count(session, lock=True) <= 1:
        raise Conflict("this is the last active admin; make another admin first")
    if "name" in changes:
        user.name = changes["name"]
    if "role" in changes:
        user.role = changes["role"]
    if "active" in changes:
        user.active = changes["active"]
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    user.updated_at = utcnow()
    session.flush()
    messaging.add_event(session, "staff.updated", staff_data(user), subject=f"staff/{user.id}")
    return user


def active_admin_count(session: Session, lock: bool = False) -> int:
    stmt = select(User.id).where(User.role == "admin", User.active.is_(True))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return len(session.scalars(stmt).all())


def staff_query(active: bool | None = None, role: str | None = None):
    stmt = select(User).order_by(User.id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if role:
        stmt = stmt.where(User.role == role)
    return stmt


# -- first admin -----------------------------------------------------------------------------
def ensure_first_admin(session: Session, credentials) -> User | None:
    """Create the first admin when no active admin exists; return it, or None when one exists.

    ``credentials`` is called only when an admin is needed and returns ``(username, password)``
    (so a missing ADMIN_PASSWORD only matters on a fresh database). When the username exists
    (e.g. the only admin was disabled), that account is restored as an active admin with the
    configured password.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Gunicorn workers start together; one of them creates the admin, the others then see it.
        session.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    if active_admin_count(session) > 0:
        return None
    username, password = credentials()
    username = normalize_username(username)
    existing = session.scalar(select(User).where(User.username == username))
    if existing is None:
        return create_staff(session, NewStaff(username=username, name=username, password=password, role="admin"))
    check_password(password)
    existing.role, existing.active = "admin", True
    existing.password_hash = hash_password(password)
    existing.updated_at = utcnow()
    session.flush()
    messaging.add_event(session, "staff.updated", staff_data(existing), subject=f"staff/{existing.id}")
    return existing
