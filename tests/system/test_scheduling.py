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
    # Modules that take the shared system's fixtures (more are added over time)...
    assert shared >= {
        "cli/test_onboarding_cli.py",
        "cli/test_onboarding_cli_ledger.py",
        "flows/test_onboarding_end_to_end.py",
        "flows/test_onboarding_faults.py",
        "flows/test_reminders.py",
    }
    # ...and never the ones that start everything afresh, or need no system at all.
    assert shared.isdisjoint(
        {
            "cli/test_up.py",
            "browser/test_store_id_form.py",
            "flows/test_work_pool_on_postgresql.py",
            "images/test_dockerfiles.py",
            "bench/test_bench_smoke.py",
            "test_suite_layout.py",
        }
    )
