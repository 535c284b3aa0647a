"""Fixtures for the messaging tests (a pytest plugin): a real SMTP server on loopback
for each test (or several, each configured its own way), the Twilio stand-in, and a
throwaway certificate authority for TLS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from harness.smtp import SmtpServer, start_smtp_server
from harness.tls import LoopbackTls, make_loopback_tls
from harness.twilio_standin import TwilioStandin


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpServer]]:
    """``smtp_server_factory(username=..., password=..., starttls=tls)``; all stopped after."""
    started: list[SmtpServer] = []

    def start(**options: Any) -> SmtpServer:
        server = start_smtp_server(**options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server: no TLS, no login."""
    return smtp_server_factory()


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandin]:
    standin = TwilioStandin().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def loopback_tls(tmp_path_factory: pytest.TempPathFactory) -> LoopbackTls:
    return make_loopback_tls(tmp_path_factory.mktemp("tls"))
