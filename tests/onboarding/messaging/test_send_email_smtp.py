"""Sending over a real SMTP server on loopback: plain, login, STARTTLS, TLS, refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flows.credentials_file import unpack_encrypted
from flows.messaging.email import build_email, send_email
from flows.messaging.errors import DeliveryError, EmailDeliveryError
from flows.settings import OnboardingSettings
from harness.smtp import SmtpServer
from harness.tls import LoopbackTls
from tests.onboarding.messaging.polaris_mail import CONTACT_EMAIL, XLSX_NAME, ZIP_NAME, polaris_mail

SmtpSettings = Callable[..., OnboardingSettings]
StartServer = Callable[..., SmtpServer]

# Login without TLS is what these loopback tests do on purpose (aiosmtpd warns).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def test_polaris_email_arrives_intact(
    smtp_server: SmtpServer, settings_for_smtp: SmtpSettings
) -> None:
    settings = settings_for_smtp(smtp_server)
    mail = polaris_mail(settings)

    message_id = send_email(mail.message, settings)

    (received,) = smtp_server.received
    assert received.rcpt_tos == [CONTACT_EMAIL]
    assert received.mail_from == "onboarding@toggle.example"
    assert received.message["Message-ID"] == message_id
    assert received.authenticated_as is None and not received.over_tls
    parts = [p.get_content_type() for p in received.message.walk()]
    assert parts == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/zip",
    ]
    attachment = next(received.message.iter_attachments())
    assert attachment.get_filename() == ZIP_NAME
    assert unpack_encrypted(attachment.get_content(), mail.file_password) == {
        XLSX_NAME: mail.workbook
    }
    for secret in mail.secrets:
        assert secret.encode() not in received.raw


def test_logs_in_when_a_username_is_set(
    smtp_server_factory: StartServer, settings_for_smtp: SmtpSettings
) -> None:
    server = smtp_server_factory(username="mailer", password="s3cret-smtp-pw")
    settings = settings_for_smtp(server)

    send_email(build_email("ops@toggle.example", "Hi", "Hello", settings=settings), settings)

    (received,) = server.received
    assert received.authenticated_as == "mailer"


def test_wrong_login_is_a_permanent_error_without_the_password(
    smtp_server_factory: StartServer, settings_for_smtp: SmtpSettings
) -> None:
    server = smtp_server_factory(username="mailer", password="s3cret-smtp-pw")
    settings = settings_for_smtp(server, smtp_password="not-the-password")

    with pytest.raises(EmailDeliveryError) as caught:
        send_email(build_email("ops@toggle.example", "Hi", "Hello", settings=settings), settings)

    assert caught.value.permanent
    assert caught.value.smtp_code == 535
    assert "not-the-password" not in str(caught.value)
    assert "mailer" in str(caught.value)
    assert server.received == []


def test_server_that_requires_login_refuses_an_anonymous_sender(
    smtp_server_factory: StartServer, settings_for_smtp: SmtpSettings
) -> None:
    server = smtp_server_factory(username="mailer", password="pw")
    settings = settings_for_smtp(server, smtp_username=None, smtp_password=None)

    with pytest.raises(EmailDeliveryError, match="530"):
        send_email(build_email("ops@toggle.example", "Hi", "Hello", settings=settings), settings)


def test_starttls_and_login(
    smtp_server_factory: StartServer, settings_for_smtp: SmtpSettings, loopback_tls: LoopbackTls
) -> None:
    server = smtp_server_factory(username="mailer", password="pw", starttls=loopback_tls)
    settings = settings_for_smtp(server, smtp_starttls=True)
    message = build_email("ops@toggle.example", "Hi", "Hello", settings=settings)

    send_email(message, settings, ssl_context=loopback_tls.client_context())

    (received,) = server.received
    assert received.over_tls
    assert received.authenticated_as == "mailer"


def test_starttls_required_but_not_offered_fails_clearly(
    smtp_server: SmtpServer, settings_for_smtp: SmtpSettings
) -> None:
    settings = settings_for_smtp(smtp_server, smtp_starttls=True)

    with pytest.raises(EmailDeliveryError, match="does not offer STARTTLS") as caught:
        send_email(build_email("ops@toggle.example", "Hi", "Hello", settings=settings), settings)

    assert caught.value.permanent
    assert smtp_server.received == []


def test_untrusted_certificate_is_refused(
    smtp_server_factory: StartServer, settings_for_smtp: SmtpSettings, loopback_tls: LoopbackTls
) -> None:
    server = smtp_server_factory(starttls=loopback_tls)
    settings = settings_for_smtp(server, smtp_starttls=True)

    # No ssl_context: the system's CAs, which do not know the test CA.
    with pytest.raises(EmailDeliveryError, match="not trusted") as caught:
        send_email(build_email("ops@toggle.example", "Hi", "Hello", settings=settings), settings)

    assert caught.value.permanent
    assert server.received == []


def test_implicit_tls(
    smtp_server_factory: StartServer, settings_for_smtp: SmtpSettings, loopback_tls: LoopbackTls
) -> None:
    server = smtp_server_factory(implicit_tls=loopback_tls)
    settings = settings_for_smtp(server, smtp_ssl=True)
    message = build_email("ops@toggle.example", "Hi", "Hello", settings=settings)

    send_email(message, settings, ssl_context=loopback_tls.client_context())

    (received,) = server.received
    assert received.over_tls


def test_a_5xx_refusal_is_permanent(
    smtp_server: SmtpServer, settings_for_smtp: SmtpSettings
) -> None:
    settings = settings_for_smtp(smtp_server)
    smtp_server.refuse_next(1, 554, "5.7.1 Rejected as spam")

    with pytest.raises(DeliveryError) as caught:
        send_email(build_email("ops@toggle.example", "Hi", "Hello", settings=settings), settings)

    assert isinstance(caught.value, EmailDeliveryError)
    assert caught.value.permanent
    assert caught.value.smtp_code == 554
    assert "Rejected as spam" in str(caught.value)
    assert smtp_server.received == []


def test_a_4xx_refusal_can_be_retried(
    smtp_server: SmtpServer, settings_for_smtp: SmtpSettings
) -> None:
    settings = settings_for_smtp(smtp_server)
    message = build_email("ops@toggle.example", "Hi", "Hello", settings=settings)
    smtp_server.refuse_next(1, 451, "4.3.0 Try again later")

    with pytest.raises(EmailDeliveryError) as caught:
        send_email(message, settings)
    assert not caught.value.permanent

    # What the Prefect task's retry does: the same message, once more.
    assert send_email(message, settings) == message["Message-ID"]
    assert len(smtp_server.received) == 1


def test_a_refused_recipient(smtp_server: SmtpServer, settings_for_smtp: SmtpSettings) -> None:
    settings = settings_for_smtp(smtp_server)
    smtp_server.refuse_next(1, 550, "5.1.1 No such user", at="rcpt")

    with pytest.raises(EmailDeliveryError, match="No such user") as caught:
        send_email(
            build_email("nobody@polaris.example", "Hi", "Hello", settings=settings), settings
        )

    assert caught.value.permanent
    assert "nobody@polaris.example" in str(caught.value)


def test_one_refused_recipient_of_two_is_not_retried(
    smtp_server: SmtpServer, settings_for_smtp: SmtpSettings
) -> None:
    settings = settings_for_smtp(smtp_server)
    smtp_server.refuse_next(1, 450, "4.2.1 Mailbox busy", at="rcpt")
    message = build_email(
        ["busy@polaris.example", "ops@toggle.example"], "Hi", "Hello", settings=settings
    )

    with pytest.raises(EmailDeliveryError, match="others accepted") as caught:
        send_email(message, settings)

    # A retry would send ops@ a second copy.
    assert caught.value.permanent
    (received,) = smtp_server.received
    assert received.rcpt_tos == ["ops@toggle.example"]


def test_no_server_listening_is_worth_a_retry(
    smtp_server_factory: StartServer, settings_for_smtp: SmtpSettings
) -> None:
    server = smtp_server_factory()
    server.stop()
    settings = settings_for_smtp(server)

    with pytest.raises(EmailDeliveryError, match="could not reach") as caught:
        send_email(build_email("ops@toggle.example", "Hi", "Hello", settings=settings), settings)

    assert not caught.value.permanent
