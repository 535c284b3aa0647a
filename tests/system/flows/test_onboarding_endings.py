"""An onboarding run that ends badly outside its own ``try``: killed (SIGKILL) in the
middle of a stage, or cancelled from the UI while it waits for store IDs. Each is
recorded in the ledger with its reason, told in exactly one email (to the Polaris
contact and ONBOARDING_NOTIFY_EMAILS) however many watchers see it (the on_crashed
hook in the runner, the automation's polaris-run-ending run), and a second start
picks up where the first stopped.

The expired store-ID wait has a module of its own (it needs a Prefect server whose
pause-expiration loop runs): test_onboarding_expired_wait.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from prefect.settings import PREFECT_API_URL

from harness.prefect_env import (
    FlowRunner,
    start_onboarding,
    submit_store_ids,
    wait_for_state,
)
from harness.smtp import SmtpServer
from harness.system import NOTIFY_EMAIL
from harness.system_fixtures import OnboardingCli
from harness.twilio_standin import TwilioStandin
from tests.system.flows.endings_support import (
    ending_notices,
    html_of,
    onboarding_of,
    subject_of,
    text_of,
    wait_for_ending_run,
    wait_for_log,
    wait_for_status,
)
from tests.system.flows.polaris_side import (
    open_file,
    password_from_text,
    store_id_link_from,
    zip_attachment,
)

SITES = [
    {"name": "The Mitre", "address": "3 Mitre Yard, York", "reference": "mitre"},
    {"name": "The Swan", "address": "5 Swan Lane, York", "reference": "swan"},
]


def _merchant(admin: httpx.Client, polaris: dict[str, str], name: str) -> dict[str, Any]:
    """An account named ``name`` and a tag of its own (emails are told apart by it)."""
    account = admin.post("/admin/accounts", json={"name": name}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    return {"account_id": account["id"], "polaris": polaris, "sites": SITES}


def test_killed_mid_stage_is_recorded_crashed_told_once_and_started_again(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    merchant = f"Minster Taverns {uuid.uuid4().hex[:6]}"
    parameters = _merchant(admin, polaris, merchant)
    account_id = parameters["account_id"]
    # Killed inside "create API user": the credential issued, nothing delivered yet.
    flows_runner.arm("after:create_api_user", account=account_id, sigkill=True)
    first = start_onboarding(parameters)
    crashed = wait_for_state(first, "CRASHED", "FAILED")
    assert crashed.state is not None and crashed.state.type.value == "CRASHED"

    onboarding = wait_for_status(admin, account_id, "crashed")
    assert onboarding["ended_as"] == "crashed"
    assert onboarding["ended_flow_run_id"] == str(first)
    assert "-9" in onboarding["failure_reason"]  # the runner saw the process die of SIGKILL
    # Both watchers have seen it: the runner's on_crashed hook and the automation.
    wait_for_log(first, "Hook 'on_crashed' finished running successfully")
    wait_for_ending_run(first)

    # Exactly one email, to the Polaris contact and our own people.
    for address in (polaris["email"], NOTIFY_EMAIL):
        assert len(ending_notices(shared_smtp, address, merchant)) == 1, address
    (notice,) = ending_notices(shared_smtp, polaris["email"])
    assert subject_of(notice) == f"Onboarding crashed for {merchant}: deliver the credentials"
    text, html = text_of(notice), html_of(notice)
    run_link = f"{PREFECT_API_URL.value().removesuffix('/api')}/runs/flow-run/{first}"
    for body in (text, html):
        assert "crashed" in body and "-9" in body
        assert run_link in body
        assert f"uv run onboarding start --account {account_id}" in body
        assert "picks up where it stopped" in body
    assert "--site 'The Mitre|3 Mitre Yard, York|mitre'" in text

    # Started again: it picks up where it stopped, and finishes verified.
    second = start_onboarding(parameters)
    wait_for_state(second, "PAUSED")
    assert onboarding_of(admin, account_id)["ended_as"] is None
    password = password_from_text(shared_twilio.messages_to(polaris["mobile"])[-1].body)
    (file_email,) = [
        m for m in shared_smtp.messages_to(polaris["email"]) if zip_attachment_or_none(m)
    ]
    polaris_file = open_file(zip_attachment(file_email)[1], password)
    submit_store_ids(second, {s["site_id"]: f"PLR-M{s['site_id']}" for s in polaris_file.sites})
    wait_for_state(second, "COMPLETED", timeout=180)
    assert onboarding_of(admin, account_id)["status"] == "verified"
    assert len(ending_notices(shared_smtp, polaris["email"])) == 1  # nothing more was told


def zip_attachment_or_none(message: Any) -> bool:
    return any(part.get_filename() for part in message.iter_attachments())


def test_cancelled_while_waiting_is_recorded_and_told_once(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    polaris: dict[str, str],
    onboarding_cli: OnboardingCli,
) -> None:
    admin = ledger_admin
    merchant = f"Ouse Inns {uuid.uuid4().hex[:6]}"
    parameters = _merchant(admin, polaris, merchant)
    account_id = parameters["account_id"]
    run_id = start_onboarding(parameters)
    wait_for_state(run_id, "PAUSED")
    (file_email,) = [
        m for m in shared_smtp.messages_to(polaris["email"]) if zip_attachment_or_none(m)
    ]
    link = store_id_link_from(file_email)

    # The Prefect UI's "Cancel": it proposes CANCELLING; Prefect's server makes a
    # suspended run (no process to stop) CANCELLED at once. No hook of ours runs.
    answer = httpx.post(
        f"{PREFECT_API_URL.value()}/flow_runs/{run_id}/set_state",
        json={"state": {"type": "CANCELLING", "name": "Cancelling"}, "force": False},
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text
    wait_for_state(run_id, "CANCELLED")

    onboarding = wait_for_status(admin, account_id, "cancelled")
    assert onboarding["ended_flow_run_id"] == str(run_id)
    assert onboarding["failure_reason"]
    wait_for_ending_run(run_id)
    for address in (polaris["email"], NOTIFY_EMAIL):
        assert len(ending_notices(shared_smtp, address, merchant)) == 1, address
    (notice,) = ending_notices(shared_smtp, polaris["email"])
    assert subject_of(notice) == f"Onboarding cancelled for {merchant}: await store IDs"
    body = text_of(notice)
    assert "was cancelled" in body and f"/runs/flow-run/{run_id}" in body
    assert f"uv run onboarding start --account {account_id}" in body

    # Reminders stop (the onboarding no longer waits), and the link says it has stopped.
    waiting = admin.get("/admin/onboardings", params={"status": "awaiting_store_ids"}).json()
    assert onboarding["id"] not in [o["id"] for o in waiting]
    page = httpx.get(link, timeout=30)
    assert page.status_code == 410
    assert "no longer waiting for store IDs" in page.text and "cancelled" in page.text

    # `onboarding status RUN` says so, and how to start it again.
    shown = onboarding_cli("status", str(run_id))
    assert shown.exit_code == 0, shown.output
    assert f"Onboarding: {onboarding['id']}, cancelled at " in shown.stdout
    assert f"uv run onboarding start --account {account_id} " in shown.stdout
    as_json = json.loads(onboarding_cli("status", str(run_id), "--json").stdout)
    assert as_json["onboarding"]["ended_as"] == "cancelled"
    assert as_json["onboarding"]["restart"].startswith("uv run onboarding start")
