"""First admin: ``python -m gateway.bootstrap`` (also run, idempotently, when the app starts).

When no active admin exists, ``ADMIN_USERNAME`` / ``ADMIN_PASSWORD`` become one (and
``staff.created`` goes into the outbox); a missing variable then fails fast, naming it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from shared.config import ConfigError, env, load_settings
from shared.db import unit_of_work
from shared.errors import ValidationFailed
from shared.runtime import Runtime

from .models import User
from .settings import GatewaySettings
from .staff import MIN_PASSWORD_LENGTH, ensure_first_admin

log = logging.getLogger(__name__)


def admin_credentials(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(ADMIN_USERNAME, ADMIN_PASSWORD)`` from the environment; ConfigError naming a missing one."""
    username = env("ADMIN_USERNAME", environ=environ)
    password = env("ADMIN_PASSWORD", environ=environ)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"environment variable ADMIN_PASSWORD must have at least {MIN_PASSWORD_LENGTH} characters")
    return username, password


def ensure_admin(session_factory: sessionmaker[Session], environ: Mapping[str, str] | None = None) -> User | None:
    """Create the first admin if none is active; return it (None when an admin already existed)."""
    try:
        with unit_of_work(session_factory) as session:
            admin = ensure_first_admin(session, lambda: admin_credentials(environ))
    except ValidationFailed as exc:
        raise ConfigError(f"ADMIN_USERNAME/ADMIN_PASSWORD are not acceptable: {exc.detail}") from None
    if admin is not None:
        log.info("first admin created", extra={"username": admin.username, "user_id": admin.id})
    return admin


def main(argv: list[str] | None = None) -> int:
    settings = load_settings("gateway", cls=GatewaySettings)
    runtime = Runtime.build(settings)
    try:
        admin = ensure_admin(runtime.session_factory)
    except ConfigError as exc:
        print(f"gateway bootstrap: {exc}", file=sys.stderr)
        return 2
    finally:
        runtime.engine.dispose()
    print(f"created admin {admin.username!r}" if admin else "an admin exists; nothing to do")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
