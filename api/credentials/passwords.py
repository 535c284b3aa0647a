"""Credentials for integration users, drawn from a cryptographic random source, and
how their passwords are stored.

API passwords are random secrets of 192 bits that we generate, so, as API platforms
store API keys, the database keeps a SHA-256 digest of each: guessing one is 2^192
work however fast the digest is, and a fast digest means a flood of wrong passwords
costs each process microseconds, not an argon2 verification (tens to hundreds of
milliseconds) per attempt. Digests are compared in constant time.

Rows written before this kept an argon2id hash (``$argon2id$...``); those still
verify, and are replaced by the digest on their first successful use.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# 32 URL-safe characters carry 192 bits: well above the 128 the design asks for.
PASSWORD_BYTES = 24
DIGEST_PREFIX = "sha256$"
# What a password is compared against when the username names no usable credential:
# the same work as a real comparison, so that timing does not tell which names exist.
_DUMMY_DIGEST = DIGEST_PREFIX + hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def new_username(account_id: int) -> str:
    return f"polaris-{account_id}-{secrets.token_hex(4)}"


def digest(password: str) -> str:
    """What the database keeps of an API password."""
    return DIGEST_PREFIX + hashlib.sha256(password.encode("utf-8")).hexdigest()


def is_digest(stored: str) -> bool:
    return stored.startswith(DIGEST_PREFIX)


def digest_matches(password: str, stored: str | None) -> bool:
    """True when ``password`` is the one ``stored`` (a digest) was made from; with
    ``stored`` None or not a digest, compares against a dummy and says False."""
    usable = stored is not None and is_digest(stored)
    expected = stored if usable and stored is not None else _DUMMY_DIGEST
    matches = hmac.compare_digest(digest(password).encode(), expected.encode())
    return matches and usable
