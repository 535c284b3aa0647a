"""Fixtures for the till contract tests: a second merchant account, and a client
that sends no credential."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer


@pytest.fixture
def other(ledger: LedgerServer, admin: httpx.Client) -> Iterator[Merchant]:
    """Another merchant account on the same ledger, with its own credential."""
    m = make_merchant(ledger, admin)
    yield m
    m.close()


@pytest.fixture
def anonymous(ledger: LedgerServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ledger.url, timeout=30) as client:
        yield client
