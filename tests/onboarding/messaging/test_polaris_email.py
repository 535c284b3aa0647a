"""The Polaris email's content, whatever carries it."""

from __future__ import annotations

from email.message import EmailMessage

from flows.credentials_file import unpack_encrypted
from tests.onboarding.messaging.polaris_mail import (
    CONTACT,
    CONTACT_EMAIL,
    MERCHANT,
    XLSX_NAME,
    ZIP_NAME,
    polaris_mail,
)
from tests.onboarding.messaging.settings import SettingsFactory
from tests.onboarding.polaris_file import SAMPLE_SITES


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_structure_is_alternative_text_and_html_plus_the_zip(
    onboarding_settings: SettingsFactory,
) -> None:
    message = polaris_mail(onboarding_settings()).message
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/zip",
    ]
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == ZIP_NAME
    assert message["To"] == CONTACT_EMAIL
    assert message["From"] == "Gift card onboarding <onboarding@toggle.example>"
    assert message["Message-ID"].endswith("@toggle.example>")
    assert MERCHANT in message["Subject"]


def test_names_the_contact_merchant_sites_and_the_text_message(
    onboarding_settings: SettingsFactory,
) -> None:
    text, html = bodies(polaris_mail(onboarding_settings()).message)
    for body in (text, html):
        assert CONTACT in body
        assert MERCHANT in body
        assert ZIP_NAME in body
        assert "text message" in body
        assert "ending 123" in body
        assert "store ID" in body
    for site in SAMPLE_SITES:
        assert site.name in text
        assert site.reference in text and site.reference in html
    # The HTML escapes what the merchant typed.
    assert "The Swan &lt;Bath&gt;" in html
    assert "<Bath>" not in html


def test_the_attachment_opens_with_the_file_password(onboarding_settings: SettingsFactory) -> None:
    mail = polaris_mail(onboarding_settings())
    attachment = next(mail.message.iter_attachments())
    content = attachment.get_content()
    assert isinstance(content, bytes)
    assert unpack_encrypted(content, mail.file_password) == {XLSX_NAME: mail.workbook}


def test_carries_neither_password_nor_the_username(onboarding_settings: SettingsFactory) -> None:
    mail = polaris_mail(onboarding_settings())
    raw = mail.message.as_bytes()
    text, html = bodies(mail.message)
    for secret in mail.secrets:
        assert secret.encode() not in raw
        assert secret not in text
        assert secret not in html
