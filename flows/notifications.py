"""Telling people when an onboarding fails, through the same sending code as the
Polaris email (SMTP, or the outbox on the embedded default)."""

from __future__ import annotations

from prefect import runtime

from contract.onboardings import OnboardingOut
from flows.messaging.email import build_failure_email, send_email
from flows.settings import get_settings


def run_url() -> str | None:
    ui = runtime.flow_run.ui_url
    return str(ui) if ui else None


def notify_failure(
    onboarding: OnboardingOut,
    merchant: str,
    error: str,
    *,
    site_name: str | None = None,
    call: str | None = None,
) -> str:
    """Email the Polaris contact and our own people (ONBOARDING_NOTIFY_EMAILS)."""
    settings = get_settings()
    message = build_failure_email(
        to=[onboarding.polaris_email, *settings.notify_emails],
        merchant_name=merchant,
        stage=_stage_of(onboarding),
        error=error,
        site_name=site_name,
        call=call,
        run_url=run_url(),
        settings=settings,
    )
    return send_email(message, settings)


def _stage_of(onboarding: OnboardingOut) -> str:
    if onboarding.store_ids_saved_at:
        return "verify integration"
    if onboarding.credentials_delivered:
        return "await store IDs"
    if onboarding.sites_added_at:
        return "deliver the credentials"
    return "add sites"
