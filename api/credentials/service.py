"""Integration users: creating, revoking, and authenticating tills with them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from api.core.context import LedgerContext
from api.core.errors import IntegrationUserNotFound, Unauthorized, UnknownStore
from api.core.types import utcnow
from api.credentials import passwords, repository
from api.credentials.models import IntegrationUser
from api.credentials.repository import Credential
from api.merchants import service as merchants
from api.throttle import service as throttle
from api.vouchers.repository import VoucherView


@dataclass(frozen=True)
class TillCaller:
    """Who is calling the till API: an active integration user and its account."""

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


def parse_basic(authorization: str | None) -> tuple[str, str]:
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
    # in a query parameter (a 500): refused here, the same on every backend.
    if not separator or "\x00" in text:
        raise Unauthorized("The Basic credentials could not be read.")
    return username, password


@dataclass(frozen=True)
class Authenticated:
    caller: TillCaller
    # The failed look-up that throttles the caller now, if one does (throttle.check).
    throttling_failure_at: datetime | None
    # The voucher asked for with the credential (authenticate's voucher_code).
    voucher: VoucherView | None


def authenticate(
    session: Session,
    context: LedgerContext,
    authorization: str | None,
    *,
    store_id: str | None,
    now: datetime,
    voucher_code: str | None = None,
) -> Authenticated:
    """The caller (401 unless an active user's right password), read in one statement
    with what the throttle and the store need and, when asked, a voucher."""
    username, password = parse_basic(authorization)
    found = repository.find_credential(
        session,
        username,
        store_id=store_id,
        failures_since=throttle.window_start(context.settings, now),
        max_failures=context.settings.throttle_max_failures,
        voucher_code=voucher_code,
    )
    # The same work whatever the username names (nothing, a revoked user, a real one):
    # one digest and one constant-time comparison, so timing tells nothing.
    if not _password_matches(context, found, password) or found is None:
        raise Unauthorized("Unknown or revoked credential.")
    if found.revoked_at is not None:
        raise Unauthorized("Unknown or revoked credential.")
    caller = TillCaller(
        user_id=found.user_id,
        account_id=found.account_id,
        card_range=found.card_range,
        currency=found.currency,
        balance_cap=found.balance_cap,
        store_id=store_id,
        store_site_id=found.store_site_id,
    )
    return Authenticated(caller, found.throttling_failure_at, found.voucher)


def _password_matches(context: LedgerContext, found: Credential | None, password: str) -> bool:
    stored = found.password_hash if found is not None else None
    if found is None or stored is None or passwords.is_digest(stored):
        return passwords.digest_matches(password, stored)
    # A row from before digests: argon2, once per process (then cached), and on its
    # first success the row's hash is replaced by the digest.
    if found.revoked_at is not None:
        return passwords.digest_matches(password, None)
    cache = context.verified_credentials
    if not cache.is_verified(found.user_id, password, stored):
        try:
            context.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        cache.remember(found.user_id, password, stored)
    with context.db.writer() as session:
        repository.replace_password_hash(
            session, found.user_id, old=stored, new=passwords.digest(password)
        )
        session.commit()
    return True


@dataclass(frozen=True)
class IssuedCredential:
    user: IntegrationUser
    password: str  # plaintext: returned once in the creating response, never stored


def create(
    session: Session, context: LedgerContext, account_id: int, label: str
) -> IssuedCredential:
    merchants.get_account(session, account_id)
    password = passwords.new_password()
    user = IntegrationUser(
        account_id=account_id,
        username=passwords.new_username(account_id),
        password_hash=passwords.digest(password),
        label=label,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return IssuedCredential(user=user, password=password)


def revoke(session: Session, user_id: int) -> IntegrationUser:
    """Revoke a user; revoking one already revoked keeps its first revocation time."""
    user = repository.get(session, user_id)
    if user is None:
        raise IntegrationUserNotFound(f"No integration user {user_id}.")
    if user.revoked_at is None:
        user.revoked_at = utcnow()
        session.flush()
    return user


def get(session: Session, user_id: int) -> IntegrationUser:
    user = repository.get(session, user_id)
    if user is None:
        raise IntegrationUserNotFound(f"No integration user {user_id}.")
    return user


def list_for_account(session: Session, account_id: int) -> list[IntegrationUser]:
    merchants.get_account(session, account_id)
    return repository.list_for_account(session, account_id)
