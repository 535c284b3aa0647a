"""Rotating an account's Polaris credential, as a flow.

    issue new API user → build encrypted file → email Polaris → text password
    → wait (suspended: no process held) until Polaris's tills use the new credential,
      the grace period ends, or the account manager says "revoke the old one now"
    → revoke the old credential

The old credential keeps working until then: the ledger itself revokes it the moment
a till first calls with the new one (api/credentials/store_uses), so the tills never
see a gap; `polaris-rotation-watch` then resumes this run to close the record, as it
does when the grace period ends. The delivery stages, and their exactly-once record,
are the onboarding's (the rotation is an onboarding record of kind "rotation").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, runtime
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from prefect.states import Failed, State
from pydantic import Field

from contract.onboardings import OnboardingOut
from flows import rotation_stages, stages
from flows.deployments import ROTATION_FLOW
from flows.ledger import LedgerAdmin, LedgerRefused, with_retries
from flows.onboarding import claim, reload
from flows.onboarding_scope import PARAMETER_REFUSED
from flows.parameters import AccountId, PolarisContact
from flows.run_names import name_run
from flows.settings import get_settings


class RevokeOldCredential(RunInput):
    """The rotation's form in the Prefect UI (and what the CLI and the watch send)."""

    revoke_old_now: bool = Field(
        default=False,
        title="Revoke the old credential now",
        description="Tick to revoke it without waiting for Polaris's tills or the grace "
        "period (they must already use the new one, or they will be refused).",
    )


@flow(name=ROTATION_FLOW, persist_result=False, validate_parameters=True)
def polaris_credential_rotation(
    account_id: AccountId, polaris: PolarisContact | None = None
) -> dict[str, Any] | State:
    """Give Polaris a new API credential for the account and retire the old one."""
    logger = get_run_logger()
    run_id = str(runtime.flow_run.id)
    with LedgerAdmin(get_settings()) as ledger:
        try:
            account = with_retries(lambda: ledger.account(account_id))
            contact = _contact(ledger, account_id, polaris)
            rotation = with_retries(
                lambda: ledger.start_onboarding(account_id, contact, None, kind="rotation")
            )
        except LedgerRefused as refusal:
            sentence = f"{PARAMETER_REFUSED}account_id: {refusal.detail}"
            if refusal.status >= 500:
                raise
            logger.error(sentence)
            return Failed(message=sentence)
        merchant = account["name"]
        name_run(run_id, f"rotate {merchant}'s credential")
        rotation = claim(ledger, rotation, run_id)
    if not rotation.credentials_delivered:
        _deliver(rotation, merchant, account)
        rotation = reload(rotation)
    rotation_stages.publish(merchant, rotation)
    rotation = _await_switch(rotation, merchant)
    return {"onboarding_id": rotation.id, "status": rotation.status}


def _contact(
    ledger: LedgerAdmin, account_id: int, polaris: PolarisContact | None
) -> dict[str, str]:
    """The given contact, else the one the account's last onboarding delivered to."""
    if polaris is not None:
        return polaris.model_dump(mode="json")
    delivered = [
        o for o in ledger.onboardings(account_id=account_id) if o.email_sent_at is not None
    ]
    if not delivered:
        raise LedgerRefused(
            404,
            "no_polaris_contact",
            f"account {account_id} has no Polaris contact on record; "
            "give one (polaris) or onboard the account first.",
        )
    last = delivered[-1]
    return {"name": last.polaris_name, "email": last.polaris_email, "mobile": last.polaris_mobile}


def _deliver(rotation: OnboardingOut, merchant: str, account: dict[str, Any]) -> None:
    with LedgerAdmin(get_settings()) as ledger:
        sites = with_retries(lambda: ledger.sites(rotation.account_id))
    user = stages.create_api_user(rotation, merchant)
    file = stages.build_encrypted_file(rotation, merchant, account, sites, user)
    rotation_stages.email_new_credential(rotation, merchant, sites, file)
    stages.text_password(rotation, merchant, file)


def _await_switch(rotation: OnboardingOut, merchant: str) -> OnboardingOut:
    """Suspend until there is a reason to revoke the old credential, then revoke it."""
    logger = get_run_logger()
    grace = timedelta(days=get_settings().rotation_grace_days)
    assert rotation.waiting_since is not None
    grace_ends = rotation.waiting_since + grace
    while True:
        reason = rotation_stages.reason_to_revoke(rotation, grace_ends)
        if reason is not None:
            break
        answer = suspend_flow_run(
            wait_for_input=RevokeOldCredential.with_initial_data(
                description=rotation_stages.form_description(rotation, merchant, grace_ends)
            ),
            # Past the grace period, so Prefect never fails a wait the watch ends.
            timeout=int((grace_ends - datetime.now(UTC) + timedelta(days=1)).total_seconds()),
        )
        if answer.revoke_old_now:
            reason = "the account manager asked for it"
            break
        rotation = reload(rotation)
    logger.info("Revoking the old credential: %s.", reason)
    rotation_stages.revoke_old_credential(rotation, merchant, reason)
    rotation = reload(rotation)
    rotation_stages.publish(merchant, rotation, reason)
    return rotation
