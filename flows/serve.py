"""Serve the onboarding flows from this process: it polls the Prefect server and runs
each flow run in a subprocess. A suspended onboarding holds no process: when it is
resumed, this picks it up again.

    python -m flows.serve
"""

from __future__ import annotations

from prefect import serve

from flows.deployments import (
    ONBOARDING_DEPLOYMENT,
    ONBOARDING_DEPLOYMENT_NAME,
    REMINDERS_DEPLOYMENT_NAME,
)
from flows.onboarding import polaris_onboarding
from flows.reminders import store_id_reminders

__all__ = ["ONBOARDING_DEPLOYMENT", "main"]


def main() -> None:
    # to_deployment is sync here (called outside an event loop).
    serve(
        polaris_onboarding.to_deployment(  # type: ignore[arg-type]
            name=ONBOARDING_DEPLOYMENT_NAME,
            description="Onboard a merchant onto Polaris EPOS tills, end to end.",
            tags=["onboarding", "polaris"],
        ),
        store_id_reminders.to_deployment(  # type: ignore[arg-type]
            name=REMINDERS_DEPLOYMENT_NAME,
            cron="0 9 * * 1-5",
            description="Remind Polaris about onboardings still waiting for store IDs.",
        ),
    )


if __name__ == "__main__":
    main()
