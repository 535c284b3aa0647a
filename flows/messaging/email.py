"""Emails: built from the templates, sent over SMTP when configured, else to the outbox.

Building and sending are separate so a flow can build (and record the Message-ID of)
a message before it tries to send it, and retry only the sending.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from contract.store_id_links import IssuedStoreIdLink
from flows.credentials_file import SheetSite
from flows.messaging.errors import EmailDeliveryError
from flows.messaging.outbox import Outbox
from flows.settings import OnboardingSettings, get_settings
from flows.templating import render


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes = field(repr=False)
    mime_type: str = "application/zip"


def build_email(
    to: str | Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    *,
    settings: OnboardingSettings | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
) -> EmailMessage:
    """A text (+ HTML alternative) email with attachments, From settings.email_from."""
    settings = settings or get_settings()
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("an email needs at least one recipient")

    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or new_message_id(settings)
    if in_reply_to:
        # Threads a reminder under the first email in the contact's mail client.
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def new_message_id(settings: OnboardingSettings) -> str:
    """A fresh ``<…@domain>`` Message-ID on the sender's domain."""
    _, address = parseaddr(settings.email_from)
    domain = address.rpartition("@")[2] or None
    return make_msgid(domain=domain)


def build_polaris_email(
    *,
    to: str,
    contact_name: str,
    merchant_name: str,
    sites: Sequence[SheetSite],
    attachment_filename: str,
    attachment: bytes,
    mobile: str | None = None,
    settings: OnboardingSettings | None = None,
    message_id: str | None = None,
    store_id_link: IssuedStoreIdLink | None = None,
) -> EmailMessage:
    """The email to Polaris's account manager: the encrypted file, and the store IDs asked for
    (through the store-ID link, when there is one, or by reply).

    It carries no credential and no password; the file password goes by text message.
    """
    context = {
        "contact_name": contact_name,
        "merchant_name": merchant_name,
        "sites": sites,
        "attachment_filename": attachment_filename,
        "mobile_hint": _mobile_hint(mobile),
        "store_id_link": store_id_link,
    }
    return build_email(
        to,
        f"Gift card integration for {merchant_name}: credentials file and store IDs needed",
        render("polaris_email.txt.j2", **context),
        render("polaris_email.html.j2", **context),
        [Attachment(attachment_filename, attachment, "application/zip")],
        settings=settings,
        message_id=message_id,
    )


def build_polaris_new_sites_email(
    *,
    to: str,
    contact_name: str,
    merchant_name: str,
    sites: Sequence[SheetSite],
    api_username: str,
    store_id_link: IssuedStoreIdLink,
    settings: OnboardingSettings | None = None,
) -> EmailMessage:
    """New sites of a live account: their store IDs asked for, under the API user
    Polaris already has (named, never its password): no file, no text."""
    context = {
        "contact_name": contact_name,
        "merchant_name": merchant_name,
        "sites": sites,
        "api_username": api_username,
        "store_id_link": store_id_link,
    }
    return build_email(
        to,
        f"Gift cards for {merchant_name}: store IDs needed for new sites",
        render("polaris_new_sites.txt.j2", **context),
        render("polaris_new_sites.html.j2", **context),
        [],
        settings=settings,
    )


def build_rotation_email(
    *,
    to: str,
    contact_name: str,
    merchant_name: str,
    sites: Sequence[SheetSite],
    old_username: str,
    grace_days: float,
    attachment_filename: str,
    attachment: bytes,
    settings: OnboardingSettings | None = None,
) -> EmailMessage:
    """A rotation's new credential in its encrypted file; the old one is named (never
    its password) with how long it keeps working."""
    context = {
        "contact_name": contact_name,
        "merchant_name": merchant_name,
        "sites": sites,
        "old_username": old_username,
        "grace": "1 day" if grace_days == 1 else f"{grace_days:g} days",
        "attachment_filename": attachment_filename,
    }
    return build_email(
        to,
        f"New gift card API credential for {merchant_name}",
        render("polaris_rotation.txt.j2", **context),
        render("polaris_rotation.html.j2", **context),
        [Attachment(attachment_filename, attachment, "application/zip")],
        settings=settings,
    )


def build_polaris_reminder(
    *,
    to: str,
    contact_name: str,
    merchant_name: str,
    sites: Sequence[SheetSite],
    days_waiting: int,
    original_message_id: str | None = None,
    settings: OnboardingSettings | None = None,
    message_id: str | None = None,
    store_id_link: IssuedStoreIdLink | None = None,
) -> EmailMessage:
    """A reminder that store IDs are still awaited for ``sites`` (with the same
    store-ID link as the first email, when it has one)."""
    context = {
        "contact_name": contact_name,
        "merchant_name": merchant_name,
        "sites": sites,
        "days_waiting": days_waiting,
        "store_id_link": store_id_link,
    }
    return build_email(
        to,
        f"Reminder: Polaris store IDs still needed for {merchant_name}",
        render("polaris_reminder.txt.j2", **context),
        render("polaris_reminder.html.j2", **context),
        settings=settings,
        message_id=message_id,
        in_reply_to=original_message_id,
    )


def build_store_id_link_email(
    *,
    to: str,
    contact_name: str,
    merchant_name: str,
    sites: Sequence[SheetSite],
    store_id_link: IssuedStoreIdLink,
    original_message_id: str | None = None,
    settings: OnboardingSettings | None = None,
) -> EmailMessage:
    """A restarted onboarding's new store-ID link (the earlier email's no longer works)."""
    context = {
        "contact_name": contact_name,
        "merchant_name": merchant_name,
        "sites": sites,
        "store_id_link": store_id_link,
    }
    return build_email(
        to,
        f"New link for the Polaris store IDs of {merchant_name}",
        render("polaris_store_id_link.txt.j2", **context),
        render("polaris_store_id_link.html.j2", **context),
        settings=settings,
        in_reply_to=original_message_id,
    )


