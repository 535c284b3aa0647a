"""Faults on the way: a refusing SMTP server, a failing Twilio, a ledger that is
down, and the run killed between each pair of stages.

The SMTP server, the Twilio stand-in, the ledger and the flows runner are the
session's: each test has an account and a Polaris contact of its own, and its faults
are aimed at them (a refusal for its address, a failure for its number, a failpoint
for its account)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.credentials_file import WrongFilePasswordError
from harness.ledger_process import LedgerService
from harness.prefect_env import (
    FLOW,
    FlowRunner,
    PrefectServer,
    read_run,
    serve_flows,
    start_onboarding,
    submit_store_ids,
    wait_for_state,
)
from harness.smtp import SmtpServer
from harness.system import NOTIFY_EMAIL
from harness.twilio_standin import TwilioStandin
from tests.system.flows.endings_support import ending_notices, is_ending_notice, wait_for_status
from tests.system.flows.polaris_side import open_file, password_from_text, zip_attachment

SITES = [
    {"name": "The Crown", "address": "1 High Street", "reference": "crown"},
    {"name": "The Anchor", "address": "2 Quay Street", "reference": "anchor"},
]


def _merchant(admin: httpx.Client, polaris: dict[str, str]) -> dict[str, Any]:
    account = admin.post("/admin/accounts", json={"name": "Harbour Inns"}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    return {"account_id": account["id"], "polaris": polaris, "sites": SITES}


def _active_users(admin: httpx.Client, account_id: int) -> list[str]:
    users = admin.get(f"/admin/accounts/{account_id}/integration-users").json()
    return [u["username"] for u in users if u["is_active"]]


def test_smtp_refusing_once_is_retried_and_one_email_arrives(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    shared_smtp.refuse_next(1, code=451, text="4.3.0 Try again later", to=polaris["email"])
    run_id = start_onboarding(_merchant(ledger_admin, polaris))
    wait_for_state(run_id, "PAUSED")
    assert len(shared_smtp.messages_to(polaris["email"])) == 1
    assert len(shared_twilio.messages_to(polaris["mobile"])) == 1


def test_twilio_error_is_retried_then_fails_clearly(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    shared_twilio.fail_next(10, status=500, code=20500, to=polaris["mobile"])
    parameters = _merchant(admin, polaris)
    run_id = start_onboarding(parameters)
    run = wait_for_state(run_id, "FAILED")
    assert shared_twilio.requests_to(polaris["mobile"]) == 4  # the first try and three retries
    assert shared_twilio.messages_to(polaris["mobile"]) == []
    assert run.state is not None and "Twilio" in (run.state.message or "") + flows_runner.log_text()
    onboarding = admin.get(
        "/admin/onboardings", params={"account_id": parameters["account_id"]}
    ).json()[0]
    assert onboarding["status"] == "failed" and "20500" in onboarding["failure_reason"]
    # The people involved are told; the undelivered credential is what the next attempt revokes.
    failure_mails = [
        m
        for m in shared_smtp.messages_to(polaris["email"])
        if "failed" in str(m["Subject"]).lower()
    ]
    assert len(failure_mails) == 1
    assert NOTIFY_EMAIL in str(failure_mails[0]["To"])


def test_ledger_down_fails_clearly_and_creates_nothing(
    prefect_server: PrefectServer,
    tmp_path: Path,
    flow_env: dict[str, str],
    fresh_ledger: LedgerService,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    # A ledger of this test's own, to see that nothing at all was created in it; the
    # flows are served beside the session's runner, under a deployment of their own.
    with fresh_ledger.admin() as admin:
        parameters = _merchant(admin, polaris)
        down = {**flow_env, "ONBOARDING_LEDGER_URL": "http://127.0.0.1:9"}
        with serve_flows(
            prefect_server, tmp_path / "runner-down", down, deployment_name="ledger-down"
        ) as runner:
            run_id = start_onboarding(parameters, deployment=f"{FLOW}/ledger-down")
            run = wait_for_state(run_id, "FAILED")
        assert run.state is not None
        assert "cannot be reached" in (run.state.message or "") + runner.log_text()
        assert admin.get("/admin/onboardings").json() == []
        assert admin.get(f"/admin/accounts/{parameters['account_id']}/sites").json() == []
        assert _active_users(admin, parameters["account_id"]) == []
    assert shared_smtp.messages_to(polaris["email"]) == []
    assert shared_twilio.messages_to(polaris["mobile"]) == []


@pytest.mark.parametrize(
    "failpoint",
    [
        "after:add_sites",
        "after:create_api_user",
        "after:build_encrypted_file",
        "after:email_polaris",
        "after:text_password",
        "after:save_store_ids",
    ],
)
def test_killed_between_stages_then_started_again(
    failpoint: str,
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    parameters = _merchant(admin, polaris)
    account_id = parameters["account_id"]
    flows_runner.arm(failpoint, account=account_id)
    first = start_onboarding(parameters)
    if failpoint == "after:save_store_ids":
        wait_for_state(first, "PAUSED")
        _answer_store_ids(first, shared_twilio, shared_smtp, polaris)
    crashed = wait_for_state(first, "CRASHED", "FAILED")
    assert crashed.state is not None and crashed.state.type.value == "CRASHED"
    # The runner's on_crashed hook (or the automation) records it and tells people once.
    wait_for_status(admin, account_id, "crashed")

    second = start_onboarding(parameters)
    if failpoint == "after:save_store_ids":
        wait_for_state(second, "COMPLETED")
    else:
        wait_for_state(second, "PAUSED")

    # Exactly one text, and its password opens the last email's file, whose
    # credential is the one active API user.
    texts = shared_twilio.messages_to(polaris["mobile"])
    assert len(texts) == 1
    file_password = password_from_text(texts[0].body)
    polaris_emails = _polaris_emails(shared_smtp, polaris)
    expected_emails = 2 if failpoint == "after:email_polaris" else 1
    assert len(polaris_emails) == expected_emails
    polaris_file = open_file(zip_attachment(polaris_emails[-1])[1], file_password)
    assert _active_users(admin, account_id) == [polaris_file.fields["Username"]]
    for stale in polaris_emails[:-1]:
        with pytest.raises(WrongFilePasswordError):
            open_file(zip_attachment(stale)[1], file_password)
    # A run started again after the file and text went out waits under a new flow run,
    # so it emails Polaris its own store-ID link (the first email's no longer works).
    link_emails = [m for m in shared_smtp.messages_to(polaris["email"]) if _is_link_email(m)]
    assert len(link_emails) == (1 if failpoint == "after:text_password" else 0)

    if failpoint != "after:save_store_ids":
        _answer_store_ids(second, shared_twilio, shared_smtp, polaris)
        wait_for_state(second, "COMPLETED")
    onboarding = admin.get("/admin/onboardings", params={"account_id": account_id}).json()[0]
    assert onboarding["status"] == "verified"
    assert len(_active_users(admin, account_id)) == 1
    assert len(ending_notices(shared_smtp, polaris["email"])) == 1
    assert read_run(second).state is not None


def _polaris_emails(smtp: SmtpServer, polaris: dict[str, str]) -> list[EmailMessage]:
    """The emails with the file (not notices of a bad ending, nor a restarted run's new
    link)."""
    return [
        m
        for m in smtp.messages_to(polaris["email"])
        if not is_ending_notice(m) and not _is_link_email(m)
    ]


def _is_link_email(message: EmailMessage) -> bool:
    return str(message["Subject"]).startswith("New link for the Polaris store IDs")


def _answer_store_ids(
    run_id: Any, twilio: TwilioStandin, smtp: SmtpServer, polaris: dict[str, str]
) -> None:
    password = password_from_text(twilio.messages_to(polaris["mobile"])[-1].body)
    polaris_file = open_file(zip_attachment(_polaris_emails(smtp, polaris)[-1])[1], password)
    submit_store_ids(run_id, {s["site_id"]: f"PLR-{s['site_id']}" for s in polaris_file.sites})
