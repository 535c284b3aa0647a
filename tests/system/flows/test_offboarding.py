"""Offboarding, the way it happens for real: a merchant onboarded to verified by the
onboarding flow, then taken off Polaris by the offboarding flow (the ledger on
loopback, the real Prefect engine and runner, a real SMTP server). The old credential
gets 401 at once, over HTTP; each confirmation goes out exactly once, even when the
first run dies after revoking; running it again changes and sends nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from harness.ledger_process import LedgerService
from harness.prefect_env import (
    FlowRunner,
    artifact_data,
    start_onboarding,
    submit_store_ids,
    wait_for_state,
)
from harness.smtp import SmtpServer
from harness.twilio_standin import TwilioStandin
from tests.system.flows.polaris_side import open_file, password_from_text, zip_attachment

OFFBOARDING = "polaris-offboarding/polaris-offboarding"
SITES = [
    {"name": "The Lamb, Leeds", "address": "9 Lamb Lane, Leeds", "reference": "lamb-leeds"},
    {"name": "The Swan, York", "address": "1 Swan Street, York", "reference": "swan-york"},
]


def onboard_to_verified(
    admin: httpx.Client, smtp: SmtpServer, twilio: TwilioStandin, polaris: dict[str, str]
) -> dict[str, Any]:
    """An account onboarded by the flow, to verified: its Polaris credential from the file."""
    account = admin.post("/admin/accounts", json={"name": "Lamb Taverns"}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    run_id = start_onboarding({"account_id": account["id"], "polaris": polaris, "sites": SITES})
    wait_for_state(run_id, "PAUSED")
    (email,) = smtp.messages_to(polaris["email"])
    (text,) = twilio.messages_to(polaris["mobile"])
    _, zip_bytes = zip_attachment(email)
    polaris_file = open_file(zip_bytes, password_from_text(text.body))
    site_ids = [s["site_id"] for s in polaris_file.sites]
    tag = uuid.uuid4().hex[:6]
    submit_store_ids(run_id, {site: f"LAMB-{tag}-{n}" for n, site in enumerate(site_ids)})
    wait_for_state(run_id, "COMPLETED", timeout=180)
    return {
        "id": account["id"],
        "username": polaris_file.fields["Username"],
        "password": polaris_file.fields["Password"],
    }


def till_status(ledger: LedgerService, username: str, password: str) -> int:
    with httpx.Client(base_url=ledger.url, auth=(username, password), timeout=30) as till:
        return till.get("/v1/vouchers/6301190000000000000", params={"store_id": "x"}).status_code


def test_offboarding_revokes_clears_and_tells_each_once_even_after_a_crash(
    flows_runner: FlowRunner,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin, ledger = ledger_admin, ledger_service
    account = onboard_to_verified(admin, shared_smtp, shared_twilio, polaris)
    assert till_status(ledger, account["username"], account["password"]) == 403  # works
    merchant_email = f"owner-{uuid.uuid4().hex[:8]}@lamb.example"
    parameters = {"account_id": account["id"], "merchant_email": merchant_email}
    already = len(shared_smtp.messages_to(polaris["email"]))  # the onboarding's

    # The first run dies right after the ledger revoked and cleared: nobody told yet.
    flows_runner.arm("after:revoke_credentials", account=account["id"])
    crashed = wait_for_state(start_onboarding(parameters, OFFBOARDING), "CRASHED", "FAILED")
    assert crashed.state is not None and crashed.state.type.value == "CRASHED"
    assert till_status(ledger, account["username"], account["password"]) == 401
    assert len(shared_smtp.messages_to(polaris["email"])) == already
    assert shared_smtp.messages_to(merchant_email) == []

    # The next run finishes the same offboarding: both emails, once.
    run = wait_for_state(start_onboarding(parameters, OFFBOARDING), "COMPLETED")
    assert run.name.startswith("offboard Lamb Taverns (")
    to_polaris = shared_smtp.messages_to(polaris["email"])[already:]
    to_merchant = shared_smtp.messages_to(merchant_email)
    assert len(to_polaris) == 1 and len(to_merchant) == 1
    polaris_text = to_polaris[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert account["username"] in polaris_text and "401" in polaris_text
    assert "The Lamb, Leeds: LAMB-" in polaris_text
    merchant_text = to_merchant[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Lamb Taverns" in merchant_text and "no longer taken on Polaris" in merchant_text
    for message in (*to_polaris, *to_merchant):
        assert account["password"] not in message.as_string()

    sites = admin.get(f"/admin/accounts/{account['id']}/sites").json()
    assert [s["store_id"] for s in sites] == [None, None]
    users = admin.get(f"/admin/accounts/{account['id']}/integration-users").json()
    assert not [u for u in users if u["is_active"]]
    checklist = artifact_data(f"polaris-offboarding-{account['id']}")
    assert "- [ ]" not in checklist and checklist.count("- [x]") == 4
    assert "Status: **offboarded**" in checklist

    # Again: nothing changes, nothing is sent, and the run says so.
    wait_for_state(start_onboarding(parameters, OFFBOARDING), "COMPLETED")
    assert len(shared_smtp.messages_to(polaris["email"])) == already + 1
    assert len(shared_smtp.messages_to(merchant_email)) == 1
    assert "already offboarded; nothing to do" in artifact_data(
        f"polaris-offboarding-{account['id']}"
    )
    assert till_status(ledger, account["username"], account["password"]) == 401


def test_a_run_started_while_another_is_live_leaves_the_emails_to_it(
    flows_runner: FlowRunner,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    account = admin.post("/admin/accounts", json={"name": "Busy Arms"}).json()["id"]
    user = admin.post(
        f"/admin/accounts/{account}/integration-users",
        json={"label": "Polaris", "purpose": "polaris"},
    ).json()
    # Another offboarding run, live (scheduled for tomorrow), has revoked and not yet
    # emailed: the ledger's record is noted with it.
    live = run_deployment(
        OFFBOARDING,
        parameters={"account_id": account, "merchant_email": "x@busy.example"},
        scheduled_time=datetime.now(UTC) + timedelta(days=1),
        timeout=0,
    )
    assert isinstance(live, FlowRun)
    noted = admin.post(
        f"/admin/accounts/{account}/polaris/offboard",
        json={"clear_store_ids": True, "flow_run_id": str(live.id)},
    )
    assert noted.status_code == 200, noted.text
    assert till_status(ledger_service, user["username"], user["password"]) == 401

    merchant_email = f"owner-{uuid.uuid4().hex[:8]}@busy.example"
    parameters = {
        "account_id": account,
        "merchant_email": merchant_email,
        "polaris_email": polaris["email"],
    }
    with pytest.raises(AssertionError, match=f"being offboarded by flow run {live.id}"):
        wait_for_state(start_onboarding(parameters, OFFBOARDING), "COMPLETED")
    assert shared_smtp.messages_to(polaris["email"]) == []
    assert shared_smtp.messages_to(merchant_email) == []

    # That run gone, the next run finishes the offboarding: each email once.
    with get_client(sync_client=True) as client:
        client.delete_flow_run(live.id)
    wait_for_state(start_onboarding(parameters, OFFBOARDING), "COMPLETED")
    assert len(shared_smtp.messages_to(polaris["email"])) == 1
    assert len(shared_smtp.messages_to(merchant_email)) == 1
    (to_polaris,) = shared_smtp.messages_to(polaris["email"])
    assert "Hello Polaris team" in to_polaris.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
