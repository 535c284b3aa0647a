"""Credential rotation with the real Prefect server and runner, real SMTP and the
twilio client: a new file and text go to Polaris, both credentials work while the run
waits suspended (holding no process), the old one stops the moment a till calls with
the new one (real HTTP), and the watch then closes the run; or the account manager
revokes the old one at once through the run's form."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import httpx
from prefect import get_client

from contract.onboardings import OnboardingOut
from flows.rotation_stages import reason_to_revoke
from harness.ledger_process import LedgerService
from harness.prefect_env import (
    FlowRunner,
    artifact_data,
    start_onboarding,
    submit_store_ids,
    wait_for_state,
)
from harness.prefect_workers import flow_run_processes
from harness.smtp import SmtpServer
from harness.system_fixtures import OnboardingCli
from harness.twilio_standin import TwilioStandin
from tests.system.flows.polaris_side import open_file, password_from_text, zip_attachment

ROTATION = "polaris-credential-rotation/polaris-credential-rotation"
WATCH = "polaris-rotation-watch/rotation-watch"
SITE = {"name": "The Swan", "address": "4 River Walk", "reference": "swan"}


def _credential(email: EmailMessage, text_body: str) -> tuple[str, str]:
    _, zip_bytes = zip_attachment(email)
    fields = open_file(zip_bytes, password_from_text(text_body)).fields
    return str(fields["Username"]), str(fields["Password"])


def _onboarded(
    admin: httpx.Client, polaris: dict[str, str], smtp: SmtpServer, twilio: TwilioStandin
) -> tuple[int, str, tuple[str, str]]:
    """An account onboarded to verified: its ID, store ID and Polaris credential."""
    account = admin.post("/admin/accounts", json={"name": "Swan Inns"}).json()["id"]
    admin.post(f"/admin/accounts/{account}/products", json={"name": "Gift voucher"})
    run_id = start_onboarding({"account_id": account, "polaris": polaris, "sites": [SITE]})
    wait_for_state(run_id, "PAUSED")
    (site,) = admin.get(f"/admin/accounts/{account}/sites").json()
    store_id = f"PLR-{account}-swan"
    submit_store_ids(run_id, {site["id"]: store_id})
    wait_for_state(run_id, "COMPLETED", timeout=180)
    email = smtp.messages_to(polaris["email"])[0]
    return account, store_id, _credential(email, twilio.messages_to(polaris["mobile"])[0].body)


def _till_status(ledger: LedgerService, auth: tuple[str, str], store_id: str) -> int:
    with httpx.Client(base_url=ledger.url, auth=auth, timeout=30) as till:
        return till.get(
            "/v1/vouchers/6301190000000000000", params={"store_id": store_id}
        ).status_code


def _rotate(account: int) -> UUID:
    return start_onboarding({"account_id": account}, deployment=ROTATION)


def _no_process_holds(run_id: UUID) -> None:
    deadline = time.monotonic() + 30
    while flow_run_processes(run_id):
        assert time.monotonic() < deadline, "the suspended rotation still holds a process"
        time.sleep(0.5)


def _rotation_record(admin: httpx.Client, account: int) -> dict[str, Any]:
    found = admin.get("/admin/onboardings", params={"account_id": account, "kind": "rotation"})
    return dict(found.json()[-1])


def test_the_old_credential_works_until_a_till_uses_the_new_one(
    flows_runner: FlowRunner,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin, ledger = ledger_admin, ledger_service
    account, store_id, old = _onboarded(admin, polaris, shared_smtp, shared_twilio)

    run_id = _rotate(account)
    wait_for_state(run_id, "PAUSED")
    _no_process_holds(run_id)
    emails = shared_smtp.messages_to(polaris["email"])
    texts = shared_twilio.messages_to(polaris["mobile"])
    assert len(texts) == 2
    rotation_email = emails[-1]
    assert "New gift card API credential" in rotation_email["Subject"]
    body = rotation_email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert old[0] in body and "14 days" in body
    new = _credential(rotation_email, texts[-1].body)
    assert new[0] != old[0]

    # The grace: both work (the new one probed from a store of no site: not a switch).
    assert _till_status(ledger, old, store_id) == 404
    assert _till_status(ledger, new, "no-such-store") == 403
    assert _till_status(ledger, old, store_id) == 404
    record = _rotation_record(admin, account)
    assert record["status"] == "awaiting_first_use"

    # A till calls with the new credential: the old one is refused from then on.
    assert _till_status(ledger, new, store_id) == 404
    deadline = time.monotonic() + 10
    while _till_status(ledger, old, store_id) != 401:
        assert time.monotonic() < deadline, "the old credential still works"
        time.sleep(0.2)
    assert _till_status(ledger, new, store_id) == 404

    # The watch (every 5 minutes when served; run here at once) closes the rotation.
    watch = start_onboarding({}, deployment=WATCH)
    wait_for_state(watch, "COMPLETED", timeout=120)
    wait_for_state(run_id, "COMPLETED", timeout=120)
    record = _rotation_record(admin, account)
    assert record["status"] == "rotated"
    checklist = artifact_data(f"rotation-{record['id']}-checklist")
    assert f"- {store_id} (The Swan), first at" in checklist
    assert "Polaris's tills called with the new credential" in checklist
    users = admin.get(f"/admin/accounts/{account}/integration-users").json()
    active = [u["username"] for u in users if u["is_active"] and u["purpose"] == "polaris"]
    assert active == [new[0]]
    secret_places = flows_runner.log_text() + artifact_data(f"rotation-{record['id']}-checklist")
    assert new[1] not in secret_places and old[1] not in secret_places


def test_the_account_manager_revokes_the_old_credential_at_once(
    flows_runner: FlowRunner,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin, ledger = ledger_admin, ledger_service
    account, store_id, old = _onboarded(admin, polaris, shared_smtp, shared_twilio)
    run_id = _rotate(account)
    wait_for_state(run_id, "PAUSED")
    new = _credential(
        shared_smtp.messages_to(polaris["email"])[-1],
        shared_twilio.messages_to(polaris["mobile"])[-1].body,
    )
    # A third Polaris credential meanwhile is refused, naming both.
    refused = admin.post(
        f"/admin/accounts/{account}/integration-users", json={"purpose": "polaris"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "polaris_credential_exists"

    # The run's form in the Prefect UI: tick "revoke the old credential now", resume.
    with get_client(sync_client=True) as client:
        client.resume_flow_run(run_id, run_input={"revoke_old_now": True})
    wait_for_state(run_id, "COMPLETED", timeout=120)
    assert _till_status(ledger, old, store_id) == 401
    assert _till_status(ledger, new, store_id) == 404
    record = _rotation_record(admin, account)
    assert record["status"] == "rotated"
    assert "the account manager asked for it" in artifact_data(f"rotation-{record['id']}-checklist")


def test_rotating_from_the_command_line(
    flows_runner: FlowRunner,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    onboarding_cli: OnboardingCli,
    polaris: dict[str, str],
) -> None:
    admin, ledger = ledger_admin, ledger_service
    account, store_id, old = _onboarded(admin, polaris, shared_smtp, shared_twilio)

    started = onboarding_cli("rotate", "--account", str(account), "--json")
    assert started.exit_code == 0, started.output
    run_id = UUID(json.loads(started.output)["id"])
    wait_for_state(run_id, "PAUSED")

    # The grace period decides when nobody else does (its end, here, passed in).
    rotation = OnboardingOut.model_validate(_rotation_record(admin, account))
    assert reason_to_revoke(rotation, datetime.now(UTC) + timedelta(days=1)) is None
    ended = reason_to_revoke(rotation, datetime.now(UTC) - timedelta(seconds=1))
    assert ended == "the grace period of 14 days ended"

    revoked = onboarding_cli("rotate", "--account", str(account), "--revoke-old-now")
    assert revoked.exit_code == 0, revoked.output
    assert f"Asked rotation run {run_id} to revoke the old credential now." in revoked.output
    wait_for_state(run_id, "COMPLETED", timeout=120)
    assert _till_status(ledger, old, store_id) == 401

    again = onboarding_cli("rotate", "--account", str(account), "--revoke-old-now")
    assert again.exit_code == 1
    assert f"Account {account} has no rotation waiting for Polaris's tills." in again.stderr
