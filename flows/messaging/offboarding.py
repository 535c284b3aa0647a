"""The two confirmations of an offboarding: to Polaris (its credentials no longer work;
which store IDs were cleared or kept) and to the merchant. Neither holds a secret: an
API username names a credential, it does not unlock one, and it is revoked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from flows.messaging.email import build_email
from flows.settings import OnboardingSettings
from flows.templating import render


@dataclass(frozen=True)
class SiteStoreId:
    site_name: str
    store_id: str


@dataclass(frozen=True)
class OffboardingSummary:
    """What an offboarding did, as both emails tell it."""

    merchant_name: str
    offboarded_at: datetime
    usernames: Sequence[str]
    clear_store_ids: bool
    cleared: Sequence[SiteStoreId]
    kept: Sequence[SiteStoreId]


def build_polaris_offboarding_email(
    *, to: str, contact_name: str, summary: OffboardingSummary, settings: OnboardingSettings
) -> EmailMessage:
    context = {"contact_name": contact_name, **_context(summary)}
    return build_email(
        to,
        f"Gift card integration ended for {summary.merchant_name}",
        render("offboarding_polaris.txt.j2", **context),
        render("offboarding_polaris.html.j2", **context),
        settings=settings,
    )


def build_merchant_offboarding_email(
    *, to: str, summary: OffboardingSummary, settings: OnboardingSettings
) -> EmailMessage:
    context = _context(summary)
    return build_email(
        to,
        f"{summary.merchant_name}: gift cards are no longer taken on Polaris tills",
        render("offboarding_merchant.txt.j2", **context),
        render("offboarding_merchant.html.j2", **context),
        settings=settings,
    )


def _context(summary: OffboardingSummary) -> dict[str, object]:
    return {
        "merchant_name": summary.merchant_name,
        "offboarded_at": summary.offboarded_at,
        "usernames": list(summary.usernames),
        "clear_store_ids": summary.clear_store_ids,
        "cleared": list(summary.cleared),
        "kept": list(summary.kept),
    }
