"""Phone normalization: libphonenumber's verdict on every input, fast for Indian numbers."""

from __future__ import annotations

import random
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.contacts.importing.phones import _UNDECIDED, _indian_fast_path, normalize_phone, phone_text
from services.contacts.importing.prefix_analysis import UnsupportedPattern, settling_prefix_length

CSV_FIXTURE = Path(__file__).parent.parent / "fixtures" / "contact-lists" / "contacts.csv"


def libphonenumber_e164(text: str, region: str = "IN") -> str | None:
    """The reference: plain parse + is_valid_number + format_number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fast_path_agrees(text: str) -> bool:
    fast_path = _indian_fast_path()
    assert fast_path is not None
    verdict = fast_path.e164(text)
    return verdict is _UNDECIDED or verdict == libphonenumber_e164(text)


def test_the_fast_path_is_enabled_for_india():
    assert _indian_fast_path() is not None


@pytest.mark.parametrize(
    "written, e164",
    [
        ("9876543210", "+919876543210"),
        ("98765 43210", "+919876543210"),
        ("+91 98765-43210", "+919876543210"),
        ("+91-9876543210", "+919876543210"),
        ("91 98765 43210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("(987) 654 3210", "+919876543210"),
        ("987-654-3210", "+919876543210"),
        (" 9876543210 ", "+919876543210"),
        ("(+91) 98765.43210", "+919876543210"),
    ],
)
def test_common_indian_shapes_are_decided_by_the_fast_path(written, e164):
    assert _indian_fast_path().e164(written) == e164
    assert libphonenumber_e164(written) == e164


def test_every_phone_of_the_fixture_gets_libphonenumbers_verdict():
    rows = CSV_FIXTURE.read_text(encoding="utf-8").splitlines()[1:]
    phones = [row.split(",")[0] for row in rows]
    assert [normalize_phone(p) for p in phones] == [libphonenumber_e164(p) for p in phones]


@pytest.mark.parametrize("cell", [9876543210, 9876543210.0, "9876543210.0", " 9876543210.00 ", "9876543210"])
def test_number_cells_are_the_phone_they_show(cell):
    assert normalize_phone(cell) == "+919876543210"


def test_whole_float_with_country_code_is_read_as_digits():
    assert normalize_phone(919876543210.0) == "+919876543210"


@pytest.mark.parametrize("text", ["98765.43210", "9876543210.5", "+91 98765 43210.0", "1.0", "N/A", ""])
def test_other_text_is_given_to_libphonenumber_as_typed(text):
    assert normalize_phone(text) == libphonenumber_e164(text)


def test_foreign_and_invalid_numbers():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("+1 555 0100") is None
    assert normalize_phone("98765432") is None
    assert normalize_phone(True) is None
    assert normalize_phone(None) is None


def test_other_regions_use_libphonenumber():
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"
    assert normalize_phone("9876543210", region="GB") == libphonenumber_e164("9876543210", "GB")


def test_input_libphonenumber_finds_too_long_is_invalid():
    padded = " " * 250 + "9876543210"
    assert normalize_phone(padded) is None
    assert libphonenumber_e164(padded) is None
    assert normalize_phone(" " * 240 + "9876543210") == "+919876543210"


def test_cached_prefix_verdicts_hold_for_every_number_with_that_prefix():
    rng = random.Random(20240601)
    fast_path = _indian_fast_path()
    for _ in range(400):
        prefix = rng.choice("6789") + "".join(rng.choices("0123456789", k=4))
        for _ in range(4):
            national = prefix + "".join(rng.choices("0123456789", k=5))
            for written in (national, "0" + national, "91" + national, "+91" + national):
                assert fast_path.e164(written) == libphonenumber_e164(written), written


# Mostly what the fast path reads; the rest is left to libphonenumber (repeats weight one_of).
FAST_SEPARATORS = st.sampled_from(["", " ", "-", "(", ")", ".", " - "])
OTHER_SEPARATORS = st.sampled_from(["\t", "\u00a0", "/", "+", "x", "#", ";"])
SEPARATORS = st.one_of(*[FAST_SEPARATORS] * 6, OTHER_SEPARATORS)
FAST_PREFIXES = st.sampled_from(["", "+91", "91", "0", "+", "(+91) ", "+ 91", "+91 0", "+910", "00"])
OTHER_PREFIXES = st.sampled_from(["0091", "9", "1", "+1", "+44", "++91", "-", " ", "tel:", "0 "])
PREFIXES = st.one_of(*[FAST_PREFIXES] * 4, OTHER_PREFIXES)
DIGITS = "0123456789"
MOBILE_LIKE = st.builds(str.__add__, st.sampled_from(["6", "7", "8", "9"]), st.text(DIGITS, min_size=9, max_size=9))
STARTING_91 = st.builds(str.__add__, st.just("91"), st.text(DIGITS, min_size=8, max_size=8))
DIGIT_RUNS = st.one_of(MOBILE_LIKE, MOBILE_LIKE, STARTING_91, st.text(DIGITS, max_size=14))


@st.composite
def written_numbers(draw):
    """Digit strings with a prefix, separators between digits and padding around them."""
    digits = draw(DIGIT_RUNS)
    pieces = [draw(PREFIXES)]
    for digit in digits:
        pieces.append(digit)
        if draw(st.integers(0, 3)) == 0:
            pieces.append(draw(SEPARATORS))
    return draw(st.sampled_from(["", " ", "  "])) + "".join(pieces) + draw(st.sampled_from(["", " ", "-", "."]))


PHONE_LIKE_TEXT = st.text(alphabet="0123456789 +-().\u0966\u0967\uff19", max_size=20)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(written_numbers(), PHONE_LIKE_TEXT, st.text(max_size=30)))
def test_fast_path_gives_libphonenumbers_verdict_on_every_input(text):
    assert fast_path_agrees(text)
    assert normalize_phone(text) == libphonenumber_e164(phone_text(text))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(min_value=0, max_value=10**13), st.integers(min_value=0, max_value=10**13).map(float)))
def test_number_cells_get_the_verdict_of_their_digits(number):
    assert normalize_phone(number) == libphonenumber_e164(str(int(number)))


def test_prefix_analysis_finds_the_deepest_restricting_digit():
    assert settling_prefix_length(r"12\d{3}", "", 5) == 2
    assert settling_prefix_length(r"(?:1|23)\d{2}|4[5-6]\d", "", 5) == 2
    assert settling_prefix_length(r"1\d{2}5\d", "", 5) == 4
    assert settling_prefix_length(r"\d{3}[^5]", "", 5) == 4
    # Paths that cannot start with the known digit do not count.
    assert settling_prefix_length(r"1\d{2}5\d|2\d{4}", "2", 5) == 1
    # Positions past the longest string considered cannot restrict it.
    assert settling_prefix_length(r"\d{5}1", "", 5) == 0


@pytest.mark.parametrize("pattern", [r"^1\d", r"(?=1)\d", r"(1)\1", r"(?:\d?)*1", r"\w\d"])
def test_prefix_analysis_refuses_syntax_it_does_not_follow(pattern):
    with pytest.raises(UnsupportedPattern):
        settling_prefix_length(pattern, "", 10)
