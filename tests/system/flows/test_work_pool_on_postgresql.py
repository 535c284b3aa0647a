"""Past one machine: Prefect's server on PostgreSQL, the deployments of prefect.yaml
(`prefect deploy --all`), and two process workers, each in a folder of its own as on
a machine of its own, polling the `onboarding` work pool. An onboarding runs on them,
holds no process while it waits for Polaris, and completes once resumed. Everything
but the SMTP server and the Twilio stand-in is this test's own, the ledger (on
PostgreSQL too) included."""

from __future__ import annotations

import time
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from harness.constants import BACKENDS
from harness.ledger_process import running_ledger
from harness.postgres import empty_database
from harness.prefect_env import read_run, start_onboarding, submit_store_ids, wait_for_state
from harness.prefect_workers import (
    WORK_POOL,
    flow_run_processes,
    prefect_server_on_postgresql,
    process_worker,
)
from harness.smtp import SmtpServer
from harness.system import flow_env_for
from harness.twilio_standin import TwilioStandin

SITE = {"name": "The Lamb", "address": "9 Lamb Lane, Leeds", "reference": "lamb-1"}

pytestmark = [
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="Prefect's server runs on PostgreSQL"),
    pytest.mark.slow,
]


def test_workers_on_the_work_pool_run_an_onboarding_on_prefect_on_postgresql(
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
    polaris: dict[str, str],
    tmp_path: Path,
) -> None:
    with (
        empty_database("postgresql", tmp_path) as database_url,
        running_ledger(database_url, tmp_path / "ledger") as ledger,
        ledger.admin() as admin,
    ):
        flow_env = flow_env_for(ledger, tmp_path / "outbox", shared_smtp, shared_twilio)
        _run_on_the_work_pool(admin, flow_env, polaris, tmp_path)


def _run_on_the_work_pool(
    admin: httpx.Client, flow_env: dict[str, str], polaris: dict[str, str], tmp_path: Path
) -> None:
    account = admin.post("/admin/accounts", json={"name": "Lamb Taverns"}).json()["id"]
    admin.post(f"/admin/accounts/{account}/products", json={"name": "Gift voucher"})

    with prefect_server_on_postgresql(tmp_path / "prefect") as server:
        server.prefect("work-pool", "create", WORK_POOL, "--type", "process")
        deployed = server.prefect("deploy", "--all")
        assert "polaris-onboarding/polaris-onboarding" in deployed
        with (
            process_worker(server, tmp_path / "machine-a", "machine-a", flow_env) as worker_a,
            process_worker(server, tmp_path / "machine-b", "machine-b", flow_env) as worker_b,
            temporary_settings(updates={PREFECT_API_URL: server.api_url}),
        ):
            run_id = start_onboarding({"account_id": account, "polaris": polaris, "sites": [SITE]})
            ran_in = _processes_until_paused(run_id)
            assert ran_in, "no flow-run process was seen while the run ran"
            assert read_run(run_id).work_pool_name == WORK_POOL

            # Waiting costs nothing: no process holds the suspended run.
            deadline = time.monotonic() + 30
            while flow_run_processes(run_id):
                assert time.monotonic() < deadline, "a suspended run still holds a process"
                time.sleep(0.5)

            (site,) = admin.get(f"/admin/accounts/{account}/sites").json()
            submit_store_ids(run_id, {site["id"]: "PLR-100"})
            wait_for_state(run_id, "COMPLETED", timeout=150)

            picked_up_by = [w for w in (worker_a, worker_b) if str(run_id) in w.log()]
            assert picked_up_by, worker_a.log()[-3000:] + worker_b.log()[-3000:]

    onboarding = admin.get("/admin/onboardings", params={"account_id": account}).json()[0]
    assert onboarding["status"] == "verified"


def _processes_until_paused(run_id: UUID) -> set[int]:
    """Wait for the run to suspend, noting the processes that ran it meanwhile."""
    seen: set[int] = set()
    deadline = time.monotonic() + 150
    while True:
        seen.update(flow_run_processes(run_id))
        state = read_run(run_id).state
        if state is not None and state.type.value == "PAUSED":
            return seen
        assert state is None or not state.is_final(), f"the run ended {state.type.value}"
        assert time.monotonic() < deadline, "the run did not suspend in time"
        time.sleep(0.3)
