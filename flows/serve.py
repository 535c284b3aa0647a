"""Serve the onboarding flows from this process: it polls the Prefect server and runs
each flow run in a subprocess. A suspended onboarding holds no process: when it is
resumed, this picks it up again.

    python -m flows.serve

What is served is ``flows.deployments.DEPLOYMENTS``, the same definitions that
prefect.yaml is generated from.
"""

from __future__ import annotations

from typing import Any

from prefect import serve
from prefect.schedules import Cron

from flows.deployments import DEPLOYMENTS, ONBOARDING_DEPLOYMENT, DeploymentSpec

__all__ = ["ONBOARDING_DEPLOYMENT", "main", "to_deployment"]


def to_deployment(spec: DeploymentSpec) -> Any:
    """The spec's flow as a deployment to serve (``to_deployment`` is sync here,
    called outside an event loop)."""
    return spec.load_flow().to_deployment(
        name=spec.name,
        description=spec.description,
        tags=list(spec.tags),
        schedules=[Cron(s.cron, timezone=s.timezone) for s in spec.schedules] or None,
        enforce_parameter_schema=spec.enforce_parameter_schema,
    )


def main() -> None:
    serve(*(to_deployment(spec) for spec in DEPLOYMENTS))


if __name__ == "__main__":
    main()
