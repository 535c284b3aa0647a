"""The one error the `onboarding` commands raise on purpose."""

from __future__ import annotations


class CliError(Exception):
    """A command cannot do what was asked. The message says why, for a person; the
    problems (if any) list each thing to fix."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
