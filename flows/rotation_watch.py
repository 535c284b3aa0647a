"""A scheduled flow: end the rotations whose wait is over.

A suspended rotation holds no process, so nothing of its own notices when Polaris's
tills switch to the new credential (the ledger revokes the old one at that moment) or
when the grace period ends. This looks every few minutes, republishes each waiting
rotation's checklist (which stores have called with the new credential), and resumes
the runs that can finish.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from prefect import flow, get_client, get_run_logger
from prefect.client.schemas.responses import SetStateStatus

from flows.deployments import ROTATION_WATCH_FLOW
from flows.ledger import LedgerAdmin
from flows.rotation_stages import new_credential_uses, publish, reason_to_revoke
from flows.settings import get_settings


@flow(name=ROTATION_WATCH_FLOW, persist_result=False)
def rotation_watch() -> list[int]:
    """Resume each rotation waiting on Polaris's tills that may now revoke the old
    credential; returns their onboarding record IDs."""
    settings = get_settings()
    logger = get_run_logger()
    grace = timedelta(days=settings.rotation_grace_days)
    resumed: list[int] = []
    with LedgerAdmin(settings) as ledger:
        waiting = ledger.onboardings(status="awaiting_first_use")
        names = {o.account_id: ledger.account(o.account_id)["name"] for o in waiting}
    for rotation in waiting:
        assert rotation.waiting_since is not None
        uses = new_credential_uses(rotation)  # read once for the checklist and the reason
        publish(names[rotation.account_id], rotation, uses=uses)
        reason = reason_to_revoke(rotation, rotation.waiting_since + grace, uses)
        if reason is None or rotation.flow_run_id is None:
            continue
        if _resume(rotation.flow_run_id):
            logger.info("Resumed rotation %s: %s.", rotation.id, reason)
            resumed.append(rotation.id)
    return resumed


def _resume(flow_run_id: str) -> bool:
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(flow_run_id))
        if run.state is None or not run.state.is_paused():
            return False  # running already, or ended (its own ending says why)
        result = client.resume_flow_run(run.id, run_input={"revoke_old_now": False})
    return result.status == SetStateStatus.ACCEPT
