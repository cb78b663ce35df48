"""SQLAlchemy 2.0 engine and unit-of-work helpers shared by every service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from .clock import as_utc

#: Execution option naming how a SQLite transaction begins: ``"immediate"`` (the default: the
#: write lock up front) or ``"deferred"`` (a reader: no lock until it writes, which it should not).
SQLITE_BEGIN = "sqlite_begin"
_reads_only: ContextVar[bool] = ContextVar("reads_only", default=False)


@contextmanager
def reads_only() -> Iterator[None]:
    """Within this block, SQLite transactions begin deferred: readers never queue behind a writer
    (WAL lets them read the last commit while an import or a worker writes). For work that only
    reads, e.g. a GET request; a write inside still works but may fail when a writer is busy."""
    token = _reads_only.set(True)
    try:
        yield
    finally:
        _reads_only.reset(token)


def set_reads_only(value: bool) -> object:
    """Set the ``reads_only`` flag for the current context; returns the token ``reset_reads_only`` takes
    (for frameworks whose hooks open and close a request in two calls)."""
    return _reads_only.set(value)


def reset_reads_only(token: object) -> None:
    _reads_only.reset(token)  # type: ignore[arg-type]


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode and a busy timeout so api, relay and worker can share it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let pysqlite not manage transactions so BEGIN IMMEDIATE takes the write lock up front.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # A write transaction that starts deferred can fail with "database is locked" when it
            # upgrades; taking the lock at BEGIN makes writers queue on the busy timeout instead.
            # Readers (``reads_only`` or the ``sqlite_begin="deferred"`` option) take no lock.
            mode = conn.get_execution_options().get(SQLITE_BEGIN)
            deferred = mode == "deferred" or (mode is None and _reads_only.get())
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

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


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read: on SQLite their transactions begin deferred (no write lock)."""
    return sessionmaker(bind=engine.execution_options(**{SQLITE_BEGIN: "deferred"}), expire_on_commit=False)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Finish ``session``'s transaction: commit when the block succeeds, roll back when it raises, always close."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction in a new session: commit when the block succeeds, roll back when it raises, always close."""
    with transaction(session_factory()) as session:
        yield session


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The ``insert`` of the session's dialect, which has ``on_conflict_do_nothing``/``_do_update``."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if is_postgres(session) else sqlite.insert


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE/ILIKE with ``escape="\\"`` (its ``%``, ``_`` and ``\\`` escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: What the dialect checks accept: anything that is, or leads to, a database dialect.
Bind = Session | Connection | Engine | Dialect


def dialect_of(bind: Bind) -> Dialect:
    """The SQL dialect behind a session, connection or engine (a dialect is returned as is)."""
    if isinstance(bind, Dialect):
        return bind
    return bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect


def is_postgres(bind: Bind) -> bool:
    """True when the session, connection or engine talks to PostgreSQL (SKIP LOCKED, COPY, row locks)."""
    return dialect_of(bind).name == "postgresql"


def is_sqlite(bind: Bind) -> bool:
    """True when the session, connection or engine talks to SQLite (batch ALTER, no row locks)."""
    return dialect_of(bind).name == "sqlite"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant column: aware UTC ``datetime`` in, aware UTC ``datetime`` out, on every database.

    The DDL is ``DateTime(timezone=True)`` (``timestamptz`` on PostgreSQL), so migrations see no
    change. SQLite keeps no offset, so values are stored as UTC wall time and read back with
    ``tzinfo=UTC``; PostgreSQL hands back its session's zone, turned into UTC here. A naive value
    is refused with ``ValueError`` rather than guessed to be UTC: a naive ``datetime`` in the code
    is a bug (local time? UTC?) that would otherwise be written silently.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"an instant column takes a datetime, not {type(value).__name__}")
        instant = as_utc(value)
        # SQLite would write the wall time of any offset as is; store UTC, without the offset.
        return instant.replace(tzinfo=None) if is_sqlite(dialect) else instant

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: the UTC wall time written by process_bind_param
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def ping(engine: Engine) -> None:
    """Raise when the database cannot answer a trivial query (used by /readyz)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
