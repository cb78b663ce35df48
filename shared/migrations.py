"""Alembic glue: every service keeps its own ``migrations/`` and runs them through here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from .config import REPO_ROOT, database_url_for
from .db import UTCDateTime, is_sqlite

SERVICES = ("gateway", "billing", "customers", "contacts", "reminders", "reporting")


def migrations_dir(service: str) -> Path:
    """Where a service's Alembic scripts live."""
    return REPO_ROOT / ("gateway" if service == "gateway" else f"services/{service}") / "migrations"


def alembic_config(service: str, database_url: str) -> Config:
    """An Alembic config for one service and database, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir(service)))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database named in the URL when it does not exist (SQLite needs nothing)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def upgrade(service: str, database_url: str | None = None) -> None:
    """Apply every migration of ``service`` to its database (creating a PostgreSQL database if needed)."""
    database_url = database_url or database_url_for(service)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:  # not for an in-memory database
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    ensure_database(database_url)
    command.upgrade(alembic_config(service, database_url), "head")


def render_item(type_: str, obj: object, autogen_context: Any) -> str | Literal[False]:
    """Autogenerate writes ``UTCDateTime`` columns as plain ``sa.DateTime(timezone=True)``.

    The decorator only converts values in Python; the DDL is the impl's, and a migration must
    not import application code that may change after it was written.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(target_metadata: MetaData) -> None:
    """Body of each service's ``migrations/env.py``: run online migrations for its metadata."""
    from alembic import context
    from sqlalchemy import pool

    database_url = context.config.get_main_option("sqlalchemy.url")
    if not database_url:
        raise RuntimeError("migrations need sqlalchemy.url (run them through shared.migrations)")
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(connection),
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """``python -m shared.migrations [service ...]``: upgrade the named (default: all) services."""
    names = (argv if argv is not None else sys.argv[1:]) or list(SERVICES)
    for name in names:
        if name not in SERVICES:
            print(f"unknown service {name!r}; choose from {', '.join(SERVICES)}", file=sys.stderr)
            return 2
        upgrade(name)
        print(f"migrated {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
