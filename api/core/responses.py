"""Turning a till write's outcome into the HTTP answer, after the commit."""

from __future__ import annotations

from fastapi import Response
from sqlalchemy.orm import Session

from api.core.problems import PROBLEM_JSON
from api.idempotency.service import TillOutcome


def commit_and_answer(session: Session, outcome: TillOutcome) -> Response:
    # The commit finishes before the response exists: a till never sees a 2xx
    # (or a recorded 409) for a write that did not commit.
    session.commit()
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    media_type = PROBLEM_JSON if outcome.is_problem else "application/json"
    return Response(
        outcome.body, status_code=outcome.status, media_type=media_type, headers=headers
    )
