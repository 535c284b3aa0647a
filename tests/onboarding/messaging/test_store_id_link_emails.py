"""The store-ID link in the emails to Polaris: the first email (text and HTML parts),
the reminders (the same link) and a restarted onboarding's new-link email; and the
checklist's line on whether Polaris used it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from contract.onboardings import OnboardingOut
from contract.store_id_links import IssuedStoreIdLink, StoreIdLinkOut
from flows.checklist import render
from flows.messaging.email import (
    build_polaris_email,
    build_polaris_reminder,
    build_store_id_link_email,
)
from flows.store_id_link import describe
from tests.onboarding.messaging.settings import SettingsFactory
from tests.onboarding.messaging.test_polaris_email import bodies
from tests.onboarding.polaris_file import SAMPLE_SITES

NOW = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
URL = "https://ledger.example/polaris/store-ids/ImFiY2RlZmdoaWprbG1ub3BxcnN0dXYi.c2lnbmF0dXJl"


def link(**changes: object) -> IssuedStoreIdLink:
    values: dict[str, object] = {
        "id": 3,
        "onboarding_id": 7,
        "flow_run_id": "0b9c1e9e-8f6e-4d7a-9a0e-111111111111",
        "state": "active",
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=30),
        "emailed_at": None,
        "used_at": None,
        "replaced_at": None,
        "url": URL,
        **changes,
    }
    return IssuedStoreIdLink.model_validate(values)


def _both(message: EmailMessage) -> tuple[str, str]:
    return bodies(message)


def test_the_first_email_carries_the_link_in_both_parts(
    onboarding_settings: SettingsFactory,
) -> None:
    message = build_polaris_email(
        to="priya.shah@polaris.example",
        contact_name="Priya Shah",
        merchant_name="The Crown Group",
        sites=SAMPLE_SITES,
        attachment_filename="polaris-onboarding-42.zip",
        attachment=b"zip",
        settings=onboarding_settings(),
        store_id_link=link(),
    )
    text, html = _both(message)
    assert f"\n  {URL}\n" in text
    assert f'href="{URL}"' in html and "Enter the store IDs" in html
    for body in (text, html):
        assert "works until 3 February 2027" in body
        assert "reply to this email" in body  # the other way still stands
    # Without a link the email asks for a reply, as before.
    plain = build_polaris_email(
        to="priya.shah@polaris.example",
        contact_name="Priya Shah",
        merchant_name="The Crown Group",
        sites=SAMPLE_SITES,
        attachment_filename="polaris-onboarding-42.zip",
        attachment=b"zip",
        settings=onboarding_settings(),
    )
    for body in _both(plain):
        assert "/polaris/store-ids/" not in body and "reply to this email" in body


def test_a_reminder_carries_the_same_link(onboarding_settings: SettingsFactory) -> None:
    message = build_polaris_reminder(
        to="priya.shah@polaris.example",
        contact_name="Priya Shah",
        merchant_name="The Crown Group",
        sites=SAMPLE_SITES[:1],
        days_waiting=3,
        original_message_id="<first@toggle.example>",
        settings=onboarding_settings(),
        store_id_link=link(emailed_at=NOW),
    )
    text, html = _both(message)
    assert URL in text and f'href="{URL}"' in html
    assert message["In-Reply-To"] == "<first@toggle.example>"


def test_a_restarted_onboarding_emails_its_new_link(onboarding_settings: SettingsFactory) -> None:
    message = build_store_id_link_email(
        to="priya.shah@polaris.example",
        contact_name="Priya Shah",
        merchant_name="Fish & Chips <Ltd>",
        sites=SAMPLE_SITES[:2],
        store_id_link=link(),
        original_message_id="<first@toggle.example>",
        settings=onboarding_settings(),
    )
    assert message["Subject"] == "New link for the Polaris store IDs of Fish & Chips <Ltd>"
    assert message["In-Reply-To"] == "<first@toggle.example>"
    assert list(message.iter_attachments()) == []  # the file Polaris has stands
    text, html = _both(message)
    assert "earlier email no longer works" in text and URL in text
    assert "Fish &amp; Chips &lt;Ltd&gt;" in html and f'href="{URL}"' in html
    for site in SAMPLE_SITES[:2]:
        assert site.reference in text and site.reference in html


def test_the_checklist_says_whether_polaris_used_the_link() -> None:
    out = StoreIdLinkOut.model_validate(link().model_dump(exclude={"url"}))
    onboarding = _onboarding()
    assert describe(out, onboarding) == "Store-ID link: not emailed yet."
    sent = out.model_copy(update={"emailed_at": NOW})
    assert describe(sent, onboarding) == (
        "Store-ID link: emailed 2027-01-04 09:30 UTC; not used yet "
        "(it works until 2027-02-03 09:30 UTC)."
    )
    used = sent.model_copy(update={"used_at": NOW + timedelta(hours=2), "state": "used"})
    line = describe(used, onboarding)
    assert line.endswith("**used by Polaris at 2027-01-04 11:30 UTC**.")
    saved = onboarding.model_copy(update={"store_ids_saved_at": NOW})
    assert describe(sent, saved).endswith("not used (the store IDs came another way).")
    checklist = render("The Crown Group", onboarding, store_id_link=line)
    assert line in checklist and "- [ ] Receive Polaris's store IDs" in checklist


def _onboarding() -> OnboardingOut:
    return OnboardingOut.model_validate(
        {
            "id": 7, "account_id": 1, "kind": "onboarding", "replaces_api_user_id": None,
            "uses_existing_credential": False, "product_id": 1, "polaris_name": "Pat",
            "polaris_email": "pat@polaris.example", "polaris_mobile": "+447700900123",
            "site_ids": [101], "flow_run_id": "0b9c1e9e-8f6e-4d7a-9a0e-111111111111",
            "api_user_id": 3, "status": "awaiting_store_ids", "credentials_delivered": True,
            "sites_added_at": NOW, "email_sent_at": NOW, "email_message_id": "<m@x>",
            "text_sent_at": NOW, "store_ids_saved_at": None, "verified_at": None,
            "failed_at": None, "failure_reason": None, "last_reminder_at": None,
            "waiting_since": NOW, "created_at": NOW, "updated_at": NOW,
        }
    )  # fmt: skip
