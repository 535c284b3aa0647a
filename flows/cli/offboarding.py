"""`onboarding offboard`: the offboarding flow's parameters from command-line options,
checked with the flow's own types, then a run of its deployment, followed until it
ends (an offboarding takes seconds) and its checklist printed."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.utilities.urls import url_for
from pydantic import TypeAdapter, ValidationError

from flows.cli.errors import CliError
from flows.cli.prefect_api import prefect_client, start_deployment
from flows.cli.starting import merchant_name
from flows.deployments import OFFBOARDING_DEPLOYMENT
from flows.offboarding_checklist import artifact_key
from flows.parameters import AccountId, ClearStoreIds, MerchantEmail, PolarisEmail, PolarisName

# The flow's own parameter types, and the option each comes from.
PARAMETERS: dict[str, tuple[str, TypeAdapter[Any]]] = {
    "account_id": ("--account", TypeAdapter(AccountId)),
    "merchant_email": ("--merchant-email", TypeAdapter(MerchantEmail)),
    "clear_store_ids": ("--keep-store-ids", TypeAdapter(ClearStoreIds)),
    "polaris_email": ("--polaris-email", TypeAdapter(PolarisEmail)),
    "polaris_name": ("--polaris-name", TypeAdapter(PolarisName)),
}
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class OffboardRequest:
    """What the account manager typed, before any checking."""

    account_id: int
    merchant_email: str
    keep_store_ids: bool
    polaris_email: str | None
    polaris_name: str | None


@dataclass(frozen=True)
class OffboardingRun:
    id: UUID
    name: str
    url: str | None
    merchant: str
    parameters: dict[str, Any]
    state: str | None = None
    state_type: str | None = None
    message: str | None = None
    checklist: str | None = None

    @property
    def completed(self) -> bool:
        return self.state_type == "COMPLETED"


def flow_parameters(request: OffboardRequest) -> dict[str, Any]:
    """The run's parameters, or a CliError naming each option that is wrong."""
    given = {
        "account_id": request.account_id,
        "merchant_email": request.merchant_email,
        "clear_store_ids": not request.keep_store_ids,
        "polaris_email": request.polaris_email,
        "polaris_name": request.polaris_name,
    }
    checked: dict[str, Any] = {}
    problems: list[str] = []
    for name, (option, adapter) in PARAMETERS.items():
        try:
            checked[name] = adapter.dump_python(adapter.validate_python(given[name]), mode="json")
        except ValidationError as error:
            problems += [f"{option}: {str(e['msg']).rstrip('.')}." for e in error.errors()]
    if problems:
        raise CliError("The offboarding was not started:", problems)
    return {name: value for name, value in checked.items() if value is not None}


def start_offboarding(request: OffboardRequest) -> OffboardingRun:
    parameters = flow_parameters(request)
    merchant = merchant_name(parameters["account_id"])
    run = start_deployment(OFFBOARDING_DEPLOYMENT, parameters)
    return OffboardingRun(
        id=run.id,
        name=run.name,
        url=url_for("flow-run", obj_id=run.id),
        merchant=merchant,
        parameters=parameters,
    )


def follow(started: OffboardingRun, wait_seconds: float) -> OffboardingRun:
    """The run once it has ended (or as it is after ``wait_seconds``), with its
    checklist as the run last published it."""
    deadline = time.monotonic() + wait_seconds
    with prefect_client() as client:
        while True:
            run = client.read_flow_run(started.id)
            ended = run.state is not None and run.state.is_final()
            if ended or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
        checklist = _checklist(client, started)
    state = run.state
    return dataclasses.replace(
        started,
        name=run.name,
        state=state.name if state else None,
        state_type=state.type.value if state else None,
        message=state.message if state else None,
        checklist=checklist,
    )


def _checklist(client: SyncPrefectClient, run: OffboardingRun) -> str | None:
    found = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[artifact_key(run.parameters["account_id"])]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]),
        )
    )
    if not found:
        return None
    latest = max(found, key=lambda a: a.created.timestamp() if a.created else 0.0)
    return str(latest.data) if latest.data is not None else None
