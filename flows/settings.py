"""Settings for the onboarding flows, from environment variables prefixed ``ONBOARDING_``.

With nothing configured (the embedded default) the flows talk to the ledger on
127.0.0.1:8000 with the development admin token, and write emails and text messages
to the outbox folder instead of SMTP and Twilio. Outside development
(``ONBOARDING_ENVIRONMENT=production``) a missing or short admin token stops the
flows at start-up, by the rule the ledger's settings follow.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contract.development import (
    VAR_DIR,
    Environment,
    development_admin_token,
    refuse_short_admin_token,
)


class OnboardingSettings(BaseSettings):
    # An error must not echo its input: a refusal of one setting would print them all,
    # secrets included.
    model_config = SettingsConfigDict(
        env_prefix="ONBOARDING_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = "development"
    ledger_url: str = Field(default="http://127.0.0.1:8000", description="The ledger's base URL.")
    ledger_public_url: str | None = Field(
        default=None,
        description="The till API endpoint written into the Polaris file (default: ledger_url).",
    )
    ledger_admin_token: SecretStr | None = Field(
        default=None,
        description="Admin API token (in development, default: the token under var/). "
        "Required in production.",
    )

    outbox_dir: Path = Field(default=VAR_DIR / "outbox")

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 30.0
    email_from: str = "onboarding@toggle.example"
    notify_emails: list[str] = Field(
        default_factory=list,
        description="Our own people told when an onboarding fails (besides the Polaris contact).",
    )

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str | None = Field(
        default=None, description="Override of https://api.twilio.com (tests use a local stand-in)."
    )

    delivery_retries: int = Field(default=3, ge=0, description="Retries of an email or text.")
    delivery_retry_delay_seconds: float = Field(default=30, ge=0)
    store_ids_timeout_days: float = Field(
        default=30,
        gt=0,
        description=(
            "How long a run waits for Polaris's store IDs before Prefect stops it (the "
            "onboarding then says expired); a fraction of a day is allowed (tests use seconds)."
        ),
    )
    reminder_after_days: float = Field(default=3, gt=0)
    rotation_grace_days: float = Field(
        default=14,
        gt=0,
        description="How long a rotated-out credential keeps working if Polaris's tills "
        "never call with the new one.",
    )

    @property
    def store_ids_wait_seconds(self) -> int:
        """The store-ID wait in whole seconds (Prefect's pause timeout), at least one."""
        return max(1, round(self.store_ids_timeout_days * 86400))

    @model_validator(mode="after")
    def _refuse_missing_secrets_in_production(self) -> OnboardingSettings:
        refuse_short_admin_token(
            self.ledger_admin_token,
            self.environment,
            token_variable="ONBOARDING_LEDGER_ADMIN_TOKEN",
            environment_variable="ONBOARDING_ENVIRONMENT",
        )
        return self

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    def admin_token(self) -> str:
        if self.ledger_admin_token is not None:
            return self.ledger_admin_token.get_secret_value()
        return development_admin_token()

    @property
    def till_endpoint(self) -> str:
        return self.ledger_public_url or self.ledger_url


@lru_cache
def get_settings() -> OnboardingSettings:
    return OnboardingSettings()
