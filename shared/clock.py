"""What time it is: one source of "now", always timezone-aware UTC.

Use cases take a ``Clock`` (or a ``now`` argument) rather than calling ``datetime.now`` so tests
can pin the instant; the pharmacy's time zone is applied at the edge, never here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

#: A function returning the current instant as an aware UTC ``datetime`` (``utcnow`` or a test's).
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(instant: dt.datetime) -> dt.datetime:
    """``instant`` in UTC; a naive ``instant`` is refused (its meaning would be a guess)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: pass an aware datetime (e.g. tzinfo=datetime.UTC)")
    return instant.astimezone(dt.UTC)
