"""How a load generator hands its figures back: one ``BENCH_JSON {...}`` line on
standard output (bench/wrk/till.lua, bench.loadgen and bench.raw_loop print it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

# Not bench.servers's: the load generators import this module and stay lean.
PROJECT_ROOT = Path(__file__).resolve().parents[1]

PREFIX = "BENCH_JSON "


def result_line(figures: dict[str, Any]) -> str:
    return PREFIX + json.dumps(figures)


def run_for_figures(command: list[str], *, timeout: float, name: str) -> dict[str, Any]:
    """Run ``command`` (a load generator) and return the figures it printed."""
    finished = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout
    )
    for line in finished.stdout.splitlines():
        if line.startswith(PREFIX):
            figures: dict[str, Any] = json.loads(line.removeprefix(PREFIX))
            return figures
    raise RuntimeError(
        f"{name} printed no result (exit {finished.returncode}):\n"
        f"{finished.stdout[-2000:]}\n{finished.stderr[-2000:]}"
    )
