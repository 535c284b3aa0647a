"""The flows' ledger client (flows.ledger.LedgerAdmin) reads where a credential's till
calls came from (issue 12: a credential rotation polls it), from a ledger process over
real HTTP: each store once, with its site and first call's time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from flows.ledger import LedgerAdmin, LedgerRefused
from flows.settings import OnboardingSettings
from harness.factories import make_merchant
from harness.ledger_process import LedgerService, running_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[LedgerService]:
    with running_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", tmp_path / "ledger") as s:
        yield s


def _uses(client: LedgerAdmin, user_id: int, count: int) -> list[dict[str, Any]]:
    """The user's store uses once there are ``count`` of them (the ledger notes a first
    use just after it answers the call)."""
    deadline = time.monotonic() + 30
    while len(uses := client.store_uses(user_id)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return uses


def test_store_uses_through_the_flows_client(ledger: LedgerService) -> None:
    settings = OnboardingSettings(
        ledger_url=ledger.url, ledger_admin_token=SecretStr(ledger.admin_token)
    )
    with ledger.admin() as admin, LedgerAdmin(settings) as client:
        merchant = make_merchant(ledger, admin)
        try:
            (user,) = client.integration_users(merchant.account_id)
            assert client.store_uses(user["id"]) == []
            code = merchant.sold_code(1000)
            for _ in range(3):
                assert merchant.balance(code).status_code == 200
            assert merchant.balance(code, store_id=merchant.store_ids[1]).status_code == 200
            uses = _uses(client, user["id"], 2)
        finally:
            merchant.close()
        assert [(u["store_id"], u["site_id"], u["site_name"]) for u in uses] == [
            (merchant.store_ids[0], merchant.site_ids[0], "Site 1"),
            (merchant.store_ids[1], merchant.site_ids[1], "Site 2"),
        ]
        first, second = (datetime.fromisoformat(u["first_used_at"]) for u in uses)
        assert first <= second
        with pytest.raises(LedgerRefused) as refused:
            client.store_uses(999999)
        assert (refused.value.status, refused.value.code) == (404, "integration_user_not_found")
