"""The rotation's own stages and checklist (the delivery stages are the onboarding's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from contract.onboardings import OnboardingOut
from flows.ledger import LedgerAdmin, with_retries
from flows.messaging.email import build_rotation_email, send_email
from flows.settings import get_settings
from flows.stages import (
    DELIVERY_RETRIES,
    DELIVERY_RETRY_DELAY,
    LEDGER_RETRIES,
    LEDGER_RETRY_DELAY,
    EncryptedFile,
    sheet_sites,
    unless_permanent,
)


def _ledger() -> LedgerAdmin:
    return LedgerAdmin(get_settings())


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@task(
    name="email Polaris the new credential",
    retry_condition_fn=unless_permanent,
    task_run_name="email Polaris ({rotation.polaris_email}) the new credential for {merchant}",
    retries=DELIVERY_RETRIES,
    retry_delay_seconds=DELIVERY_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def email_new_credential(
    rotation: OnboardingOut, merchant: str, sites: list[dict[str, Any]], file: EncryptedFile
) -> str:
    with _ledger() as ledger:
        old = ledger.integration_user(rotation.replaces_api_user_id or 0)
    message = build_rotation_email(
        to=rotation.polaris_email,
        contact_name=rotation.polaris_name,
        merchant_name=merchant,
        sites=sheet_sites(sites),
        old_username=old["username"],
        grace_days=get_settings().rotation_grace_days,
        attachment_filename=file.filename,
        attachment=file.data,
        settings=get_settings(),
    )
    message_id = send_email(message, get_settings())
    with _ledger() as ledger:
        ledger.record(
            rotation.id, "email_sent", api_user_id=file.api_user_id, message_id=message_id
        )
    get_run_logger().info("Emailed the new credential's file to %s.", rotation.polaris_email)
    return message_id


def new_credential_uses(rotation: OnboardingOut) -> list[dict[str, Any]]:
    """The stores that have called with the rotation's new credential, first first."""
    if rotation.api_user_id is None:
        return []
    with _ledger() as ledger:
        return with_retries(lambda: ledger.store_uses(rotation.api_user_id or 0))


def reason_to_revoke(
    rotation: OnboardingOut,
    grace_ends: datetime,
    uses: list[dict[str, Any]] | None = None,
) -> str | None:
    """Why the old credential may go now, or None to keep waiting (``uses``: the new
    credential's, when the caller has read them already)."""
    assert rotation.api_user_id is not None and rotation.replaces_api_user_id is not None
    if uses is None:
        uses = new_credential_uses(rotation)
    with _ledger() as ledger:
        old = with_retries(lambda: ledger.integration_user(rotation.replaces_api_user_id or 0))
    if uses:
        first = uses[0]
        return (
            f"Polaris's tills called with the new credential (first from store "
            f"{first['store_id']} at {first['first_used_at']})"
        )
    if old["revoked_at"] is not None:
        return "the old credential had been revoked already"
    if datetime.now(UTC) >= grace_ends:
        return f"the grace period of {get_settings().rotation_grace_days:g} days ended"
    return None


def form_description(rotation: OnboardingOut, merchant: str, grace_ends: datetime) -> str:
    return (
        f"### New Polaris credential for {merchant}\n\n"
        f"The old credential (integration user {rotation.replaces_api_user_id}) keeps working "
        "until Polaris's tills first call with the new one, or until "
        f"{_when(grace_ends)}. Tick the box and resume to revoke it now."
    )


@task(
    name="revoke old credential",
    task_run_name="revoke {merchant}'s old credential",
    retries=LEDGER_RETRIES,
    retry_delay_seconds=LEDGER_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def revoke_old_credential(rotation: OnboardingOut, merchant: str, reason: str) -> None:
    """Revoke the old credential and make the new one the account's (idempotent)."""
    with _ledger() as ledger:
        ledger.record(rotation.id, "verified")
    get_run_logger().info(
        "Revoked integration user %s (%s); %s is now the account's Polaris credential.",
        rotation.replaces_api_user_id,
        reason,
        rotation.api_user_id,
    )


def publish(
    merchant: str,
    rotation: OnboardingOut,
    reason: str | None = None,
    uses: list[dict[str, Any]] | None = None,
) -> None:
    """The rotation's checklist: what is done, and which stores use the new credential
    (``uses``, when the caller has read them already)."""
    if uses is None:
        uses = new_credential_uses(rotation)
    delivered = rotation.credentials_delivered
    tick = {True: "x", False: " "}
    lines = [
        f"# Polaris credential rotation: {merchant}",
        "",
        f"- [{tick[rotation.api_user_id is not None]}] Create a new API user for Polaris"
        + (f" (integration user {rotation.api_user_id})" if rotation.api_user_id else ""),
        f"- [{tick[delivered or rotation.email_sent_at is not None]}] Build the password-protected file",
        f"- [{tick[rotation.email_sent_at is not None]}] Email the file to Polaris",
        f"- [{tick[rotation.text_sent_at is not None]}] Text the file's password to Polaris",
        f"- [{tick[bool(uses)]}] Polaris's tills call with the new credential",
        f"- [{tick[rotation.verified_at is not None]}] Revoke the old credential "
        f"(integration user {rotation.replaces_api_user_id})",
        "",
    ]
    if uses:
        lines += ["Stores that have called with the new credential:", ""]
        lines += [
            f"- {u['store_id']} ({u.get('site_name') or 'site'}), first at {u['first_used_at']}"
            for u in uses
        ]
    else:
        lines.append("No store has called with the new credential yet.")
    if reason:
        lines += ["", f"The old credential was revoked because {reason}."]
    lines += ["", f"Status: **{rotation.status.replace('_', ' ')}**"]
    create_markdown_artifact(
        key=f"rotation-{rotation.id}-checklist",
        markdown="\n".join(lines),
        description=f"Credential rotation for {merchant}",
    )
