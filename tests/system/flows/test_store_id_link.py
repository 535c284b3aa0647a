"""Polaris enters the store IDs itself, through the link in the email: the ledger's
page, served by the ledger in a child process, resumes the run on the real Prefect
server (through a loopback proxy that can lose or refuse Prefect's answers), and the
flow saves and verifies them as it does any answer. The session's SMTP server, Twilio
stand-in and flows runner serve every test; each keeps to its own account and Polaris
contact."""

from __future__ import annotations

import contextvars
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from prefect import get_client
from prefect.states import Cancelling

from harness.faulty_proxy import FaultyProxy
from harness.html_page import Page, read_page
from harness.ledger_process import LedgerService
from harness.prefect_env import (
    FlowRunner,
    PrefectServer,
    artifact_data,
    read_run,
    start_onboarding,
    wait_for_state,
)
from harness.smtp import SmtpServer
from harness.system_fixtures import OnboardingCli
from tests.system.flows.endings_support import (
    ending_notices,
    is_ending_notice,
    wait_for_ending_run,
    wait_for_status,
)
from tests.system.flows.polaris_side import store_id_link_from

SITES = [
    {"name": "The Crown, Soho", "address": "12 Dean Street, London", "reference": "crown-soho"},
    {"name": "The Anchor", "address": "3 Harbourside, Bristol", "reference": "anchor"},
]
GOOD = {"The Crown, Soho": "PLR-100", "The Anchor": "PLR-200"}


def _account(admin: httpx.Client, name: str) -> int:
    account = admin.post("/admin/accounts", json={"name": name}).json()["id"]
    admin.post(f"/admin/accounts/{account}/products", json={"name": "Gift voucher"})
    return int(account)


def _waiting(admin: httpx.Client, polaris: dict[str, str], name: str) -> tuple[int, UUID]:
    account = _account(admin, name)
    run_id = start_onboarding({"account_id": account, "polaris": polaris, "sites": SITES})
    wait_for_state(run_id, "PAUSED", timeout=180)
    return account, run_id


def _page(response: httpx.Response, status: int) -> Page:
    assert response.status_code == status, (
        f"{response.status_code}: {read_page(response.text).text[:1500]}"
    )
    assert "Traceback" not in response.text
    return read_page(response.text)


def _form(url: str, by_name: dict[str, str]) -> dict[str, str]:
    """The form filled in as Polaris would: by the sites' names as the page labels them."""
    shown = _page(httpx.get(url, timeout=60), 200)
    fields = {f.label: f.name for f in shown.fields()}
    assert set(fields) == set(by_name), fields
    return {"link": shown.hidden("link"), **{fields[n]: v for n, v in by_name.items()}}


def _response_key(run_id: UUID) -> str:
    run = read_run(run_id)
    assert run.state is not None and run.state.state_details.run_input_keyset
    return str(run.state.state_details.run_input_keyset["response"])


def _store_ids(admin: httpx.Client, account: int) -> dict[str, str | None]:
    return {s["name"]: s["store_id"] for s in admin.get(f"/admin/accounts/{account}/sites").json()}


def _onboarding(admin: httpx.Client, account: int) -> dict[str, Any]:
    (onboarding,) = admin.get("/admin/onboardings", params={"account_id": account}).json()
    return dict(onboarding)


