"""SQLAlchemy 2.0 engine and unit-of-work helpers shared by every service."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL mode and a busy timeout so api, relay and worker can share it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let pysqlite not manage transactions so BEGIN IMMEDIATE takes the write lock up front.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # A write transaction that starts deferred can fail with "database is locked" when it
            # upgrades; taking the lock at BEGIN makes writers queue on the busy timeout instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Bound values stay out of error messages and logs (they may be medical details).
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit (use cases return them)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises, always close."""
    session = session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dialect_insert(session: Session):
    """The ``insert`` of the session's dialect, which has ``on_conflict_do_nothing``/``_do_update``."""
    from sqlalchemy.dialects import postgresql, sqlite
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE/ILIKE with ``escape="\\"`` (its ``%``, ``_`` and ``\\`` escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def is_postgres(session_or_engine) -> bool:
    """True when the session or engine talks to PostgreSQL (for SKIP LOCKED and ON CONFLICT)."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def ping(engine: Engine) -> None:
    """Raise when the database cannot answer a trivial query (used by /readyz)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
