"""The real Prefect engine for flow tests: a ``prefect_test_harness`` server, and the
onboarding deployments served by ``python -m flows.serve`` in a subprocess (the same
way ``scripts/up`` runs them), pointed at a ledger served on loopback.

One runner serves every flow test of a session; tests keep apart by account (a
failpoint is armed for one account: ``FlowRunner.arm(name, account=...)``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_DATABASE_CONNECTION_URL,
    temporary_settings,
)

from harness.constants import PROJECT_ROOT
from harness.processes import stop_process_group

FLOW = "polaris-onboarding"
DEPLOYMENT = f"{FLOW}/polaris-onboarding"


@dataclass
class PrefectServer:
    api_url: str
    database_path: Path


def harness_server() -> PrefectServer:
    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
    return PrefectServer(
        api_url=str(PREFECT_API_URL.value()), database_path=Path(url.split("///", 1)[1])
    )


@dataclass
class FlowRunner:
    """The onboarding flows served from a subprocess, and what it wrote."""

    process: subprocess.Popen[bytes]
    log_path: Path
    home: Path
    failpoint_file: Path

    def arm(self, failpoint: str, *, account: int | None = None, sigkill: bool = False) -> None:
        """Crash the next run that reaches ``failpoint`` (of ``account`` only, when
        given: a runner shared by tests must be armed for one account); ``sigkill``:
        by SIGKILL, rather than an exit."""
        line = failpoint if account is None else f"{failpoint} account={account}"
        line += " how=sigkill" if sigkill else ""
        with self.failpoint_file.open("a") as armed:
            armed.write(f"{line}\n")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def serve_flows(
    server: PrefectServer,
    folder: Path,
    env: dict[str, str],
    *,
    deployment_name: str | None = None,
    startup_timeout: float = 180,
) -> Iterator[FlowRunner]:
    """``python -m flows.serve`` against ``server``, until the ``with`` block ends.

    With ``deployment_name``, only the onboarding flow is served, under that name
    (``polaris-onboarding/<name>``): a runner beside the session's shared one, that
    the shared one does not pick runs up for."""
    home = folder / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    log_path = folder / "runner.log"
    failpoint_file = folder / "failpoint"
    full_env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "PREFECT_HOME": str(home),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "ONBOARDING_FAILPOINT_FILE": str(failpoint_file),
        **env,
    }
    if deployment_name is None:
        command = [sys.executable, "-m", "flows.serve"]
        deployment = DEPLOYMENT
    else:
        command = [sys.executable, "-c", _SERVE_ONE, deployment_name]
        deployment = f"{FLOW}/{deployment_name}"
    started_at = datetime.now(UTC)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    runner = FlowRunner(process, log_path, home, failpoint_file)
    try:
        _wait_until_polled(server, runner, deployment, started_at, startup_timeout)
        yield runner
    finally:
        stop_process_group(process, timeout=20)


# As flows.serve does it, for the onboarding deployment alone, under the name given.
_SERVE_ONE = (
    "import dataclasses, sys\n"
    "from flows.deployments import DEPLOYMENTS, ONBOARDING_DEPLOYMENT_NAME\n"
    "from flows.serve import serve_specs\n"
    "(spec,) = [d for d in DEPLOYMENTS if d.name == ONBOARDING_DEPLOYMENT_NAME]\n"
    "serve_specs([dataclasses.replace(spec, name=sys.argv[1])])\n"
)


def _wait_until_polled(
    server: PrefectServer, runner: FlowRunner, deployment: str, since: datetime, timeout: float
) -> None:
    """Until the runner has polled for runs of ``deployment`` (Prefect notes the time
    of each poll as the deployment's ``last_polled``): a run started after that is
    picked up at the runner's next poll."""
    deadline = time.monotonic() + timeout
    with (
        temporary_settings(updates={PREFECT_API_URL: server.api_url}),
        get_client(sync_client=True) as client,
    ):
        while time.monotonic() < deadline:
            if runner.process.poll() is not None:
                raise RuntimeError(f"the flows runner exited:\n{runner.log_text()}")
            try:
                polled = client.read_deployment_by_name(deployment).last_polled
            except Exception:  # not registered yet
                polled = None
            if polled is not None and polled >= since:
                return
            time.sleep(0.3)
    raise RuntimeError(
        f"{deployment} was not polled for within {timeout:g} s:\n{runner.log_text()}"
    )


def start_onboarding(parameters: dict[str, Any], deployment: str = DEPLOYMENT) -> UUID:
    run = run_deployment(deployment, parameters=parameters, timeout=0)
    assert isinstance(run, FlowRun)
    return run.id


def read_run(run_id: UUID) -> FlowRun:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def wait_for_state(run_id: UUID, *states: str, timeout: float = 120) -> FlowRun:
    """Wait until the run's state type is one of ``states`` (e.g. PAUSED, COMPLETED)."""
    deadline = time.monotonic() + timeout
    terminal = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
    while time.monotonic() < deadline:
        run = read_run(run_id)
        state = run.state.type.value if run.state else None
        if state in states:
            return run
        if state in terminal:
            raise AssertionError(
                f"run {run_id} ended {state}: {run.state.message if run.state else ''}"
            )
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not reach {states} in {timeout}s (now {state})")


def submit_store_ids(run_id: UUID, store_ids: dict[int, str]) -> None:
    """Resume a waiting run with store IDs, as the Prefect UI form does."""
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(run_id, run_input={f"site_{site}": value for site, value in store_ids.items()})


def form_description(run_id: UUID, timeout: float = 30) -> str:
    """The description shown above the store-ID form of a waiting run. Prefect puts a
    run in its PAUSED state first and saves the form's inputs right after
    (``suspend_flow_run``), so a run just seen PAUSED may not have them yet."""
    from prefect.input.run_input import keyset_from_paused_state, read_flow_run_input

    deadline = time.monotonic() + timeout
    while True:
        run = read_run(run_id)
        assert run.state is not None
        keyset = keyset_from_paused_state(run.state)
        description = read_flow_run_input(keyset["description"], flow_run_id=run_id)
        if description is not None:
            return str(description)
        assert time.monotonic() < deadline, f"run {run_id}'s form has no description"
        time.sleep(0.2)


def artifact_data(key: str) -> Any:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    assert found, f"no artifact {key}"
    latest = max(found, key=lambda a: a.created.timestamp() if a.created else 0.0)
    return latest.data
