"""The `onboarding` command's answers that need a ledger but no flow run."""

from __future__ import annotations

import json
import sqlite3
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


def test_status_of_an_account_lists_its_polaris_credentials_and_the_surplus(
    pointed_at_the_ledger: LedgerService,
) -> None:
    ledger = pointed_at_the_ledger
    with ledger.admin() as admin:
        account = admin.post("/admin/accounts", json={"name": "Surplus Inns"}).json()["id"]
        users = f"/admin/accounts/{account}/integration-users"
        old = admin.post(users, json={"purpose": "polaris", "label": "Polaris"}).json()
        # As migration 0010 leaves an account that had two before the rule.
        with sqlite3.connect(ledger.sqlite_path()) as database:
            database.execute(
                "UPDATE integration_users SET surplus_at = created_at WHERE id = ?",
                (old["id"],),
            )
        kept = admin.post(users, json={"purpose": "polaris", "label": "Polaris"}).json()
        assert kept["id"] != old["id"]

    result = onboarding("status", "--account", str(account))
    assert result.exit_code == 0, result.output
    active, surplus = result.output.split("More active Polaris credentials")
    assert f"{kept['id']}  {kept['username']}" in active and old["username"] not in active
    assert f"{old['id']}  {old['username']}" in surplus
    assert f"POST /admin/integration-users/{old['id']}/revoke" in surplus

    as_json = json.loads(onboarding("status", "--account", str(account), "--json").output)
    assert [u["id"] for u in as_json["active"]] == [kept["id"]]
    assert [u["id"] for u in as_json["surplus"]] == [old["id"]]
