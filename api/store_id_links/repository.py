"""Queries for store-ID links."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.store_id_links.models import StoreIdLink


def by_link_id(session: Session, link_id: str, *, lock: bool = False) -> StoreIdLink | None:
    statement = select(StoreIdLink).where(StoreIdLink.link_id == link_id)
    if lock:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def for_run(session: Session, onboarding_id: int, flow_run_id: str) -> StoreIdLink | None:
    return session.scalars(
        select(StoreIdLink).where(
            StoreIdLink.onboarding_id == onboarding_id, StoreIdLink.flow_run_id == flow_run_id
        )
    ).first()


def newest(session: Session, onboarding_id: int) -> StoreIdLink | None:
    return session.scalars(
        select(StoreIdLink)
        .where(StoreIdLink.onboarding_id == onboarding_id)
        .order_by(StoreIdLink.id.desc())
        .limit(1)
    ).first()


def unreplaced_others(session: Session, onboarding_id: int, flow_run_id: str) -> list[StoreIdLink]:
    return list(
        session.scalars(
            select(StoreIdLink).where(
                StoreIdLink.onboarding_id == onboarding_id,
                StoreIdLink.flow_run_id != flow_run_id,
                StoreIdLink.replaced_at.is_(None),
            )
        )
    )


def listed(
    session: Session, onboarding_id: int | None, flow_run_id: str | None
) -> list[StoreIdLink]:
    statement = select(StoreIdLink).order_by(StoreIdLink.id)
    if onboarding_id is not None:
        statement = statement.where(StoreIdLink.onboarding_id == onboarding_id)
    if flow_run_id is not None:
        statement = statement.where(StoreIdLink.flow_run_id == flow_run_id)
    return list(session.scalars(statement))
