"""Queries for integration users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.credentials.models import IntegrationUser
from api.merchants.models import Account


def find_with_account(session: Session, username: str) -> tuple[IntegrationUser, Account] | None:
    row = session.execute(
        select(IntegrationUser, Account)
        .join(Account, Account.id == IntegrationUser.account_id)
        .where(IntegrationUser.username == username)
    ).first()
    return None if row is None else (row[0], row[1])


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
