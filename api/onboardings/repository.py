"""Queries for onboarding records."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from api.onboardings.models import Onboarding
from contract.onboardings import ENDINGS


def get(session: Session, onboarding_id: int, *, lock: bool = False) -> Onboarding | None:
    statement = select(Onboarding).where(Onboarding.id == onboarding_id)
    if lock:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def open_for_account(
    session: Session, account_id: int, kind: str = "onboarding"
) -> Onboarding | None:
    """The account's onboarding (or rotation) that has not finished yet, if any."""
    return session.scalars(
        select(Onboarding)
        .where(
            Onboarding.account_id == account_id,
            Onboarding.kind == kind,
            Onboarding.verified_at.is_(None),
        )
        .order_by(Onboarding.id)
        .with_for_update()
    ).first()


def list_all(
    session: Session,
    account_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    flow_run_id: str | None = None,
) -> list[Onboarding]:
    statement = select(Onboarding).order_by(Onboarding.id)
    if kind is not None:
        statement = statement.where(Onboarding.kind == kind)
    if account_id is not None:
        statement = statement.where(Onboarding.account_id == account_id)
    if flow_run_id is not None:
        statement = statement.where(Onboarding.flow_run_id == flow_run_id)
    if status is not None:
        statement = statement.where(status_is(status))
    return list(session.scalars(statement))


def status_is(status: str) -> ColumnElement[bool]:
    """``Onboarding.status == status`` as SQL: the same precedence as the property
    (verified, then how it ended if it did, then verifying, then awaiting store IDs, else
    in progress)."""
    o = Onboarding
    rotation, onboarding = o.kind == "rotation", o.kind != "rotation"
    verified = o.verified_at.is_not(None)
    ended = and_(o.verified_at.is_(None), o.failed_at.is_not(None))
    # A failure recorded before endings had names has none: it is "failed".
    ended_as = func.coalesce(o.ended_as, "failed")
    open_ = and_(o.verified_at.is_(None), o.failed_at.is_(None))
    delivered = and_(
        o.email_sent_at.is_not(None),
        or_(o.text_sent_at.is_not(None), o.uses_existing_credential.is_(True)),
    )
    waiting = and_(open_, o.store_ids_saved_at.is_(None), delivered)
    conditions: dict[str, ColumnElement[bool]] = {
        "verified": and_(verified, onboarding),
        "rotated": and_(verified, rotation),
        **{ending: and_(ended, ended_as == ending) for ending in ENDINGS},
        "verifying": and_(open_, o.store_ids_saved_at.is_not(None)),
        "awaiting_store_ids": and_(waiting, onboarding),
        "awaiting_first_use": and_(waiting, rotation),
        "in_progress": and_(
            open_,
            o.store_ids_saved_at.is_(None),
            ~delivered,
        ),
    }
    if status not in conditions:
        raise ValueError(f"Unknown onboarding status {status!r}.")
    return conditions[status]
