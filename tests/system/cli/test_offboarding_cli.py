"""`onboarding offboard` as an account manager uses it, on the real Prefect engine and
runner: bad options refused with nothing started, then an offboarding that keeps the
sites' store IDs followed to its end, and a second one that has nothing to do."""

from __future__ import annotations

import uuid

import httpx

from harness.ledger_process import LedgerService
from harness.prefect_env import FlowRunner
from harness.smtp import SmtpServer
from harness.system_fixtures import OnboardingCli


def _merchant_on_polaris(admin: httpx.Client) -> tuple[int, dict[str, str], str]:
    """Rose Inns, its Rose site on store PLR-R-<tag>, and a Polaris credential (no
    onboarding record: the Polaris contact is given on the command line)."""
    account = admin.post("/admin/accounts", json={"name": "Rose Inns"}).json()["id"]
    rose = admin.post(
        f"/admin/accounts/{account}/sites",
        json={"name": "The Rose", "address": "4 Rose Row, Hull", "reference": "rose"},
    ).json()["id"]
    store = f"PLR-R-{uuid.uuid4().hex[:6]}"
    admin.put(
        f"/admin/accounts/{account}/store-ids",
        json={"assignments": [{"site_id": rose, "store_id": store}]},
    ).raise_for_status()
    user = admin.post(
        f"/admin/accounts/{account}/integration-users",
        json={"label": "Polaris", "purpose": "polaris"},
    ).json()
    return int(account), user, store


def test_offboard_keeping_store_ids_on_the_command_line(
    flows_runner: FlowRunner,
    ledger_service: LedgerService,
    ledger_admin: httpx.Client,
    onboarding_cli: OnboardingCli,
    shared_smtp: SmtpServer,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    account, user, store = _merchant_on_polaris(admin)
    merchant_email = f"owner-{uuid.uuid4().hex[:8]}@rose.example"
    with httpx.Client(
        base_url=ledger_service.url, auth=(user["username"], user["password"])
    ) as till:
        probe = till.get("/v1/vouchers/6301190000000000000", params={"store_id": "x"})
        assert probe.status_code == 403

        refused = onboarding_cli(
            "offboard", "--account", str(account), "--merchant-email", "not-an-address"
        )
        assert refused.exit_code == 1
        assert "The offboarding was not started" in refused.output
        assert "--merchant-email: value is not a valid email address" in refused.output
        # Without an onboarding record the flow has no Polaris contact: the run says so.
        no_contact = onboarding_cli(
            "offboard", "--account", str(account), "--merchant-email", merchant_email
        )
        assert no_contact.exit_code == 1
        assert "give polaris_email" in no_contact.output
        assert (
            till.get("/v1/vouchers/6301190000000000000", params={"store_id": "x"}).status_code
            == 403
        )

        contact = ["--polaris-email", polaris["email"], "--polaris-name", polaris["name"]]
        options = ["--account", str(account), "--merchant-email", merchant_email, *contact]
        done = onboarding_cli("offboard", *options, "--keep-store-ids")
        assert done.exit_code == 0, done.output
        assert "Started offboarding Rose Inns" in done.stdout and "keeping" in done.stdout
        assert f"[x] Revoke Polaris's API credentials ({user['username']})" in done.stdout
        assert "[x] Keep the sites' store IDs (as asked)" in done.stdout
        assert "Status: **offboarded**" in done.stdout and "Run Completed" in done.stdout

        assert (
            till.get("/v1/vouchers/6301190000000000000", params={"store_id": "x"}).status_code
            == 401
        )
    sites = admin.get(f"/admin/accounts/{account}/sites").json()
    assert [s["store_id"] for s in sites] == [store]
    (to_polaris,) = shared_smtp.messages_to(polaris["email"])
    (to_merchant,) = shared_smtp.messages_to(merchant_email)
    text = to_merchant.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"The Rose (store {store})" in text and "stay linked" in text
    assert "Hello Pat Polaris" in to_polaris.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    again = onboarding_cli("offboard", *options, "--keep-store-ids")
    assert again.exit_code == 0, again.output
    assert "already offboarded; nothing to do" in again.stdout
    assert len(shared_smtp.messages_to(polaris["email"])) == 1
    assert len(shared_smtp.messages_to(merchant_email)) == 1
