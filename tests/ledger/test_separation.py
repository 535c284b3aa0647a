"""The import check of tests/onboarding/test_separation.py, shown to see the ledger's
server code when it is loaded (in the ledger's environment, the only one that has it)."""

from __future__ import annotations

from harness.imports import LEDGER_SERVER_PACKAGES, packages_loaded_by


def test_the_check_sees_the_ledger_when_it_is_loaded() -> None:
    # Without this, a check that saw no module at all would pass the one above.
    assert packages_loaded_by("api.main") >= LEDGER_SERVER_PACKAGES
