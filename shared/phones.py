"""Phone numbers: any common written form in, E.164 out; validity is libphonenumber's verdict."""
from __future__ import annotations

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


def wa_me_digits(e164: str) -> str:
    """The digits a ``https://wa.me/<digits>`` link takes."""
    return e164.lstrip("+")
