"""Serve the onboarding flows from this process: it polls the Prefect server and runs
each flow run in a subprocess. A suspended onboarding holds no process: when it is
resumed, this picks it up again.

    python -m flows.serve

What is served is ``flows.deployments.DEPLOYMENTS``, the same definitions that
prefect.yaml is generated from, with their triggers (automations on Prefect's
events, made again each time this starts).

A run killed from outside (SIGKILL, its machine lost) gets its ``on_crashed`` hooks run
by this process, the runner, once it has marked the run Crashed. Prefect 3.7's runner
finds the flow of a served deployment for that through ``load_flow_from_flow_run``,
which it calls wrongly ("'PrefectClient' object has no attribute 'deployment_id'"),
so the hooks would never run; ``HookedRunner`` hands it the flows served here.
(Adding the flow objects themselves, ``Runner.add_flow``, would find them, but then
each run is a fork of this process rather than the entrypoint imported afresh, and
the onboarding's parameter models do not survive that.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Self
from uuid import UUID

from prefect.client.schemas.objects import FlowRun
from prefect.events import DeploymentEventTrigger
from prefect.exceptions import TerminationSignal
from prefect.logging import get_logger
from prefect.runner import Runner
from prefect.schedules import Cron

from flows.deployments import DEPLOYMENTS, ONBOARDING_DEPLOYMENT, DeploymentSpec

__all__ = ["ONBOARDING_DEPLOYMENT", "HookedRunner", "deployment_options", "main", "serve_specs"]


def deployment_options(spec: DeploymentSpec) -> dict[str, Any]:
    """The spec as Prefect's deployment options (``to_deployment``, ``add_flow``)."""
    return {
        "name": spec.name,
        "description": spec.description,
        "tags": list(spec.tags),
        "schedules": [Cron(s.cron, timezone=s.timezone) for s in spec.schedules] or None,
        "triggers": [DeploymentEventTrigger(**t.fields()) for t in spec.triggers] or None,
        "enforce_parameter_schema": spec.enforce_parameter_schema,
    }


def serve_specs(specs: Iterable[DeploymentSpec]) -> None:
    """Register the specs' deployments and serve them until stopped, as
    ``prefect.serve`` does (pausing their schedules on shutdown)."""
    try:
        asyncio.run(_serve(list(specs)))
    except (KeyboardInterrupt, TerminationSignal) as stopped:
        get_logger("flows.serve").info("Received %s, shutting down...", type(stopped).__name__)


async def _serve(specs: list[DeploymentSpec]) -> None:
    runner = HookedRunner(pause_on_shutdown=True, limit=None)  # as prefect.serve
    for spec in specs:
        flow = spec.load_flow()
        deployment = await flow.ato_deployment(**deployment_options(spec))
        runner.served_flows[await runner.aadd_deployment(deployment)] = flow
    await runner.start()


class HookedRunner(Runner):
    """Prefect's runner, which finds the flow of a crashed run of a deployment served
    here (to run its ``on_crashed`` hooks) among the flows served here."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.served_flows: dict[UUID, Any] = {}

    async def __aenter__(self) -> Self:
        entered = await super().__aenter__()
        hooks = self._hook_runner
        if hooks is not None:
            prefect_resolves = hooks._resolve_flow

            async def resolve(flow_run: FlowRun) -> Any:
                served = self.served_flows.get(flow_run.deployment_id)  # type: ignore[arg-type]
                return served if served is not None else await prefect_resolves(flow_run)

            hooks._resolve_flow = resolve
        return entered


def main() -> None:
    serve_specs(DEPLOYMENTS)


if __name__ == "__main__":
    main()
