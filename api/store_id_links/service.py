"""Rules for store-ID links: which link an onboarding's flow run hands Polaris, and
whether a link still opens the store-ID page.

A link names one onboarding and one flow run of it. It works while that run is the
onboarding's current one, the onboarding waits for store IDs, and the wait has not
expired; it stops working once store IDs are saved, when the onboarding fails or
ends in any other way (any status but awaiting store IDs), and when a later run of
the onboarding (a restart) gets a link of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from api.core.config import Settings
from api.core.errors import Conflict, NotFound
from api.merchants import repository as merchants
from api.onboardings import repository as onboardings
from api.onboardings.models import Onboarding
from api.onboardings.service import get as get_onboarding
from api.store_id_links import repository
from api.store_id_links.models import StoreIdLink
from api.store_id_links.tokens import LinkSigner, new_link_id
from contract.store_id_links import LinkState, StoreIdLinkCreate, StoreIdLinkEmailed

PAGE_PATH = "/polaris/store-ids"
WAITING = "awaiting_store_ids"
# A link is made while the credentials go out, before the onboarding waits.
LINKABLE = {"in_progress", WAITING}


class StoreIdLinkNotFound(NotFound):
    code, title = "store_id_link_not_found", "Store-ID link not found"


@lru_cache(maxsize=4)
def _signer(key: str) -> LinkSigner:
    return LinkSigner(key)


def signer(settings: Settings) -> LinkSigner:
    return _signer(settings.resolved_store_id_link_key())


def url_of(settings: Settings, link: StoreIdLink) -> str:
    return f"{settings.public_url.rstrip('/')}{PAGE_PATH}/{signer(settings).token(link.link_id)}"


# --- The admin API: the flow asks for its run's link, and says when it emailed it ---


def issue(
    session: Session, onboarding_id: int, data: StoreIdLinkCreate, now: datetime
) -> tuple[StoreIdLink, Onboarding, bool]:
    """The link of the onboarding's current flow run, made the first time (which
    retires the links of its earlier runs). Asked again, it works at least
    ``valid_for_seconds`` from now: the flow asks before each wait, so the link lasts
    as long as the wait does."""
    onboarding = get_onboarding(session, onboarding_id, lock=True)
    if onboarding.flow_run_id != data.flow_run_id:
        raise Conflict(
            "not_current_flow_run",
            f"Onboarding {onboarding_id} is driven by flow run {onboarding.flow_run_id}, "
            f"not {data.flow_run_id}: only its current run hands out a store-ID link.",
            flow_run_id=onboarding.flow_run_id,
        )
    if onboarding.status not in LINKABLE:
        raise Conflict(
            "onboarding_not_waiting",
            f"Onboarding {onboarding_id} is {onboarding.status.replace('_', ' ')}: it waits for "
            "no store IDs, so it has no store-ID link to give.",
            onboarding_status=onboarding.status,
        )
    until = now + timedelta(seconds=data.valid_for_seconds)
    existing = repository.for_run(session, onboarding_id, data.flow_run_id)
    if existing is not None:
        existing.expires_at = max(existing.expires_at, until)
        session.flush()
        return existing, onboarding, False
    for earlier in repository.unreplaced_others(session, onboarding_id, data.flow_run_id):
        earlier.replaced_at = now
    link = StoreIdLink(
        onboarding_id=onboarding_id,
        flow_run_id=data.flow_run_id,
        link_id=new_link_id(),
        created_at=now,
        expires_at=until,
        window_requests=0,
    )
    session.add(link)
    session.flush()
    return link, onboarding, True


def current(session: Session, onboarding_id: int) -> tuple[StoreIdLink, Onboarding]:
    """The link of the onboarding's current flow run (for a reminder): never made here."""
    onboarding = get_onboarding(session, onboarding_id)
    link = (
        repository.for_run(session, onboarding_id, onboarding.flow_run_id)
        if onboarding.flow_run_id
        else None
    )
    if link is None:
        raise StoreIdLinkNotFound(
            f"Onboarding {onboarding_id}'s current flow run has no store-ID link."
        )
    return link, onboarding


def record_emailed(
    session: Session, onboarding_id: int, data: StoreIdLinkEmailed, now: datetime
) -> tuple[StoreIdLink, Onboarding]:
    onboarding = get_onboarding(session, onboarding_id, lock=True)
    link = repository.for_run(session, onboarding_id, data.flow_run_id)
    if link is None:
        raise StoreIdLinkNotFound(
            f"Flow run {data.flow_run_id} of onboarding {onboarding_id} has no store-ID link."
        )
    link.emailed_at = link.emailed_at or now
    link.email_message_id = data.message_id or link.email_message_id
    session.flush()
    return link, onboarding


