"""Per-request / per-message context: the request id that becomes an event's correlation id."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The X-Request-ID of the request (or correlation id of the event) being handled, if any."""
    return request_id_var.get()


def new_request_id() -> str:
    """A fresh request id for a request that did not bring one."""
    return uuid.uuid4().hex
