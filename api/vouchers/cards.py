"""Voucher codes as tills know them: 19-digit card numbers with a Luhn check digit.

[card range: 8 digits][10 random digits][Luhn check digit]
"""

from __future__ import annotations

import secrets

from contract.vouchers import CODE_LENGTH

RANDOM_DIGITS = 10
CARD_RANGE_LENGTH = CODE_LENGTH - RANDOM_DIGITS - 1
_SEPARATORS = str.maketrans("", "", " -")


# A digit doubled, its digits summed: what the Luhn check adds for a doubled digit.
_DOUBLED = {str(d): (2 * d) - 9 if d > 4 else 2 * d for d in range(10)}


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass the Luhn check (every till call
    with a code runs it)."""
    # Walking from the right of the partial number, every first digit gets doubled.
    backwards = partial[::-1]
    total = sum(_DOUBLED[char] for char in backwards[0::2]) + sum(map(int, backwards[1::2]))
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number[-1] == luhn_check_digit(number[:-1])


def normalize(code: str) -> str:
    """Drop the spaces and dashes tills may send."""
    return code.translate(_SEPARATORS)


def card_shaped(code: str) -> bool:
    """True when ``code`` (normalised) could be a voucher of some account."""
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit() and luhn_valid(code)


def well_formed(code: str, card_range: str) -> bool:
    """True when ``code`` (normalised) could be one of this account's vouchers."""
    return card_shaped(code) and code.startswith(card_range)


def random_digits() -> str:
    """A new code's middle digits, from a cryptographic source (never sequential)."""
    return "".join(secrets.choice("0123456789") for _ in range(RANDOM_DIGITS))


def generate(card_range: str) -> str:
    """A new code in the range."""
    partial = card_range + random_digits()
    return partial + luhn_check_digit(partial)


def mask(code: str) -> str:
    """What logs may show of a code: its last four characters."""
    return "…" + code[-4:] if len(code) > 4 else "…"
