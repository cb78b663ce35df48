"""The pharmacy's customer categories: the one list every service, event and schema uses.

The values are what is stored and sent on the wire; the labels are the user guide's words
(what the bill form's dropdown and the report show).
"""

from __future__ import annotations

import typing
from typing import Final, Literal

#: A customer category as stored and carried by events.
Category = Literal["contact_sheet", "first_time_prescription", "regular_branded", "generic_informed"]

#: Every category, in the user guide's order (reports list them in this order).
CATEGORIES: Final[tuple[Category, ...]] = typing.get_args(Category)

#: A customer who came from the contact list (a converted contact is filed under it).
CONTACT_SHEET: Final[Category] = "contact_sheet"

#: A new customer's category when the bill does not say.
FIRST_TIME_PRESCRIPTION: Final[Category] = "first_time_prescription"

#: The user guide's name of each category.
CATEGORY_LABELS: Final[dict[Category, str]] = {
    "contact_sheet": "Contact Sheet",
    "first_time_prescription": "First Time Prescription",
    "regular_branded": "Regular Branded",
    "generic_informed": "Generic Informed",
}
