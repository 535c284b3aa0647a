"""The `ledger` console command, run as a user runs it: in its own process, configured
by LEDGER_ environment variables."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from api.core.migrate import pending, upgrade
from harness.processes import free_port

LEDGER = Path(sys.executable).with_name("ledger")
# As in the in-process tests: cheap hashing keeps the suite fast.
CHEAP_ARGON2 = {"LEDGER_ARGON2_TIME_COST": "1", "LEDGER_ARGON2_MEMORY_COST_KIB": "1024"}
DEMO_KEYS = {"account_id", "product_id", "username", "password", "stores"}


def run_ledger(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LEDGER), *args],
        env=ledger_env(database_url, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ledger_env(database_url: str, **env: str) -> dict[str, str]:
    """This process's environment without any LEDGER_ setting, plus the given ones."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {**clean, "LEDGER_DATABASE_URL": database_url, **CHEAP_ARGON2, **env}


def assert_clean_failure(
    result: subprocess.CompletedProcess[str], *fragments: str, one_line: bool = True
) -> None:
    """Exit status 1 and a short message on stderr: no traceback, nothing on stdout."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "╭" not in result.stderr  # rich's boxed traceback
    assert result.stdout == ""
    message = result.stderr.strip()
    if one_line:
        assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message


def is_migrated(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        return not pending(engine, database_url)
    finally:
        engine.dispose()


@contextmanager
def ledger_serve(database_url: str) -> Iterator[str]:
    """`ledger serve` in a child process; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [str(LEDGER), "serve", "--port", str(port)],
        env=ledger_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                _, err = process.communicate()
                pytest.fail(f"`ledger serve` exited with {process.returncode}: {err}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "`ledger serve` did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def seed_demo(database_url: str) -> dict[str, Any]:
    result = run_ledger(database_url, "seed-demo")
    assert result.returncode == 0, result.stderr
    demo = json.loads(result.stdout)  # one JSON document and nothing else
    assert isinstance(demo, dict)
    assert set(demo) == DEMO_KEYS
    assert demo["password"] not in result.stderr
    return demo


def test_seed_demo_makes_a_working_merchant_on_an_empty_database(
    empty_database_url: str,
) -> None:
    first = seed_demo(empty_database_url)
    assert is_migrated(empty_database_url)
    assert isinstance(first["account_id"], int) and isinstance(first["product_id"], int)
    assert len(first["password"]) >= 22  # at least 128 random bits, URL-safe
    assert len(first["stores"]) == 2
    for store in first["stores"]:
        assert set(store) == {"site_id", "name", "store_id"}
        assert store["name"] and store["store_id"]
    assert len({s["store_id"] for s in first["stores"]}) == 2
    assert len({s["site_id"] for s in first["stores"]}) == 2

    # Each run makes a new merchant (and migrating an up-to-date database is harmless).
    second = seed_demo(empty_database_url)
    assert second["account_id"] != first["account_id"]
    assert second["product_id"] != first["product_id"]
    assert second["username"] != first["username"]
    assert second["password"] != first["password"]
    first_sites = {s["site_id"] for s in first["stores"]}
    assert first_sites.isdisjoint(s["site_id"] for s in second["stores"])

    # The printed credentials work at `ledger serve` on that database.
    store = first["stores"][1]["store_id"]
    with (
        ledger_serve(empty_database_url) as url,
        httpx.Client(base_url=url, auth=(first["username"], first["password"]), timeout=30) as till,
    ):
        sale = till.post(
            "/v1/vouchers",
            json={
                "store_id": store,
                "product_id": first["product_id"],
                "amount": 2500,
                "reference": "demo-sale-1",
            },
        )
        assert sale.status_code == 201, sale.text
        code = sale.json()["code"]
        assert code.startswith("63011900")

        balance = till.get(f"/v1/vouchers/{code}", params={"store_id": store})
        assert balance.status_code == 200, balance.text
        assert balance.json() == {
            "code": code,
            "balance": 2500,
            "currency": "GBP",
            "status": "active",
            "expires_at": None,
        }

        # The two demo merchants are separate accounts.
        elsewhere = second["stores"][0]["store_id"]
        refused = till.get(f"/v1/vouchers/{code}", params={"store_id": elsewhere})
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "unknown_store"


def test_serve_refuses_an_unmigrated_database_until_migrate(empty_database_url: str) -> None:
    refused = run_ledger(empty_database_url, "serve", "--port", str(free_port()))
    assert_clean_failure(refused, "not at the newest schema", "ledger migrate")
    assert not is_migrated(empty_database_url)

    migrated = run_ledger(empty_database_url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    (line,) = migrated.stdout.strip().splitlines()
    assert line.startswith("Database at the newest schema:")
    assert is_migrated(empty_database_url)


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_ledger(url, "serve", "--port", str(port))
    assert_clean_failure(result, f"Port {port}", "already in use")


def test_serve_refuses_an_unreachable_database() -> None:
    url = "postgresql+psycopg://ledger:secret@127.0.0.1:1/ledger"
    result = run_ledger(url, "serve", "--port", str(free_port()))
    # The driver's own explanation may run to a second line.
    assert_clean_failure(result, "Cannot reach the database", one_line=False)
    assert "secret" not in result.stderr


def test_production_refuses_to_start_without_a_strong_admin_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    production = {"LEDGER_ENVIRONMENT": "production"}
    missing = run_ledger(url, "serve", "--port", str(free_port()), **production)
    assert_clean_failure(missing, "LEDGER_ADMIN_TOKEN", "production")
    short = run_ledger(url, "migrate", **production, LEDGER_ADMIN_TOKEN="too-short")
    assert_clean_failure(short, "LEDGER_ADMIN_TOKEN", "production")
    assert not (tmp_path / "ledger.sqlite3").exists()


def test_invalid_settings_are_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    result = run_ledger(url, "migrate", LEDGER_THROTTLE_MAX_FAILURES="lots")
    assert_clean_failure(result, "LEDGER_THROTTLE_MAX_FAILURES", "integer")


def test_a_pool_too_small_for_the_worker_threads_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    port = str(free_port())
    result = run_ledger(
        url, "serve", "--port", port, LEDGER_WORKER_THREADS="40", LEDGER_DB_POOL_SIZE="8"
    )
    assert_clean_failure(result, "LEDGER_DB_POOL_SIZE (8)", "LEDGER_WORKER_THREADS")
    assert not (tmp_path / "ledger.sqlite3").exists()
