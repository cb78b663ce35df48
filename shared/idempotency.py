"""``Idempotency-Key`` support: a retried create returns the first result and creates nothing."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, insert, select
from sqlalchemy.orm import Session

from .clock import utcnow
from .db import UTCDateTime
from .errors import ValidationFailed

MAX_KEY_LENGTH = 200


class IdempotencyKeys:
    """Remembers which resource a client's key created, per scope (e.g. ``bills``) and user."""

    def __init__(self, metadata: MetaData):
        self.table = Table(
            "idempotency_keys",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("scope", String(50), nullable=False),
            Column("key", String(200), nullable=False),
            Column("resource_id", String(64), nullable=False),
            Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
            UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),
        )

    def lookup(self, session: Session, scope: str, key: str | None) -> str | None:
        """The resource id a previous request with this key created, if any."""
        if not key:
            return None
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(
                "Idempotency-Key is too long", errors={"Idempotency-Key": [f"at most {MAX_KEY_LENGTH} characters"]}
            )
        return session.scalar(
            select(self.table.c.resource_id).where(self.table.c.scope == scope, self.table.c.key == key)
        )

    def remember(self, session: Session, scope: str, key: str | None, resource_id) -> None:
        """Record the key in the creating transaction; a concurrent twin then fails on the unique key."""
        if key:
            session.execute(
                insert(self.table).values(scope=scope, key=key, resource_id=str(resource_id), created_at=utcnow())
            )
