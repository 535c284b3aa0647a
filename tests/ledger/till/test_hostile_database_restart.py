"""Connections PostgreSQL closed (a restart, ``pg_terminate_backend``): the next till
calls are answered as usual (a read is tried once more on a fresh connection), and a
write whose connection is closed under it gets a retryable ``503 unavailable`` with
Retry-After; retried with the same reference, it moves the money once (till-api.md,
Conventions). PostgreSQL only: SQLite has no server to close connections."""

from __future__ import annotations

import threading
import time

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from api.core.config import Settings
from harness.factories import Merchant
from tests.ledger.till.contract import assert_ledger, created, ok, problem


@pytest.fixture
def postgres(backend: str, settings: Settings) -> str:
    if backend != "postgresql":
        pytest.skip("PostgreSQL closes connections; SQLite has none to close")
    url = make_url(settings.database_url)
    return f"postgresql://postgres@127.0.0.1:5432/{url.database}"


def _terminate_ledger_connections(dsn: str, *, waiting_only: bool = False) -> int:
    """Close every connection the ledger holds to its database; returns how many. Each
    is closed when this returns (PostgreSQL waits up to 5 s for the backend to end)."""
    condition = "AND wait_event_type = 'Lock'" if waiting_only else ""
    with psycopg.connect(dsn, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "  # type: ignore[arg-type]
            f"WHERE datname = current_database() AND pid <> pg_backend_pid() {condition}"
        ).fetchall()
    return len(rows)


def test_calls_after_the_database_closed_their_connections_are_answered(
    postgres: str, merchant: Merchant
) -> None:
    code = merchant.sold_code(1000)
    for _ in range(3):
        ok(merchant.balance(code))
        created(merchant.redeem(code, 10))
    for round_ in range(2):
        assert _terminate_ledger_connections(postgres) > 0
        # A balance check first, then a write (after the next closing, a write first).
        if round_ == 0:
            assert ok(merchant.balance(code))["balance"] == 970
            created(merchant.redeem(code, 10))
        else:
            created(merchant.redeem(code, 10))
            assert ok(merchant.balance(code))["balance"] == 950
    assert_ledger(merchant, code, balance=950, kinds=["sale"] + ["redemption"] * 5)


def test_a_write_whose_connection_is_closed_gets_503_and_its_retry_moves_money_once(
    postgres: str, merchant: Merchant
) -> None:
    code = merchant.sold_code(1000)
    body = {"store_id": merchant.store, "amount": 300, "reference": "cut-off-1"}
    answer: list[httpx.Response] = []
    with psycopg.connect(postgres) as blocker:
        # Hold the voucher's row, so that the redeem waits on it inside its transaction.
        blocker.execute("SELECT id FROM vouchers WHERE code = %s FOR UPDATE", (code,))
        thread = threading.Thread(
            target=lambda: answer.append(
                merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
            )
        )
        thread.start()
        deadline = time.monotonic() + 20
        while not _terminate_ledger_connections(postgres, waiting_only=True):
            assert time.monotonic() < deadline, "the redeem never waited on the row"
            time.sleep(0.05)
        thread.join(timeout=30)
        blocker.rollback()
    (cut_off,) = answer
    problem(cut_off, 503, "unavailable")
    assert int(cut_off.headers["Retry-After"]) >= 1
    assert_ledger(merchant, code, balance=1000, kinds=["sale"])

    retried = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
    assert created(retried)["balance"] == 700
    again = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert_ledger(merchant, code, balance=700, kinds=["sale", "redemption"])
