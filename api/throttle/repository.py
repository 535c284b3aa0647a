"""Queries for failed look-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from api.throttle.models import LookupFailure

# Run on every till call: built once, run on the connection (see credentials.repository).
_RECENT = (
    select(LookupFailure.failed_at)
    .where(
        LookupFailure.integration_user_id == bindparam("user_id"),
        LookupFailure.failed_at > bindparam("since"),
    )
    .order_by(LookupFailure.failed_at.desc())
    .limit(bindparam("limit"))
)


def recent_failures(session: Session, user_id: int, since: datetime, limit: int) -> list[datetime]:
    """The newest ``limit`` failures of the user after ``since``, newest first."""
    result = session.connection().execute(
        _RECENT, {"user_id": user_id, "since": since, "limit": limit}
    )
    return list(result.scalars())
