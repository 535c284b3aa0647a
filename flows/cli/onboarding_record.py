"""`onboarding status`: what the ledger's onboarding record says of the run, above all
how it ended badly (failed, crashed, cancelled, expired) and the command that starts
it again. Best effort, as the store-ID link line: a ledger that cannot answer leaves
the line out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect.client.schemas.objects import FlowRun

from flows.cli.times import when
from flows.ledger import LedgerAdmin, LedgerError
from flows.notifications import restart_command
from flows.settings import get_settings


@dataclass(frozen=True)
class OnboardingRecordView:
    id: int
    status: str
    ended_as: str | None
    ended_at: datetime | None
    reason: str | None
    restart: str | None  # the `onboarding start` that picks it up again, once it ended
    text: str


def read_record(run: FlowRun) -> OnboardingRecordView | None:
    """The record of the onboarding this run drives (None if it drives none: a newer
    run took it over, or it never claimed one)."""
    try:
        with LedgerAdmin(get_settings()) as ledger:
            found = ledger.onboardings(flow_run_id=str(run.id))
    except LedgerError:
        return None
    if not found:
        return None
    onboarding = found[0]
    status = onboarding.status.replace("_", " ")
    restart = None
    text = f"{onboarding.id}, {status}"
    if onboarding.ended_as is not None:
        given: list[dict[str, Any]] = (run.parameters or {}).get("sites") or []
        restart = restart_command(onboarding, None if onboarding.sites_added_at else given)
        text = (
            f"{onboarding.id}, {onboarding.ended_as} at {when(onboarding.failed_at)}: "
            f"{onboarding.failure_reason or 'no reason given'}"
        )
    return OnboardingRecordView(
        id=onboarding.id,
        status=onboarding.status,
        ended_as=onboarding.ended_as,
        ended_at=onboarding.failed_at,
        reason=onboarding.failure_reason,
        restart=restart,
        text=text,
    )
