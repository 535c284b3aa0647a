"""Queries for the card-guessing throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from api.credentials.models import IntegrationUser
from api.throttle.models import LookupFailure

# The credential's row, locked: failed look-ups of one credential are counted one at a
# time, in every process and on every host (PostgreSQL: FOR UPDATE; SQLite's write
# transaction holds the database's write lock already).
_LOCK_CREDENTIAL = (
    select(IntegrationUser.id).where(IntegrationUser.id == bindparam("user_id")).with_for_update()
)
_FORGET_OLD = delete(LookupFailure).where(
    LookupFailure.integration_user_id == bindparam("user_id"),
    LookupFailure.failed_at <= bindparam("window_start"),
)
_NEWEST_IN_WINDOW = (
    select(LookupFailure.failed_at)
    .where(
        LookupFailure.integration_user_id == bindparam("user_id"),
        LookupFailure.failed_at > bindparam("window_start"),
    )
    .order_by(LookupFailure.failed_at.desc())
    .limit(bindparam("max_failures"))
)
_ADD = insert(LookupFailure)


def count_failure(
    session: Session, user_id: int, *, now: datetime, window_start: datetime, max_failures: int
) -> datetime | None:
    """Count one failed look-up unless the credential has ``max_failures`` in the window
    already; returns None when it was counted, else the oldest of those (the one whose
    leaving the window reopens the credential) and counts nothing. Serialised per
    credential by its row lock, so no timing of requests counts past the limit."""
    connection = session.connection()
    parameters = {"user_id": user_id, "window_start": window_start}
    connection.execute(_LOCK_CREDENTIAL, parameters)
    connection.execute(_FORGET_OLD, parameters)
    newest = (
        connection.execute(_NEWEST_IN_WINDOW, {**parameters, "max_failures": max_failures})
        .scalars()
        .all()
    )
    if len(newest) >= max_failures:
        return newest[-1]
    connection.execute(_ADD, {"integration_user_id": user_id, "failed_at": now})
    return None
