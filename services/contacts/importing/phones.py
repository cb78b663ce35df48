"""Phone numbers of an imported contact list: E.164 or ``None``, exactly libphonenumber's verdict.

libphonenumber's ``parse`` + ``is_valid_number`` + ``format_number`` costs tens of µs a
number, too slow for a million-row import. Almost every row of a pharmacy's list is an
Indian mobile written one of a few ways (``98765 43210``, ``+91-98765-43210``,
``09876543210``, ``(987) 654 3210``), so those shapes take a fast path that does, for those
shapes only, what libphonenumber does:

* ``parse`` keeps only the digits (the separators allowed here are all "valid punctuation",
  and a leading ``+`` means a country code follows), then decides whether a leading ``91`` is
  the country code or a leading ``0`` the national prefix. For the shapes handled here that
  decision depends only on whether the region's general pattern matches, which the fast path
  checks with the regular expression libphonenumber uses; other outcomes fall back.
* ``is_valid_number`` is "the general pattern and some number type's pattern match"; the fast
  path runs the same metadata patterns.

Those pattern verdicts are cached per leading-digit prefix, with the prefix length derived
from the patterns themselves (``prefix_analysis``), so a cached verdict is the verdict of
every number sharing that prefix. The metadata facts the reasoning rests on (country code,
national prefix, possible lengths) are checked when the fast path is built on first use; if a
phonenumbers release changes them, every number simply goes through libphonenumber.
"""

from __future__ import annotations

import functools
import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from shared.phones import InvalidPhone, to_e164

from .cells import cell_text
from .prefix_analysis import UnsupportedPattern, settling_prefix_length

# A number cell saved as text by a spreadsheet export ("9876543210.0") is that number.
_SPREADSHEET_NUMBER = re.compile(r"\s*([0-9]+)\.0+\s*")

# libphonenumber refuses longer input outright (phonenumberutil._MAX_INPUT_STRING_LENGTH).
_MAX_INPUT_LENGTH = 250

_MOBILE_START = "6789"
# Longest prefix worth caching verdicts for: at most 4 * 10**5 cache entries.
_MAX_CACHED_PREFIX = 6

# Facts about a 10-digit national number D, all settled by D's leading digits.
_VALID = 1  # libphonenumber's is_valid_number for +91 D
_GENERAL = 2  # D fits the general pattern
_GENERAL_WITH_0 = 4  # "0" + D fits it (then "0" is not stripped as a national prefix)
_GENERAL_WITH_91 = 8  # "91" + D fits it (then "91" is not read as the country code)

_UNDECIDED = object()


def normalize_phone(raw: object, region: str = "IN") -> str | None:
    """The E.164 form of a phone cell (text, int or float), or ``None`` when it is not valid.

    Validity is libphonenumber's ``is_valid_number`` after ``parse(raw, region)``. A number
    cell (``9876543210`` or ``9876543210.0``, as int, float or exported text) is read as the
    digits a person sees in it.
    """
    # Plain text is by far the most common cell; skip the conversions it does not need.
    text = raw if type(raw) is str and "." not in raw else phone_text(raw)
    if region == "IN":
        fast_path = _indian_fast_path()
        if fast_path is not None:
            verdict = fast_path.e164(text)
            if verdict is not _UNDECIDED:
                return verdict
    return _libphonenumber_e164(text, region)


def phone_text(raw: object) -> str:
    """The text libphonenumber is given for a phone cell (number cells without ``.0``)."""
    text = cell_text(raw)
    if "." in text:
        number_cell = _SPREADSHEET_NUMBER.fullmatch(text)
        if number_cell:
            return number_cell.group(1)
    return text


@functools.lru_cache(maxsize=4096)
def _libphonenumber_e164(text: str, region: str) -> str | None:
    # Cached because lists repeat the same few foreign or odd numbers many times.
    try:
        return to_e164(text, region)
    except InvalidPhone:
        return None


