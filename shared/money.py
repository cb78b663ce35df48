"""Money: ``Decimal`` rupees with two places (paise), never ``float``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

#: One paisa: what every amount is quantized to.
CENTS: Final = Decimal("0.01")


def money(amount: Decimal | float | str | None) -> Decimal:
    """``amount`` (a Decimal, a number a query summed, or None) as a two-place ``Decimal``, half-up; None is 0.00."""
    return Decimal(str(amount or 0)).quantize(CENTS, rounding=ROUND_HALF_UP)
