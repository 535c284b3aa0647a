"""The card-guessing throttle.

After ``throttle_max_failures`` answers of ``404 voucher_not_found`` to one credential
within ``throttle_window_seconds`` (malformed codes included), every voucher call on
that credential gets ``429 too_many_attempts`` until enough of those failures have
aged out of the window. Failures live in the database, so the count holds across
worker processes and hosts; they are counted one at a time per credential, under its
row lock (repository.count_failure on SQLite, the till_count_failure function of
migration 0005 on PostgreSQL), so no timing of parallel requests gets more than the
allowance of 404s.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from api.core.config import Settings
from api.core.errors import TooManyAttempts


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
