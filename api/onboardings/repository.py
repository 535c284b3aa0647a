"""Queries for onboarding records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.onboardings.models import Onboarding


def get(session: Session, onboarding_id: int, *, lock: bool = False) -> Onboarding | None:
    statement = select(Onboarding).where(Onboarding.id == onboarding_id)
    if lock:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def open_for_account(session: Session, account_id: int) -> Onboarding | None:
    """The account's onboarding that has not been verified yet, if any."""
    return session.scalars(
        select(Onboarding)
        .where(Onboarding.account_id == account_id, Onboarding.verified_at.is_(None))
        .order_by(Onboarding.id)
        .with_for_update()
    ).first()


def list_all(session: Session, account_id: int | None = None) -> list[Onboarding]:
    statement = select(Onboarding).order_by(Onboarding.id)
    if account_id is not None:
        statement = statement.where(Onboarding.account_id == account_id)
    return list(session.scalars(statement))
