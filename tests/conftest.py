"""The suite's three parts, by the environment that runs them:

- ``tests/ledger``: the ledger (``api``) alone, in this process; no Prefect, no flows.
- ``tests/onboarding``: the flows' own code (``flows``, Prefect); no ledger at all.
- ``tests/system``: the flows against a running ledger, which runs in a child process
  (``harness.ledger_process``), so these import no ``api`` either.

HARNESS_SUITES says which parts this run collects, and so which of the harness's
fixture plugins it loads; by default, the parts this environment has installed what
they need for: the ledger's (.venv-ledger) ``ledger``, the onboarding environment
(.venv) ``onboarding,system``.
``tests/system/test_suite_layout.py`` checks that each part imports only what its environment
has.
"""

from __future__ import annotations

import importlib.metadata
import os
import sysconfig

import pytest

SUITES = {"ledger", "onboarding", "system"}


def _installed(distribution: str) -> bool:
    # In this environment's site-packages only: an editable install leaves a
    # NAME.egg-info at the workspace root, which is on sys.path in every environment.
    site_packages = sysconfig.get_paths()["purelib"]
    found = importlib.metadata.distributions(name=distribution, path=[site_packages])
    return next(iter(found), None) is not None


# By default, what this environment can run: the ledger's (.venv-ledger) its own part,
# the onboarding one (.venv) the other two.
_DEFAULT = ["ledger"] if _installed("ledger") else []
_DEFAULT += ["onboarding"] if _installed("onboarding") else []
# The system part needs the workspace root's development group too (Playwright,
# dockerfile-parse, psycopg); the onboarding package alone (`uv sync --package
# onboarding`) runs its own part.
_DEFAULT += ["system"] if _installed("onboarding") and _installed("playwright") else []
chosen = {s.strip() for s in os.environ.get("HARNESS_SUITES", ",".join(_DEFAULT)).split(",")}
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
