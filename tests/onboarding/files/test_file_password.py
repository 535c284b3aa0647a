import math
import re

from flows.credentials_file import (
    MIN_PASSWORD_BITS,
    PASSWORD_ALPHABET,
    PASSWORD_GROUP_SIZE,
    new_file_password,
)

LOOK_ALIKES = set("0O1IL5S2Z8BQ")


def test_alphabet_is_uppercase_without_look_alikes() -> None:
    assert len(set(PASSWORD_ALPHABET)) == len(PASSWORD_ALPHABET)
    assert PASSWORD_ALPHABET.upper() == PASSWORD_ALPHABET
    assert not LOOK_ALIKES & set(PASSWORD_ALPHABET)


def test_password_is_groups_of_four_from_the_alphabet() -> None:
    password = new_file_password()
    group = f"[{re.escape(PASSWORD_ALPHABET)}]{{{PASSWORD_GROUP_SIZE}}}"
    assert re.fullmatch(rf"{group}(-{group})+", password), password


def test_password_carries_at_least_128_bits() -> None:
    chars = new_file_password().replace("-", "")
    assert len(chars) * math.log2(len(PASSWORD_ALPHABET)) >= MIN_PASSWORD_BITS >= 128


def test_passwords_do_not_repeat() -> None:
    passwords = {new_file_password() for _ in range(2000)}
    assert len(passwords) == 2000


def test_every_symbol_gets_used() -> None:
    # A crude check that the choice is over the whole alphabet, not a slice of it.
    seen = set("".join(new_file_password() for _ in range(200)).replace("-", ""))
    assert seen == set(PASSWORD_ALPHABET)
