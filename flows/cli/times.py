"""Times as an account manager reads them: UTC to the minute, and ages in words."""

from __future__ import annotations

from datetime import UTC, datetime


def when(moment: datetime | None, seconds: bool = False) -> str:
    if moment is None:
        return "an unknown time"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M{':%S' if seconds else ''}} UTC"


def age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "for an unknown time"
    return duration((now - since).total_seconds())


def took(seconds: float) -> str:
    """How long a stage took: to a tenth of a second under a minute."""
    return f"{seconds:.1f} s" if seconds < 60 else duration(seconds)


def duration(seconds: float) -> str:
    """The largest whole unit, as people say it: '3 days', '1 hour', '40 seconds'."""
    seconds = max(0, int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
