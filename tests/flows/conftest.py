"""Fixtures for flow tests: per test, the onboarding flows served against that test's
ledger (the Prefect harness they run on, ``prefect_server``, is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.support.prefect_env import FlowRunner, PrefectServer, serve_flows
from tests.support.server import LedgerServer
from tests.support.smtp import SmtpServer, smtp_server, smtp_server_factory
from tests.support.twilio_standin import TwilioStandin, twilio_standin

__all__ = ["smtp_server", "smtp_server_factory", "twilio_standin"]


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def flow_env(
    ledger: LedgerServer, outbox: Path, smtp_server: SmtpServer, twilio_standin: TwilioStandin
) -> dict[str, str]:
    """Settings for the flow processes: the test's ledger, a real SMTP server on
    loopback, and the real twilio client pointed at the local stand-in."""
    return {
        "ONBOARDING_LEDGER_URL": ledger.url,
        "ONBOARDING_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "ONBOARDING_OUTBOX_DIR": str(outbox),
        "ONBOARDING_SMTP_HOST": smtp_server.host,
        "ONBOARDING_SMTP_PORT": str(smtp_server.port),
        "ONBOARDING_SMTP_STARTTLS": "false",
        "ONBOARDING_NOTIFY_EMAILS": '["onboarding-team@toggle.example"]',
        "ONBOARDING_TWILIO_ACCOUNT_SID": twilio_standin.account_sid,
        "ONBOARDING_TWILIO_AUTH_TOKEN": twilio_standin.auth_token,
        "ONBOARDING_TWILIO_FROM_NUMBER": twilio_standin.from_number,
        "ONBOARDING_TWILIO_API_BASE_URL": twilio_standin.base_url,
        "ONBOARDING_DELIVERY_RETRY_DELAY_SECONDS": "0.2",
    }


@pytest.fixture
def flows_runner(
    prefect_server: PrefectServer, tmp_path: Path, flow_env: dict[str, str]
) -> Iterator[FlowRunner]:
    with serve_flows(prefect_server, tmp_path / "runner", flow_env) as runner:
        yield runner