def test_polaris_enters_the_store_ids_through_the_emailed_link(
    flows_runner: FlowRunner,
    prefect_server: PrefectServer,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    onboarding_cli: OnboardingCli,
    polaris: dict[str, str],
    outbox: Path,
) -> None:
    admin = ledger_admin
    account, run_id = _waiting(admin, polaris, "Crown Inns")
    (email,) = shared_smtp.messages_to(polaris["email"])
    url = store_id_link_from(email)
    assert url.startswith(f"{ledger_service.url}/polaris/store-ids/")
    token = url.rsplit("/", 1)[1]

    shown = _page(httpx.get(url), 200)
    assert shown.heading == "Polaris store IDs for Crown Inns"
    assert [f.label for f in shown.fields()] == [s["name"] for s in SITES]

    # A duplicate: the reason by both fields, what was typed kept, nothing sent.
    waiting_for = _response_key(run_id)
    duplicate = _form(url, {"The Crown, Soho": "PLR-100", "The Anchor": "PLR-100"})
    refused = _page(httpx.post(url, data=duplicate), 422)
    for field in refused.fields():
        assert field.value == "PLR-100" and field.invalid
        assert any("given to more than one site" in text for text in field.described_by)
    assert read_run(run_id).state.type.value == "PAUSED"  # type: ignore[union-attr]
    assert _response_key(run_id) == waiting_for  # the run was not resumed

    # The right ones: sent to the run, and shown back.
    received = _page(httpx.post(url, data=_form(url, GOOD)), 200)
    assert received.heading == "Thank you: store IDs received for Crown Inns"
    for name, store_id in GOOD.items():
        assert f"{name}" in received.text and store_id in received.text
    # A second submit (a reload, a double click) is told so, and changes nothing.
    again = _page(httpx.post(url, data={**duplicate, "link": token}), 410)
    assert again.heading == "Store IDs already received"

    wait_for_state(run_id, "COMPLETED", timeout=180)
    onboarding = _onboarding(admin, account)
    assert onboarding["status"] == "verified"
    assert _store_ids(admin, account) == GOOD  # saved by the flow's own stage

    # The account manager sees that the link was used, and when.
    checklist = artifact_data(f"onboarding-{onboarding['id']}-checklist")
    assert "Store-ID link: emailed" in checklist and "**used by Polaris at" in checklist
    status = onboarding_cli("status", str(run_id))
    assert status.exit_code == 0, status.output
    assert "Store-ID link: emailed" in status.stdout and "used by Polaris at" in status.stdout

    # Afterwards the link says the store IDs are in, and offers no form.
    after = _page(httpx.get(url), 410)
    assert after.heading == "Store IDs already received" and after.fields() == []
    assert "through this page" in after.text

    # The link is in the email, and nowhere else: not in the ledger's log (masked to
    # its last characters), its database, Prefect's database, nor the flows' logs.
    ledger_log = ledger_service.log_text()
    assert f"/polaris/store-ids/…{token[-4:]}" in ledger_log  # the access log was on
    places = {
        "the ledger's log": ledger_log.encode(),
        "the ledger's database": _folder_bytes(ledger_service.sqlite_path().parent),
        "Prefect's database": _folder_bytes(prefect_server.database_path.parent),
        "Prefect's home and result storage": _folder_bytes(flows_runner.home),
        "the flow processes' logs": flows_runner.log_text().encode(),
        "the outbox": _folder_bytes(outbox),
    }
    for place, content in places.items():
        for secret in (token, token.split(".")[0], token.split(".")[1]):
            assert secret.encode() not in content, f"the link's token is in {place}"


