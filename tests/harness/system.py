"""The pieces of a whole system under test, for the flow tests: the settings the
flow processes get, and a Polaris contact of each test's own, so that one SMTP server
and one Twilio stand-in can serve every test of a session (each reads the messages
to its own contact)."""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

from harness.ledger_process import LedgerService
from harness.smtp import SmtpServer
from harness.twilio_standin import TwilioStandin

NOTIFY_EMAIL = "onboarding-team@toggle.example"

_contacts = itertools.count(1)


def flow_env_for(
    ledger: LedgerService, outbox: Path, smtp: SmtpServer, twilio: TwilioStandin
) -> dict[str, str]:
    """Settings for the flow processes: this ledger, a real SMTP server on loopback,
    and the real twilio client pointed at the local stand-in."""
    return {
        "ONBOARDING_LEDGER_URL": ledger.url,
        "ONBOARDING_LEDGER_ADMIN_TOKEN": ledger.admin_token,
        "ONBOARDING_OUTBOX_DIR": str(outbox),
        "ONBOARDING_SMTP_HOST": smtp.host,
        "ONBOARDING_SMTP_PORT": str(smtp.port),
        "ONBOARDING_SMTP_STARTTLS": "false",
        "ONBOARDING_NOTIFY_EMAILS": f'["{NOTIFY_EMAIL}"]',
        "ONBOARDING_TWILIO_ACCOUNT_SID": twilio.account_sid,
        "ONBOARDING_TWILIO_AUTH_TOKEN": twilio.auth_token,
        "ONBOARDING_TWILIO_FROM_NUMBER": twilio.from_number,
        "ONBOARDING_TWILIO_API_BASE_URL": twilio.base_url,
        "ONBOARDING_DELIVERY_RETRY_DELAY_SECONDS": "0.2",
    }


def new_polaris_contact() -> dict[str, str]:
    """Pat Polaris, at an email address and a mobile number no other test uses."""
    n = next(_contacts)
    return {
        "name": "Pat Polaris",
        "email": f"pat-{uuid.uuid4().hex[:10]}@polaris.example",
        # E.164, unique per process (an xdist worker has its own stand-ins).
        "mobile": f"+447700{os.getpid() % 10_000:04d}{n % 10_000:04d}",
    }
