"""The concurrency guarantees hold across processes: `ledger serve --workers 2` on one
PostgreSQL database (as production runs it, on one host or many), racing redeems
from many clients, both worker processes answering."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.constants import ADMIN_TOKEN, BACKENDS
from harness.factories import make_merchant
from harness.processes import free_port, stop_process_group
from tests.ledger.guarantees.test_concurrency import (
    assert_no_server_errors,
    assert_reconciled,
    race,
)

LEDGER = Path(sys.executable).with_name("ledger")
WORKERS = 2
REDEEMS = 40
# uvicorn's lines, with the process ID `ledger serve` puts on each.
WORKER_STARTED = re.compile(r"Started server process \[(\d+)\] \[pid \1\]")
REDEEM_SERVED = re.compile(r"\"POST /v1/vouchers/\S+/redeem HTTP/1.1\" (\d+) .*\[pid (\d+)\]")

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in BACKENDS, reason="several processes share one database on PostgreSQL"
    ),
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]


@dataclass
class WorkerLedger:
    """`ledger serve --workers N` in a process group of its own."""

    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> set[int]:
        return {int(pid) for pid in WORKER_STARTED.findall(self.log())}


@pytest.fixture
def worker_ledger(database_url: str, tmp_path: Path) -> Iterator[WorkerLedger]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")},
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        # As in the in-process tests: cheap hashing keeps the suite fast.
        "LEDGER_ARGON2_TIME_COST": "1",
        "LEDGER_ARGON2_MEMORY_COST_KIB": "1024",
    }
    log_path = tmp_path / "ledger.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(LEDGER), "serve", "--workers", str(WORKERS), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ledger = WorkerLedger(f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_serving(ledger, process)
        yield ledger
    finally:
        stop_process_group(process)


def _wait_until_serving(ledger: WorkerLedger, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while len(ledger.worker_pids()) < WORKERS or not _healthy(ledger.url):
        if process.poll() is not None:
            pytest.fail(f"`ledger serve` exited {process.returncode}:\n{ledger.log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"`ledger serve --workers {WORKERS}` did not start:\n{ledger.log()}")
        time.sleep(0.2)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_racing_redeems_across_two_worker_processes_never_overdraw(
    worker_ledger: WorkerLedger,
) -> None:
    with httpx.Client(
        base_url=worker_ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
    ) as admin:
        merchant = make_merchant(worker_ledger, admin)
        try:
            code = merchant.sold_code(1000)

            def redeem(n: int) -> Callable[[httpx.Client], httpx.Response]:
                body = {"store_id": merchant.store, "amount": 100, "reference": f"mw-{n}"}
                return lambda client: client.post(f"/v1/vouchers/{code}/redeem", json=body)

            responses = race(worker_ledger, merchant, [redeem(n) for n in range(REDEEMS)])

            assert_no_server_errors(responses)
            succeeded = [r for r in responses if r.status_code == 201]
            refused = [r for r in responses if r.status_code != 201]
            assert len(succeeded) == 10
            assert {(r.status_code, r.json()["code"]) for r in refused} == {
                (409, "insufficient_funds")
            }
            # Each success saw the balance after its own redemption, once each: never below 0.
            assert sorted(r.json()["balance"] for r in succeeded) == list(range(0, 1000, 100))
            assert all(r.json()["balance"] >= 0 for r in responses)
            assert merchant.balance(code).json()["balance"] == 0
            ledger_view = assert_reconciled(merchant, code, 0)
            assert [e["kind"] for e in ledger_view["entries"]].count("redemption") == 10
        finally:
            merchant.close()

    # Both worker processes took part in the race (the access log names the process).
    served = _redeems_by_worker(worker_ledger)
    assert sum(served.values()) == REDEEMS, served
    assert set(served) == worker_ledger.worker_pids(), (served, worker_ledger.worker_pids())


def _redeems_by_worker(ledger: WorkerLedger) -> Counter[int]:
    deadline = time.monotonic() + 10  # the access log is written after the response
    while True:
        served = Counter(int(pid) for _, pid in REDEEM_SERVED.findall(ledger.log()))
        if sum(served.values()) >= REDEEMS or time.monotonic() > deadline:
            return served
        time.sleep(0.2)
