"""The offboarding's stages, one Prefect task each, named so the Prefect UI reads like
its checklist: revoke Polaris credentials → clear (or keep) store IDs → email Polaris
→ email the merchant.

The ledger's offboarding record says what is done: the revocation (and clearing) is
one transaction there, safe to repeat, and each email is noted right after it goes
out, so a retried or second run sends only what is not noted yet.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from contract.offboardings import OffboardingOut, OffboardResult
from flows import failpoints
from flows.ledger import LedgerAdmin, LedgerRefused, is_transient, with_retries
from flows.messaging.email import send_email
from flows.messaging.offboarding import (
    OffboardingSummary,
    SiteStoreId,
    build_merchant_offboarding_email,
    build_polaris_offboarding_email,
)
from flows.settings import get_settings
from flows.stages import (
    DELIVERY_RETRIES,
    DELIVERY_RETRY_DELAY,
    LEDGER_RETRIES,
    LEDGER_RETRY_DELAY,
    StageFailed,
    unless_permanent,
)


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry while the ledger is unreachable or answers 5xx; a refusal (4xx) stands."""
    try:
        state.result()
    except Exception as error:
        return is_transient(error)
    return True


def _ledger() -> LedgerAdmin:
    return LedgerAdmin(get_settings())


@task(
    name="revoke Polaris credentials",
    task_run_name="revoke Polaris credentials for {merchant}",
    retries=LEDGER_RETRIES,
    retry_delay_seconds=LEDGER_RETRY_DELAY,
    retry_condition_fn=only_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def revoke_credentials(
    account_id: int, merchant: str, clear_store_ids: bool, run_id: str
) -> OffboardResult:
    """Revoke every active Polaris credential of the account and, if asked, clear its
    sites' store IDs: one transaction in the ledger (so a till's next call gets 401)."""
    with _ledger() as ledger:
        try:
            result = ledger.offboard(
                account_id, clear_store_ids=clear_store_ids, flow_run_id=run_id
            )
        except LedgerRefused as refusal:
            if refusal.status >= 500:
                raise
            raise StageFailed(f"The ledger refused the offboarding: {refusal.detail}") from None
    logger = get_run_logger()
    if result.credentials_revoked:
        names = ", ".join(c.username for c in result.credentials_revoked)
        logger.info("Revoked %s's Polaris API user(s): %s.", merchant, names)
    else:
        logger.info("%s has no active Polaris API user left to revoke.", merchant)
    failpoints.reached("after:revoke_credentials")
    return result


@task(
    name="clear or keep store IDs",
    task_run_name="{action} store IDs for {merchant}",
    retries=LEDGER_RETRIES,
    retry_delay_seconds=LEDGER_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def settle_store_ids(
    offboarding: OffboardingOut, merchant: str, action: Literal["clear", "keep"]
) -> list[SiteStoreId]:
    """Check the sites are as asked: with ``clear``, none has a store ID left (the
    offboard call cleared them); with ``keep``, the store IDs kept (returned)."""
    with _ledger() as ledger:
        sites = ledger.sites(offboarding.account_id)
    mapped = [SiteStoreId(s["name"], s["store_id"]) for s in sites if s["store_id"]]
    logger = get_run_logger()
    if action == "clear":
        if mapped:
            listed = ", ".join(f"{s.site_name} ({s.store_id})" for s in mapped)
            raise StageFailed(f"Sites of {merchant} still have store IDs: {listed}.")
        cleared = ", ".join(f"{c.site_name} ({c.store_id})" for c in offboarding.cleared_store_ids)
        logger.info("Store IDs cleared: %s.", cleared or "none was set")
        return []
    logger.info(
        "Store IDs kept, as asked: %s.",
        ", ".join(f"{s.site_name} ({s.store_id})" for s in mapped) or "none is set",
    )
    return mapped


@task(
    name="email Polaris",
    task_run_name="email Polaris ({to}) that {merchant} is offboarded",
    retries=DELIVERY_RETRIES,
    retry_delay_seconds=DELIVERY_RETRY_DELAY,
    retry_condition_fn=unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def email_polaris(
    offboarding: OffboardingOut,
    merchant: str,
    to: str,
    contact_name: str,
    summary: OffboardingSummary,
) -> OffboardingOut:
    settings = get_settings()
    message = build_polaris_offboarding_email(
        to=to, contact_name=contact_name, summary=summary, settings=settings
    )
    message_id = send_email(message, settings)
    # Sent: noting it must not fail the task (its retry would send it again).
    with _ledger() as ledger:
        recorded = with_retries(
            lambda: ledger.offboarding_emailed(offboarding.id, "polaris", message_id)
        )
    get_run_logger().info("Emailed Polaris (%s) the confirmation (%s).", to, message_id)
    failpoints.reached("after:email_polaris_offboarded")
    return recorded


@task(
    name="email the merchant",
    task_run_name="email the merchant ({to}) that {merchant} is offboarded",
    retries=DELIVERY_RETRIES,
    retry_delay_seconds=DELIVERY_RETRY_DELAY,
    retry_condition_fn=unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def email_merchant(
    offboarding: OffboardingOut, merchant: str, to: str, summary: OffboardingSummary
) -> OffboardingOut:
    settings = get_settings()
    message = build_merchant_offboarding_email(to=to, summary=summary, settings=settings)
    message_id = send_email(message, settings)
    # Sent: noting it must not fail the task (its retry would send it again).
    with _ledger() as ledger:
        recorded = with_retries(
            lambda: ledger.offboarding_emailed(offboarding.id, "merchant", message_id)
        )
    get_run_logger().info("Emailed the merchant (%s) the confirmation (%s).", to, message_id)
    return recorded
