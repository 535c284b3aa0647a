"""The names flow runs carry in the Prefect UI: what the run does, for whom, and when."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from prefect import get_client


def name_run(run_id: str, what: str) -> None:
    """Rename the run to ``what`` and today's date, e.g. "onboard Crown Inns (2026-12-04)"."""
    with get_client(sync_client=True) as client:
        client.update_flow_run(UUID(run_id), name=f"{what} ({datetime.now(UTC):%Y-%m-%d})")
