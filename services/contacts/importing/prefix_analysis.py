"""How many leading digits settle whether a digit string matches a libphonenumber pattern.

libphonenumber's number patterns are digit classes, groups, alternation and counted
repetition, e.g. ``(?:6(?:1279|828[01489])|...)\\d{5}``. Each match walks a path of
one-character tokens; a token that accepts every digit (``\\d``) cannot tell two digit strings
apart. So if every digit-restricting token on every path sits within the first ``k``
positions, two digit strings that agree on their first ``k`` digits (and have the same length)
either both match or both fail, and a verdict can be cached per ``k``-digit prefix. This
module finds ``k`` by walking the parsed pattern, never by sampling.
"""

from __future__ import annotations

import re._constants as sre  # the parse tree re itself builds; stable across 3.11+
import re._parser as sre_parse

_DIGITS = frozenset("0123456789")
_SINGLE_CHARACTER = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


class UnsupportedPattern(ValueError):
    """The pattern uses syntax the walk does not follow (anchors, lookarounds, backreferences)."""


def settling_prefix_length(pattern: str, known: str, max_length: int) -> int:
    """The number of leading characters that settle a full match of ``pattern``.

    Holds for digit strings of at most ``max_length`` characters that start with ``known``:
    two such strings of the same length that agree on this many leading characters either
    both fully match ``pattern`` or both do not. Raises ``UnsupportedPattern``.
    """
    _, deepest = _walk(sre_parse.parse(pattern), frozenset({0}), known, max_length)
    return max(deepest, len(known))


def _walk(tokens, starts: frozenset[int], known: str, limit: int) -> tuple[frozenset[int], int]:
    """End positions reachable from ``starts`` and the deepest digit-restricting position."""
    positions, deepest = starts, 0
    for op, arg in tokens:
        if op in _SINGLE_CHARACTER:
            admitted = _admitted_digits(op, arg)
            following = set()
            for position in positions:
                if position >= limit or (position < len(known) and known[position] not in admitted):
                    continue  # the strings in question cannot take this path
                following.add(position + 1)
                if admitted != _DIGITS:
                    deepest = max(deepest, position + 1)
            positions = frozenset(following)
        elif op == sre.SUBPATTERN:
            positions, depth = _walk(arg[-1], positions, known, limit)
            deepest = max(deepest, depth)
        elif op == sre.BRANCH:
            ends: set[int] = set()
            for alternative in arg[1]:
                branch_ends, depth = _walk(alternative, positions, known, limit)
                ends |= branch_ends
                deepest = max(deepest, depth)
            positions = frozenset(ends)
        elif op in _REPEATS:
            positions, depth = _walk_repeat(arg, positions, known, limit)
            deepest = max(deepest, depth)
        else:
            raise UnsupportedPattern(f"pattern syntax {op} is not followed")
    return positions, deepest


def _walk_repeat(arg, starts: frozenset[int], known: str, limit: int) -> tuple[frozenset[int], int]:
    low, high, body = arg
    if 0 in _walk(body, frozenset({0}), "", limit)[0]:
        # A body that can match nothing could repeat without end; libphonenumber has none.
        raise UnsupportedPattern("repetition of a pattern that can match the empty string")
    ends: set[int] = set()
    positions, deepest, count = starts, 0, 0
    while positions:
        if count >= low:
            ends |= positions
        if count == high:
            break
        # Every repetition consumes a character, so positions pass ``limit`` and run out.
        positions, depth = _walk(body, positions, known, limit)
        deepest = max(deepest, depth)
        count += 1
    return frozenset(ends), deepest


def _admitted_digits(op, arg) -> frozenset[str]:
    """The digits a one-character token accepts."""
    if op == sre.ANY:
        return _DIGITS
    if op == sre.LITERAL:
        return _DIGITS & {chr(arg)}
    if op == sre.NOT_LITERAL:
        return _DIGITS - {chr(arg)}
    admitted: set[str] = set()
    negated = False
    for item_op, item in arg:
        if item_op == sre.NEGATE:
            negated = True
        elif item_op == sre.LITERAL:
            admitted |= _DIGITS & {chr(item)}
        elif item_op == sre.RANGE:
            admitted |= {digit for digit in _DIGITS if item[0] <= ord(digit) <= item[1]}
        elif item_op == sre.CATEGORY and item == sre.CATEGORY_DIGIT:
            admitted |= _DIGITS
        elif item_op == sre.CATEGORY and item == sre.CATEGORY_NOT_DIGIT:
            pass
        else:
            raise UnsupportedPattern(f"character class item {item_op} {item} is not followed")
    return frozenset(_DIGITS - admitted if negated else admitted)
