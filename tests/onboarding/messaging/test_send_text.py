"""Text messages through the real twilio client to a local stand-in, and to the outbox."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from twilio.http.http_client import TwilioHttpClient

from flows.messaging.errors import DeliveryError, TextDeliveryError
from flows.messaging.sms import RedirectingHttpClient, send_text, twilio_client
from flows.settings import OnboardingSettings
from harness.processes import free_port
from harness.twilio_standin import TwilioStandin
from tests.onboarding.messaging.settings import SettingsFactory

TwilioSettings = Callable[..., OnboardingSettings]
TO = "+447700900123"
BODY = "Password for the gift card file we emailed you about The Crown Group: K7QH-3MWA-XR9C-4TNP"


def test_sent_through_the_twilio_client(
    twilio_standin: TwilioStandin, settings_for_twilio: TwilioSettings, outbox_dir: Path
) -> None:
    sid = send_text(TO, BODY, settings_for_twilio(twilio_standin))

    (message,) = twilio_standin.messages
    assert sid == message.sid and sid.startswith("SM")
    assert message.to == TO
    assert message.from_ == twilio_standin.from_number
    assert message.body == BODY
    assert message.basic_auth == (twilio_standin.account_sid, twilio_standin.auth_token)
    assert not outbox_dir.exists()


def test_invalid_number_is_a_permanent_error_without_the_body(
    twilio_standin: TwilioStandin, settings_for_twilio: TwilioSettings
) -> None:
    twilio_standin.fail_next(1, status=400, code=21211)

    with pytest.raises(DeliveryError) as caught:
        send_text(TO, BODY, settings_for_twilio(twilio_standin))

    error = caught.value
    assert isinstance(error, TextDeliveryError)
    assert error.permanent
    assert (error.status, error.twilio_code) == (400, 21211)
    assert "21211" in str(error) and "Invalid 'To' Phone Number" in str(error)
    assert "K7QH" not in str(error) and "K7QH" not in repr(error)
    assert error.__cause__ is None and error.__suppress_context__
    assert twilio_standin.messages == []


def test_server_error_can_be_retried(
    twilio_standin: TwilioStandin, settings_for_twilio: TwilioSettings
) -> None:
    settings = settings_for_twilio(twilio_standin)
    twilio_standin.fail_next(1, status=500, code=20500)

    with pytest.raises(TextDeliveryError) as caught:
        send_text(TO, BODY, settings)
    assert not caught.value.permanent
    assert caught.value.status == 500

    send_text(TO, BODY, settings)
    assert len(twilio_standin.messages) == 1


def test_wrong_auth_token(
    twilio_standin: TwilioStandin, settings_for_twilio: TwilioSettings
) -> None:
    settings = settings_for_twilio(twilio_standin, twilio_auth_token="wrong-token-0123")

    with pytest.raises(TextDeliveryError) as caught:
        send_text(TO, BODY, settings)

    assert caught.value.permanent
    assert caught.value.twilio_code == 20003
    assert "wrong-token-0123" not in str(caught.value)


def test_twilio_unreachable_is_worth_a_retry(
    twilio_standin: TwilioStandin, settings_for_twilio: TwilioSettings
) -> None:
    closed_port = free_port()
    settings = settings_for_twilio(
        twilio_standin, twilio_api_base_url=f"http://127.0.0.1:{closed_port}"
    )

    with pytest.raises(TextDeliveryError, match="could not reach Twilio") as caught:
        send_text(TO, BODY, settings)

    assert not caught.value.permanent
    assert "K7QH" not in str(caught.value)


def test_outbox_when_twilio_is_not_configured(
    onboarding_settings: SettingsFactory, outbox_dir: Path
) -> None:
    settings = onboarding_settings()

    first = send_text(TO, BODY, settings)
    second = send_text("+447700900456", "Another", settings)

    files = sorted(outbox_dir.iterdir())
    assert [f.name for f in files] == sorted([first, second])
    path = outbox_dir / first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    assert content.startswith(f"To: {TO}\n")
    assert content.endswith(f"\n\n{BODY}\n")


def test_only_an_override_redirects_the_client(
    twilio_standin: TwilioStandin, settings_for_twilio: TwilioSettings
) -> None:
    redirected = twilio_client(settings_for_twilio(twilio_standin)).http_client
    assert isinstance(redirected, RedirectingHttpClient)
    assert redirected.base_url == twilio_standin.base_url

    direct = twilio_client(
        settings_for_twilio(twilio_standin, twilio_api_base_url=None)
    ).http_client
    assert type(direct) is TwilioHttpClient
    assert direct.timeout is not None
