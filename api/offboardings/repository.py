"""Queries for offboardings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.credentials.models import IntegrationUser
from api.merchants.models import Account
from api.offboardings.models import Offboarding
from api.onboardings.models import Onboarding


def lock_account(session: Session, account_id: int) -> Account | None:
    """The account, locked (PostgreSQL): two offboardings of one account queue here.
    (SQLite's writers already queue: each write transaction begins IMMEDIATE.)"""
    return session.scalars(
        select(Account).where(Account.id == account_id).with_for_update()
    ).first()


def get(session: Session, offboarding_id: int, *, lock: bool = False) -> Offboarding | None:
    statement = select(Offboarding).where(Offboarding.id == offboarding_id)
    if lock:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def latest_for_account(session: Session, account_id: int) -> Offboarding | None:
    return session.scalars(
        select(Offboarding)
        .where(Offboarding.account_id == account_id)
        .order_by(Offboarding.id.desc())
        .limit(1)
    ).first()


def active_polaris_credentials(session: Session, account_id: int) -> list[IntegrationUser]:
    return list(
        session.scalars(
            select(IntegrationUser)
            .where(
                IntegrationUser.account_id == account_id,
                IntegrationUser.purpose == "polaris",
                IntegrationUser.revoked_at.is_(None),
            )
            .order_by(IntegrationUser.id)
        )
    )


def unverified_onboardings(session: Session, account_id: int) -> list[Onboarding]:
    return list(
        session.scalars(
            select(Onboarding)
            .where(Onboarding.account_id == account_id, Onboarding.verified_at.is_(None))
            .order_by(Onboarding.id)
        )
    )
