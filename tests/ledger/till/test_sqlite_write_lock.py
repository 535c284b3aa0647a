"""SQLite's till path runs on the event loop (api.till.sqlite): a write that finds
another writer holding SQLite's one write lock waits for it without stopping the loop
(other tills' calls are answered meanwhile), and gives up with a retryable 503 after
the busy timeout, having changed nothing. SQLite only: PostgreSQL has no such lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from api.core.config import Settings
from harness.constants import ADMIN_TOKEN, BACKENDS
from harness.databases import SqliteTemplates
from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer, make_settings, serve_ledger
from tests.ledger.till.contract import assert_ledger, created, ok, problem

HOLD_SECONDS = 1.0


def _hold_write_lock(settings: Settings) -> sqlite3.Connection:
    """Another writer (an admin request, another process) in the middle of its write."""
    path = make_url(settings.database_url).database
    assert path
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    return connection


pytestmark = pytest.mark.skipif(
    "sqlite" not in BACKENDS, reason="LEDGER_TEST_BACKENDS leaves SQLite out"
)


def _sqlite_ledger(
    sqlite_templates: SqliteTemplates, tmp_path: Path, **overrides: object
) -> Iterator[tuple[LedgerServer, Merchant]]:
    settings = make_settings(sqlite_templates.fresh(tmp_path), **overrides)
    with (
        serve_ledger(settings) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as admin,
    ):
        merchant = make_merchant(server, admin)
        yield server, merchant
        merchant.close()


@pytest.fixture
def patient(
    sqlite_templates: SqliteTemplates, tmp_path: Path
) -> Iterator[tuple[LedgerServer, Merchant]]:
    yield from _sqlite_ledger(sqlite_templates, tmp_path)


@pytest.fixture
def impatient(
    sqlite_templates: SqliteTemplates, tmp_path: Path
) -> Iterator[tuple[LedgerServer, Merchant]]:
    yield from _sqlite_ledger(sqlite_templates, tmp_path, sqlite_busy_timeout_seconds=0.5)


def test_a_write_waits_for_the_lock_while_other_calls_are_answered(
    patient: tuple[LedgerServer, Merchant],
) -> None:
    server, merchant = patient
    code = merchant.sold_code(1000)
    holder = _hold_write_lock(server.settings)
    redeemed: list[httpx.Response] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: redeemed.append(merchant.redeem(code, 300)))
    thread.start()
    try:
        time.sleep(0.2)  # the redeem is waiting for the lock now
        # Meanwhile the event loop answers: balance checks read without the lock.
        for _ in range(5):
            assert ok(merchant.balance(code))["balance"] == 1000
        assert time.monotonic() - started < HOLD_SECONDS
        assert not redeemed  # still waiting
        time.sleep(max(0.0, HOLD_SECONDS - (time.monotonic() - started)))
    finally:
        holder.execute("COMMIT")
        holder.close()
    thread.join(timeout=30)
    (answer,) = redeemed
    assert created(answer)["balance"] == 700
    assert_ledger(merchant, code, balance=700, kinds=["sale", "redemption"])


def test_a_write_held_up_past_the_busy_timeout_gets_503_and_changes_nothing(
    impatient: tuple[LedgerServer, Merchant],
) -> None:
    server, merchant = impatient
    code = merchant.sold_code(1000)
    body = {"store_id": merchant.store, "amount": 300, "reference": "held-up"}
    holder = _hold_write_lock(server.settings)
    try:
        started = time.monotonic()
        response = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    problem(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) >= 1
    assert 0.5 <= waited < 5
    assert_ledger(merchant, code, balance=1000, kinds=["sale"])
    # Retried with the same reference once the lock is free: it moves the money once.
    assert created(merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body))["balance"] == 700
