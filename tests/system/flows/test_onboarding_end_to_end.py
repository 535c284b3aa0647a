"""A whole onboarding, the way it happens for real: the ledger on loopback, the real
Prefect engine, a real SMTP server, the real twilio client against a stand-in (the
session's, shared with the other flow tests: this one keeps to its own account and
Polaris contact)."""

from __future__ import annotations

from pathlib import Path

import httpx

from harness.ledger_process import LedgerService
from harness.prefect_env import (
    FlowRunner,
    PrefectServer,
    artifact_data,
    form_description,
    read_run,
    start_onboarding,
    submit_store_ids,
    wait_for_state,
)
from harness.smtp import SmtpServer
from harness.twilio_standin import TwilioStandin
from tests.system.flows.polaris_side import open_file, password_from_text, zip_attachment

SITES = [
    {"name": "The Crown, Soho", "address": "12 Dean Street, London", "reference": "crown-soho"},
    {
        "name": "The Anchor, Bristol",
        "address": "3 Harbourside, Bristol",
        "reference": "anchor-bristol",
    },
]


def test_whole_onboarding(
    flows_runner: FlowRunner,
    prefect_server: PrefectServer,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
    outbox: Path,
) -> None:
    admin, ledger = ledger_admin, ledger_service
    account = admin.post("/admin/accounts", json={"name": "Crown Inns"}).json()
    product = admin.post(
        f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"}
    ).json()

    run_id = start_onboarding({"account_id": account["id"], "polaris": polaris, "sites": SITES})
    wait_for_state(run_id, "PAUSED")
    run = read_run(run_id)
    assert run.name.startswith("onboard Crown Inns (")

    # Polaris's side: one email with the file, one text with its password.
    emails, texts = (
        shared_smtp.messages_to(polaris["email"]),
        shared_twilio.messages_to(polaris["mobile"]),
    )
    assert len(emails) == 1 and len(texts) == 1
    email = emails[0]
    assert email["To"] == polaris["email"]
    text = texts[0]
    assert text.to == polaris["mobile"] and text.from_ == shared_twilio.from_number
    file_password = password_from_text(text.body)
    _, zip_bytes = zip_attachment(email)
    polaris_file = open_file(zip_bytes, file_password)
    username = polaris_file.fields["Username"]
    api_password = polaris_file.fields["Password"]
    assert polaris_file.fields["Account ID"] == account["id"]
    assert polaris_file.fields["In-store product ID"] == product["id"]
    assert polaris_file.fields["Card length"] == 19
    assert sorted(s["name"] for s in polaris_file.sites) == sorted(s["name"] for s in SITES)
    body_text = email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "The Crown, Soho" in body_text and "text" in body_text.lower()

    # The credential from the file works on the till API (no store mapped yet: 403, not 401).
    with httpx.Client(base_url=ledger.url, auth=(username, api_password)) as till:
        probe = till.get("/v1/vouchers/6301190000000000000", params={"store_id": "nowhere"})
        assert probe.status_code == 403 and probe.json()["code"] == "unknown_store"

    # Polaris answers with a duplicate first: the form asks again and says why.
    site_ids = [s["site_id"] for s in polaris_file.sites]
    submit_store_ids(run_id, {site_ids[0]: "PLR-100", site_ids[1]: "PLR-100"})
    wait_for_state(run_id, "PAUSED")
    assert "more than one site" in form_description(run_id)
    assert admin.get(f"/admin/accounts/{account['id']}/sites").json()[0]["store_id"] is None

    submit_store_ids(run_id, {site_ids[0]: "PLR-100", site_ids[1]: "PLR-200"})
    finished = wait_for_state(run_id, "COMPLETED", timeout=180)
    assert finished.state is not None

    # The verification table: every call at every store, all ok.
    onboarding = admin.get("/admin/onboardings", params={"account_id": account["id"]}).json()[0]
    assert onboarding["status"] == "verified"
    table = artifact_data(f"onboarding-{onboarding['id']}-verification")
    rows = table if isinstance(table, list) else __import__("json").loads(table)
    assert {r["site"] for r in rows} == {s["name"] for s in SITES}
    assert [r["call"] for r in rows if r["site"] == "The Crown, Soho"] == [
        "sell test voucher",
        "check balance",
        "redeem",
        "reverse redemption",
        "redeem to void",
        "void redemption by reference",
        "check balance again",
        "cancel test voucher",
        "check cancelled",
    ]
    assert all(r["outcome"] == "ok" for r in rows)
    checklist = artifact_data(f"onboarding-{onboarding['id']}-checklist")
    assert "- [ ]" not in checklist and checklist.count("- [x]") == 8

    # Exactly one active API user: Polaris's (the verification user was revoked).
    users = admin.get(f"/admin/accounts/{account['id']}/integration-users").json()
    assert [u["username"] for u in users if u["is_active"]] == [username]
    # And a till at a mapped store can now sell with what the file says.
    with httpx.Client(base_url=ledger.url, auth=(username, api_password)) as till:
        sale = till.post(
            "/v1/vouchers",
            json={
                "store_id": "PLR-200",
                "product_id": product["id"],
                "amount": 500,
                "reference": "first-sale",
            },
        )
        assert sale.status_code == 201, sale.text

    # No secret outside its place.
    flows_runner_log = flows_runner.log_text()
    places = {
        "Prefect's database": _folder_bytes(prefect_server.database_path.parent),
        "Prefect's home and result storage": _folder_bytes(flows_runner.home),
        "the flow processes' logs": flows_runner_log.encode(),
        "the ledger's database": _folder_bytes(ledger.sqlite_path().parent),
        "the outbox": _folder_bytes(outbox),
        "the email": bytes(email),
    }
    for secret, name in ((api_password, "API password"), (file_password, "file password")):
        for place, content in places.items():
            assert secret.encode() not in content, f"the {name} leaked into {place}"
    assert file_password in text.body and api_password not in text.body
    assert "Task run 'email Polaris" in flows_runner_log  # the logs were really searched


def _folder_bytes(folder: Path) -> bytes:
    if not folder.exists():
        return b""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
