"""The one jinja2 Environment for every email and text message the flows send.

Built once at import so filters and loader are set up in one place. StrictUndefined
turns a missing variable into an error at render time, not a blank in a customer's
inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    """``{{ n | plural("day") }}`` → "1 day", "3 days"."""
    word = singular if count == 1 else (plural or singular + "s")
    return f"{count} {word}"


def _day(moment: datetime) -> str:
    """``{{ expires_at | day }}`` → "3 January 2027" (the UTC date)."""
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y}"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    # Only the HTML parts are escaped; plain text and SMS bodies must stay verbatim.
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
environment.filters["plural"] = _plural
environment.filters["day"] = _day


def render(name: str, **context: Any) -> str:
    return environment.get_template(name).render(**context)