class _IndianFastPath:
    """libphonenumber's verdict for the common ways an Indian number is written (region IN)."""

    def __init__(self, metadata: PhoneMetadata):
        # _indian_fast_path checked that the general description and its pattern exist.
        assert metadata.general_desc is not None and metadata.general_desc.national_number_pattern
        general: str = metadata.general_desc.national_number_pattern
        # The number types _number_type_helper tries, restricted to those a 10-digit
        # national number can match (any order: validity only asks whether one matches).
        types: list[str] = [
            desc.national_number_pattern
            for desc in (
                metadata.mobile,
                metadata.fixed_line,
                metadata.premium_rate,
                metadata.toll_free,
                metadata.shared_cost,
                metadata.voip,
                metadata.personal_number,
                metadata.pager,
                metadata.uan,
                metadata.voicemail,
            )
            if desc is not None
            and desc.national_number_pattern
            and (not desc.possible_length or 10 in desc.possible_length)
        ]
        self._general = re.compile(general)
        self._types = tuple(re.compile(pattern) for pattern in types)
        self._prefix_lengths = _cacheable_prefix_lengths(general, types)
        self._facts_by_prefix: dict[str, int] = {}

    def e164(self, text: str):
        """E.164, ``None`` (invalid), or ``_UNDECIDED`` when libphonenumber must decide."""
        if len(text) > _MAX_INPUT_LENGTH:
            return _UNDECIDED
        digits = text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace(".", "")
        plus = digits.startswith("+")
        if plus:
            digits = digits[1:]
        # Only ASCII digits may remain (str.isdigit alone accepts other scripts' digits).
        if not (digits.isascii() and digits.isdigit()):
            return _UNDECIDED
        count = len(digits)
        if plus:
            # "+91" then a 10-digit number: the country code is 91, the rest is national.
            if count != 12 or not digits.startswith("91") or digits[2] not in _MOBILE_START:
                return _UNDECIDED
            national = digits[2:]
            facts = self._facts(national)
        elif count == 10 and digits[0] in _MOBILE_START:
            # A leading "91" stays part of the number when the 10 digits fit the general pattern.
            national = digits
            facts = self._facts(national)
            if not facts & _GENERAL and digits.startswith("91"):
                return _UNDECIDED
        elif count == 11 and digits[0] == "0" and digits[1] in _MOBILE_START:
            # The national prefix "0" is stripped unless the 11 digits fit the general pattern.
            national = digits[1:]
            facts = self._facts(national)
            if facts & _GENERAL_WITH_0:
                return _UNDECIDED
        elif count == 12 and digits.startswith("91") and digits[2] in _MOBILE_START:
            # "91" is the country code when the 12 digits do not fit the general pattern
            # and the 10 after it do.
            national = digits[2:]
            facts = self._facts(national)
            if facts & _GENERAL_WITH_91 or not facts & _GENERAL:
                return _UNDECIDED
        else:
            return _UNDECIDED
        return "+91" + national if facts & _VALID else None

    def _facts(self, national: str) -> int:
        prefix_length = self._prefix_lengths.get(national[0])
        if prefix_length is None:
            return self._match_patterns(national)
        prefix = national[:prefix_length]
        facts = self._facts_by_prefix.get(prefix)
        if facts is None:
            facts = self._facts_by_prefix[prefix] = self._match_patterns(national)
        return facts

    def _match_patterns(self, national: str) -> int:
        general = self._general.fullmatch
        facts = 0
        if general(national):
            facts |= _GENERAL
            if any(pattern.fullmatch(national) for pattern in self._types):
                facts |= _VALID
        if general("0" + national):
            facts |= _GENERAL_WITH_0
        if general("91" + national):
            facts |= _GENERAL_WITH_91
        return facts


def _cacheable_prefix_lengths(general: str, types: list[str]) -> dict[str, int]:
    """For each leading digit, how many digits settle all of a number's facts (if few enough)."""
    lengths = {}
    for first in _MOBILE_START:
        try:
            length = max(
                *(settling_prefix_length(pattern, first, 10) for pattern in (general, *types)),
                settling_prefix_length(general, "0" + first, 11) - 1,
                settling_prefix_length(general, "91" + first, 12) - 2,
            )
        except UnsupportedPattern:
            continue
        if length <= _MAX_CACHED_PREFIX:
            lengths[first] = length
    return lengths


@functools.cache
def _indian_fast_path() -> _IndianFastPath | None:
    """Built on first use; ``None`` when the metadata no longer fits the fast path's reasoning."""
    metadata = PhoneMetadata.metadata_for_region("IN")
    if metadata is None:
        return None
    general = metadata.general_desc
    if general is None:
        return None
    fits = (
        metadata.country_code == 91
        and tuple(COUNTRY_CODE_TO_REGION_CODE.get(91, ())) == ("IN",)
        and 9 not in COUNTRY_CODE_TO_REGION_CODE  # so "+91..." reads country code 91, not 9
        and metadata.international_prefix == "00"
        and metadata.national_prefix_for_parsing == "0"
        and not metadata.national_prefix_transform_rule
        and {10, 12} <= set(general.possible_length)
        and not {10, 12} & set(general.possible_length_local_only)
        and bool(general.national_number_pattern)
    )
    return _IndianFastPath(metadata) if fits else None
