"""The flows' settings refuse, outside development, the admin token the ledger would
refuse, and say which variable to set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flows.settings import OnboardingSettings

STRONG_TOKEN = "a-production-admin-token-0123456789abcdef"
SMTP_PASSWORD = "smtp-password-not-to-be-shown"


@pytest.fixture(autouse=True)
def _no_onboarding_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONBOARDING_LEDGER_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("ONBOARDING_ENVIRONMENT", raising=False)


@pytest.mark.parametrize("token", [None, "too-short"], ids=["missing", "short"])
def test_production_refuses_a_missing_or_short_admin_token(
    monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    monkeypatch.setenv("ONBOARDING_ENVIRONMENT", "production")
    monkeypatch.setenv("ONBOARDING_SMTP_PASSWORD", SMTP_PASSWORD)
    if token is not None:
        monkeypatch.setenv("ONBOARDING_LEDGER_ADMIN_TOKEN", token)
    with pytest.raises(ValidationError) as refused:
        OnboardingSettings()
    message = str(refused.value)
    assert "ONBOARDING_LEDGER_ADMIN_TOKEN must be set" in message
    assert "at least 32 characters when ONBOARDING_ENVIRONMENT=production" in message
    # The refusal ends up in a worker's log: it must not show the settings' secrets.
    assert SMTP_PASSWORD not in message
    if token is not None:
        assert token not in message


def test_production_takes_a_strong_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONBOARDING_ENVIRONMENT", "production")
    monkeypatch.setenv("ONBOARDING_LEDGER_ADMIN_TOKEN", STRONG_TOKEN)
    assert OnboardingSettings().admin_token() == STRONG_TOKEN


def test_development_needs_no_admin_token() -> None:
    settings = OnboardingSettings()
    assert settings.environment == "development"
    assert settings.ledger_admin_token is None
