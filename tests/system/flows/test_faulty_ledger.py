"""The onboarding flow against a ledger that misbehaves over real HTTP: a loopback
proxy (harness.faulty_proxy) in front of the session's ledger, with a flows runner of
this module's own that reaches the ledger through it.

- a ledger blip (503 once) on the calls the flow body makes between stages (account,
  start, claim, reload) is retried and the run goes on; a 4xx refusal is not retried;
- a till call answered wrongly during "verify integration" fails the run, with the
  table artifact showing the failed call and an email naming the site and the call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.faulty_proxy import FaultyProxy
from harness.ledger_process import LedgerService
from harness.prefect_env import (
    FLOW,
    FlowRunner,
    PrefectServer,
    artifact_data,
    serve_flows,
    start_onboarding,
    submit_store_ids,
    wait_for_state,
)
from harness.smtp import SmtpServer
from harness.system import NOTIFY_EMAIL
from tests.system.flows.endings_support import wait_for_ending_run, wait_for_log

DEPLOYMENT = f"{FLOW}/faulty-ledger"
SITES = [
    {"name": "The Crown", "address": "1 High Street", "reference": "crown"},
    {"name": "The Anchor", "address": "2 Quay Street", "reference": "anchor"},
]


@pytest.fixture(scope="module")
def proxy(ledger_service: LedgerService) -> Iterator[FaultyProxy]:
    with FaultyProxy(ledger_service.url) as proxy:
        yield proxy


@pytest.fixture(autouse=True)
def _no_faults_left(proxy: FaultyProxy) -> Iterator[None]:
    yield
    proxy.clear_faults()


@pytest.fixture(scope="module")
def proxied_runner(
    prefect_server: PrefectServer,
    tmp_path_factory: pytest.TempPathFactory,
    flow_env: dict[str, str],
    proxy: FaultyProxy,
) -> Iterator[FlowRunner]:
    env = {**flow_env, "ONBOARDING_LEDGER_URL": proxy.url}
    folder = tmp_path_factory.mktemp("runner-faulty-ledger")
    with serve_flows(prefect_server, folder, env, deployment_name="faulty-ledger") as runner:
        yield runner


def _merchant(admin: httpx.Client, polaris: dict[str, str]) -> dict[str, Any]:
    name = f"Harbour Inns {uuid.uuid4().hex[:6]}"
    account = admin.post("/admin/accounts", json={"name": name}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    return {"account_id": account["id"], "polaris": polaris, "sites": SITES}


def _onboarding(admin: httpx.Client, account_id: int) -> dict[str, Any]:
    (onboarding,) = admin.get("/admin/onboardings", params={"account_id": account_id}).json()
    return dict(onboarding)


def test_a_ledger_blip_between_stages_is_retried(
    proxied_runner: FlowRunner,
    proxy: FaultyProxy,
    ledger_admin: httpx.Client,
    polaris: dict[str, str],
) -> None:
    parameters = _merchant(ledger_admin, polaris)
    account_id = parameters["account_id"]
    # The account read and the onboarding start: once each, 503 and 502.
    proxy.fail_next("GET", rf"^/admin/accounts/{account_id}$", status=503)
    proxy.fail_next("POST", r"^/admin/onboardings$", status=502)
    run_id = start_onboarding(parameters, deployment=DEPLOYMENT)
    wait_for_state(run_id, "PAUSED")

    onboarding = _onboarding(ledger_admin, account_id)
    assert onboarding["flow_run_id"] == str(run_id)
    assert onboarding["credentials_delivered"] is True
    faulted = [(s.method, s.path, s.status) for s in proxy.faulted()]
    assert faulted == [
        ("GET", f"/admin/accounts/{account_id}", 503),
        ("POST", "/admin/onboardings", 502),
    ]
    # ... and each was asked again, successfully.
    account_reads = [s.status for s in proxy.seen if s.path == f"/admin/accounts/{account_id}"]
    assert account_reads[:2] == [503, 200]


def test_a_blip_on_the_claim_and_the_reload_is_retried(
    proxied_runner: FlowRunner,
    proxy: FaultyProxy,
    ledger_admin: httpx.Client,
    polaris: dict[str, str],
) -> None:
    parameters = _merchant(ledger_admin, polaris)
    account_id = parameters["account_id"]
    started = ledger_admin.post(
        "/admin/onboardings", json={"account_id": account_id, "polaris": polaris}
    ).json()
    path = f"/admin/onboardings/{started['id']}"
    proxy.fail_next("POST", rf"^{path}/claim$", status=503)
    proxy.fail_next("GET", rf"^{path}$", status=500)
    before = len(proxy.seen)
    run_id = start_onboarding(parameters, deployment=DEPLOYMENT)
    wait_for_state(run_id, "PAUSED")

    assert _onboarding(ledger_admin, account_id)["flow_run_id"] == str(run_id)
    ours = [(s.method, s.path, s.status) for s in proxy.seen[before:] if s.path.startswith(path)]
    assert ours[:2] == [("POST", f"{path}/claim", 503), ("POST", f"{path}/claim", 200)]
    reloads = [status for method, p, status in ours if method == "GET" and p == path]
    assert reloads[:2] == [500, 200]


def test_a_refusal_is_not_retried(
    proxied_runner: FlowRunner,
    proxy: FaultyProxy,
    ledger_admin: httpx.Client,
    polaris: dict[str, str],
) -> None:
    parameters = _merchant(ledger_admin, polaris)
    account_id = parameters["account_id"]
    # Once: a retry would get the real answer and go on.
    proxy.fail_next("GET", rf"^/admin/accounts/{account_id}$", status=404)
    run_id = start_onboarding(parameters, deployment=DEPLOYMENT)
    run = wait_for_state(run_id, "FAILED")
    assert run.state is not None and "404" in (run.state.message or "")
    reads = [s.status for s in proxy.seen if s.path == f"/admin/accounts/{account_id}"]
    assert reads == [404]
    assert ledger_admin.get("/admin/onboardings", params={"account_id": account_id}).json() == []


def test_a_wrong_till_answer_fails_verification_naming_the_site_and_call(
    flows_runner: FlowRunner,  # serves polaris-run-ending: the automation sees this end too
    proxied_runner: FlowRunner,
    proxy: FaultyProxy,
    ledger_admin: httpx.Client,
    shared_smtp: SmtpServer,
    polaris: dict[str, str],
) -> None:
    parameters = _merchant(ledger_admin, polaris)
    account_id = parameters["account_id"]
    run_id = start_onboarding(parameters, deployment=DEPLOYMENT)
    wait_for_state(run_id, "PAUSED")
    sites = {
        s["name"]: s["id"] for s in ledger_admin.get(f"/admin/accounts/{account_id}/sites").json()
    }
    tag = uuid.uuid4().hex[:6].upper()
    crown, anchor = f"PLR-C{tag}", f"PLR-A{tag}"

    # The Anchor's first balance check answers a balance the voucher does not have.
    def wrong_balance(body: Any) -> Any:
        return {**body, "balance": body["balance"] + 1}

    proxy.rewrite_next("GET", rf"^/v1/vouchers/\d+\?store_id={anchor}$", wrong_balance)
    submit_store_ids(run_id, {sites["The Crown"]: crown, sites["The Anchor"]: anchor})
    run = wait_for_state(run_id, "FAILED", timeout=180)
    assert run.state is not None
    assert "The Anchor" in (run.state.message or "")
    assert "check balance" in (run.state.message or "")

    onboarding = _onboarding(ledger_admin, account_id)
    assert onboarding["status"] == "failed" and onboarding["ended_as"] == "failed"
    assert onboarding["ended_flow_run_id"] == str(run_id)
    assert "The Anchor" in onboarding["failure_reason"]
    assert "check balance" in onboarding["failure_reason"]
    # Every watcher has seen it (the flow body, its on_failure hook, the automation's
    # polaris-run-ending run): only the first recorded it, so one email went out.
    wait_for_log(run_id, "Hook 'on_failure' finished running successfully")
    wait_for_ending_run(run_id)

    # The table: every call at the first store ok, the second stopped at the balance check.
    table = artifact_data(f"onboarding-{onboarding['id']}-verification")
    rows = table if isinstance(table, list) else json.loads(table)
    calls = [(r["site"], r["call"], r["outcome"][:7]) for r in rows]
    # The stores are verified in the ledger's order: The Crown (added first) passed.
    assert [c for c in calls if c[0] == "The Crown"] == [
        ("The Crown", call, "ok")
        for call in (
            "sell test voucher",
            "check balance",
            "redeem",
            "reverse redemption",
            "redeem to void",
            "void redemption by reference",
            "check balance again",
            "cancel test voucher",
            "check cancelled",
        )
    ]
    assert [c for c in calls if c[0] == "The Anchor"] == [
        ("The Anchor", "sell test voucher", "ok"),
        ("The Anchor", "check balance", "failed:"),
    ]
    (failed_row,) = [r for r in rows if r["outcome"] != "ok"]
    assert "balance" in failed_row["outcome"]

    # One email, to the Polaris contact and our own people, names the site and the call.
    merchant = ledger_admin.get(f"/admin/accounts/{account_id}").json()["name"]
    subject = f"Onboarding failed for {merchant}: verify integration"
    for address in (polaris["email"], NOTIFY_EMAIL):
        assert [str(m["Subject"]) for m in shared_smtp.messages_to(address)].count(subject) == 1
    (email,) = [m for m in shared_smtp.messages_to(polaris["email"]) if m["Subject"] == subject]
    text = email.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    assert "Stage:   verify integration" in body
    assert "Site:    The Anchor" in body
    assert "Call:    check balance" in body
    assert "Error:   " in body and "The Anchor" in body
    assert f"/runs/flow-run/{run_id}" in body
    assert f"uv run onboarding start --account {account_id}" in body
    html = email.get_body(preferencelist=("html",))
    assert html is not None
    assert "The Anchor" in html.get_content() and "<code>check balance</code>" in html.get_content()
    # The verification credential was revoked even so.
    users = ledger_admin.get(f"/admin/accounts/{account_id}/integration-users").json()
    assert [u for u in users if u["is_active"] and "verification" in u["label"]] == []
