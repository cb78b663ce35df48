"""The gateway's tables: users (staff and admins), login failures, and its outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.clock import utcnow
from shared.db import UTCDateTime
from shared.messaging import MessagingTables

SOURCE = "/gateway"
ROLES = ("admin", "staff")


class Base(DeclarativeBase):
    pass


messaging = MessagingTables(Base.metadata, source=SOURCE)


class User(Base):
    """A person who signs in: an admin or a staff member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="staff")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Carried in every token (claim ``ver``); raised by a password or role change or a disabling,
    #: so the account's earlier tokens answer 401 at once.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LoginFailure(Base):
    """One failed sign-in; kept in the database so the limit holds across workers and replicas."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (Index("ix_login_failures_key", "username", "ip", "failed_at"),)
