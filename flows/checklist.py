"""The seed's manual checklist as a Markdown artifact, ticked as stages complete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect.artifacts import create_markdown_artifact
from prefect.utilities.urls import url_for

from contract.onboardings import OnboardingOut
from flows.store_id_link import checklist_line

if TYPE_CHECKING:
    from flows.onboarding_scope import AlreadyOnboarded

STAGES = [
    ("sites_added", "Add the merchant's sites"),
    ("api_user", "Create an API user for Polaris"),
    ("file_built", "Build the password-protected file"),
    ("email_sent", "Email the file to Polaris"),
    ("text_sent", "Text the file's password to Polaris"),
    ("store_ids_received", "Receive Polaris's store IDs"),
    ("store_ids_saved", "Enter the store IDs against the sites"),
    ("verified", "Test a voucher on a till"),
]


def done_stages(onboarding: OnboardingOut) -> set[str]:
    done: set[str] = set()
    if onboarding.sites_added_at:
        done.add("sites_added")
    if onboarding.credentials_delivered:
        done |= {"api_user", "file_built", "email_sent", "text_sent"}
    elif onboarding.email_sent_at:
        done |= {"api_user", "file_built", "email_sent"}
    if onboarding.store_ids_saved_at:
        done |= {"store_ids_received", "store_ids_saved"}
    if onboarding.verified_at:
        done.add("verified")
    return done


def render(
    merchant: str,
    onboarding: OnboardingOut,
    extra_done: frozenset[str] = frozenset(),
    store_id_link: str | None = None,
) -> str:
    done = done_stages(onboarding) | set(extra_done)
    lines = [f"# Polaris onboarding: {merchant}", ""]
    for key, label in STAGES:
        if onboarding.uses_existing_credential and key in ("api_user", "file_built", "text_sent"):
            if key == "api_user":
                lines.append(
                    f"- [x] Polaris's existing API user (id {onboarding.api_user_id}) covers "
                    "these sites: no new user, file or text"
                )
            continue
        lines.append(f"- [{'x' if key in done else ' '}] {label}")
    if store_id_link:
        lines += ["", store_id_link]
    lines += ["", f"Status: **{onboarding.status.replace('_', ' ')}**"]
    if onboarding.failure_reason:
        lines += ["", f"Last failure: {onboarding.failure_reason}"]
    return "\n".join(lines)


def publish(
    merchant: str, onboarding: OnboardingOut, extra_done: frozenset[str] = frozenset()
) -> None:
    link = checklist_line(onboarding) if onboarding.email_sent_at else None
    create_markdown_artifact(
        key=f"onboarding-{onboarding.id}-checklist",
        markdown=render(merchant, onboarding, extra_done, link),
        description=f"Onboarding checklist for {merchant}",
    )


def publish_nothing_to_do(merchant: str, done: AlreadyOnboarded) -> None:
    """A run with nothing to do says so, and links the run that did the onboarding."""
    run = done.onboarding.flow_run_id
    link = url_for("flow-run", obj_id=run) if run else None
    lines = [f"# Polaris onboarding: {merchant}", "", done.message, ""]
    lines.append(f"Onboarded by flow run [{run}]({link})." if link else "")
    create_markdown_artifact(
        key=f"onboarding-{done.onboarding.id}-checklist",
        markdown="\n".join(lines).rstrip() + "\n",
        description=f"Onboarding checklist for {merchant}",
    )
