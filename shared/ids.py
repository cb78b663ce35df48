"""Ids owned by other services (or outside integrations) arrive as integers or strings in events.

They are stored as text and handed back in the type they came in, so ``42`` stays ``42`` and
``"POS-0007"`` stays ``"POS-0007"``; ordering puts numeric ids first, by value.
"""

from __future__ import annotations

from typing import overload

MAX_INT_DIGITS = 18  # fits a signed 64-bit column
MAX_ID = 2**31 - 1  # the services' own ids are INTEGER columns: a larger value is a database error


def ascii_int(text: str | None) -> int | None:
    """The integer ``text`` spells in ASCII digits (at most 18 of them), else None ("²" and "١" are not)."""
    if text is None:
        return None
    text = str(text).strip()
    if text and text.isascii() and text.isdigit() and len(text) <= MAX_INT_DIGITS:
        return int(text)
    return None


def stored_id(value: object) -> str | None:
    """The text form kept in a column for an id from an event."""
    return None if value is None else str(value)


@overload
def wire_id(value: str) -> int | str: ...
@overload
def wire_id(value: None) -> None: ...
def wire_id(value: str | None) -> int | str | None:
    """The id as events and the API give it: an integer when the text is a canonical integer."""
    if value is None:
        return None
    number = ascii_int(value)
    return number if number is not None and str(number) == value else value


def id_order(value: int | str | None) -> tuple[int, int, str]:
    """A sort key: numeric ids by value first, then text ids."""
    number = ascii_int(value) if not isinstance(value, int) else value
    return (0, number, "") if number is not None else (1, 0, str(value))
