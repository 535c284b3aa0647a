"""Offboarding a merchant from Polaris as one Prefect flow:

    revoke Polaris credentials → clear (or keep) store IDs → email Polaris → email the merchant

The revocation (with the clearing, when asked) is one transaction in the ledger, so a
till's next call with a revoked credential gets 401. The ledger's offboarding record
notes each confirmation as it goes out: a run that dies after revoking leaves the
record unfinished, and the next run (a Retry, or a new one) continues it and sends
only what was not sent. Once both went out, running it again changes nothing, sends
nothing and says "already offboarded; nothing to do".
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from prefect import flow, get_client, get_run_logger, runtime
from prefect.exceptions import ObjectNotFound

from contract.offboardings import OffboardingOut
from contract.onboardings import OnboardingOut
from flows import offboarding_checklist as checklist
from flows import offboarding_stages as stages
from flows.deployments import OFFBOARDING_FLOW
from flows.ledger import LedgerAdmin, LedgerRefused, with_retries
from flows.messaging.offboarding import OffboardingSummary, SiteStoreId
from flows.offboarding_checklist import NOTHING_TO_DO
from flows.parameters import AccountId, ClearStoreIds, MerchantEmail, PolarisEmail, PolarisName
from flows.run_names import name_run
from flows.settings import get_settings

# States in which another flow run may still be doing an offboarding.
LIVE_STATES = {"SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"}


class OffboardingRefused(Exception):
    """The offboarding cannot start; the message says why, naming what to give."""


class OffboardingBusy(Exception):
    """Another live run is doing this offboarding: it sends the emails, not this one."""


@flow(name=OFFBOARDING_FLOW, log_prints=False, persist_result=False, validate_parameters=True)
def polaris_offboarding(
    account_id: AccountId,
    merchant_email: MerchantEmail,
    clear_store_ids: ClearStoreIds = True,
    polaris_email: PolarisEmail = None,
    polaris_name: PolarisName = None,
) -> dict[str, Any]:
    """Take a merchant off Polaris EPOS tills: revoke its Polaris credentials, clear or
    keep its store IDs, and confirm to Polaris and the merchant by email."""
    logger = get_run_logger()
    run_id = str(runtime.flow_run.id)
    account, onboardings = _account_and_onboardings(account_id)
    merchant = str(account["name"])
    name_run(run_id, f"offboard {merchant}")
    # Settled before anything changes: a run that cannot tell Polaris changes nothing.
    to, contact_name = _polaris_contact(account_id, onboardings, polaris_email, polaris_name)

    result = stages.revoke_credentials(account_id, merchant, clear_store_ids, run_id)
    offboarding = result.offboarding
    if offboarding is None or (offboarding.finished and not result.changed):
        logger.info("%s: %s.", merchant, NOTHING_TO_DO)
        checklist.publish(
            account_id,
            merchant,
            checklist.render(
                merchant,
                offboarding,
                clear_store_ids=clear_store_ids,
                status=NOTHING_TO_DO,
                revoked=True,
                store_ids_settled=True,
            ),
        )
        return {"account_id": account_id, "outcome": NOTHING_TO_DO}

    previous = result.previous_flow_run_id
    if previous and previous != run_id and _is_live(previous):
        raise OffboardingBusy(
            f"{merchant} is being offboarded by flow run {previous}; follow that run instead."
        )

    def tick(record: OffboardingOut, settled: bool, status: str = "offboarding") -> None:
        markdown = checklist.render(
            merchant,
            record,
            clear_store_ids=clear_store_ids,
            status=status,
            revoked=True,
            store_ids_settled=settled,
        )
        checklist.publish(account_id, merchant, markdown)

    tick(offboarding, settled=False)
    action: Literal["clear", "keep"] = "clear" if offboarding.clear_store_ids else "keep"
    kept = stages.settle_store_ids(offboarding, merchant, action)
    tick(offboarding, settled=True)
    summary = OffboardingSummary(
        merchant_name=merchant,
        offboarded_at=offboarding.created_at,
        usernames=[c.username for c in offboarding.revoked_credentials],
        clear_store_ids=offboarding.clear_store_ids,
        cleared=[SiteStoreId(c.site_name, c.store_id) for c in offboarding.cleared_store_ids],
        kept=kept,
    )
    if offboarding.polaris_emailed_at is None:
        offboarding = stages.email_polaris(offboarding, merchant, to, contact_name, summary)
        tick(offboarding, settled=True)
    if offboarding.merchant_emailed_at is None:
        offboarding = stages.email_merchant(offboarding, merchant, str(merchant_email), summary)
    tick(offboarding, settled=True, status="offboarded")
    return {
        "account_id": account_id,
        "offboarding_id": offboarding.id,
        "outcome": "offboarded",
        "credentials_revoked": len(offboarding.revoked_credentials),
        "store_ids_cleared": len(offboarding.cleared_store_ids),
    }


def _account_and_onboardings(account_id: int) -> tuple[dict[str, Any], list[OnboardingOut]]:
    with LedgerAdmin(get_settings()) as ledger:
        try:
            account = with_retries(lambda: ledger.account(account_id))
        except LedgerRefused as refusal:
            if refusal.status == 404:
                raise OffboardingRefused(f"The ledger has no account {account_id}.") from None
            raise
        onboardings = with_retries(lambda: ledger.onboardings(account_id=account_id))
    return account, onboardings


def _polaris_contact(
    account_id: int,
    onboardings: list[OnboardingOut],
    email: str | None,
    name: str | None,
) -> tuple[str, str]:
    """Where Polaris's confirmation goes: the latest onboarding's contact, unless given."""
    latest = onboardings[-1] if onboardings else None
    if email is not None:
        to = str(email)
    elif latest is not None:
        to = latest.polaris_email
    else:
        raise OffboardingRefused(
            f"Account {account_id} has no onboarding to take Polaris's contact from; "
            "give polaris_email."
        )
    if name is not None:
        return to, name
    if latest is not None and latest.polaris_email == to:
        return to, latest.polaris_name
    return to, "Polaris team"


def _is_live(flow_run_id: str) -> bool:
    """Whether that run may still be going. Only "no such run" says no: a run we cannot
    see (the Prefect API failing) may well be alive, so that error propagates."""
    try:
        run_id = UUID(flow_run_id)
    except ValueError:  # not a Prefect run's ID at all
        return False
    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
    except ObjectNotFound:
        return False
    return run.state is not None and run.state.type.value in LIVE_STATES