def listed(
    session: Session, onboarding_id: int | None, flow_run_id: str | None
) -> list[tuple[StoreIdLink, Onboarding]]:
    links = repository.listed(session, onboarding_id, flow_run_id)
    found: dict[int, Onboarding] = {}
    for link in links:
        if link.onboarding_id not in found:
            found[link.onboarding_id] = get_onboarding(session, link.onboarding_id)
    return [(link, found[link.onboarding_id]) for link in links]


def state_of(link: StoreIdLink, onboarding: Onboarding, now: datetime) -> LinkState:
    if link.replaced_at is not None:
        return "replaced"
    if link.used_at is not None:
        return "used"
    if onboarding.flow_run_id != link.flow_run_id or onboarding.status not in LINKABLE:
        return "closed"
    if now >= link.expires_at:
        return "expired"
    return "active"


# --- The page: opening a link -------------------------------------------------------


@dataclass(frozen=True)
class PageSite:
    id: int
    name: str
    address: str
    reference: str


@dataclass(frozen=True)
class OpenLink:
    """What the page shows and checks, read in the transaction that counted the visit."""

    link_row_id: int
    onboarding_id: int
    flow_run_id: str
    merchant: str
    sites: list[PageSite]
    # As the admin API lists sites, for the checks the flow runs (contract.store_ids).
    account_sites: list[dict[str, Any]]
    expires_at: datetime
    used_at: datetime | None

    @property
    def scope(self) -> list[dict[str, Any]]:
        return [s for s in self.account_sites if s["id"] in {site.id for site in self.sites}]


class LinkClosed(Exception):
    """The page cannot offer the form for this link; ``kind`` says why, for the page.

    kinds: invalid, rate_limited, replaced, received, closed, not_ready, expired,
    answered_elsewhere, refused, forbidden, too_large
    """

    def __init__(self, kind: str, merchant: str | None = None, **facts: Any) -> None:
        super().__init__(kind)
        self.kind, self.merchant, self.facts = kind, merchant, facts


def open_link(session: Session, settings: Settings, link_id: str, now: datetime) -> OpenLink:
    """Count a visit to the link (its rate limit) and check that it still opens the
    form; raises LinkClosed when it does not. The caller commits either way: a visit
    counts whether or not the link works."""
    link = repository.by_link_id(session, link_id, lock=True)
    if link is None:
        raise LinkClosed("invalid")
    _count_visit(link, settings, now)
    session.flush()
    onboarding = onboardings.get(session, link.onboarding_id)
    assert onboarding is not None  # a foreign key
    account = merchants.get_account(session, onboarding.account_id)
    merchant = account.name if account is not None else f"account {onboarding.account_id}"
    if link.replaced_at is not None or onboarding.flow_run_id != link.flow_run_id:
        newer = repository.newest(session, onboarding.id)
        newer_emailed = newer.emailed_at if newer is not None and newer.id != link.id else None
        raise LinkClosed("replaced", merchant, newer_emailed_at=newer_emailed)
    status = onboarding.status
    if status in ("verifying", "verified"):
        raise LinkClosed(
            "received", merchant, at=onboarding.store_ids_saved_at, used_at=link.used_at
        )
    if status == "in_progress":
        raise LinkClosed("not_ready", merchant)
    if status == "expired":  # the run's store-ID wait timed out: the wait is over
        raise LinkClosed("timed_out", merchant)
    if status != WAITING:  # failed, crashed, cancelled, and any other ending
        raise LinkClosed("closed", merchant, status=status.replace("_", " "))
    if now >= link.expires_at:
        raise LinkClosed("expired", merchant, expires_at=link.expires_at)
    account_sites = merchants.list_sites(session, onboarding.account_id)
    in_scope = set(onboarding.site_ids)
    return OpenLink(
        link_row_id=link.id,
        onboarding_id=onboarding.id,
        flow_run_id=link.flow_run_id,
        merchant=merchant,
        sites=[
            PageSite(s.id, s.name, s.address, s.reference)
            for s in account_sites
            if s.id in in_scope
        ],
        account_sites=[{"id": s.id, "name": s.name, "store_id": s.store_id} for s in account_sites],
        expires_at=link.expires_at,
        used_at=link.used_at,
    )


def _count_visit(link: StoreIdLink, settings: Settings, now: datetime) -> None:
    """A fixed window per link, kept on its row (so it holds across ledger processes)."""
    window = timedelta(seconds=settings.store_id_page_window_seconds)
    started = link.window_started_at
    if started is None or now - started >= window:
        link.window_started_at, link.window_requests = now, 0
        started = now
    if link.window_requests >= settings.store_id_page_max_requests:
        retry_after = max(1, math.ceil((started + window - now).total_seconds()))
        raise LinkClosed("rate_limited", retry_after=retry_after)
    link.window_requests += 1


def record_use(session: Session, link_row_id: int, now: datetime) -> None:
    link = session.get(StoreIdLink, link_row_id)
    if link is not None:
        link.used_at = now
        session.flush()
