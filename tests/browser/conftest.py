"""Fixtures for browser tests: Debian's Chromium (or a loud skip, and in CI a
failure), and the onboarding flows served against a Prefect server that serves its
UI, which ``prefect_test_harness`` does not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The flow fixtures are the same as for the flow tests; only the server differs.
from tests.flows.conftest import flow_env, flows_runner, outbox
from tests.support.browser import chromium_missing, in_ci
from tests.support.prefect_env import PrefectServer
from tests.support.prefect_ui import PrefectUiServer, client_pointed_at, prefect_ui_server
from tests.support.smtp import smtp_server, smtp_server_factory
from tests.support.twilio_standin import twilio_standin

__all__ = [
    "flow_env",
    "flows_runner",
    "outbox",
    "smtp_server",
    "smtp_server_factory",
    "twilio_standin",
]


@pytest.fixture(scope="session", autouse=True)
def chromium_present() -> None:
    """Checked before any server starts. CI must never pass without the browser."""
    missing = chromium_missing()
    if missing is None:
        return
    if in_ci():
        print(f"\n{missing} CI=true: FAILING.")
        pytest.fail(f"{missing} CI=true, so this fails instead of skipping.", pytrace=False)
    print(f"\n{missing} Skipping (outside CI).")
    pytest.skip(f"{missing} Skipped outside CI; CI=true fails instead.")


@pytest.fixture(scope="session")
def prefect_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectUiServer]:
    with prefect_ui_server(tmp_path_factory.mktemp("prefect-ui")) as server:
        yield server


@pytest.fixture
def prefect_server(prefect_ui: PrefectUiServer) -> Iterator[PrefectServer]:
    """Overrides the flow tests' harness server, for this test only."""
    with client_pointed_at(prefect_ui):
        yield prefect_ui
