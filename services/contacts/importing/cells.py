"""Spreadsheet cell values as the text a person sees in the cell."""

from __future__ import annotations

import math


def cell_text(value: object) -> str:
    """The text of one cell: ``""`` for an empty cell, whole floats without ``.0``.

    Spreadsheet readers return every number as a float, so a phone typed as a number
    arrives as ``9876543210.0``; the person typed (and sees) ``9876543210``.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)
