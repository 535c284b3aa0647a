"""Ports and child processes, for the harness and bench/: each server under test runs
on a port of its own, in a process session of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback port free now (a closed port, too, for "nothing listens here")."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process_group(
    process: subprocess.Popen[bytes],
    first_signal: signal.Signals = signal.SIGTERM,
    timeout: float = 30,
) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it started:
    ``first_signal`` to the group, then SIGKILL after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, first_signal)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_health(
    health_url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> None:
    """Until ``health_url`` answers 200; the process's log in the error when it exits
    first or does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{health_url}: exited at start:\n{_log(log_path)}")
        try:
            if httpx.get(health_url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{health_url} did not answer 200 in {timeout:g} s:\n{_log(log_path)}")


def _log(log_path: Path) -> str:
    return log_path.read_text(errors="replace")
