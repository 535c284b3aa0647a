"""The raw-database limit: the redemption transaction driven straight at the database,
with the same concurrency as the HTTP load. PostgreSQL: pgbench with a custom script
(redeem.pgbench); SQLite: a plain sqlite3 loop (bench.raw_loop), which also stands in
for pgbench where it is not installed (and says so in the table)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.databases import Seeded
from bench.result_line import run_for_figures

PGBENCH_SCRIPT = Path(__file__).resolve().parent / "redeem.pgbench"


@dataclass(frozen=True)
class RawResult:
    backend: str
    tool: str
    transactions: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    tps: float


def raw_redemptions(
    backend: str,
    database_url: str,
    seeded: Seeded,
    *,
    amount: int,
    connections: int,
    duration: float,
    folder: Path,
) -> RawResult:
    if backend == "postgresql" and shutil.which("pgbench"):
        return _pgbench(database_url, seeded, amount, connections, duration, folder)
    return _loop(backend, database_url, seeded, amount, connections, duration)


def _loop(
    backend: str, database_url: str, seeded: Seeded, amount: int, connections: int, duration: float
) -> RawResult:
    url = make_url(database_url)
    if backend == "sqlite":
        target, tool = url.database or "", "sqlite3 loop"
    else:
        target = url.set(drivername="postgresql").render_as_string(hide_password=False)
        tool = "psycopg loop"
    command = [
        sys.executable,
        "-m",
        "bench.raw_loop",
        backend,
        target,
        *map(
            str,
            (seeded.first_voucher_id, seeded.last_voucher_id, seeded.account_id, seeded.site_id),
        ),
        *("--connections", str(connections), "--duration", str(duration), "--amount", str(amount)),
    ]
    data = run_for_figures(command, timeout=duration + 120, name="raw_loop")
    return RawResult(
        backend=backend,
        tool=tool,
        transactions=int(data["transactions"]),
        duration_s=float(data["duration_s"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        max_ms=float(data["max_ms"]),
        errors=int(data["errors"]),
        tps=int(data["transactions"]) / float(data["duration_s"]),
    )


def _pgbench(
    database_url: str, seeded: Seeded, amount: int, connections: int, duration: float, folder: Path
) -> RawResult:
    url = make_url(database_url)
    logs = folder / "pgbench-logs"
    logs.mkdir(parents=True, exist_ok=True)
    threads = max(1, min(connections, os.cpu_count() or 1))
    variables = {
        "first_id": seeded.first_voucher_id,
        "last_id": seeded.last_voucher_id,
        "account_id": seeded.account_id,
        "site_id": seeded.site_id,
        "amount": amount,
    }
    command = [
        "pgbench",
        *(
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
        ),
        "-n",  # no vacuum: there are no pgbench tables
        *(
            "-M",
            "prepared",
            "-c",
            str(connections),
            "-j",
            str(threads),
            "-T",
            str(max(1, round(duration))),
        ),
        *("-f", str(PGBENCH_SCRIPT), "-l", "--log-prefix", str(logs / "txn")),
        *(arg for name, value in variables.items() for arg in ("-D", f"{name}={value}")),
        url.database or "",
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    if finished.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{finished.stdout}\n{finished.stderr}")
    latencies: list[float] = []
    for log in logs.glob("txn*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            # client, transaction no., latency in µs, script, epoch s, epoch µs
            latencies.append(int(fields[2]) / 1000)
        log.unlink()
    failed = 0
    tps = 0.0
    actual_duration = float(duration)
    for line in finished.stdout.splitlines():
        if line.startswith("number of failed transactions:"):
            failed = int(line.split(":")[1].split()[0])
        if line.startswith("duration:"):
            actual_duration = float(line.split(":")[1].split()[0])
        if line.startswith("tps = "):
            # pgbench's own rate leaves out the time its connections took to open.
            tps = float(line.split()[2])
    ordered = sorted(latencies) or [0.0]
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []
    return RawResult(
        backend="postgresql",
        tool="pgbench",
        transactions=len(latencies),
        duration_s=actual_duration,
        p50_ms=cuts[49] if cuts else ordered[0],
        p99_ms=cuts[98] if cuts else ordered[0],
        max_ms=ordered[-1],
        errors=failed,
        tps=tps,
    )
