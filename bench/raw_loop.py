"""The raw-database limit as a plain driver loop: the redemption transaction from N
threads, each with its own connection (the ledger's own concurrency model: threads in
one process). SQLite's reference; PostgreSQL's when pgbench is not installed.

    lock the voucher row (SQLite: BEGIN IMMEDIATE locks the database, the row with it;
    PostgreSQL: SELECT ... FOR UPDATE); if it holds enough: conditional UPDATE and
    INSERT the ledger entry; COMMIT

    python -m bench.raw_loop sqlite DATABASE_FILE FIRST_ID LAST_ID ACCOUNT_ID SITE_ID \
        --connections 32 --duration 10 --amount 100
    python -m bench.raw_loop postgresql CONNINFO ...
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from bench.result_line import result_line

BUSY_TIMEOUT_SECONDS = 30.0  # the ledger's default


def connect_sqlite(path: str) -> sqlite3.Connection:
    """With the ledger's connection settings (api.core.db)."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    connection.isolation_level = None  # we BEGIN ourselves, as the ledger does
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "synchronous=NORMAL",
        f"busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}",
    ):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def redeem_sqlite(
    connection: sqlite3.Connection, voucher_id: int, account_id: int, site_id: int, amount: int
) -> bool:
    connection.execute("BEGIN IMMEDIATE")
    try:
        row = connection.execute(
            "SELECT balance FROM vouchers WHERE id = ? AND account_id = ?", (voucher_id, account_id)
        ).fetchone()
        taken = row is not None and row[0] >= amount
        if taken:
            connection.execute(
                "UPDATE vouchers SET balance = balance - ? WHERE id = ? AND balance >= ?",
                (amount, voucher_id, amount),
            )
            connection.execute(
                "INSERT INTO ledger_entries (transaction_id, voucher_id, account_id, site_id,"
                " kind, amount, reference, created_at) VALUES (?, ?, ?, ?, 'redemption', ?, ?, ?)",
                (
                    str(uuid.uuid4()),
                    voucher_id,
                    account_id,
                    site_id,
                    -amount,
                    "raw",
                    datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                ),
            )
        connection.execute("COMMIT")
        return taken
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def redeem_postgresql(
    connection: Any, voucher_id: int, account_id: int, site_id: int, amount: int
) -> bool:
    with connection.transaction():
        row = connection.execute(
            "SELECT balance FROM vouchers WHERE id = %s AND account_id = %s FOR UPDATE",
            (voucher_id, account_id),
        ).fetchone()
        taken = row is not None and row[0] >= amount
        if taken:
            connection.execute(
                "UPDATE vouchers SET balance = balance - %s WHERE id = %s AND balance >= %s",
                (amount, voucher_id, amount),
            )
            connection.execute(
                "INSERT INTO ledger_entries (transaction_id, voucher_id, account_id, site_id,"
                " kind, amount, reference, created_at)"
                " VALUES (%s, %s, %s, %s, 'redemption', %s, 'raw', now())",
                (str(uuid.uuid4()), voucher_id, account_id, site_id, -amount),
            )
        return taken


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backend", choices=("sqlite", "postgresql"))
    parser.add_argument("database", help="the SQLite file, or a libpq connection string")
    for name in ("first_id", "last_id", "account_id", "site_id"):
        parser.add_argument(name, type=int)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--amount", type=int, default=100)
    args = parser.parse_args()

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = threading.Barrier(args.connections + 1)
    deadline = [0.0]

    if args.backend == "sqlite":
        connect: Callable[[], Any] = partial(connect_sqlite, args.database)
        redeem: Callable[..., bool] = redeem_sqlite
        failure: type[Exception] = sqlite3.Error
    else:
        import psycopg

        connect, redeem, failure = (
            partial(psycopg.connect, args.database),
            redeem_postgresql,
            psycopg.Error,
        )

    def loop() -> None:
        connection = connect()
        mine: list[float] = []
        failed = 0
        start.wait()
        while time.perf_counter() < deadline[0]:
            voucher_id = random.randint(args.first_id, args.last_id)
            began = time.perf_counter()
            try:
                ok = redeem(connection, voucher_id, args.account_id, args.site_id, args.amount)
            except failure:
                ok = False
            if ok:
                mine.append((time.perf_counter() - began) * 1000)
            else:
                failed += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=loop) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + args.duration
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []
    figures = {
        "transactions": len(latencies),
        "duration_s": elapsed,
        "p50_ms": cuts[49] if cuts else ordered[0],
        "p99_ms": cuts[98] if cuts else ordered[0],
        "max_ms": ordered[-1],
        "errors": errors[0],
    }
    print(result_line(figures), flush=True)


if __name__ == "__main__":
    main()
