"""Fixtures for the browser test (a pytest plugin): Debian's Chromium (or a loud
skip, and in CI a failure), and a Prefect server that serves its UI, which
``prefect_test_harness`` does not, with the onboarding flows served against it and a
ledger of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.browser import chromium_missing, in_ci
from harness.ledger_process import LedgerService
from harness.prefect_env import FlowRunner, serve_flows
from harness.prefect_ui import PrefectUiServer, client_pointed_at, prefect_ui_server
from harness.smtp import SmtpServer
from harness.system import flow_env_for
from harness.twilio_standin import TwilioStandin


@pytest.fixture(scope="session")
def chromium_present() -> None:
    """Asked for before any server starts. CI must never pass without the browser."""
    missing = chromium_missing()
    if missing is None:
        return
    if in_ci():
        print(f"\n{missing} CI=true: FAILING.")
        pytest.fail(f"{missing} CI=true, so this fails instead of skipping.", pytrace=False)
    print(f"\n{missing} Skipping (outside CI).")
    pytest.skip(f"{missing} Skipped outside CI; CI=true fails instead.")


@pytest.fixture
def prefect_ui(chromium_present: None, tmp_path: Path) -> Iterator[PrefectUiServer]:
    """`prefect server start` with its UI; this process's Prefect client points at it
    for the test (the session's harness server is left alone)."""
    with prefect_ui_server(tmp_path / "prefect-ui") as server, client_pointed_at(server):
        yield server


@pytest.fixture
def ui_flows_runner(
    prefect_ui: PrefectUiServer,
    fresh_ledger: LedgerService,
    tmp_path: Path,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
) -> Iterator[FlowRunner]:
    """The onboarding flows served against ``prefect_ui`` and ``fresh_ledger``."""
    env = flow_env_for(fresh_ledger, tmp_path / "outbox", shared_smtp, shared_twilio)
    with serve_flows(prefect_ui, tmp_path / "runner", env) as runner:
        yield runner
