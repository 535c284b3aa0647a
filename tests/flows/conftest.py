"""Fixtures for flow tests: the Prefect harness (once per session) and, per test,
the onboarding flows served against that test's ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from tests.conftest import ADMIN_TOKEN
from tests.support.prefect_env import FlowRunner, PrefectServer, harness_server, serve_flows
from tests.support.server import LedgerServer


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    with prefect_test_harness(server_startup_timeout=120):
        yield harness_server()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def flow_env(ledger: LedgerServer, outbox: Path) -> dict[str, str]:
    """Settings for the flow processes; tests add SMTP and Twilio ones."""
    return {
        "ONBOARDING_LEDGER_URL": ledger.url,
        "ONBOARDING_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "ONBOARDING_OUTBOX_DIR": str(outbox),
    }


@pytest.fixture
def flows_runner(
    prefect_server: PrefectServer, tmp_path: Path, flow_env: dict[str, str]
) -> Iterator[FlowRunner]:
    with serve_flows(prefect_server, tmp_path / "runner", flow_env) as runner:
        yield runner
