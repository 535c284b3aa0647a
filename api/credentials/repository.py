"""Queries for integration users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from api.core.statements import Statements
from api.credentials.models import CredentialStoreUse, IntegrationUser
from api.merchants.models import Site

_REPLACE_PASSWORD_HASH = (
    update(IntegrationUser)
    .where(
        IntegrationUser.id == bindparam("user_id"),
        IntegrationUser.password_hash == bindparam("old"),
    )
    .values(password_hash=bindparam("new"))
)


def replace_password_hash(db: Statements, user_id: int, *, old: str, new: str) -> None:
    """Swap a user's stored hash, unless it has changed meanwhile (another process);
    the SQLite till path's (PostgreSQL's runs the same update on asyncpg)."""
    db.run(_REPLACE_PASSWORD_HASH, {"user_id": user_id, "old": old, "new": new})


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


# A store ID, the site with it now (ID and name; None if none), its first use.
StoreUse = tuple[str, int | None, str | None, datetime]


def store_uses(session: Session, user_id: int) -> list[StoreUse]:
    """The stores a user has called from, first first, each with the account's site
    that has the store ID now (if any)."""
    rows = session.execute(
        select(CredentialStoreUse.store_id, Site.id, Site.name, CredentialStoreUse.first_used_at)
        .join(IntegrationUser, IntegrationUser.id == CredentialStoreUse.integration_user_id)
        .outerjoin(
            Site,
            and_(
                Site.account_id == IntegrationUser.account_id,
                Site.store_id == CredentialStoreUse.store_id,
            ),
        )
        .where(CredentialStoreUse.integration_user_id == user_id)
        .order_by(CredentialStoreUse.first_used_at, CredentialStoreUse.store_id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]
