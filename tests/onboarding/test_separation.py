"""The flows talk to the ledger over HTTP only: importing them loads none of the
ledger's server code, so they install and run without it (shared/design.md, "Two
deployables, one contract")."""

from __future__ import annotations

from harness.imports import LEDGER_SERVER_PACKAGES, packages_loaded_by

# Every entry point: the flows as workers run them, the serving process, the command.
FLOW_ENTRY_POINTS = ("flows.onboarding", "flows.serve", "flows.cli")


def test_the_flows_load_none_of_the_ledgers_server_code() -> None:
    # Prefect's client loads starlette (prefect.client.orchestration imports
    # starlette.status for its HTTP status names), but neither FastAPI nor SQLAlchemy.
    loaded = packages_loaded_by(*FLOW_ENTRY_POINTS)
    assert "prefect" in loaded
    assert loaded & LEDGER_SERVER_PACKAGES == set()
