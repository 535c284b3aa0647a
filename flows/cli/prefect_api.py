"""The Prefect server as the command line sees it: which one, and the onboarding's
flow runs on it. Connection trouble becomes a ``CliError`` that says where it looked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterName,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL

from flows.cli.errors import CliError
from flows.deployments import ONBOARDING_FLOW

# Where `scripts/up` runs the Prefect server. Without this default an unset
# PREFECT_API_URL would make the client start a throwaway server of its own.
DEFAULT_API_URL = "http://127.0.0.1:4200/api"
ONBOARDING_RUNS = FlowFilter(name=FlowFilterName(any_=[ONBOARDING_FLOW]))
SHORT_ID = 8
RECENT_LIMIT = 200


def start_deployment(deployment: str, parameters: dict[str, Any]) -> FlowRun:
    """A run of the deployment, scheduled now; a CliError when the server has no such
    deployment (nothing serves or deployed the flows)."""
    with prefect_errors():
        try:
            run = run_deployment(deployment, parameters=parameters, timeout=0)
        except ObjectNotFound:
            raise CliError(
                f"The deployment {deployment} is not on the Prefect server at {api_url()}. "
                "Serve the flows (scripts/up, or `python -m flows.serve`) or deploy them "
                "(`prefect deploy --all`)."
            ) from None
    assert isinstance(run, FlowRun)
    return run


def api_url() -> str:
    return str(PREFECT_API_URL.value() or DEFAULT_API_URL)


@contextmanager
def prefect_errors() -> Iterator[None]:
    """Turn an unreachable or failing Prefect server into a plain message."""
    try:
        yield
    except httpx.TransportError as error:
        raise CliError(
            f"Cannot reach the Prefect server at {api_url()} ({type(error).__name__}). "
            "Is it running (scripts/up starts one)? PREFECT_API_URL says where it is."
        ) from None
    except PrefectHTTPStatusError as error:
        raise CliError(
            f"The Prefect server at {api_url()} answered {error.response.status_code}: "
            f"{error.response.text[:300]}"
        ) from None


@contextmanager
def prefect_client() -> Iterator[SyncPrefectClient]:
    with prefect_errors(), get_client(sync_client=True) as client:
        yield client


def find_run(client: SyncPrefectClient, ref: str) -> FlowRun:
    """The onboarding run named by ``ref``: its ID, the first characters of its ID
    (as `onboarding list` shows them) or its exact name."""
    ref = ref.strip()
    try:
        run_id = UUID(ref)
    except ValueError:
        run_id = None
    if run_id is not None:
        try:
            return client.read_flow_run(run_id)
        except ObjectNotFound:
            raise CliError(f"No flow run {ref} on the Prefect server at {api_url()}.") from None
    named = client.read_flow_runs(
        flow_filter=ONBOARDING_RUNS,
        flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[ref])),
    )
    if not named and len(ref) >= 4:
        recent = client.read_flow_runs(
            flow_filter=ONBOARDING_RUNS,
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=RECENT_LIMIT,
        )
        named = [run for run in recent if str(run.id).startswith(ref.lower())]
    if not named:
        raise CliError(
            f"No onboarding run {ref!r} on the Prefect server at {api_url()}: give its ID "
            "(or the start of it) or its exact name, as `onboarding list` shows them."
        )
    if len(named) > 1:
        ids = ", ".join(short_id(run.id) for run in named)
        raise CliError(f"{ref!r} matches {len(named)} onboarding runs ({ids}); give its full ID.")
    return named[0]


def recent_runs(client: SyncPrefectClient, limit: int) -> list[FlowRun]:
    return client.read_flow_runs(
        flow_filter=ONBOARDING_RUNS, sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=limit
    )


def paused_runs(client: SyncPrefectClient) -> list[FlowRun]:
    paused = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    return client.read_flow_runs(
        flow_filter=ONBOARDING_RUNS, flow_run_filter=FlowRunFilter(state=paused)
    )


def short_id(run_id: UUID) -> str:
    return str(run_id)[:SHORT_ID]
