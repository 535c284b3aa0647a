"""A restarted onboarding's own store-ID link, emailed before it waits.

The run that delivered the credentials put its link into that email. A run started
after it (a restart, once the file and text had gone out) waits under a new flow run:
the earlier link no longer works (it says so), so this run emails Polaris its own.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from contract.onboardings import OnboardingOut
from flows.ledger import LedgerAdmin, with_retries
from flows.messaging.email import build_store_id_link_email, send_email
from flows.settings import get_settings
from flows.stages import DELIVERY_RETRIES, DELIVERY_RETRY_DELAY, sheet_sites, unless_permanent
from flows.store_id_link import link_for_email


def ensure_link_emailed(
    onboarding: OnboardingOut, merchant: str, sites: list[dict[str, Any]]
) -> None:
    """Before the run waits: its link is made to work for this wait, and if Polaris
    has not had it (the credentials went out in an earlier run, whose link no longer
    works), it is emailed now."""
    with LedgerAdmin(get_settings()) as ledger:
        link = with_retries(lambda: link_for_email(ledger, onboarding))
    if link.emailed_at is None:
        email_store_id_link(onboarding, merchant, sites)


@task(
    name="email store-ID link",
    task_run_name="email store-ID link to {onboarding.polaris_email} for {merchant}",
    retry_condition_fn=unless_permanent,
    retries=DELIVERY_RETRIES,
    retry_delay_seconds=DELIVERY_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def email_store_id_link(
    onboarding: OnboardingOut, merchant: str, sites: list[dict[str, Any]]
) -> str:
    settings = get_settings()
    with LedgerAdmin(settings) as ledger:
        link = ledger.store_id_link(onboarding.id)
    message = build_store_id_link_email(
        to=onboarding.polaris_email,
        contact_name=onboarding.polaris_name,
        merchant_name=merchant,
        sites=sheet_sites(sites),
        store_id_link=link,
        original_message_id=onboarding.email_message_id,
        settings=settings,
    )
    message_id = send_email(message, settings)
    with LedgerAdmin(settings) as ledger:
        ledger.store_id_link_emailed(onboarding.id, link.flow_run_id, message_id)
    get_run_logger().info(
        "Emailed this run's store-ID link to %s (%s).", onboarding.polaris_email, message_id
    )
    return message_id
