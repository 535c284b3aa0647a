"""The store-ID link: the ledger's page where Polaris types the store IDs itself, and
the waiting run resumes with them (through the same Prefect resume call as the UI's
form and the CLI). The ledger makes and checks the link; the flow asks for its run's
link, puts it into the emails to Polaris, and says how it was used.

The link opens the page for whoever holds it, so it travels only inside the emails:
it is fetched where an email is built, and is never a task's parameter or result,
nor logged.

    link_for_email       the run's link, for the email with the file (made the first
                         time; asked again before each wait, it lasts as long as the wait)
    link_for_reminder    the same link again, for a reminder
    checklist_line       whether Polaris used it, and when, for the checklist

flows.store_id_link_stage emails a restarted run's own link.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contract.onboardings import OnboardingOut
from contract.store_id_links import IssuedStoreIdLink, StoreIdLinkOut
from flows.ledger import LedgerAdmin, LedgerError, LedgerRefused
from flows.settings import get_settings


def _wait_seconds() -> int:
    return get_settings().store_ids_wait_seconds


def _run_of(onboarding: OnboardingOut) -> str:
    if not onboarding.flow_run_id:
        raise ValueError(f"Onboarding {onboarding.id} has no flow run to link to.")
    return onboarding.flow_run_id


def link_for_email(ledger: LedgerAdmin, onboarding: OnboardingOut) -> IssuedStoreIdLink:
    """The run's link, made the first time, working for the store-ID wait from now."""
    return ledger.issue_store_id_link(onboarding.id, _run_of(onboarding), _wait_seconds())


def link_for_reminder(ledger: LedgerAdmin, onboarding: OnboardingOut) -> IssuedStoreIdLink | None:
    """The link the onboarding's run emailed, for a reminder to carry too; None when
    the run has none (it was started before links, or has not emailed one yet)."""
    try:
        link = ledger.store_id_link(onboarding.id)
    except LedgerRefused as refusal:
        if refusal.status == 404:
            return None
        raise
    return link if link.emailed_at is not None and link.state == "active" else None


def checklist_line(onboarding: OnboardingOut) -> str | None:
    """What became of the current run's link, for the checklist (None when the ledger
    cannot say: the checklist is published all the same)."""
    try:
        with LedgerAdmin(get_settings()) as ledger:
            links = ledger.store_id_links(onboarding_id=onboarding.id)
    except LedgerError:
        return None
    current = [link for link in links if link.flow_run_id == onboarding.flow_run_id]
    return describe(current[-1], onboarding) if current else None


def describe(link: StoreIdLinkOut, onboarding: OnboardingOut | None = None) -> str:
    """In a line: when the link was emailed, and whether (and when) Polaris used it."""
    if link.emailed_at is None:
        return "Store-ID link: not emailed yet."
    text = f"Store-ID link: emailed {_when(link.emailed_at)}"
    if link.used_at is not None:
        return f"{text}; **used by Polaris at {_when(link.used_at)}**."
    if onboarding is not None and onboarding.store_ids_saved_at is not None:
        return f"{text}; not used (the store IDs came another way)."
    if link.state == "active":
        return f"{text}; not used yet (it works until {_when(link.expires_at)})."
    if link.state == "expired":
        return f"{text}; not used, and expired at {_when(link.expires_at)}."
    return f"{text}; not used ({link.state})."


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