def test_page_and_command_line_racing_one_answer_is_used_and_the_other_told(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    onboarding_cli: OnboardingCli,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    other_polaris = {**polaris, "email": "other-" + polaris["email"]}
    # Two onboardings waiting at once: one for a true race, one where the command line
    # answers while Polaris has the page open.
    racing = _account(admin, "Racing Inns")
    late = _account(admin, "Late Inns")
    runs = {
        account: start_onboarding({"account_id": account, "polaris": contact, "sites": SITES})
        for account, contact in ((racing, polaris), (late, other_polaris))
    }
    for run_id in runs.values():
        wait_for_state(run_id, "PAUSED", timeout=180)
    from_page = {"The Crown, Soho": "PAGE-1", "The Anchor": "PAGE-2"}
    from_cli = {"The Crown, Soho": "CLI-1", "The Anchor": "CLI-2"}
    cli_args = [f"--store={name}={value}" for name, value in from_cli.items()]

    # Both at once.
    url = store_id_link_from(shared_smtp.messages_to(polaris["email"])[0])
    body = _form(url, from_page)
    results: dict[str, Any] = {}
    start = threading.Barrier(2)

    def page() -> None:
        start.wait()
        results["page"] = httpx.post(url, data=body, timeout=120)

    def command_line() -> None:
        start.wait()
        results["cli"] = onboarding_cli("store-ids", str(runs[racing]), *cli_args)

    # Prefect's settings (the test harness's server) are context variables: the command
    # line's thread runs in a copy of this context.
    in_context = contextvars.copy_context()
    threads = [
        threading.Thread(target=page),
        threading.Thread(target=in_context.run, args=(command_line,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    page_won = results["page"].status_code == 200
    cli_won = results["cli"].exit_code == 0
    print(f"race: {'the page' if page_won else 'the command line'} answered first")
    assert page_won != cli_won, (results["page"].status_code, results["cli"].output)
    if page_won:
        assert "stopped waiting before the store IDs were sent" in results["cli"].output
    else:
        assert _page(results["page"], 409).heading == "Store IDs already given"

    # The command line first, the page's form (opened before) sent after.
    late_url = store_id_link_from(shared_smtp.messages_to(other_polaris["email"])[0])
    late_body = _form(late_url, from_page)
    answered = onboarding_cli("store-ids", str(runs[late]), *cli_args)
    assert answered.exit_code == 0, answered.output
    told = _page(httpx.post(late_url, data=late_body), 409)
    assert told.heading == "Store IDs already given"
    assert "so this form was not used" in told.text

    for run_id in runs.values():
        wait_for_state(run_id, "COMPLETED", timeout=180)
    assert _store_ids(admin, racing) == (from_page if page_won else from_cli)
    assert _store_ids(admin, late) == from_cli


def test_prefect_losing_or_refusing_the_answer_is_handled(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    prefect_proxy: FaultyProxy,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    account, run_id = _waiting(admin, polaris, "Faulty Inns")
    url = store_id_link_from(shared_smtp.messages_to(polaris["email"])[0])
    resume = rf"/flow_runs/{run_id}/resume$"

    # Prefect unreachable for the moment (every try fails): nothing sent, all kept.
    prefect_proxy.fail_next("POST", resume, status=503, times=3)
    shown = _page(httpx.post(url, data=_form(url, GOOD)), 200)
    assert "could not pass your store IDs on just now: nothing was sent" in shown.text
    assert [f.value for f in shown.fields()] == list(GOOD.values())
    assert read_run(run_id).state.type.value == "PAUSED"  # type: ignore[union-attr]

    # Prefect takes the answer, but its reply is lost: the page finds out it was ours.
    prefect_proxy.lose_answer_next("POST", resume, status=500)
    received = _page(httpx.post(url, data=_form(url, GOOD)), 200)
    assert received.heading == "Thank you: store IDs received for Faulty Inns"
    assert [s.status for s in prefect_proxy.faulted() if str(run_id) in s.path] == [
        503,
        503,
        503,
        500,
    ]
    wait_for_state(run_id, "COMPLETED", timeout=180)
    assert _store_ids(admin, account) == GOOD


def test_a_cancelled_then_restarted_onboarding_emails_a_new_link_and_the_old_says_so(
    flows_runner: FlowRunner,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    account, first_run = _waiting(admin, polaris, "Restart Inns")
    old = store_id_link_from(shared_smtp.messages_to(polaris["email"])[0])
    _page(httpx.get(old), 200)

    # Cancelled from the Prefect UI (the same call): the link stops working at once.
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(first_run, Cancelling())
    wait_for_state(first_run, "CANCELLED", timeout=60)
    cancelled = _page(httpx.get(old), 410)
    assert cancelled.heading == "This onboarding is no longer waiting for store IDs"
    assert "(cancelled)" in cancelled.text
    # The cancel is recorded and told (one notice) before the onboarding starts again.
    wait_for_status(admin, account, "cancelled")
    wait_for_ending_run(first_run)
    assert len(ending_notices(shared_smtp, polaris["email"])) == 1

    # Started again: the credentials went out before, so only a new link is emailed.
    second_run = start_onboarding({"account_id": account, "polaris": polaris, "sites": SITES})
    wait_for_state(second_run, "PAUSED", timeout=180)
    emails = [
        m for m in _wait_for_emails(shared_smtp, polaris["email"], 3) if not is_ending_notice(m)
    ]
    new_email = emails[1]
    assert new_email["Subject"] == "New link for the Polaris store IDs of Restart Inns"
    assert new_email["In-Reply-To"] == emails[0]["Message-ID"]
    new = store_id_link_from(new_email)
    assert new != old

    replaced = _page(httpx.get(old), 410)
    assert replaced.heading == "This link has been replaced"
    assert "newer email about Restart Inns" in replaced.text
    old_form = _form(new, GOOD) | {"link": old.rsplit("/", 1)[1]}
    assert _page(httpx.post(old, data=old_form), 410).heading == "This link has been replaced"

    _page(httpx.post(new, data=_form(new, GOOD)), 200)
    wait_for_state(second_run, "COMPLETED", timeout=180)
    assert _onboarding(admin, account)["status"] == "verified"
    assert _store_ids(admin, account) == GOOD


def _wait_for_emails(smtp: SmtpServer, to: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 60
    while len(found := smtp.messages_to(to)) < count:
        assert time.monotonic() < deadline, f"{len(found)} emails to {to}, not {count}"
        time.sleep(0.3)
    return list(found)


def _folder_bytes(folder: Path) -> bytes:
    if not folder.exists():
        return b""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
