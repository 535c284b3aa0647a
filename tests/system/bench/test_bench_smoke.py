"""The benchmark still runs: ``python -m bench --smoke`` (what ``scripts/bench --smoke``
runs), a tiny load for a second per call, end to end. Nothing here is about speed: it
checks that every row of the table is there and that the money reconciled."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.constants import BACKENDS, PROJECT_ROOT
from harness.ledger_process import ledger_python

CALLS = ("balance", "redeem", "sell")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_smoke_run_prints_every_row_and_reconciles(tmp_path: Path) -> None:
    # The benchmark sets up its own databases, servers and Prefect home.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEDGER_", "ONBOARDING_", "PREFECT_"))
    }
    finished = subprocess.run(
        [
            # The benchmark runs in the ledger's environment, as scripts/bench runs it.
            ledger_python(),
            "-m",
            "bench",
            "--smoke",
            *("--backends", ",".join(BACKENDS)),
            *("--out", str(tmp_path)),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-4000:]

    # The printed table: our calls on each database, then both references.
    table = [line for line in finished.stdout.splitlines() if line.startswith("| ")]
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]) for line in table}
    for backend in BACKENDS:
        for call in CALLS:
            assert (call, backend) in rows, output[-4000:]
        assert any(call.startswith("raw redeem") and db == backend for call, db in rows)
    assert ("framework ceiling (bare FastAPI)", "-") in rows

    # The same in the results, with a clean reconciliation on every database.
    results = json.loads((tmp_path / "smoke.json").read_text())
    assert (tmp_path / "smoke.md").read_text().startswith("# Benchmark results")
    assert [t["database"] for t in results["till"]] == BACKENDS
    for till in results["till"]:
        assert till["reconciliation"]["clean"], till["reconciliation"]
        assert till["reconciliation"]["ledger"]["balanced"]
        assert [p["kind"] for p in till["phases"]] == list(CALLS)
        assert all(p["errors"] == 0 for p in till["phases"]), till["phases"]

    # The onboarding half ran, and the runs left waiting held no process.
    onboarding = results["onboarding"]
    assert [t["sites"] for t in onboarding["timings"]] == [1]
    assert onboarding["runs_waiting"] == onboarding["waiting"] > 0
    assert onboarding["processes_held_while_waiting"] == 0
