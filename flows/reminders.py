"""A scheduled flow: remind Polaris about onboardings still waiting for store IDs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from contract.onboardings import OnboardingOut
from flows.ledger import LedgerAdmin
from flows.messaging.email import build_polaris_reminder, send_email
from flows.settings import get_settings
from flows.stages import sheet_sites
from flows.store_id_link import link_for_reminder


@task(
    name="remind Polaris",
    task_run_name="remind {onboarding.polaris_email} about onboarding {onboarding.id}",
    retries=2,
    retry_delay_seconds=5,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def remind(onboarding: OnboardingOut, merchant: str, sites: list[dict[str, Any]], days: int) -> str:
    settings = get_settings()
    with LedgerAdmin(settings) as ledger:
        link = link_for_reminder(ledger, onboarding)  # the same link as the first email's
    message = build_polaris_reminder(
        to=onboarding.polaris_email,
        contact_name=onboarding.polaris_name,
        merchant_name=merchant,
        sites=sheet_sites(sites),
        days_waiting=days,
        original_message_id=onboarding.email_message_id,
        settings=settings,
        store_id_link=link,
    )
    message_id = send_email(message, settings)
    with LedgerAdmin(settings) as ledger:
        ledger.record(onboarding.id, "reminded")
    return message_id


@flow(name="polaris-store-id-reminders", persist_result=False)
def store_id_reminders(after_days: float | None = None) -> list[int]:
    """Email Polaris about each onboarding that has waited longer than ``after_days``
    (default: ONBOARDING_REMINDER_AFTER_DAYS) for store IDs, at most once per period."""
    settings = get_settings()
    period = timedelta(days=after_days if after_days is not None else settings.reminder_after_days)
    now = datetime.now(UTC)
    reminded: list[int] = []
    with LedgerAdmin(settings) as ledger:
        for onboarding in ledger.onboardings(status="awaiting_store_ids"):
            waiting_since = onboarding.waiting_since
            last = onboarding.last_reminder_at or waiting_since
            if waiting_since is None or last is None or now - last < period:
                continue
            account = ledger.account(onboarding.account_id)
            sites = [
                s for s in ledger.sites(onboarding.account_id) if s["id"] in onboarding.site_ids
            ]
            remind(onboarding, account["name"], sites, (now - waiting_since).days)
            reminded.append(onboarding.id)
    get_run_logger().info("Reminded Polaris about %d onboarding(s).", len(reminded))
    return reminded
