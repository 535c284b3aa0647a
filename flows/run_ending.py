"""``polaris-run-ending``: record and tell how an onboarding run ended badly.

Run by the automation that ``flows.deployments`` defines on Prefect's flow-run events
(Failed, Crashed, Cancelled of a polaris-onboarding run), once per event. It reads the
run's state from Prefect rather than trusting the event, so a run that is already
going again records nothing. This is what records a store-ID wait that expired (the
server fails the paused run; no code of ours is running) and a run cancelled from the
UI (a suspended run is cancelled without any process of its own).
"""

from __future__ import annotations

from prefect import flow, get_client, get_run_logger

from flows.deployments import RUN_ENDING_FLOW
from flows.endings import ending_of, flow_run_id_from, tell_ending


@flow(name=RUN_ENDING_FLOW, persist_result=False, retries=2, retry_delay_seconds=10)
def polaris_run_ending(flow_run_id: str) -> str:
    """Record in the ledger how the onboarding run ``flow_run_id`` (its ID, or its
    event resource ID ``prefect.flow-run.<id>``) ended, and email the people involved
    if this is the first to record it. Returns what the ledger said."""
    logger = get_run_logger()
    run_id = flow_run_id_from(flow_run_id)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        states = client.read_flow_run_states(run_id)
    history = sorted(states, key=lambda s: s.timestamp)
    previous = history[-2] if len(history) >= 2 else None
    ending = ending_of(run.state, previous)
    if ending is None:
        state = run.state.type.value if run.state else "no state"
        logger.info("Run %s is %s: it has not ended badly, nothing to record.", run_id, state)
        return "not_ended"
    outcome = tell_ending(run, ending, logger)
    return outcome or "no_onboarding"
