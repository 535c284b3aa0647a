"""The onboarding flow against a ledger that misbehaves over real HTTP: a loopback
proxy (harness.faulty_proxy) in front of the session's ledger, with a flows runner of
this module's own that reaches the ledger through it.

- a ledger blip (503 once) on the calls the flow body makes between stages (account,
  start, claim, reload) is retried and the run goes on; a 4xx refusal is not retried.
"""

from __future__ import annotations

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
    serve_flows,
    start_onboarding,
    wait_for_state,
)

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
