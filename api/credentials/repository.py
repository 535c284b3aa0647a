"""Queries for integration users."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.credentials.models import IntegrationUser


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
