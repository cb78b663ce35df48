"""``Idempotency-Key`` support: a retried create returns the first result and creates nothing.

A use case ``lookup``s the key first (a retry after the first request finished is answered from
there), creates its resource, then ``remember``s the key in the same transaction. Two requests
with one key at the same time both pass the lookup; the unique ``(scope, key)`` row decides: the
second ``remember`` waits for the first transaction and, once it has committed, raises
``KeyAlreadyUsed`` with the first resource, so the second rolls its own work back and answers with
that resource. Uncaught, ``KeyAlreadyUsed`` is a 409 problem, never a 500.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, select
from sqlalchemy.orm import Session

from .clock import utcnow
from .db import UTCDateTime, dialect_insert
from .errors import Conflict, ValidationFailed

MAX_KEY_LENGTH = 200


class KeyAlreadyUsed(Conflict):
    """A concurrent request with the same key created ``resource_id`` first (this one's work must be
    rolled back; its answer is that resource)."""

    def __init__(self, resource_id: str) -> None:
        super().__init__(
            "a request with this Idempotency-Key was handled at the same time; send it again for its result"
        )
        self.resource_id = resource_id


def check_key(key: str) -> None:
    """Refuse a key longer than the column (422)."""
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            "Idempotency-Key is too long", errors={"Idempotency-Key": [f"at most {MAX_KEY_LENGTH} characters"]}
        )


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
        check_key(key)
        return session.scalar(
            select(self.table.c.resource_id).where(self.table.c.scope == scope, self.table.c.key == key)
        )

    def remember(self, session: Session, scope: str, key: str | None, resource_id: object) -> None:
        """Record the key in the creating transaction.

        When a concurrent request holds the key, wait for its transaction (the unique row); when it
        committed, raise KeyAlreadyUsed with its resource id. The transaction stays usable either way.
        """
        if not key:
            return
        stmt = dialect_insert(session)(self.table).values(
            scope=scope, key=key, resource_id=str(resource_id), created_at=utcnow()
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=["scope", "key"]).returning(self.table.c.id)
        if session.execute(stmt).first() is not None:  # (rowcount is -1 on PostgreSQL with RETURNING)
            return
        first = self.lookup(session, scope, key)
        if first is None:  # only under a snapshot older than the twin's commit (not READ COMMITTED)
            raise Conflict("a request with this Idempotency-Key is in progress; send it again shortly")
        raise KeyAlreadyUsed(first)
