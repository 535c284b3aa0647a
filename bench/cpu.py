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


def postgres_cpu() -> float:
    """User + system seconds of the PostgreSQL server's processes alive now."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += times.user + times.system
    return total
