"""Who calls the till API: the credential in the Basic header (``parse_basic``), the
integration user it names once checked (``TillIdentity``), and that user at a store as
the rules see it (``TillCaller``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.core.config import Settings
from api.core.errors import Unauthorized, UnknownStore
from api.throttle import service as throttle

# The longest username the database holds (integration_users.username): a longer one
# names nobody, and is refused without a look-up.
MAX_USERNAME_LENGTH = 64


def parse_basic(authorization: str | None) -> tuple[str, str]:
    """(username, password) from an ``Authorization: Basic`` header, or 401."""
    if not authorization:
        raise Unauthorized("HTTP Basic credentials are required.")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("HTTP Basic credentials are required.")
    try:
        # The header arrives as latin-1 text: anything outside ASCII cannot be base64
        # (b64decode raises a plain ValueError for it, binascii.Error for bad base64).
        decoded = base64.b64decode(encoded.strip().encode("ascii"), validate=True)
        text = decoded.decode("utf-8")
    except (ValueError, UnicodeError):
        raise Unauthorized("The Basic credentials could not be read.") from None
    username, separator, password = text.partition(":")
    # A NUL names no credential of ours (they are printable), and PostgreSQL refuses it
    # in a query parameter: refused here, the same on every backend.
    if not separator or "\x00" in text:
        raise Unauthorized("The Basic credentials could not be read.")
    return username, password


@dataclass(frozen=True)
class TillIdentity:
    """The integration user whose password a request carried (gate.TillRequestGate),
    and the stored digest the password was checked against. Whether the user is still
    active, and still has that digest, is asked of the database by every call."""

    user_id: int
    username: str
    password_hash: str


class CredentialChanged(Exception):
    """The user's stored password hash is not the one the request was checked against
    (the process's cache is older than the row): check the request again."""


@dataclass(frozen=True)
class TillCaller:
    """An active integration user, its account, and the store the call names."""

    user_id: int
    account_id: int
    card_range: str
    currency: str
    balance_cap: int | None
    # The store ID the call names and the account's site behind it (None: no such site).
    store_id: str | None
    store_site_id: int | None

    def store_site(self) -> int:
        """The site behind the call's store ID (403 unknown_store when there is none)."""
        if self.store_site_id is None:
            raise UnknownStore("This store ID is not mapped to a site of your account.")
        return self.store_site_id


def caller_from_row(
    row: Mapping[str, Any] | None,
    identity: TillIdentity,
    store_id: str | None,
    settings: Settings,
    now: datetime,
) -> TillCaller:
    """The caller from ``statements.CALLER``'s row (by column name): 401 when the user
    is gone or revoked, 429 while throttled, in the contract's order."""
    if row is None or row["revoked_at"] is not None:
        raise Unauthorized("Unknown or revoked credential.")
    if row["password_hash"] != identity.password_hash:
        raise CredentialChanged()
    throttle.check(settings, row["throttling_failure_at"], now)
    return TillCaller(
        user_id=identity.user_id,
        account_id=row["account_id"],
        card_range=row["card_range"],
        currency=row["currency"],
        balance_cap=row["balance_cap"],
        store_id=store_id,
        store_site_id=row["site_id"],
    )
