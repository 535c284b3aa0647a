"""Telling people when an onboarding ends badly (failed, crashed, cancelled, expired),
through the same sending code as the Polaris email (SMTP, or the outbox on the
embedded default)."""

from __future__ import annotations

import shlex
from typing import Any
from uuid import UUID

from prefect.utilities.urls import url_for

from contract.onboardings import OnboardingOut
from flows.deployments import ONBOARDING_DEPLOYMENT_NAME
from flows.messaging.email import build_failure_email, send_email
from flows.settings import get_settings


def run_url(flow_run_id: str | UUID) -> str | None:
    """The run's page in the Prefect UI this process's settings point at
    (PREFECT_UI_URL, else derived from PREFECT_API_URL, which `scripts/up` sets from
    its PREFECT_PORT): the same link the `onboarding` command prints."""
    return url_for("flow-run", obj_id=flow_run_id)


def deployment_url(deployment_id: str | UUID | None) -> str | None:
    return url_for("deployment", obj_id=deployment_id) if deployment_id else None


def notify_failure(
    onboarding: OnboardingOut,
    merchant: str,
    error: str,
    *,
    flow_run_id: str | UUID,
    ended_as: str = "failed",
    site_name: str | None = None,
    call: str | None = None,
    sites: list[dict[str, Any]] | None = None,
    deployment_id: str | UUID | None = None,
) -> str:
    """Email the Polaris contact and our own people (ONBOARDING_NOTIFY_EMAILS): what
    happened, why, and how to go on."""
    settings = get_settings()
    message = build_failure_email(
        to=[onboarding.polaris_email, *settings.notify_emails],
        merchant_name=merchant,
        stage=_stage_of(onboarding),
        error=error,
        site_name=site_name,
        call=call,
        run_url=run_url(flow_run_id),
        ended_as=ended_as,
        restart_command=restart_command(onboarding, sites),
        deployment_name=ONBOARDING_DEPLOYMENT_NAME,
        deployment_url=deployment_url(deployment_id),
        settings=settings,
    )
    return send_email(message, settings)


def restart_command(onboarding: OnboardingOut, sites: list[dict[str, Any]] | None) -> str:
    """The `onboarding start` that starts this onboarding again: its account, contact
    and product, and the sites the run was given (adding them again is harmless; once
    they were added, the onboarding remembers them)."""
    words = [
        "uv", "run", "onboarding", "start",
        "--account", str(onboarding.account_id),
        "--polaris-name", onboarding.polaris_name,
        "--polaris-email", onboarding.polaris_email,
        "--polaris-mobile", onboarding.polaris_mobile,
    ]  # fmt: skip
    for site in sites or []:
        words += ["--site", f"{site['name']}|{site['address']}|{site['reference']}"]
    if onboarding.product_id is not None:
        words += ["--product", str(onboarding.product_id)]
    return shlex.join(words)


def _stage_of(onboarding: OnboardingOut) -> str:
    if onboarding.store_ids_saved_at:
        return "verify integration"
    if onboarding.credentials_delivered:
        return "await store IDs"
    if onboarding.sites_added_at:
        return "deliver the credentials"
    return "add sites"
