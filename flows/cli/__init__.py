"""The `onboarding` console command (``flows.cli:app``)."""

from flows.cli.app import app

__all__ = ["app"]
