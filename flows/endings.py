"""How an onboarding's flow run ended badly, recorded in the ledger and told once.

Four endings, each also the onboarding's status until it is started again:

    failed     an error in the run (or Prefect failing it)
    crashed    its process died (killed, its machine lost)
    cancelled  cancelled from the UI or the API, waiting or running
    expired    the store-ID wait timed out: Prefect's server failed the paused run

Who sees which (each calls ``tell_ending``):

    the flow body       an error it catches: it knows the site and the call
    on_failure hook     any failure of the run, in the flow-run process
    on_crashed hook     a crash, in the runner process (the run's own has died)
    polaris-run-ending  every bad ending, from Prefect's events (an automation): the
                        only one that sees an expired wait or a cancel from the UI

The ledger records one ending per flow run and says which call recorded it; only that
caller sends the email, so each ending is told exactly once however many see it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.client.schemas.objects import FlowRun, State

from contract.onboardings import EndingOutcome
from flows.ledger import LedgerAdmin, with_retries
from flows.notifications import notify_failure
from flows.settings import get_settings

REASON_LIMIT = 4000  # the ledger keeps this much of a reason


@dataclass(frozen=True)
class Ending:
    ended_as: str  # failed, crashed, cancelled, expired
    reason: str


def ending_of(state: State | None, previous: State | None = None) -> Ending | None:
    """How a run in ``state`` ended, or None if it did not end badly. ``previous`` is
    the state before it: a failure straight out of a pause whose timeout had passed
    is Prefect's server failing an expired wait."""
    if state is None:
        return None
    message = (state.message or "").strip()
    if state.is_crashed():
        return Ending("crashed", message or "The process running the flow was lost.")
    if state.is_cancelled():
        return Ending("cancelled", message or "The run was cancelled.")
    if not state.is_failed():
        return None
    if previous is not None and previous.is_paused() and _pause_had_expired(previous, state):
        days = get_settings().store_ids_timeout_days
        return Ending(
            "expired",
            f"No store IDs came from Polaris within the wait ({days:g} days), so Prefect "
            f"stopped the waiting run: {message or 'the pause expired.'}",
        )
    return Ending("failed", message or "The run failed.")


def _pause_had_expired(paused: State, failed: State) -> bool:
    timeout = paused.state_details.pause_timeout
    return timeout is not None and failed.timestamp is not None and timeout <= failed.timestamp


def tell_ending(
    flow_run: FlowRun,
    ending: Ending,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    *,
    site_name: str | None = None,
    call: str | None = None,
) -> EndingOutcome | None:
    """Record the run's ending in the ledger; if this call is the one that recorded
    it, email the Polaris contact and ONBOARDING_NOTIFY_EMAILS. None when the run
    drives no onboarding (its parameters were refused, or another run had it)."""
    run_id = str(flow_run.id)
    with LedgerAdmin(get_settings()) as ledger:
        found = with_retries(lambda: ledger.onboardings(flow_run_id=run_id))
        if not found:
            logger.info("Flow run %s drives no onboarding: no ending to record.", run_id)
            return None
        onboarding = found[0]
        reason = _clean(ending.reason)
        answer = with_retries(
            lambda: ledger.record_ending(onboarding.id, run_id, ending.ended_as, reason)
        )
        if not answer.recorded:
            logger.info(
                "Onboarding %s: the ending of run %s is not new (%s); nobody is told again.",
                onboarding.id, run_id, answer.outcome,
            )  # fmt: skip
            return answer.outcome
        merchant = with_retries(lambda: ledger.account(onboarding.account_id))["name"]
    logger.info("Onboarding %s of %s %s: %s", onboarding.id, merchant, ending.ended_as, reason)
    notify_failure(
        answer.onboarding,
        merchant,
        reason,
        flow_run_id=flow_run.id,
        ended_as=ending.ended_as,
        site_name=site_name,
        call=call,
        sites=_sites_given(flow_run),
        deployment_id=flow_run.deployment_id,
    )
    return answer.outcome


def _clean(reason: str) -> str:
    # The ledger refuses NUL characters and keeps REASON_LIMIT characters.
    return reason.replace("\x00", "").strip()[:REASON_LIMIT] or "No reason was given."


def _sites_given(flow_run: FlowRun) -> list[dict[str, Any]]:
    sites = (flow_run.parameters or {}).get("sites") or []
    return [s for s in sites if isinstance(s, dict) and {"name", "address", "reference"} <= set(s)]


# --- Hooks on the onboarding flow (Prefect calls them as hook(flow, flow_run, state)) ---


def on_failure(flow: Any, flow_run: FlowRun, state: State) -> None:
    """In the flow-run process, after the run failed: the body has told an error it
    caught; this tells any other failure (the ledger then answers already_recorded)."""
    _tell_from_hook(flow, flow_run, state)


def on_crashed(flow: Any, flow_run: FlowRun, state: State) -> None:
    """In the runner process, once it has marked the run Crashed (the run's own
    process is gone: killed, or out of memory)."""
    _tell_from_hook(flow, flow_run, state)


def _tell_from_hook(flow: Any, flow_run: FlowRun, state: State) -> None:
    from prefect.logging.loggers import flow_run_logger

    logger = flow_run_logger(flow_run, flow)
    ending = ending_of(state)
    if ending is None:
        return
    try:
        tell_ending(flow_run, ending, logger)
    except Exception as untold:  # the ledger or SMTP down: the automation tries too
        logger.warning("Could not record or tell the run's ending: %s", untold)


def flow_run_id_from(value: str) -> UUID:
    """A flow run's ID, given bare or as its event resource ID (prefect.flow-run.<id>)."""
    return UUID(value.strip().removeprefix("prefect.flow-run."))
