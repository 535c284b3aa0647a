"""The suite's three parts, by the environment that runs them:

- ``tests/ledger``: the ledger (``api``) alone, in this process; no Prefect, no flows.
- ``tests/onboarding``: the flows' own code (``flows``, Prefect); no ledger at all.
- ``tests/system``: the flows against a running ledger, which runs in a child process
  (``harness.ledger_process``), so these import no ``api`` either.

HARNESS_SUITES (default "ledger,onboarding,system") says which parts this run
collects, and so which of the harness's fixture plugins it loads: the ledger's
environment runs ``ledger``, the onboarding environment ``onboarding,system``.
``tests/test_separation.py`` checks that each part imports only what its environment
has.
"""

from __future__ import annotations

import os

import pytest

SUITES = {"ledger", "onboarding", "system"}
chosen = {
    s.strip() for s in os.environ.get("HARNESS_SUITES", ",".join(sorted(SUITES))).split(",")
}
if unknown := chosen - SUITES - {""}:
    raise SystemExit(f"HARNESS_SUITES: unknown {sorted(unknown)}; choose from {sorted(SUITES)}")

collect_ignore = sorted(SUITES - chosen)

pytest_plugins = [
    *(["harness.ledger_fixtures"] if "ledger" in chosen else []),
    *(["harness.messaging_fixtures"] if "onboarding" in chosen else []),
    *(["harness.system_fixtures", "harness.browser_fixtures"] if "system" in chosen else []),
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, so that no worker starts one when the others are done."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
