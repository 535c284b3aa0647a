"""The card-guessing throttle.

After ``throttle_max_failures`` answers of ``404 voucher_not_found`` to one credential
within ``throttle_window_seconds`` (malformed codes included), every voucher call on
that credential gets ``429 too_many_attempts`` until enough of those failures have
aged out of the window. Failures live in the database, so the count holds across
worker processes and hosts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from api.core.config import Settings
from api.core.context import LedgerContext
from api.core.errors import TooManyAttempts
from api.core.types import utcnow
from api.throttle import repository


def window_start(settings: Settings, now: datetime) -> datetime:
    """Failures after this moment count towards the throttle."""
    return now - timedelta(seconds=settings.throttle_window_seconds)


def check(settings: Settings, throttling_failure_at: datetime | None, now: datetime) -> None:
    """Refuse the call while the credential has ``throttle_max_failures`` failures in
    the window; ``throttling_failure_at`` is the oldest of its newest that many (the
    credential's query finds it), None when it has fewer."""
    if throttling_failure_at is None:
        return
    # The call is allowed again once that failure leaves the window.
    reopens_at = throttling_failure_at + timedelta(seconds=settings.throttle_window_seconds)
    retry_after = max(1, math.ceil((reopens_at - now).total_seconds()))
    raise TooManyAttempts(
        "Too many unknown voucher codes from this credential; try again later.",
        retry_after=retry_after,
    )


def record_failure(context: LedgerContext, user_id: int) -> None:
    """Count one failed look-up (a 404 voucher_not_found about to be answered), in its
    own transaction (the request's rolled back). Counting and deciding are one step
    under the credential's lock: when the credential has had its allowance of failures
    in the window already (parallel requests that all passed ``check``), this one is
    not counted and the caller is refused with 429 instead of its 404, so at most
    ``throttle_max_failures`` answers of 404 go out per window, however requests are
    timed and in however many processes."""
    now = utcnow()
    with context.db.writer() as session:
        throttling_failure_at = repository.count_failure(
            session,
            user_id,
            now=now,
            window_start=window_start(context.settings, now),
            max_failures=context.settings.throttle_max_failures,
        )
        session.commit()
    check(context.settings, throttling_failure_at, now)
