"""The shared system's tests are found from their source, for the scheduler that
keeps them on one xdist worker (harness.scheduling)."""

from __future__ import annotations

from pathlib import Path

from harness.scheduling import uses_shared_system

SYSTEM = Path(__file__).resolve().parent


def test_the_modules_on_the_shared_system_are_found() -> None:
    shared = {
        str(path.relative_to(SYSTEM))
        for path in SYSTEM.rglob("test_*.py")
        if uses_shared_system(path)
    }
    assert shared == {
        "cli/test_onboarding_cli.py",
        "cli/test_onboarding_cli_ledger.py",
        "flows/test_onboarding_end_to_end.py",
        "flows/test_onboarding_faults.py",
        "flows/test_reminders.py",
    }
