"""HTTP servers under test, each in its own process on a loopback port: the ledger
exactly as ``ledger serve`` runs it, and the bare FastAPI app (the framework ceiling),
served the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.processes import stop_process_group, wait_for_health

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Served:
    url: str
    pid: int
    log_path: Path


def ledger_python() -> str:
    """The ledger's own environment: this one when the benchmark runs in it (the till
    half), else the one named by BENCH_LEDGER_PYTHON (the onboarding half, which runs in
    the flows' environment, where the ledger is not installed)."""
    return os.environ.get("BENCH_LEDGER_PYTHON") or sys.executable


def ledger_command(port: int, workers: int = 1) -> list[str]:
    """`ledger serve`: its checks, uvicorn with the masked access log (one worker
    process by default, as `ledger serve` has)."""
    command = [ledger_python(), "-m", "api.cli", "serve", "--port", str(port)]
    return command if workers == 1 else [*command, "--workers", str(workers)]


def bare_command(port: int, workers: int = 1) -> list[str]:
    """The framework ceiling, with as many worker processes as the ledger has."""
    return [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--workers", str(workers)]


@contextmanager
def serve(
    command: list[str],
    port: int,
    env: dict[str, str],
    log_path: Path,
    *,
    profile_to: Path | None = None,
    health_path: str = "/healthz",
    start_timeout: float = 60,
) -> Iterator[Served]:
    """Run ``command`` until the block ends, once ``health_path`` answers 200 (within
    ``start_timeout`` seconds); with ``profile_to``, under py-spy, whose collapsed
    stacks land there."""
    if profile_to is not None:
        command = [
            str(Path(sys.executable).with_name("py-spy")),
            *("record", "--rate", "250", "--format", "raw", "--output", str(profile_to)),
            # Only the thread holding the GIL is sampled: where the process spends its
            # one core of Python (threads waiting on the database drop out). A thread
            # that wakes another while holding the GIL can be descheduled with it, and
            # counts meanwhile: read wake-ups (Condition.notify, lock releases) so.
            "--gil",
            # Sample without pausing the server, so that its timings stay honest.
            "--nonblocking",
            "--",
            *command,
        ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(f"{url}{health_path}", process, log_path, start_timeout)
        yield Served(url=url, pid=_server_pid(process, profile_to), log_path=log_path)
    finally:
        stop(process)


def _server_pid(process: subprocess.Popen[bytes], profile_to: Path | None) -> int:
    if profile_to is None:
        return process.pid
    import psutil

    children = psutil.Process(process.pid).children()
    return children[0].pid if children else process.pid


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session, and everything it started."""
    # SIGINT: uvicorn shuts down cleanly and py-spy writes its profile on it.
    stop_process_group(process, signal.SIGINT)
