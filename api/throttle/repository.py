"""Queries for the card-guessing throttle (the SQLite path's: PostgreSQL counts in the
till_count_failure function of migration 0005)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select

from api.core.statements import Statements, insert_of
from api.credentials.models import IntegrationUser
from api.throttle.models import LookupFailure

# The credential's row, locked: failed look-ups of one credential are counted one at a
# time, in every process and on every host (PostgreSQL: FOR UPDATE; SQLite's write
# transaction holds the database's write lock already).
_LOCK_CREDENTIAL = (
    select(IntegrationUser.id.label("id"))
    .where(IntegrationUser.id == bindparam("user_id"))
    .with_for_update()
)
_FORGET_OLD = delete(LookupFailure).where(
    LookupFailure.integration_user_id == bindparam("user_id"),
    LookupFailure.failed_at <= bindparam("window_start"),
)
_NEWEST_IN_WINDOW = (
    select(LookupFailure.failed_at.label("failed_at"))
    .where(
        LookupFailure.integration_user_id == bindparam("user_id"),
        LookupFailure.failed_at > bindparam("window_start"),
    )
    .order_by(LookupFailure.failed_at.desc())
    .limit(bindparam("max_failures"))
)
_ADD = insert_of(LookupFailure, "integration_user_id", "failed_at")


def count_failure(
    db: Statements, user_id: int, *, now: datetime, window_start: datetime, max_failures: int
) -> datetime | None:
    """Count one failed look-up unless the credential has ``max_failures`` in the window
    already; returns None when it was counted, else the oldest of those (the one whose
    leaving the window reopens the credential) and counts nothing. Serialised per
    credential by its row lock, so no timing of requests counts past the limit."""
    parameters = {"user_id": user_id, "window_start": window_start}
    db.rows(_LOCK_CREDENTIAL, parameters)
    db.run(_FORGET_OLD, parameters)
    newest = db.rows(_NEWEST_IN_WINDOW, {**parameters, "max_failures": max_failures})
    if len(newest) >= max_failures:
        failed_at: datetime = newest[-1]["failed_at"]
        return failed_at
    db.run(_ADD, {"integration_user_id": user_id, "failed_at": now})
    return None
