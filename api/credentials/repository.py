"""Queries for integration users."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from api.core.statements import Statements
from api.credentials.models import IntegrationUser

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
