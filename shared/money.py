"""Money: ``Decimal`` rupees with two places (paise), never ``float``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

#: One paisa: what every amount is quantized to.
CENTS: Final = Decimal("0.01")


def generic_savings(is_generic: bool, amount: Decimal, branded_price: Decimal | None) -> Decimal | None:
    """What buying the generic saved: the branded equivalent's price less what was paid, never negative.

    None for a branded medicine, or for a generic without a branded price (nothing to compare with).
    """
    if not is_generic or branded_price is None:
        return None
    return max(branded_price - amount, Decimal("0")).quantize(CENTS, rounding=ROUND_HALF_UP)


def money(amount: Decimal | float | str | None) -> Decimal:
    """``amount`` (a Decimal, a number a query summed, or None) as a two-place ``Decimal``, half-up; None is 0.00."""
    return Decimal(str(amount or 0)).quantize(CENTS, rounding=ROUND_HALF_UP)
