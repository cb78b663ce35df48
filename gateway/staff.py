"""Staff use cases: create and change staff members, check an account on each call, the first admin.

Every change to a user adds ``staff.created`` / ``staff.updated`` to the outbox in the caller's
transaction, so the other services' rosters follow. Sign-in is ``gateway.accounts``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db import SQLITE_BEGIN, is_postgres
from shared.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from shared.events import StaffCreated, StaffUpdated

from .models import User, messaging
from .passwords import hash_password

MIN_PASSWORD_LENGTH = 8


def normalize_username(username: str) -> str:
    """Usernames are matched case-insensitively: stored and compared in NFC lower case."""
    return unicodedata.normalize("NFC", username).strip().lower()


# -- staff ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewStaff:
    username: str
    name: str | None
    password: str
    role: str = "staff"


def staff_event(user: User, event: type[StaffCreated] | type[StaffUpdated]) -> StaffCreated | StaffUpdated:
    """The ``staff.created`` / ``staff.updated`` event of an account (no password material)."""
    return event(staff_id=user.id, username=user.username, name=user.name, role=user.role, active=user.active)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "the password is too short", errors={"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]}
        )


def create_staff(session: Session, new: NewStaff) -> User:
    """Add a staff member or admin; a taken username is a conflict."""
    check_password(new.password)
    username = normalize_username(new.username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the username {username!r} is taken")
    user = User(
        username=username,
        name=new.name,
        role=new.role,
        active=True,
        password_hash=hash_password(new.password),
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"the username {username!r} is taken") from None
    messaging.add_event(session, staff_event(user, StaffCreated))
    return user


def current_account(session: Session, principal) -> User:
    """The caller's account, which must still exist, be active, hold the token's role and token version.

    Tokens are valid until they expire; checking the account on every call through the gateway
    (``check_account``) means disabling or demoting someone, or changing their password, takes
    effect at once.
    """
    user = session.get(User, principal.id)
    _check_account_state(user, principal)
    assert user is not None  # refused above when missing
    return user


#: What the check on every call reads of the caller's account: one primary-key lookup, no ORM object.
ACCOUNT_STATE = select(User.active, User.role, User.token_version).where(User.id == bindparam("user_id"))


def check_account(engine: Engine, principal) -> None:
    """``current_account``'s rule for every call through the gateway, as one indexed lookup.

    One primary-key select of three columns, outside any transaction: on PostgreSQL an
    autocommit read (no BEGIN or COMMIT round trip), on SQLite a deferred transaction (no write
    lock). With the pool's pre-ping on checkout, two round trips in all: the ping is kept, as it
    is what hides a restarted PostgreSQL (a stale connection is replaced before the lookup, so
    no call fails for it).
    """
    with engine.connect() as connection:
        if is_postgres(connection):
            connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            connection.execution_options(**{SQLITE_BEGIN: "deferred"})
        state = connection.execute(ACCOUNT_STATE, {"user_id": principal.id}).first()
    _check_account_state(state, principal)


def _check_account_state(account, principal) -> None:
    """Refuse the token unless ``account`` (a User or an ACCOUNT_STATE row) exists, is active and
    matches the token's role and token version."""
    if account is None or not account.active:
        raise Unauthorized("this account no longer exists or is disabled")
    if account.role != principal.role:
        raise Unauthorized("this account's role changed; sign in again")
    if account.token_version != principal.token_version:
        raise Unauthorized("this account's password or role changed; sign in again")


def revoke_tokens(user: User) -> None:
    """End every token issued so far for ``user`` (they carry the old token version)."""
    user.token_version = (user.token_version or 0) + 1


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"staff member {user_id} does not exist")
    return user


def update_staff(session: Session, user_id: int, changes: dict) -> User:
    """Change name, role, active flag or password; the last active admin cannot be demoted or disabled.

    A new password, another role or disabling the account ends the account's earlier tokens.
    """
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"staff member {user_id} does not exist")
    if "password" in changes:
        check_password(changes["password"])
    loses_admin = (
        user.role == "admin"
        and user.active
        and (changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
    )
    if loses_admin and active_admin_count(session, lock=True) <= 1:
        raise Conflict("this is the last active admin; make another admin first")
    if (
        "password" in changes
        or changes.get("role", user.role) != user.role
        or (user.active and changes.get("active", True) is False)
    ):
        revoke_tokens(user)
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
    messaging.add_event(session, staff_event(user, StaffUpdated))
    return user


def active_admin_count(session: Session, lock: bool = False) -> int:
    stmt = select(User.id).where(User.role == "admin", User.active.is_(True))
    if lock and is_postgres(session):
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
    if is_postgres(session):
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
    revoke_tokens(existing)
    existing.updated_at = utcnow()
    session.flush()
    messaging.add_event(session, staff_event(existing, StaffUpdated))
    return existing