# What the email says happened, by how the run ended.
WHAT_HAPPENED = {
    "failed": "has failed",
    "crashed": "has stopped: the process running it was lost (it crashed)",
    "cancelled": "was cancelled",
    "expired": "has stopped: Polaris's store IDs did not come before the wait expired",
}


def build_failure_email(
    *,
    to: Sequence[str],
    merchant_name: str,
    stage: str,
    error: str,
    site_name: str | None = None,
    call: str | None = None,
    run_url: str | None = None,
    ended_as: str = "failed",
    restart_command: str = "onboarding start --account ID ...",
    deployment_name: str = "polaris-onboarding",
    deployment_url: str | None = None,
    settings: OnboardingSettings | None = None,
) -> EmailMessage:
    """Tells the people involved how the onboarding ended (failed, crashed, cancelled,
    expired): which merchant, stage, site and call, why, and how to go on."""
    context = {
        "merchant_name": merchant_name,
        "what_happened": WHAT_HAPPENED[ended_as],
        "ended_as": ended_as,
        "reason_label": "Error" if ended_as == "failed" else "Reason",
        "stage": stage,
        "error": error,
        "site_name": site_name,
        "call": call,
        "run_url": run_url,
        "restart_command": restart_command,
        "deployment_name": deployment_name,
        "deployment_url": deployment_url,
    }
    return build_email(
        to,
        f"Onboarding {ended_as} for {merchant_name}: {stage}",
        render("onboarding_failed.txt.j2", **context),
        render("onboarding_failed.html.j2", **context),
        settings=settings,
    )


def _mobile_hint(mobile: str | None) -> str | None:
    # Enough for the contact to know which phone to look at, not the whole number.
    digits = "".join(ch for ch in mobile or "" if ch.isdigit())
    return f"ending {digits[-3:]}" if len(digits) >= 3 else None


# --- Sending -----------------------------------------------------------------------


def send_email(
    message: EmailMessage,
    settings: OnboardingSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> str:
    """Send ``message`` and return its Message-ID.

    Over SMTP when ``settings.smtp_configured``, else into the outbox folder. Raises
    EmailDeliveryError when the server cannot be reached or refuses the message (or
    any recipient: the others may then already have it, so that is not retried).
    ``ssl_context`` overrides the system's trusted CAs (tests use their own).
    """
    if message["Message-ID"] is None:
        message["Message-ID"] = new_message_id(settings)
    message_id = str(message["Message-ID"])
    if settings.smtp_configured:
        _send_smtp(message, settings, ssl_context or ssl.create_default_context())
    else:
        Outbox(settings.outbox_dir).write_email(message)
    return message_id


def _send_smtp(
    message: EmailMessage, settings: OnboardingSettings, context: ssl.SSLContext
) -> None:
    assert settings.smtp_host is not None
    server = f"SMTP server {settings.smtp_host}:{settings.smtp_port}"
    client: smtplib.SMTP
    try:
        if settings.smtp_ssl:
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=settings.smtp_timeout_seconds,
                context=context,
            )
        else:
            client = smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
            )
        with client:
            client.ehlo()
            if settings.smtp_starttls and not settings.smtp_ssl:
                if not client.has_extn("starttls"):
                    raise EmailDeliveryError(
                        f"{server} does not offer STARTTLS, which the settings require "
                        "(set ONBOARDING_SMTP_STARTTLS=false only for a trusted local relay)",
                        permanent=True,
                    )
                client.starttls(context=context)
                client.ehlo()
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                client.login(settings.smtp_username, password)
            refused = client.send_message(message)
    except EmailDeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refused(server, exc.recipients, some_accepted=False) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailDeliveryError(
            f"{server} refused the login for {settings.smtp_username!r}: {_reply(exc)}",
            permanent=True,
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPResponseException as exc:
        # Sender refused, data refused, or a bad reply to EHLO/STARTTLS/AUTH.
        raise EmailDeliveryError(
            f"{server} refused the message: {_reply(exc)}",
            permanent=exc.smtp_code >= 500,
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise EmailDeliveryError(f"{server}: {exc}", permanent=True) from exc
    except ssl.SSLCertVerificationError as exc:
        raise EmailDeliveryError(
            f"{server}'s TLS certificate is not trusted: {exc.verify_message}", permanent=True
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Refused or dropped connections, timeouts, TLS handshakes: worth another try.
        raise EmailDeliveryError(f"could not reach {server}: {type(exc).__name__}: {exc}") from exc
    if refused:
        raise _refused(server, refused, some_accepted=True)


def _refused(
    server: str, recipients: dict[str, tuple[int, bytes]], *, some_accepted: bool
) -> EmailDeliveryError:
    codes = [code for code, _ in recipients.values()]
    listed = "; ".join(
        f"{address}: {code} {text.decode(errors='replace')}"
        for address, (code, text) in recipients.items()
    )
    return EmailDeliveryError(
        f"{server} refused recipients ({listed})"
        + ("; the others accepted the message" if some_accepted else ""),
        # Only a 4xx for everyone is worth retrying; if some accepted it, a retry
        # would send them a second copy.
        permanent=some_accepted or any(code >= 500 for code in codes),
        smtp_code=max(codes),
    )


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode(errors="replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {text}"
