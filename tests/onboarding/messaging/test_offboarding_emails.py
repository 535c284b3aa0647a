"""The offboarding's two confirmations (text and HTML parts): what was revoked, which
store IDs were cleared or kept, nothing a reader could sign in with, and a merchant
name that reaches the HTML escaped; and the checklist that says what is done."""

from __future__ import annotations

from datetime import UTC, datetime

from contract.offboardings import OffboardingOut
from flows.messaging.offboarding import (
    OffboardingSummary,
    SiteStoreId,
    build_merchant_offboarding_email,
    build_polaris_offboarding_email,
)
from flows.offboarding_checklist import NOTHING_TO_DO, render
from tests.onboarding.messaging.settings import SettingsFactory
from tests.onboarding.messaging.test_polaris_email import bodies

WHEN = datetime(2027, 2, 3, 10, 0, tzinfo=UTC)
SITES = [SiteStoreId("The Crown, Soho", "PLR-100"), SiteStoreId("The Anchor", "PLR-200")]


def summary(clear: bool) -> OffboardingSummary:
    return OffboardingSummary(
        merchant_name="Crown & <Anchor> Inns",
        offboarded_at=WHEN,
        usernames=["polaris-7-0a1b2c3d"],
        clear_store_ids=clear,
        cleared=SITES if clear else [],
        kept=[] if clear else SITES,
    )


def test_polaris_is_told_which_credential_stopped_and_which_store_ids_went(
    onboarding_settings: SettingsFactory,
) -> None:
    message = build_polaris_offboarding_email(
        to="pat@polaris.example",
        contact_name="Pat",
        summary=summary(clear=True),
        settings=onboarding_settings(),
    )
    assert message["To"] == "pat@polaris.example"
    assert message["Subject"] == "Gift card integration ended for Crown & <Anchor> Inns"
    text, html = bodies(message)
    assert "Hello Pat," in text and "3 February 2027" in text
    assert "polaris-7-0a1b2c3d" in text and "HTTP 401" in text
    assert "The Crown, Soho: PLR-100" in text and "The Anchor: PLR-200" in text
    assert "Crown &amp; &lt;Anchor&gt; Inns" in html and "<Anchor>" not in html
    assert "<code>PLR-100</code>" in html and "<code>polaris-7-0a1b2c3d</code>" in html
    assert "password" not in text.lower() and "password" not in html.lower()
    assert list(message.iter_attachments()) == []


def test_kept_store_ids_are_listed_as_kept(onboarding_settings: SettingsFactory) -> None:
    settings = onboarding_settings()
    polaris = build_polaris_offboarding_email(
        to="pat@polaris.example",
        contact_name="Pat",
        summary=summary(clear=False),
        settings=settings,
    )
    text, html = bodies(polaris)
    assert "keep their store IDs" in text and "The Anchor: PLR-200" in text
    assert "removed" not in text and "<code>PLR-200</code>" in html

    merchant = build_merchant_offboarding_email(
        to="owner@crown.example", summary=summary(clear=False), settings=settings
    )
    assert merchant["To"] == "owner@crown.example"
    text, html = bodies(merchant)
    assert "no longer taken on Polaris EPOS tills" in text
    assert "The Crown, Soho (store PLR-100)" in text and "stay linked" in text
    assert "polaris-7-0a1b2c3d" not in text  # the merchant needs no API username
    assert "<code>PLR-100</code>" in html


def test_the_merchant_is_told_which_sites_were_unlinked(
    onboarding_settings: SettingsFactory,
) -> None:
    message = build_merchant_offboarding_email(
        to="owner@crown.example", summary=summary(clear=True), settings=onboarding_settings()
    )
    text, _ = bodies(message)
    assert "no longer linked to a Polaris store" in text and "The Anchor (store PLR-200)" in text


def offboarding(**changes: object) -> OffboardingOut:
    values: dict[str, object] = {
        "id": 4,
        "account_id": 7,
        "clear_store_ids": True,
        "flow_run_id": None,
        "revoked_credentials": [{"id": 9, "username": "polaris-7-0a1b2c3d", "label": "Polaris"}],
        "cleared_store_ids": [{"site_id": 1, "site_name": "The Crown", "store_id": "PLR-100"}],
        "polaris_emailed_at": None,
        "polaris_message_id": None,
        "merchant_emailed_at": None,
        "merchant_message_id": None,
        "finished": False,
        "created_at": WHEN,
        "updated_at": WHEN,
        **changes,
    }
    return OffboardingOut.model_validate(values)


def test_the_checklist_ticks_what_is_done() -> None:
    halfway = render(
        "Crown Inns",
        offboarding(polaris_emailed_at=WHEN),
        clear_store_ids=True,
        status="offboarding",
        revoked=True,
        store_ids_settled=True,
    )
    assert "- [x] Revoke Polaris's API credentials (polaris-7-0a1b2c3d)" in halfway
    assert "- [x] Clear the sites' store IDs (The Crown: PLR-100)" in halfway
    assert "- [x] Email Polaris the confirmation" in halfway
    assert "- [ ] Email the merchant the confirmation" in halfway

    nothing = render(
        "Crown Inns",
        None,
        clear_store_ids=False,
        status=NOTHING_TO_DO,
        revoked=True,
        store_ids_settled=True,
    )
    assert "Keep the sites' store IDs (as asked)" in nothing
    assert f"Status: **{NOTHING_TO_DO}**" in nothing
