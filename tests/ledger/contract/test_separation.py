"""The contract package is plain pydantic: a client importing it loads neither the
ledger nor its web framework and ORM, nor the flows and Prefect."""

from __future__ import annotations

import pkgutil

import contract
from harness.imports import LEDGER_SERVER_PACKAGES, packages_loaded_by


def test_the_contract_loads_no_server_code() -> None:
    # Every module of the package, so one added later is held to this too.
    modules = [f"contract.{m.name}" for m in pkgutil.iter_modules(contract.__path__)]
    assert "contract.onboardings" in modules
    loaded = packages_loaded_by(*modules)
    assert "pydantic" in loaded
    assert loaded & (LEDGER_SERVER_PACKAGES | {"starlette", "flows", "prefect"}) == set()
