"""Rules for offboarding a merchant from Polaris: in one transaction, revoke every
active Polaris credential of the account and, if asked, clear its sites' store IDs;
then note each confirmation email as it goes out.

Repeating an offboard is safe: an offboarding whose emails have not all gone out is
continued (a run that died after revoking finishes the same record), and once both
went out a call that finds nothing to change changes nothing and makes no record.

An onboarding of the account that is still running (not verified, not failed) is a
409: its run may be live, and would go on delivering a credential that this revokes.
Its account manager lets it finish or cancels it first. A failed onboarding does not
block; it is rewound so that starting it again re-onboards (issues and delivers a new
credential, and asks for store IDs again if they were cleared).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from api.core.errors import AccountNotFound, Conflict, NotFound
from api.core.types import utcnow
from api.merchants import repository as merchants
from api.offboardings import repository
from api.offboardings.models import Offboarding
from api.onboardings.models import Onboarding
from contract.offboardings import EmailRecipient


class OffboardingNotFound(NotFound):
    code, title = "offboarding_not_found", "Offboarding not found"


@dataclass
class Offboarded:
    offboarding: Offboarding | None
    credentials_revoked: list[dict[str, Any]] = field(default_factory=list)
    store_ids_cleared: list[dict[str, Any]] = field(default_factory=list)
    # The run an unfinished offboarding was noted with before this call: if it is still
    # live, the caller leaves the emails to it.
    previous_flow_run_id: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.credentials_revoked or self.store_ids_cleared)


def get(session: Session, offboarding_id: int, *, lock: bool = False) -> Offboarding:
    offboarding = repository.get(session, offboarding_id, lock=lock)
    if offboarding is None:
        raise OffboardingNotFound(f"No offboarding {offboarding_id}.")
    return offboarding


def offboard(
    session: Session, account_id: int, *, clear_store_ids: bool, flow_run_id: str | None
) -> Offboarded:
    if repository.lock_account(session, account_id) is None:
        raise AccountNotFound(f"No account {account_id}.")
    onboardings = repository.unverified_onboardings(session, account_id)
    running = [o for o in onboardings if o.failed_at is None]
    if running:
        onboarding = running[0]
        raise Conflict(
            "onboarding_running",
            f"Onboarding {onboarding.id} of account {account_id} is still running "
            f"(status {onboarding.status.replace('_', ' ')}, flow run {onboarding.flow_run_id}); "
            "let it finish or cancel its run before offboarding.",
            onboarding_id=onboarding.id,
            flow_run_id=onboarding.flow_run_id,
        )

    credentials = repository.active_polaris_credentials(session, account_id)
    sites = [s for s in merchants.list_sites(session, account_id) if s.store_id is not None]
    to_clear = sites if clear_store_ids else []
    latest = repository.latest_for_account(session, account_id)
    if latest is not None and not latest.finished:
        record = latest  # a run that died before its emails: finish the same record
    elif credentials or to_clear:
        record = Offboarding(account_id=account_id, created_at=utcnow())
        session.add(record)
    else:
        return Offboarded(latest)

    previous_run = record.flow_run_id
    now = utcnow()
    revoked = [{"id": u.id, "username": u.username, "label": u.label} for u in credentials]
    for user in credentials:
        user.revoked_at = now
    cleared = [{"site_id": s.id, "site_name": s.name, "store_id": s.store_id} for s in to_clear]
    for site in to_clear:
        site.store_id = None
    # New lists, not appends: the JSON columns notice assignment only.
    record.revoked_credentials = [*(record.revoked_credentials or []), *revoked]
    record.cleared_store_ids = [*(record.cleared_store_ids or []), *cleared]
    record.clear_store_ids = bool(record.clear_store_ids) or clear_store_ids
    record.flow_run_id = flow_run_id or record.flow_run_id
    record.updated_at = now
    _rewind_failed(onboardings, {u.id for u in credentials}, cleared=bool(cleared))
    session.flush()
    return Offboarded(record, revoked, cleared, previous_run)


def _rewind_failed(onboardings: list[Onboarding], revoked: set[int], *, cleared: bool) -> None:
    """A failed onboarding whose credential this revoked has delivered nothing that
    still works: starting it again must issue and deliver a new one (and ask for store
    IDs again once they are cleared)."""
    for onboarding in onboardings:
        if onboarding.api_user_id in revoked:
            onboarding.email_sent_at = onboarding.text_sent_at = None
            onboarding.email_message_id = None
            onboarding.uses_existing_credential = False  # what it relied on is gone
        if cleared:
            onboarding.store_ids_saved_at = None
        onboarding.updated_at = utcnow()


def record_email(
    session: Session, offboarding_id: int, recipient: EmailRecipient, message_id: str | None
) -> Offboarding:
    """Note a confirmation sent; noting it again keeps the first time and Message-ID."""
    offboarding = get(session, offboarding_id, lock=True)
    now = utcnow()
    if recipient == "polaris" and offboarding.polaris_emailed_at is None:
        offboarding.polaris_emailed_at, offboarding.polaris_message_id = now, message_id
    elif recipient == "merchant" and offboarding.merchant_emailed_at is None:
        offboarding.merchant_emailed_at, offboarding.merchant_message_id = now, message_id
    offboarding.updated_at = now
    session.flush()
    return offboarding
