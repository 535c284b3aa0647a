from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from flows.cli import app as onboarding_app
from flows.settings import get_settings

# The `onboarding` command is tested against the flows the flow tests serve.
from tests.flows.conftest import flow_env, flows_runner, outbox
from tests.support.databases import empty_database
from tests.support.smtp import smtp_server, smtp_server_factory
from tests.support.twilio_standin import twilio_standin

__all__ = [
    "flow_env",
    "flows_runner",
    "outbox",
    "smtp_server",
    "smtp_server_factory",
    "twilio_standin",
]

OnboardingCli = Callable[..., Result]


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on this backend."""
    with empty_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def onboarding_cli(
    flow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[OnboardingCli]:
    """``onboarding(*args)``: the `onboarding` command run in this process, so on the
    Prefect harness, with the same ONBOARDING_ settings as the flows."""
    for name, value in flow_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()

    def onboarding(*args: str) -> Result:
        return runner.invoke(onboarding_app, list(args))

    yield onboarding
    get_settings.cache_clear()
