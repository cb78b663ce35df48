"""Phone numbers: any common written form in, E.164 out; validity is libphonenumber's verdict."""

from __future__ import annotations

from urllib.parse import quote

import phonenumbers


class InvalidPhone(ValueError):
    """Not a valid phone number for libphonenumber."""


def to_e164(raw: str, region: str = "IN") -> str:
    """The E.164 form of ``raw`` (read with ``region`` as the default country); InvalidPhone otherwise."""
    try:
        number = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def whatsapp_link(phone_e164: str, message: str) -> str:
    """A ``https://wa.me/<digits>?text=...`` link that opens a chat with ``message`` typed in.

    wa.me takes the E.164 number without its ``+``; the whole message is one encoded ``text``
    parameter (``&``, ``#`` and spaces included), so it arrives exactly as written.
    """
    return f"https://wa.me/{phone_e164.lstrip('+')}?text={quote(message, safe='')}"
