"""Queries for integration users."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from api.credentials.models import IntegrationUser
from api.merchants.models import Account, Site
from api.throttle.models import LookupFailure
from api.vouchers.models import Voucher
from api.vouchers.repository import VoucherView


@dataclass(frozen=True)
class Credential:
    """An integration user as a till call needs it: its account, the newest failed
    look-ups that could throttle it, and the site behind the store ID the call names."""

    user_id: int
    password_hash: str
    revoked_at: datetime | None
    account_id: int
    card_range: str
    currency: str
    balance_cap: int | None
    # The failure that would be the throttle's Nth within the window, if any.
    throttling_failure_at: datetime | None
    store_site_id: int | None
    # The account's voucher the call asked about (find_credential's voucher_code).
    voucher: VoucherView | None = None


# Every till call needs the credential, the throttle's count and the store's site, in
# that order; they are one statement, built once and run on the session's connection
# as plain columns. In bench/'s profiles each further round trip to the database (and
# the ORM's per-query work) was a large share of a till call's CPU.
_THROTTLING_FAILURE = (
    select(LookupFailure.failed_at)
    .where(
        LookupFailure.integration_user_id == IntegrationUser.id,
        LookupFailure.failed_at > bindparam("failures_since"),
    )
    .order_by(LookupFailure.failed_at.desc())
    .limit(1)
    .offset(bindparam("failure_offset"))
    .correlate(IntegrationUser)
    .scalar_subquery()
)
_STORE_SITE = (
    select(Site.id)
    .where(Site.account_id == Account.id, Site.store_id == bindparam("store_id"))
    .correlate(Account)
    .scalar_subquery()
)
_CREDENTIAL = (
    select(
        IntegrationUser.id,
        IntegrationUser.password_hash,
        IntegrationUser.revoked_at,
        Account.id,
        Account.card_range,
        Account.currency,
        Account.balance_cap,
        _THROTTLING_FAILURE,
        _STORE_SITE,
    )
    .join(Account, Account.id == IntegrationUser.account_id)
    .where(IntegrationUser.username == bindparam("username"))
)


# A balance check reads its voucher in the same statement: one round trip in all.
_VOUCHER_COLUMNS = (
    Voucher.code,
    Voucher.balance,
    Voucher.currency,
    Voucher.expires_at,
    Voucher.cancelled_at,
    Voucher.id,
)
_CREDENTIAL_AND_VOUCHER = _CREDENTIAL.add_columns(*_VOUCHER_COLUMNS).outerjoin(
    Voucher,
    and_(Voucher.account_id == Account.id, Voucher.code == bindparam("voucher_code")),
)
_CREDENTIAL_COLUMNS = len(_CREDENTIAL.selected_columns)


def find_credential(
    session: Session,
    username: str,
    *,
    store_id: str | None,
    failures_since: datetime,
    max_failures: int,
    voucher_code: str | None = None,
) -> Credential | None:
    """The user named ``username``; ``throttling_failure_at`` is its ``max_failures``-th
    newest failed look-up after ``failures_since``, ``store_site_id`` its account's site
    with ``store_id`` (None when there is none, or no store ID was given), ``voucher``
    its account's voucher with ``voucher_code`` when one was asked for and exists."""
    parameters = {
        "username": username,
        "store_id": store_id,
        "failures_since": failures_since,
        "failure_offset": max_failures - 1,
    }
    if voucher_code is None:
        row = session.connection().execute(_CREDENTIAL, parameters).first()
        return None if row is None else Credential(*row)
    parameters["voucher_code"] = voucher_code
    row = session.connection().execute(_CREDENTIAL_AND_VOUCHER, parameters).first()
    if row is None:
        return None
    credential = Credential(*row[:_CREDENTIAL_COLUMNS])
    voucher = row[_CREDENTIAL_COLUMNS:]
    return credential if voucher[0] is None else replace(credential, voucher=VoucherView(*voucher))


def replace_password_hash(session: Session, user_id: int, *, old: str, new: str) -> None:
    """Swap a user's stored hash, unless it has changed meanwhile (another process)."""
    session.execute(
        update(IntegrationUser)
        .where(IntegrationUser.id == user_id, IntegrationUser.password_hash == old)
        .values(password_hash=new)
    )


def get(session: Session, user_id: int) -> IntegrationUser | None:
    return session.get(IntegrationUser, user_id)


def list_for_account(session: Session, account_id: int) -> list[IntegrationUser]:
    return list(
        session.scalars(
            select(IntegrationUser)
            .where(IntegrationUser.account_id == account_id)
            .order_by(IntegrationUser.id)
        )
    )
