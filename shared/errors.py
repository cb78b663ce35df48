"""Domain exceptions raised by use cases; each app maps them to problem+json in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of errors a client caused; ``status`` and ``title`` become the problem+json answer."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str | None = None, errors: dict[str, Any] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class Unauthorized(DomainError):
    status, title = 401, "Unauthorized"


class ValidationFailed(DomainError):
    status, title = 422, "Validation failed"


class PayloadTooLarge(DomainError):
    status, title = 413, "Payload too large"


class UnsupportedMediaType(DomainError):
    status, title = 415, "Unsupported media type"


class TooManyRequests(DomainError):
    status, title = 429, "Too many requests"

    def __init__(self, detail: str | None = None, retry_after: int = 60):
        super().__init__(detail)
        self.retry_after = retry_after
