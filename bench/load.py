"""Driving one kind of till call at a server from another process: wrk when it is
installed (it costs the CPU the least, which matters when client, server and database
share a few cores), else bench.loadgen. Both report the same fields."""

from __future__ import annotations

import base64
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.result_line import run_for_figures

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "till.lua"
# The status each kind of call answers when it did what was asked.
SUCCESS = {"balance": "200", "redeem": "201", "sell": "201"}


@dataclass(frozen=True)
class Target:
    """What the load needs to know about the merchant it plays the tills of."""

    url: str
    codes_file: Path
    store_id: str
    product_id: int
    username: str
    password: str


@dataclass(frozen=True)
class LoadResult:
    kind: str
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    statuses: dict[str, int]
    # CPU per successful call, in milliseconds: the server, its database (PostgreSQL's
    # processes; SQLite runs inside the server) and the load generator.
    server_cpu_ms: float | None = None
    database_cpu_ms: float | None = None
    loadgen_cpu_ms: float | None = None

    @property
    def successes(self) -> int:
        return self.statuses.get(SUCCESS[self.kind], 0)

    @property
    def errors(self) -> int:
        """Anything but the success answer, and every request that got no answer."""
        return self.socket_errors + sum(self.statuses.values()) - self.successes

    @property
    def rps(self) -> float:
        return self.successes / self.duration_s if self.duration_s else 0.0


def chosen_generator(preference: str) -> str:
    if preference == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if preference == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --loadgen python")
    return preference


def run_load(
    generator: str,
    target: Target,
    kind: str,
    *,
    amount: int,
    reference_prefix: str,
    connections: int,
    duration: float,
) -> LoadResult:
    token = base64.b64encode(f"{target.username}:{target.password}".encode()).decode()
    arguments = [
        kind,
        str(target.codes_file),
        target.store_id,
        str(target.product_id),
        str(amount),
        reference_prefix,
        f"Basic {token}",
    ]
    if generator == "wrk":
        # wrk takes whole seconds.
        threads = max(1, min(connections, os.cpu_count() or 1))
        command = [
            "wrk",
            *("-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s"),
            *("--timeout", "10s", "-s", str(WRK_SCRIPT), target.url, "--", *arguments),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            target.url,
            *arguments,
            *("--connections", str(connections), "--duration", str(duration)),
        ]
    data = run_for_figures(command, timeout=duration + 120, name=generator)
    return LoadResult(
        kind=kind,
        requests=int(data["requests"]),
        duration_s=float(data["duration_s"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        max_ms=float(data["max_ms"]),
        socket_errors=int(data["socket_errors"]),
        statuses={str(k): int(v) for k, v in data["statuses"].items()},
    )
