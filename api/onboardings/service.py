"""Rules for onboarding records: one open onboarding per account, one driving flow
run at a time, and at most one undelivered API credential alive."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.core.context import LedgerContext
from api.core.errors import Conflict, InvalidRequest, NotFound, ProductNotFound
from api.core.types import utcnow
from api.credentials import polaris
from api.credentials import service as credentials
from api.credentials.models import IntegrationUser
from api.merchants import repository as merchants_repository
from api.merchants import service as merchants
from api.onboardings import repository
from api.onboardings.models import Onboarding
from api.onboardings.schemas import (
    EndingOutcome,
    OnboardingCreate,
    OnboardingEnding,
    Stage,
    StageRecord,
)


class OnboardingNotFound(NotFound):
    code, title = "onboarding_not_found", "Onboarding not found"


def get(session: Session, onboarding_id: int, *, lock: bool = False) -> Onboarding:
    onboarding = repository.get(session, onboarding_id, lock=lock)
    if onboarding is None:
        raise OnboardingNotFound(f"No onboarding {onboarding_id}.")
    return onboarding


def list_onboardings(
    session: Session,
    *,
    account_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    flow_run_id: str | None = None,
) -> list[Onboarding]:
    return repository.list_all(session, account_id, status, kind, flow_run_id)


def start(session: Session, data: OnboardingCreate) -> tuple[Onboarding, bool]:
    """Open an onboarding for the account, or return the open one (a second start).

    The Polaris contact and product may still be corrected while nothing has been
    delivered; afterwards a different contact is a conflict.
    """
    merchants.get_account(session, data.account_id)
    product_id = _in_store_product(session, data.account_id, data.product_id)
    contact = (data.polaris.name, str(data.polaris.email), data.polaris.mobile)
    existing = repository.open_for_account(session, data.account_id, data.kind)
    if existing is not None:
        current = (existing.polaris_name, existing.polaris_email, existing.polaris_mobile)
        if (current, existing.product_id) != (contact, product_id):
            if existing.credentials_delivered:
                raise Conflict(
                    "onboarding_in_progress",
                    f"Onboarding {existing.id} for this account has already sent the file to "
                    f"{existing.polaris_email}; its contact and product can no longer change.",
                    onboarding_id=existing.id,
                )
            existing.polaris_name, existing.polaris_email, existing.polaris_mobile = contact
            existing.product_id = product_id
            existing.updated_at = utcnow()
            session.flush()
        return existing, False
    live = polaris.current(session, data.account_id)
    if data.kind == "rotation":
        _check_rotatable(session, data.account_id, live)
    onboarding = Onboarding(
        account_id=data.account_id,
        kind=data.kind,
        # A rotation replaces the live credential; an onboarding of an account that is
        # live already adds sites under the credential Polaris has.
        replaces_api_user_id=live.id if live and data.kind == "rotation" else None,
        uses_existing_credential=live is not None and data.kind == "onboarding",
        api_user_id=live.id if live and data.kind == "onboarding" else None,
        product_id=product_id,
        polaris_name=contact[0],
        polaris_email=contact[1],
        polaris_mobile=contact[2],
        site_ids=[],
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(onboarding)
    session.flush()
    return onboarding, True


def _check_rotatable(session: Session, account_id: int, live: IntegrationUser | None) -> None:
    if live is None:
        raise Conflict(
            "no_polaris_credential",
            f"Account {account_id} has no active Polaris credential to rotate; onboard it.",
        )
    onboarding = repository.open_for_account(session, account_id, "onboarding")
    if onboarding is not None and not onboarding.credentials_delivered:
        raise Conflict(
            "onboarding_in_progress",
            f"Onboarding {onboarding.id} of account {account_id} has not delivered its "
            "credential yet; finish it (or start it again) before rotating.",
            onboarding_id=onboarding.id,
        )


def _in_store_product(session: Session, account_id: int, product_id: int | None) -> int:
    if product_id is not None:
        product = merchants_repository.get_product(session, account_id, product_id)
        if product is None or not product.in_store:
            raise ProductNotFound(f"Account {account_id} has no in-store product {product_id}.")
        return product.id
    for product in merchants_repository.list_products(session, account_id):
        if product.in_store:
            return product.id
    raise ProductNotFound(f"Account {account_id} has no in-store gift product; create one first.")


def claim(
    session: Session, onboarding_id: int, flow_run_id: str, expected: str | None
) -> Onboarding:
    """Compare-and-set the driving flow run, so two runs never drive one onboarding."""
    onboarding = get(session, onboarding_id, lock=True)
    if onboarding.flow_run_id not in (expected, flow_run_id):
        raise Conflict(
            "onboarding_claimed",
            f"Onboarding {onboarding_id} is driven by flow run {onboarding.flow_run_id}.",
            flow_run_id=onboarding.flow_run_id,
        )
    onboarding.flow_run_id = flow_run_id
    # A new attempt starts clean; the stages already done stay done.
    _clear_ending(onboarding)
    onboarding.updated_at = utcnow()
    session.flush()
    return onboarding


def issue_credential(
    session: Session, context: LedgerContext, onboarding_id: int
) -> tuple[credentials.IssuedCredential, int | None]:
    """Revoke the undelivered API user, if any, and issue a new one, in one transaction.

    Its password lives only in memory of the flow run that asked; if that run dies
    before both the email and the text went out, the next attempt calls this again.
    """
    onboarding = get(session, onboarding_id, lock=True)
    if onboarding.uses_existing_credential and onboarding.api_user_id is not None:
        if credentials.get(session, onboarding.api_user_id).is_active:
            raise Conflict(
                "credentials_already_delivered",
                f"Onboarding {onboarding_id} goes under the account's live credential "
                f"(integration user {onboarding.api_user_id}); nothing to issue.",
            )
        # The credential it relied on was revoked (an offboarding): it delivers its own.
        onboarding.uses_existing_credential = False
    if onboarding.credentials_delivered:
        raise Conflict(
            "credentials_already_delivered",
            f"Onboarding {onboarding_id} already delivered its credential; nothing to reissue.",
        )
    revoked = onboarding.api_user_id
    if revoked is not None:
        credentials.revoke(session, revoked)
        session.flush()  # out of the one-credential rule before the new one comes in
    issued = polaris.issue(
        session,
        context,
        onboarding.account_id,
        label=f"Polaris ({onboarding.kind} {onboarding_id})",
        replaces=onboarding.replaces_api_user_id,
    )
    onboarding.api_user_id = issued.user.id
    onboarding.email_sent_at = onboarding.text_sent_at = None
    onboarding.email_message_id = None
    onboarding.updated_at = utcnow()
    session.flush()
    return issued, revoked


def record(session: Session, onboarding_id: int, stage: Stage, data: StageRecord) -> Onboarding:
    """Mark a stage done. Recording a stage again keeps its first time."""
    onboarding = get(session, onboarding_id, lock=True)
    now = utcnow()
    if stage == "sites_added":
        _record_sites(session, onboarding, data.site_ids)
        onboarding.sites_added_at = onboarding.sites_added_at or now
    elif stage in ("email_sent", "text_sent"):
        if data.api_user_id is None or data.api_user_id != onboarding.api_user_id:
            raise Conflict(
                "stale_credential",
                f"Onboarding {onboarding_id}'s current API user is {onboarding.api_user_id}, "
                f"not {data.api_user_id}: this delivery belongs to a replaced credential.",
            )
        if stage == "email_sent":
            onboarding.email_sent_at = onboarding.email_sent_at or now
            onboarding.email_message_id = data.message_id or onboarding.email_message_id
        else:
            onboarding.text_sent_at = onboarding.text_sent_at or now
    elif stage == "store_ids_saved":
        onboarding.store_ids_saved_at = onboarding.store_ids_saved_at or now
    elif stage == "verified":
        if onboarding.kind == "rotation" and onboarding.api_user_id is not None:
            polaris.complete_rotation(session, onboarding.api_user_id)  # revokes the old one
        onboarding.verified_at = onboarding.verified_at or now
        _clear_ending(onboarding)
    elif stage == "failed":  # the older way to record a failure of the current run
        onboarding.failed_at = now
        onboarding.failure_reason = data.reason or "unknown"
        onboarding.ended_as, onboarding.ended_flow_run_id = "failed", onboarding.flow_run_id
    elif stage == "reminded":
        onboarding.last_reminder_at = now
    onboarding.updated_at = now
    session.flush()
    return onboarding


def record_ending(
    session: Session, onboarding_id: int, data: OnboardingEnding
) -> tuple[Onboarding, EndingOutcome]:
    """Record how a flow run of the onboarding ended, once per run.

    Several watchers may see one ending (the flow's own hooks, the runner's, the
    automation on Prefect's events): the first to record it is told "recorded", the
    others "already_recorded", so exactly one of them tells people. An ending of a run
    that no longer drives the onboarding (a newer run claimed it) changes nothing."""
    onboarding = get(session, onboarding_id, lock=True)
    if onboarding.flow_run_id != data.flow_run_id:
        return onboarding, "not_current_run"
    if onboarding.verified_at is not None:
        return onboarding, "already_verified"
    if onboarding.failed_at is not None and onboarding.ended_flow_run_id == data.flow_run_id:
        return onboarding, "already_recorded"
    now = utcnow()
    onboarding.failed_at, onboarding.failure_reason = now, data.reason
    onboarding.ended_as, onboarding.ended_flow_run_id = data.ended_as, data.flow_run_id
    onboarding.updated_at = now
    session.flush()
    return onboarding, "recorded"


def _clear_ending(onboarding: Onboarding) -> None:
    onboarding.failed_at = onboarding.failure_reason = None
    onboarding.ended_as = onboarding.ended_flow_run_id = None


def _record_sites(session: Session, onboarding: Onboarding, site_ids: list[int] | None) -> None:
    if not site_ids:
        raise InvalidRequest("sites_added needs the site_ids in scope.")
    own = {site.id for site in merchants_repository.list_sites(session, onboarding.account_id)}
    foreign = sorted(set(site_ids) - own)
    if foreign:
        raise InvalidRequest(f"Not sites of account {onboarding.account_id}: {foreign}.")
    onboarding.site_ids = sorted(set(site_ids))
