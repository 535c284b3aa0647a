"""Fixtures for the tests that need the whole system (a pytest plugin): the ledger in
a child process, a Prefect server, a real SMTP server, the Twilio stand-in and the
onboarding flows served by ``python -m flows.serve``. Nothing here imports ``api``.

Each is started once per test session (per xdist worker) and shared: a test keeps to
a merchant account and a Polaris contact of its own (``polaris``), reads the emails
and texts to that contact (``shared_smtp.messages_to(...)``,
``shared_twilio.messages_to(...)``) and arms failpoints for its account. A test that
needs a ledger to itself takes ``fresh_ledger``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import Result

from harness.faulty_proxy import FaultyProxy
from harness.ledger_process import LedgerService, running_ledger
from harness.prefect_env import FlowRunner, PrefectServer, harness_server, serve_flows
from harness.smtp import SmtpServer, start_smtp_server
from harness.system import flow_env_for, new_polaris_contact
from harness.twilio_standin import TwilioStandin

OnboardingCli = Callable[..., Result]


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadgroup``: the tests on the shared system share one worker
    (harness.scheduling says why xdist's own marks cannot do it)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from harness.scheduling import SharedSystemScheduling

    return SharedSystemScheduling(config, log, rootdir=config.rootpath)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    """Prefect's test harness, once per session: the flow tests and the `onboarding`
    command's tests share it (two harnesses in one process would fight over the
    Prefect settings they each put in force)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield harness_server()


@pytest.fixture(scope="session")
def prefect_proxy(prefect_server: PrefectServer) -> Iterator[FaultyProxy]:
    """The session's Prefect API as the shared ledger reaches it: through a loopback
    proxy that passes everything on, unless a test arms a fault (for its own run)."""
    with FaultyProxy(prefect_server.api_url) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def ledger_service(
    tmp_path_factory: pytest.TempPathFactory, prefect_proxy: FaultyProxy
) -> Iterator[LedgerService]:
    """The ledger on SQLite, in a child process, shared by the session's flow tests
    (its store-ID page resumes runs on the session's Prefect server, via the proxy)."""
    folder = tmp_path_factory.mktemp("ledger")
    database = f"sqlite:///{folder / 'ledger.sqlite3'}"
    with running_ledger(database, folder, prefect_proxy.url) as service:
        yield service


@pytest.fixture
def ledger_admin(ledger_service: LedgerService) -> Iterator[httpx.Client]:
    with ledger_service.admin() as client:
        yield client


@pytest.fixture
def fresh_ledger(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LedgerService]:
    """A ledger of this test's own (for a test that reads every record in it). Its
    store-ID page resumes runs on the test's Prefect server: the UI server if the test
    has one, else the session's."""
    names = request.fixturenames
    server_fixture = "prefect_ui" if "prefect_ui" in names else "prefect_server"
    server: PrefectServer = request.getfixturevalue(server_fixture)
    folder = tmp_path / "fresh-ledger"
    folder.mkdir()
    database = f"sqlite:///{folder / 'ledger.sqlite3'}"
    with running_ledger(database, folder, server.api_url) as service:
        yield service


@pytest.fixture(scope="session")
def shared_smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server (no TLS, no login) for the session's flow tests."""
    server = start_smtp_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_twilio() -> Iterator[TwilioStandin]:
    standin = TwilioStandin().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="session")
def flow_env(
    ledger_service: LedgerService,
    outbox: Path,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
) -> dict[str, str]:
    """Settings for the session's flow processes (and the `onboarding` command)."""
    return flow_env_for(ledger_service, outbox, shared_smtp, shared_twilio)


@pytest.fixture(scope="session")
def flows_runner(
    prefect_server: PrefectServer,
    tmp_path_factory: pytest.TempPathFactory,
    flow_env: dict[str, str],
) -> Iterator[FlowRunner]:
    """``python -m flows.serve`` against the session's Prefect server and ledger."""
    with serve_flows(prefect_server, tmp_path_factory.mktemp("runner"), flow_env) as runner:
        yield runner


@pytest.fixture
def polaris() -> dict[str, str]:
    """This test's Polaris contact: an email address and mobile number of its own."""
    return new_polaris_contact()


@pytest.fixture
def onboarding_cli(
    flow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[OnboardingCli]:
    """``onboarding(*args)``: the `onboarding` command run in this process, so on the
    Prefect harness, with the same ONBOARDING_ settings as the flows."""
    from typer.testing import CliRunner

    from flows.cli import app as onboarding_app
    from flows.settings import get_settings

    for name, value in flow_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()

    def onboarding(*args: str) -> Result:
        return runner.invoke(onboarding_app, list(args))

    yield onboarding
    get_settings.cache_clear()
