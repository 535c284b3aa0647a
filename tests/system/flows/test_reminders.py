"""The scheduled reminder flow, on the real Prefect engine, against the ledger and a
real SMTP server. It reminds about every waiting onboarding in the ledger, so this
test has a ledger of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from flows import settings as flow_settings
from flows.reminders import store_id_reminders
from harness.ledger_process import LedgerService
from harness.prefect_env import PrefectServer
from harness.smtp import SmtpServer
from tests.system.flows.polaris_side import store_id_link_from


@pytest.fixture
def configured(
    flow_env: dict[str, str], fresh_ledger: LedgerService, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    for name, value in {**flow_env, "ONBOARDING_LEDGER_URL": fresh_ledger.url}.items():
        monkeypatch.setenv(name, value)
    flow_settings.get_settings.cache_clear()
    yield
    flow_settings.get_settings.cache_clear()


def _waiting_onboarding(admin: httpx.Client, polaris: dict[str, str]) -> dict[str, object]:
    """An onboarding whose file and text went out, as the flow records them."""
    account = admin.post("/admin/accounts", json={"name": "Quay Bars"}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    site = admin.post(
        f"/admin/accounts/{account['id']}/sites",
        json={"name": "Quay Bar", "address": "4 The Quay, Exeter", "reference": "quay-1"},
    ).json()
    onboarding = admin.post(
        "/admin/onboardings",
        json={
            "account_id": account["id"],
            "polaris": polaris,
        },
    ).json()
    base = f"/admin/onboardings/{onboarding['id']}"
    run = str(uuid.uuid4())
    claim = {"flow_run_id": run, "expected_flow_run_id": None}
    admin.post(f"{base}/claim", json=claim).raise_for_status()
    admin.post(f"{base}/stages/sites_added", json={"site_ids": [site["id"]]}).raise_for_status()
    user = admin.post(f"{base}/credential").json()
    # The run's store-ID link, emailed with the file (as the flow's "email Polaris" does).
    link = admin.post(
        f"{base}/store-id-link", json={"flow_run_id": run, "valid_for_seconds": 86400}
    ).json()
    for stage in ("email_sent", "text_sent"):
        admin.post(
            f"{base}/stages/{stage}", json={"api_user_id": user["api_user_id"]}
        ).raise_for_status()
    admin.post(f"{base}/store-id-link/emailed", json={"flow_run_id": run}).raise_for_status()
    waiting = admin.get(base).json()
    waiting["store_id_link"] = link["url"]
    assert waiting["status"] == "awaiting_store_ids"
    return dict(waiting)


def test_reminds_waiting_onboardings_once_per_period(
    prefect_server: PrefectServer,
    configured: None,
    fresh_ledger: LedgerService,
    shared_smtp: SmtpServer,
    polaris: dict[str, str],
) -> None:
    with fresh_ledger.admin() as admin:
        _reminds_once_per_period(admin, shared_smtp, polaris)


def _reminds_once_per_period(
    admin: httpx.Client, smtp: SmtpServer, polaris: dict[str, str]
) -> None:
    onboarding = _waiting_onboarding(admin, polaris)

    # Not waited long enough yet: nothing sent.
    assert store_id_reminders(after_days=1) == []
    assert smtp.messages_to(polaris["email"]) == []

    # Waited longer than the period (zero here): Polaris is reminded, naming the site.
    assert store_id_reminders(after_days=0.000001) == [onboarding["id"]]
    (reminder,) = smtp.messages_to(polaris["email"])
    assert reminder["To"] == polaris["email"]
    body = reminder.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Quay Bar" in body and "store ID" in body
    # The same store-ID link as the first email's, in both parts.
    assert store_id_link_from(reminder) == onboarding["store_id_link"]
    assert admin.get(f"/admin/onboardings/{onboarding['id']}").json()["last_reminder_at"]

    # Reminded a moment ago: the next run within the period leaves it alone.
    assert store_id_reminders(after_days=1) == []
    assert len(smtp.messages_to(polaris["email"])) == 1
