"""Settings for the messaging tests (the SMTP server, Twilio stand-in and TLS
fixtures come from harness.messaging_fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flows.settings import OnboardingSettings
from harness.smtp import SmtpServer
from harness.twilio_standin import TwilioStandin
from tests.onboarding.messaging.settings import SettingsFactory


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def onboarding_settings(outbox_dir: Path) -> SettingsFactory:
    """Settings that ignore the environment's SMTP/Twilio: outbox mode unless overridden."""

    def make(**overrides: Any) -> OnboardingSettings:
        values: dict[str, Any] = {
            "outbox_dir": outbox_dir,
            "email_from": "Gift card onboarding <onboarding@toggle.example>",
            "smtp_host": None,
            "smtp_username": None,
            "smtp_password": None,
            "twilio_account_sid": None,
            "twilio_auth_token": None,
            "twilio_from_number": None,
            "twilio_api_base_url": None,
        }
        values.update(overrides)
        return OnboardingSettings(**values)

    return make


@pytest.fixture
def settings_for_smtp(onboarding_settings: SettingsFactory) -> Callable[..., OnboardingSettings]:
    """``settings_for_smtp(server, **overrides)``: SMTP mode against a test server."""

    def make(server: SmtpServer, **overrides: Any) -> OnboardingSettings:
        values: dict[str, Any] = {
            "smtp_host": server.host,
            "smtp_port": server.port,
            "smtp_starttls": False,
            "smtp_username": server.username,
            "smtp_password": server.password,
            "smtp_timeout_seconds": 10,
        }
        values.update(overrides)
        return onboarding_settings(**values)

    return make


@pytest.fixture
def settings_for_twilio(onboarding_settings: SettingsFactory) -> Callable[..., OnboardingSettings]:
    """``settings_for_twilio(standin, **overrides)``: Twilio mode against the stand-in."""

    def make(standin: TwilioStandin, **overrides: Any) -> OnboardingSettings:
        values: dict[str, Any] = {
            "twilio_account_sid": standin.account_sid,
            "twilio_auth_token": standin.auth_token,
            "twilio_from_number": standin.from_number,
            "twilio_api_base_url": standin.base_url,
        }
        values.update(overrides)
        return onboarding_settings(**values)

    return make
