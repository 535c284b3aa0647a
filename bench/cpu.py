"""CPU seconds spent by the processes under test, to put per-call costs beside the
rates: a rate moves with whatever else the machine is doing, CPU per call much less."""

from __future__ import annotations

import resource

import psutil


def process_cpu(pid: int) -> float:
    """User + system seconds so far of a process (all its threads) and of the processes
    under it (`ledger serve --workers N`)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def children_cpu() -> float:
    """User + system seconds of every child this process has waited for so far (the
    load generator runs as one)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu() -> dict[int, float]:
    """User + system seconds so far of each PostgreSQL server process alive now."""
    found = {}
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found[process.pid] = times.user + times.system
    return found


def postgres_cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two ``postgres_cpu`` readings by the processes alive at
    the second; a backend that exited in between (its connection closed) is missed, so
    with connections coming and going this is a lower bound."""
    return sum(max(0.0, spent - before.get(pid, 0.0)) for pid, spent in after.items())
