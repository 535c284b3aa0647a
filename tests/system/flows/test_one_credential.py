"""One Polaris credential per account, with the real Prefect server and runner: a
Retry of a finished onboarding does nothing outside Prefect, a new site of a live
account is onboarded under the credential Polaris has, and bad parameters fail the
run with one sentence."""

from __future__ import annotations

import json
import time
from typing import Any
from uuid import UUID

import httpx
from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.states import State, StateType

from harness.prefect_env import (
    FlowRunner,
    artifact_data,
    read_run,
    start_onboarding,
    submit_store_ids,
    wait_for_state,
)
from harness.smtp import SmtpServer
from harness.twilio_standin import TwilioStandin

CROWN = {"name": "The Crown", "address": "1 High Street", "reference": "crown"}
ANCHOR = {"name": "The Anchor", "address": "2 Quay Street", "reference": "anchor"}


def _onboarded(admin: httpx.Client, polaris: dict[str, str]) -> tuple[int, UUID]:
    account = admin.post("/admin/accounts", json={"name": "Quay Inns"}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    run_id = start_onboarding({"account_id": account["id"], "polaris": polaris, "sites": [CROWN]})
    wait_for_state(run_id, "PAUSED")
    site = _sites(admin, account["id"])[0]
    submit_store_ids(run_id, {site["id"]: f"PLR-{account['id']}-1"})
    wait_for_state(run_id, "COMPLETED", timeout=180)
    return account["id"], run_id


def _sites(admin: httpx.Client, account_id: int) -> list[dict[str, Any]]:
    return list(admin.get(f"/admin/accounts/{account_id}/sites").json())


def _polaris_users(admin: httpx.Client, account_id: int) -> list[dict[str, Any]]:
    users = admin.get(f"/admin/accounts/{account_id}/integration-users").json()
    return [u for u in users if u["purpose"] == "polaris"]


def _run_logs(run_id: UUID, until: str, timeout: float = 30) -> str:
    """The run's log as the Prefect UI shows it, once ``until`` has reached it (the
    run's process ships its logs in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
            )
        text = "\n".join(log.message for log in logs)
        if until in text or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def test_retrying_a_finished_onboarding_does_nothing_outside_prefect(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    account_id, run_id = _onboarded(admin, polaris)
    users_before = _polaris_users(admin, account_id)
    onboardings_before = admin.get("/admin/onboardings", params={"account_id": account_id}).json()
    emails = len(shared_smtp.messages_to(polaris["email"]))
    texts = len(shared_twilio.messages_to(polaris["mobile"]))

    # The Prefect UI's Retry on a completed run: the same API call it makes.
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            run_id,
            State(type=StateType.SCHEDULED, name="AwaitingRetry", message="Retry from the UI"),
            force=True,
        )
    wait_for_state(run_id, "SCHEDULED", "PENDING", "RUNNING", "COMPLETED")
    retried = _completed_again(run_id)
    assert retried.state is not None
    day = onboardings_before[0]["verified_at"][:10]
    assert retried.state.message == f"Already onboarded on {day}; nothing to do."

    assert _polaris_users(admin, account_id) == users_before  # no new API user
    assert admin.get("/admin/onboardings", params={"account_id": account_id}).json() == (
        onboardings_before
    )
    assert len(shared_smtp.messages_to(polaris["email"])) == emails
    assert len(shared_twilio.messages_to(polaris["mobile"])) == texts
    checklist = artifact_data(f"onboarding-{onboardings_before[0]['id']}-checklist")
    assert f"Already onboarded on {day}; nothing to do." in checklist
    assert f"/runs/flow-run/{run_id}" in checklist  # a link to the run that did it

    # The same parameters started again: the same answer, as a new run.
    again = start_onboarding({"account_id": account_id, "polaris": polaris, "sites": [CROWN]})
    assert wait_for_state(again, "COMPLETED").state.message.startswith("Already onboarded on")  # type: ignore[union-attr]
    assert _polaris_users(admin, account_id) == users_before
    assert len(shared_smtp.messages_to(polaris["email"])) == emails


def _completed_again(run_id: UUID, timeout: float = 120) -> Any:
    """The run after its retry completed (its state moves on from the first COMPLETED)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = read_run(run_id)
        if run.state and run.state.is_completed() and run.run_count >= 2:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} was not retried to completion in {timeout}s")


def test_a_new_site_of_a_live_account_goes_under_the_existing_credential(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    account_id, _ = _onboarded(admin, polaris)
    [live] = [u for u in _polaris_users(admin, account_id) if u["is_active"]]
    emails = len(shared_smtp.messages_to(polaris["email"]))
    texts = len(shared_twilio.messages_to(polaris["mobile"]))

    run_id = start_onboarding({"account_id": account_id, "polaris": polaris, "sites": [ANCHOR]})
    wait_for_state(run_id, "PAUSED")
    new_emails = shared_smtp.messages_to(polaris["email"])[emails:]
    assert len(new_emails) == 1
    email = new_emails[0]
    body = email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "The Anchor" in body and "The Crown" not in body
    assert live["username"] in body and "no new file" in body
    assert not list(email.iter_attachments())
    assert len(shared_twilio.messages_to(polaris["mobile"])) == texts  # no text

    anchor = next(s for s in _sites(admin, account_id) if s["reference"] == "anchor")
    crown_before = next(s for s in _sites(admin, account_id) if s["reference"] == "crown")
    submit_store_ids(run_id, {anchor["id"]: f"PLR-{account_id}-2"})
    wait_for_state(run_id, "COMPLETED", timeout=180)

    onboarding = admin.get(
        "/admin/onboardings", params={"account_id": account_id, "status": "verified"}
    ).json()[-1]
    assert onboarding["uses_existing_credential"] is True
    table = artifact_data(f"onboarding-{onboarding['id']}-verification")
    rows = table if isinstance(table, list) else json.loads(table)
    assert {r["site"] for r in rows} == {"The Anchor"}  # only the new store verified
    assert next(s for s in _sites(admin, account_id) if s["reference"] == "crown") == crown_before
    assert [u["id"] for u in _polaris_users(admin, account_id) if u["is_active"]] == [live["id"]]
    assert len(shared_twilio.messages_to(polaris["mobile"])) == texts


def test_an_unknown_product_fails_the_run_with_one_sentence(
    flows_runner: FlowRunner, ledger_admin: httpx.Client, polaris: dict[str, str]
) -> None:
    account = ledger_admin.post("/admin/accounts", json={"name": "Dock Inns"}).json()
    ledger_admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    run_id = start_onboarding({"account_id": account["id"], "polaris": polaris, "product_id": 999})
    try:
        wait_for_state(run_id, "COMPLETED")
    except AssertionError as ended:
        assert "ended FAILED" in str(ended)
    run = read_run(run_id)
    assert run.state is not None and run.state.is_failed()
    assert run.state.message == (
        f"Parameter product_id: Account {account['id']} has no in-store product 999."
    )
    logs = _run_logs(run_id, until="Finished in state Failed")
    assert "Parameter product_id: Account" in logs
    assert "Traceback" not in logs
    assert ledger_admin.get("/admin/onboardings", params={"account_id": account["id"]}).json() == []
