"""Queries for integration users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from api.credentials.models import IntegrationUser
from api.merchants.models import Account


@dataclass(frozen=True)
class Credential:
    """An integration user as authenticating a till call needs it, with its account."""

    user_id: int
    password_hash: str
    revoked_at: datetime | None
    account_id: int
    card_range: str
    currency: str
    balance_cap: int | None


# Every till call runs this. Built once, and run on the session's connection as plain
# columns: statement building and the ORM's per-query work were most of a till call's
# CPU in bench/'s profiles.
_CREDENTIAL = (
    select(
        IntegrationUser.id,
        IntegrationUser.password_hash,
        IntegrationUser.revoked_at,
        Account.id,
        Account.card_range,
        Account.currency,
        Account.balance_cap,
    )
    .join(Account, Account.id == IntegrationUser.account_id)
    .where(IntegrationUser.username == bindparam("username"))
)


def find_credential(session: Session, username: str) -> Credential | None:
    row = session.connection().execute(_CREDENTIAL, {"username": username}).first()
    return None if row is None else Credential(*row)


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
