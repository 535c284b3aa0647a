"""The `onboarding` command's answers that need a ledger but no flow run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import Result
from typer.testing import CliRunner

from flows.cli import app
from flows.settings import get_settings
from harness.ledger_process import LedgerService

POLARIS = ["--polaris-name", "Pat Polaris", "--polaris-email", "pat@polaris.example"]
POLARIS += ["--polaris-mobile", "+447700900123"]


def onboarding(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def pointed_at_the_ledger(
    ledger_service: LedgerService, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LedgerService]:
    """Point the command at the session's ledger (ONBOARDING_LEDGER_URL), as the flows are."""
    monkeypatch.setenv("ONBOARDING_LEDGER_URL", ledger_service.url)
    monkeypatch.setenv("ONBOARDING_LEDGER_ADMIN_TOKEN", ledger_service.admin_token)
    get_settings.cache_clear()
    yield ledger_service
    get_settings.cache_clear()


def test_start_refuses_an_account_the_ledger_does_not_have(
    pointed_at_the_ledger: LedgerService,
) -> None:
    # The session's ledger is shared: an account number no session comes near.
    result = onboarding("start", "--account", "999999", *POLARIS)
    assert result.exit_code == 1, result.output
    assert f"The ledger at {pointed_at_the_ledger.url} has no account 999999." in result.stderr
